//! A VM's virtual disks and NICs: list, add and remove them with `ReconfigVM_Task`.

use hybrid_core::model::{NetworkId, ServerId};
use hybrid_core::{Error, ErrorKind, Feature, Operation, Result};

use crate::api::vm::reconfig_vm_task;
use crate::compute::vm;
use crate::error::shape_error;
use crate::protocol::requests::{ConfigSpec, Device, DeviceChange};
use crate::protocol::xml::Node;
use crate::provider::{Inner, VsphereProvider};
use crate::task::{self, Step, Then};

/// A virtual disk of a VM.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DiskInfo {
    /// The device key (unique within the VM).
    pub key: i32,
    /// The label, for example `Hard disk 1`.
    pub label: String,
    /// Capacity in KiB.
    pub capacity_kib: u64,
    /// The backing file, for example `[LocalDS_0] web-1/web-1.vmdk`.
    pub file: Option<String>,
    /// The controller's key and the unit on it.
    pub controller_key: Option<i32>,
    /// The unit number on the controller.
    pub unit_number: Option<i32>,
}

/// A virtual NIC of a VM.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NicInfo {
    /// The device key.
    pub key: i32,
    /// The label, for example `Network adapter 1`.
    pub label: String,
    /// The adapter type, for example `VirtualVmxnet3`.
    pub adapter: String,
    /// The MAC address, once assigned.
    pub mac_address: Option<String>,
    /// The standard network, distributed port group key or NSX network id it is on.
    pub network: Option<String>,
}

/// A device as read from `config.hardware.device`.
#[derive(Debug, Clone)]
pub(crate) struct RawDevice {
    pub(crate) kind: String,
    pub(crate) key: i32,
    pub(crate) node: Node,
}

pub(crate) fn read_devices(n: Option<&Node>) -> Result<Vec<RawDevice>> {
    let Some(n) = n else { return Ok(Vec::new()) };
    n.children_named("VirtualDevice")
        .map(|d| {
            Ok(RawDevice {
                kind: d.xsi_type().unwrap_or("VirtualDevice").to_owned(),
                key: d
                    .child_num::<i32>("key")
                    .map_err(|e| shape_error("RetrievePropertiesEx", e))?
                    .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, "a device has no key"))?,
                node: d.clone(),
            })
        })
        .collect()
}

fn is_scsi_controller(kind: &str) -> bool {
    matches!(
        kind,
        "ParaVirtualSCSIController"
            | "VirtualLsiLogicController"
            | "VirtualLsiLogicSASController"
            | "VirtualBusLogicController"
    )
}

pub(crate) fn is_nic(kind: &str) -> bool {
    matches!(
        kind,
        "VirtualVmxnet3"
            | "VirtualVmxnet2"
            | "VirtualVmxnet"
            | "VirtualE1000"
            | "VirtualE1000e"
            | "VirtualPCNet32"
            | "VirtualSriovEthernetCard"
            | "VirtualVmxnet3Vrdma"
    )
}

pub(crate) fn disk(d: &RawDevice) -> Result<DiskInfo> {
    let n = &d.node;
    let num = |k: &str| {
        n.child_num::<i64>(k)
            .map_err(|e| shape_error("RetrievePropertiesEx", e))
    };
    Ok(DiskInfo {
        key: d.key,
        label: n
            .child("deviceInfo")
            .and_then(|i| i.child_text("label"))
            .unwrap_or("")
            .to_owned(),
        capacity_kib: num("capacityInKB")?.unwrap_or(0).max(0) as u64,
        file: n
            .child("backing")
            .and_then(|b| b.child_text("fileName"))
            .map(str::to_owned),
        controller_key: num("controllerKey")?.map(|v| v as i32),
        unit_number: num("unitNumber")?.map(|v| v as i32),
    })
}

pub(crate) fn nic(d: &RawDevice) -> NicInfo {
    let n = &d.node;
    let backing = n.child("backing");
    let network = backing.and_then(|b| {
        b.child("network")
            .map(|m| m.text_or_empty().to_owned())
            .or_else(|| {
                b.child("port")
                    .and_then(|p| p.child_text("portgroupKey"))
                    .map(str::to_owned)
            })
            .or_else(|| b.child_text("opaqueNetworkId").map(str::to_owned))
    });
    NicInfo {
        key: d.key,
        label: n
            .child("deviceInfo")
            .and_then(|i| i.child_text("label"))
            .unwrap_or("")
            .to_owned(),
        adapter: d.kind.clone(),
        mac_address: n
            .child_text("macAddress")
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
        network,
    }
}

/// Where a new disk goes: the first SCSI controller with a free unit (unit 7 is the
/// controller's own), or a new PVSCSI controller (key -100) added by the returned
/// change. Returns `(controller key, unit, changes to make first)`.
pub(crate) fn scsi_slot(devs: &[RawDevice], what: &str) -> Result<(i32, i32, Vec<DeviceChange>)> {
    match devs.iter().find(|d| is_scsi_controller(&d.kind)) {
        Some(c) => {
            let used: Vec<i32> = devs
                .iter()
                .filter(|d| d.node.child_num::<i32>("controllerKey").ok().flatten() == Some(c.key))
                .filter_map(|d| d.node.child_num::<i32>("unitNumber").ok().flatten())
                .collect();
            let unit = (0..16)
                .find(|u| *u != 7 && !used.contains(u))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Conflict,
                        format!("{what} has no free unit on its SCSI controller"),
                    )
                })?;
            Ok((c.key, unit, Vec::new()))
        }
        None => {
            let mut c = Device::new("ParaVirtualSCSIController", -100);
            c.bus_number = Some(0);
            c.shared_bus = Some("noSharing");
            Ok((
                -100,
                0,
                vec![DeviceChange {
                    operation: "add",
                    file_operation: None,
                    device: c,
                }],
            ))
        }
    }
}

impl Inner {
    pub(crate) async fn device_vm(&self, id: &str) -> Result<Vec<RawDevice>> {
        let o = self
            .one(
                &vm(id),
                &[(
                    "VirtualMachine",
                    &["config.template", "config.hardware.device"],
                )],
            )
            .await?;
        if crate::inventory::is_template(&o)? {
            return Err(Error::not_found(format!("server {id}")));
        }
        read_devices(o.get("config.hardware.device"))
    }
}

fn then_disks(id: String) -> Then<Vec<DiskInfo>> {
    Box::new(move |inner, _| {
        Box::pin(async move {
            let devs = inner.device_vm(&id).await?;
            Ok(Step::Done(
                devs.iter()
                    .filter(|d| d.kind == "VirtualDisk")
                    .map(disk)
                    .collect::<Result<_>>()?,
            ))
        })
    })
}

fn then_nics(id: String) -> Then<Vec<NicInfo>> {
    Box::new(move |inner, _| {
        Box::pin(async move {
            let devs = inner.device_vm(&id).await?;
            Ok(Step::Done(
                devs.iter().filter(|d| is_nic(&d.kind)).map(nic).collect(),
            ))
        })
    })
}

impl VsphereProvider {
    /// The virtual disks of server `id`.
    ///
    /// Requires [`Feature::Servers`].
    ///
    /// # Errors
    /// `NotFound`, transport and service errors.
    pub async fn list_disks(&self, id: &ServerId) -> Result<Vec<DiskInfo>> {
        self.inner.caps().require(Feature::Servers)?;
        let devs = self.inner.device_vm(id.as_str()).await?;
        devs.iter()
            .filter(|d| d.kind == "VirtualDisk")
            .map(disk)
            .collect()
    }

    /// The virtual NICs of server `id`.
    ///
    /// Requires [`Feature::Servers`].
    ///
    /// # Errors
    /// `NotFound`, transport and service errors.
    pub async fn list_nics(&self, id: &ServerId) -> Result<Vec<NicInfo>> {
        self.inner.caps().require(Feature::Servers)?;
        let devs = self.inner.device_vm(id.as_str()).await?;
        Ok(devs.iter().filter(|d| is_nic(&d.kind)).map(nic).collect())
    }

    /// Adds a new thin disk of `size_gib` GiB on the default datastore to server `id`
    /// (`ReconfigVM_Task` with `fileOperation` `create`) on the first SCSI controller
    /// with a free unit; the operation ends with the VM's disks.
    ///
    /// Requires [`Feature::Servers`].
    ///
    /// # Errors
    /// `InvalidInput` (size 0), `NotFound`, `Conflict` (no free SCSI unit, or the VM's
    /// state), task errors.
    pub async fn add_disk(&self, id: &ServerId, size_gib: u64) -> Result<Operation<Vec<DiskInfo>>> {
        self.inner.caps().require(Feature::Servers)?;
        if size_gib == 0 {
            return Err(Error::invalid_input("a disk needs at least 1 GiB"));
        }
        let devs = self.inner.device_vm(id.as_str()).await?;
        let ds = self
            .inner
            .facts()
            .datastore
            .clone()
            .ok_or_else(|| Error::config("no datastore for new disks: set GOVC_DATASTORE"))?;
        let (controller, unit, mut changes) = scsi_slot(&devs, &format!("server {id}"))?;
        changes.push(DeviceChange {
            operation: "add",
            file_operation: Some("create"),
            device: Inner::disk_device(&ds, -101, controller, unit, size_gib),
        });
        let spec = ConfigSpec {
            device_change: changes,
            ..ConfigSpec::default()
        };
        let t = reconfig_vm_task(&self.inner.session, &vm(id.as_str()), &spec).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("add a {size_gib} GiB disk to server {id}"),
            t,
            then_disks(id.as_str().to_owned()),
        ))
    }

    /// Removes disk `key` from server `id`; with `destroy_file` its VMDK is deleted too
    /// (`fileOperation` `destroy`), else it stays on the datastore. The operation ends
    /// with the VM's remaining disks.
    ///
    /// Requires [`Feature::Servers`].
    ///
    /// # Errors
    /// `NotFound` (server or disk), task errors.
    pub async fn remove_disk(
        &self,
        id: &ServerId,
        key: i32,
        destroy_file: bool,
    ) -> Result<Operation<Vec<DiskInfo>>> {
        self.inner.caps().require(Feature::Servers)?;
        let devs = self.inner.device_vm(id.as_str()).await?;
        devs.iter()
            .find(|d| d.key == key && d.kind == "VirtualDisk")
            .ok_or_else(|| Error::not_found(format!("disk {key} of server {id}")))?;
        let spec = ConfigSpec {
            device_change: vec![DeviceChange {
                operation: "remove",
                file_operation: destroy_file.then_some("destroy"),
                device: Device::new("VirtualDisk", key),
            }],
            ..ConfigSpec::default()
        };
        let t = reconfig_vm_task(&self.inner.session, &vm(id.as_str()), &spec).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("remove disk {key} from server {id}"),
            t,
            then_disks(id.as_str().to_owned()),
        ))
    }

    /// Adds a VMXNET3 NIC on `network` (standard or distributed port group, or NSX
    /// network) to server `id`; the operation ends with the VM's NICs.
    ///
    /// Requires [`Feature::Servers`] and [`Feature::Networks`].
    ///
    /// # Errors
    /// `NotFound` (server or network), task errors.
    pub async fn add_nic(
        &self,
        id: &ServerId,
        network: &NetworkId,
    ) -> Result<Operation<Vec<NicInfo>>> {
        self.inner.caps().require(Feature::Servers)?;
        self.inner.caps().require(Feature::Networks)?;
        self.inner.device_vm(id.as_str()).await?;
        let net = self.inner.find_network(network.as_str()).await?;
        let spec = ConfigSpec {
            device_change: vec![DeviceChange {
                operation: "add",
                file_operation: None,
                device: self.inner.nic_device(&net, -300)?,
            }],
            ..ConfigSpec::default()
        };
        let t = reconfig_vm_task(&self.inner.session, &vm(id.as_str()), &spec).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("add a NIC on {network} to server {id}"),
            t,
            then_nics(id.as_str().to_owned()),
        ))
    }

    /// Removes NIC `key` from server `id`; the operation ends with the VM's NICs.
    ///
    /// Requires [`Feature::Servers`].
    ///
    /// # Errors
    /// `NotFound` (server or NIC), task errors.
    pub async fn remove_nic(&self, id: &ServerId, key: i32) -> Result<Operation<Vec<NicInfo>>> {
        self.inner.caps().require(Feature::Servers)?;
        let devs = self.inner.device_vm(id.as_str()).await?;
        let d = devs
            .iter()
            .find(|d| d.key == key && is_nic(&d.kind))
            .ok_or_else(|| Error::not_found(format!("NIC {key} of server {id}")))?;
        let spec = ConfigSpec {
            device_change: vec![DeviceChange {
                operation: "remove",
                file_operation: None,
                device: Device::new(&d.kind, key),
            }],
            ..ConfigSpec::default()
        };
        let t = reconfig_vm_task(&self.inner.session, &vm(id.as_str()), &spec).await?;
        Ok(task::operation(
            self.inner.clone(),
            format!("remove NIC {key} from server {id}"),
            t,
            then_nics(id.as_str().to_owned()),
        ))
    }
}
