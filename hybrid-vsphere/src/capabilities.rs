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
//! - Server tags and image upload, URL import and download need the vSphere Automation
//!   (REST) API: *deployment dependent* when no `/api` or `/rest` session could be
//!   created. Volumes, attach, extend and snapshots need first-class disks (a
//!   VStorageObjectManager, vSphere 6.5+): *deployment dependent* without one.
//! - Server metadata is not implemented yet.

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
    /// The vSphere Automation (REST) path flavour that answered the session login,
    /// `/api` or `/rest`; `None` when neither did.
    pub automation_api: Option<String>,
    /// Why the vSphere Automation API is unavailable, when it is.
    pub automation_api_error: Option<String>,
    /// Whether the vCenter has a VStorageObjectManager (first-class disks, vSphere 6.5+).
    pub first_class_disks: bool,
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
    let rest_missing = || {
        format!(
            "it is part of the vSphere Automation (REST) API, which this vCenter did not answer: {}",
            facts
                .automation_api_error
                .as_deref()
                .unwrap_or("no /api or /rest session could be created")
        )
    };
    if facts.automation_api.is_none() {
        set(
            Feature::ServerTags,
            Capability::deployment(format!("server tags are vSphere tags: {}", rest_missing())),
        );
        let library = format!(
            "creating and downloading images goes through the content library: {}",
            rest_missing()
        );
        set(
            Feature::ImageUpload,
            Capability::deployment(library.clone()),
        );
        set(
            Feature::ImageImportUrl,
            Capability::deployment(library.clone()),
        );
        set(Feature::ImageDownload, Capability::deployment(library));
    }
    set(
        Feature::ServerMetadata,
        Capability::not_implemented("server metadata (custom attributes or guestinfo) is not implemented yet by hybrid-vsphere; use server tags"),
    );
    if !facts.first_class_disks {
        let volumes = "block volumes are first-class disks, and this vCenter has no VStorageObjectManager (vSphere 6.5 or later has one); add disks to a VM with VsphereProvider::add_disk";
        set(Feature::Volumes, Capability::deployment(volumes));
        set(Feature::ExtendVolume, Capability::deployment(volumes));
        set(Feature::AttachVolume, Capability::deployment(volumes));
        set(Feature::Snapshots, Capability::deployment(volumes));
    }
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
            automation_api: Some("/rest".into()),
            first_class_disks: true,
            ..DiscoveryFacts::default()
        }
    }

    #[test]
    fn rest_and_first_class_disks_gate_tags_images_and_volumes() {
        let c = capabilities(&facts(false));
        for f in [
            Feature::ServerTags,
            Feature::ImageUpload,
            Feature::ImageImportUrl,
            Feature::ImageDownload,
            Feature::Volumes,
            Feature::AttachVolume,
            Feature::ExtendVolume,
            Feature::Snapshots,
        ] {
            assert!(c.supports(f), "{f}");
        }
        let mut f = facts(false);
        f.automation_api = None;
        f.automation_api_error = Some("vAPI login: HTTP 503".into());
        f.first_class_disks = false;
        let c = capabilities(&f);
        for feat in [Feature::ServerTags, Feature::ImageUpload, Feature::Volumes] {
            let r = c.get(feat).reason.as_ref().unwrap();
            assert_eq!(r.kind, ReasonKind::DeploymentDependent, "{feat}");
        }
        assert!(c
            .get(Feature::ServerTags)
            .reason
            .as_ref()
            .unwrap()
            .message
            .contains("HTTP 503"));
        assert!(c.supports(Feature::Images), "templates stay images");
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
