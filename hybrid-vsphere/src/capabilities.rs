//! What a vCenter can do, computed from what discovery saw.
//!
//! - **NSX** is present when an NSX opaque network or an NSX-backed distributed port
//!   group (`config.backingType` `nsx` or a `logicalSwitchUuid`) exists. Without it,
//!   SDN, subnets (IPAM), security groups, routers and floating IPs are unsupported as
//!   *deployment dependent*: vSphere then offers only flat VLAN (port group) or flat
//!   DHCP networks. With NSX they are still unsupported here, as *not implemented*:
//!   they are NSX Manager's API, which hybrid-vsphere does not speak yet.
//! - Ports and key pairs: never (a vNIC exists only inside a VM; keys go through guest
//!   customization). Object storage: never. Image sharing: never (images are bound to
//!   the datastore or content library of this vCenter).
//! - Live migration: supported when a cluster has at least two hosts (vMotion within a
//!   cluster); HA: when a cluster has vSphere HA (`dasConfig.enabled`) on.
//! - Volumes, tags, metadata and image upload/import/download are not implemented yet.

use hybrid_core::{Capabilities, Capability, Feature};

/// What capability discovery looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiscoveryFacts {
    /// vCenter's `about.fullName`.
    pub about: String,
    /// `about.apiVersion`.
    pub api_version: String,
    /// The datacenter in use.
    pub datacenter: String,
    /// NSX opaque networks seen.
    pub nsx_opaque_networks: usize,
    /// NSX-backed distributed port groups seen.
    pub nsx_portgroups: usize,
    /// Distributed switches seen (port groups are created on them).
    pub distributed_switches: usize,
    /// Clusters: `(name, hosts, HA enabled, DRS enabled)`.
    pub clusters: Vec<(String, usize, Option<bool>, Option<bool>)>,
}

impl DiscoveryFacts {
    /// Whether NSX was seen.
    pub fn has_nsx(&self) -> bool {
        self.nsx_opaque_networks > 0 || self.nsx_portgroups > 0
    }
}

const NO_NSX: &str = "this vCenter has no NSX (no NSX opaque network or NSX-backed port group was found); without NSX vSphere offers only flat VLAN (port group) or flat DHCP networks";
const NSX_API: &str = "NSX is present, but this is NSX Manager's API, which hybrid-vsphere does not speak yet (it talks to vCenter only)";

/// The capabilities of a vCenter with `facts`.
pub fn capabilities(facts: &DiscoveryFacts) -> Capabilities {
    let mut c = Capabilities::all();
    let mut set = |f: Feature, cap: Capability| *c.get_mut(f) = cap;
    if facts.has_nsx() {
        set(
            Feature::Sdn,
            Capability::not_implemented(format!("overlay segments: {NSX_API}")),
        );
        set(
            Feature::Subnets,
            Capability::not_implemented(format!("subnets (segment IPAM): {NSX_API}")),
        );
        set(
            Feature::SecurityGroups,
            Capability::not_implemented(format!(
                "security groups (distributed firewall): {NSX_API}"
            )),
        );
        set(
            Feature::Routers,
            Capability::not_implemented(format!("routers (tier-1 gateways): {NSX_API}")),
        );
        set(
            Feature::FloatingIps,
            Capability::not_implemented(format!("floating IPs (NAT rules): {NSX_API}")),
        );
    } else {
        set(
            Feature::Sdn,
            Capability::deployment(format!("overlay networks need NSX: {NO_NSX}")),
        );
        set(
            Feature::Subnets,
            Capability::deployment(format!("subnets (IPAM) need NSX segments: {NO_NSX}")),
        );
        set(
            Feature::SecurityGroups,
            Capability::deployment(format!(
                "security groups need the NSX distributed firewall: {NO_NSX}"
            )),
        );
        set(
            Feature::Routers,
            Capability::deployment(format!("routers need NSX gateways: {NO_NSX}")),
        );
        set(
            Feature::FloatingIps,
            Capability::deployment(format!("floating IPs need NSX NAT: {NO_NSX}")),
        );
    }
    set(Feature::Ports, Capability::never("vSphere has no standalone ports: a vNIC exists only as part of a VM; attach networks when creating the VM"));
    set(Feature::KeyPairs, Capability::never("vSphere has no key-pair resource; inject SSH keys through guest customization or cloud-init user data"));
    set(Feature::ServerTags, Capability::not_implemented("server tags are vSphere Automation (REST) tagging, which hybrid-vsphere does not implement yet"));
    set(
        Feature::ServerMetadata,
        Capability::not_implemented("server metadata is not implemented yet by hybrid-vsphere"),
    );
    let volumes = "block volumes (first-class disks) are not implemented yet by hybrid-vsphere; add disks to a VM with VsphereProvider::add_disk";
    set(Feature::Volumes, Capability::not_implemented(volumes));
    set(Feature::ExtendVolume, Capability::not_implemented(volumes));
    set(Feature::AttachVolume, Capability::not_implemented(volumes));
    set(Feature::Snapshots, Capability::not_implemented(volumes));
    let library = "creating and downloading images goes through the content library (vSphere Automation REST), which hybrid-vsphere does not implement yet; VM templates are listed as images";
    set(Feature::ImageUpload, Capability::not_implemented(library));
    set(
        Feature::ImageImportUrl,
        Capability::not_implemented(library),
    );
    set(Feature::ImageDownload, Capability::not_implemented(library));
    if facts.distributed_switches == 0 {
        set(Feature::Networks, Capability::deployment("networks are created as distributed port groups, and this datacenter has no distributed switch"));
    }

    c.platform.object_storage = Capability::never(
        "vSphere has no object storage (no Swift); storage is datastores and vSAN",
    );
    c.platform.image_sharing = Capability::never("vSphere images are bound to the vCenter datastore or content library and cannot be shared with other environments");
    c.platform.shared_storage = Capability::yes();
    c.platform.live_migration = if facts.clusters.iter().any(|(_, hosts, _, _)| *hosts >= 2) {
        Capability::yes()
    } else {
        Capability::deployment(
            "vMotion needs a cluster of at least two hosts, and this datacenter has none",
        )
    };
    c.platform.high_availability = if facts.clusters.iter().any(|(_, _, ha, _)| *ha == Some(true)) {
        Capability::yes()
    } else {
        Capability::deployment(
            "no cluster of this datacenter has vSphere HA (dasConfig.enabled) turned on",
        )
    };
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::ReasonKind;

    fn facts(nsx: bool) -> DiscoveryFacts {
        DiscoveryFacts {
            nsx_opaque_networks: usize::from(nsx),
            distributed_switches: 1,
            clusters: vec![("C0".into(), 3, None, Some(true))],
            ..DiscoveryFacts::default()
        }
    }

    #[test]
    fn without_nsx_sdn_is_deployment_dependent() {
        let c = capabilities(&facts(false));
        for f in [
            Feature::Sdn,
            Feature::SecurityGroups,
            Feature::Routers,
            Feature::FloatingIps,
            Feature::Subnets,
        ] {
            let r = c.get(f).reason.as_ref().unwrap();
            assert!(!c.supports(f));
            assert_eq!(r.kind, ReasonKind::DeploymentDependent, "{f}");
            assert!(r.message.contains("NSX"));
        }
        assert!(c.supports(Feature::Networks));
        assert!(
            c.supports(Feature::Servers)
                && c.supports(Feature::Power)
                && c.supports(Feature::Resize)
        );
        assert!(!c.platform.object_storage.supported);
        assert!(!c.platform.image_sharing.supported);
        assert!(c.platform.live_migration.supported);
        assert!(!c.platform.high_availability.supported);
    }

    #[test]
    fn with_nsx_sdn_is_not_implemented_rather_than_missing() {
        let c = capabilities(&facts(true));
        let r = c.get(Feature::Sdn).reason.as_ref().unwrap();
        assert_eq!(r.kind, ReasonKind::NotImplemented);
        assert!(r.message.contains("NSX Manager"));
        assert_eq!(
            c.get(Feature::Ports).reason.as_ref().unwrap().kind,
            ReasonKind::PlatformNever
        );
    }

    #[test]
    fn ha_and_networks_follow_the_facts() {
        let mut f = facts(false);
        f.clusters = vec![("C".into(), 1, Some(true), None)];
        f.distributed_switches = 0;
        let c = capabilities(&f);
        assert!(c.platform.high_availability.supported);
        assert!(!c.platform.live_migration.supported);
        assert!(!c.supports(Feature::Networks));
    }
}
