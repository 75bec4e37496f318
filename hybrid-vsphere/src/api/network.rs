//! `DistributedVirtualSwitch.AddDVPortgroup_Task`.

use hybrid_core::Result;

use crate::protocol::requests::{AddPortgroup, PortSetting, PortgroupSpec, VlanIdSpec, VIM25_NS};
use crate::protocol::types::Mor;
use crate::session::Session;
use crate::transport::Idempotency;

use super::returned_mor;

/// Adds an early-binding port group named `name` with VLAN `vlan` (0: untagged) to `dvs`.
pub(crate) async fn add_dv_portgroup_task(
    s: &Session,
    dvs: &Mor,
    name: &str,
    vlan: u32,
    description: &str,
) -> Result<Mor> {
    const M: &str = "AddDVPortgroup_Task";
    let body = AddPortgroup {
        xmlns: VIM25_NS,
        _this: dvs,
        spec: vec![PortgroupSpec {
            name: name.to_owned(),
            num_ports: 8,
            default_port_config: PortSetting {
                xsi_type: "VMwareDVSPortSetting",
                vlan: VlanIdSpec {
                    xsi_type: "VmwareDistributedVirtualSwitchVlanIdSpec",
                    inherited: false,
                    vlan_id: vlan,
                },
            },
            description: description.to_owned(),
            kind: "earlyBinding",
        }],
    };
    returned_mor(M, &s.invoke(M, &body, Idempotency::Mutating).await?)
}
