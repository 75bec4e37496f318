//! What an OpenStack region can do, computed from what it reports: the service
//! catalog, Neutron's extensions, Nova's hypervisor types and microversions, and
//! Glance's import methods.
//!
//! A region whose hypervisors report VMware vCenter is a *vSphere-backed region*
//! (Nova's VMware driver, the "OpenStack as the single control plane" style), and gets
//! VMware's limits: SDN, security groups, routers and floating IPs only through NSX
//! (detected from the NSX plugin's Neutron extensions), no Swift, and images bound to
//! the VMware datastore, never shareable.

use std::cmp::Ordering;
use std::fmt;

use hybrid_core::{Capabilities, Capability, Feature};
use serde::Deserialize;

use crate::protocol::keystone::{has_service, CatalogService};

/// A microversion such as `2.93` (Nova) or `3.70` (Cinder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Microversion {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
}

impl Microversion {
    /// `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Microversion { major, minor }
    }

    /// Parses `2.93`; `None` for anything else (including the empty string old
    /// deployments send).
    pub fn parse(s: &str) -> Option<Microversion> {
        let (a, b) = s.trim().split_once('.')?;
        Some(Microversion {
            major: a.parse().ok()?,
            minor: b.parse().ok()?,
        })
    }

    /// The version to ask for: the highest both sides speak, or `None` when the
    /// service's range and ours do not meet.
    pub fn negotiate(
        ours: (Microversion, Microversion),
        theirs: (Microversion, Microversion),
    ) -> Option<Microversion> {
        let low = ours.0.max(theirs.0);
        let high = ours.1.min(theirs.1);
        (low <= high).then_some(high)
    }
}

impl PartialOrd for Microversion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Microversion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor).cmp(&(other.major, other.minor))
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A version document (`GET /` or `GET /v2.1` of Nova or Cinder).
#[derive(Debug, Clone, Deserialize)]
pub struct VersionDoc {
    /// `{"version": ..}` form.
    #[serde(default)]
    pub version: Option<VersionInfo>,
    /// `{"versions": [..]}` form.
    #[serde(default)]
    pub versions: Vec<VersionInfo>,
}

/// One API version of a service.
#[derive(Debug, Clone, Deserialize)]
pub struct VersionInfo {
    /// `v2.1`, `v3.0`.
    pub id: String,
    /// `CURRENT`, `SUPPORTED`, `DEPRECATED`.
    #[serde(default)]
    pub status: Option<String>,
    /// Highest microversion (empty when none).
    #[serde(default)]
    pub version: Option<String>,
    /// Lowest microversion (empty when none).
    #[serde(default)]
    pub min_version: Option<String>,
}

impl VersionDoc {
    /// The microversion range of the version whose id starts with `id_prefix`
    /// (for example `v2.1` or `v3`).
    pub fn range(&self, id_prefix: &str) -> Option<(Microversion, Microversion)> {
        self.version
            .iter()
            .chain(self.versions.iter())
            .filter(|v| v.id.starts_with(id_prefix))
            .find_map(|v| {
                let max = Microversion::parse(v.version.as_deref()?)?;
                let min = v
                    .min_version
                    .as_deref()
                    .and_then(Microversion::parse)
                    .unwrap_or(max);
                Some((min, max))
            })
    }
}

/// What a region told us about itself.
#[derive(Debug, Clone, Default)]
pub struct RegionFacts {
    /// The token's catalog.
    pub catalog: Vec<CatalogService>,
    /// The region.
    pub region: Option<String>,
    /// Neutron extension aliases (`None` when Neutron could not be asked).
    pub neutron_extensions: Option<Vec<String>>,
    /// Hypervisor types (`None` when the policy forbids listing them).
    pub hypervisor_types: Option<Vec<String>>,
    /// The Nova microversion negotiated.
    pub nova_microversion: Option<Microversion>,
    /// Glance's import methods (`None` when not reported).
    pub glance_import_methods: Option<Vec<String>>,
}

/// Neutron extensions that only the VMware NSX plugins offer.
const NSX_EXTENSIONS: &[&str] = &[
    "nsx-policy",
    "vnic-index",
    "provider-security-group",
    "nsxv-router-type",
    "nsxv-router-size",
    "nsx-dvs-provider-network",
];

impl RegionFacts {
    /// Whether Nova drives vCenter here.
    pub fn is_vmware(&self) -> bool {
        self.hypervisor_types
            .as_ref()
            .is_some_and(|t| t.iter().any(|h| h.to_ascii_lowercase().contains("vmware")))
    }

    /// Whether Neutron is backed by VMware NSX.
    pub fn has_nsx(&self) -> bool {
        self.neutron_extensions.as_ref().is_some_and(|e| {
            e.iter()
                .any(|a| NSX_EXTENSIONS.contains(&a.as_str()) || a.starts_with("nsx"))
        })
    }

    fn has_ext(&self, alias: &str) -> Option<bool> {
        self.neutron_extensions
            .as_ref()
            .map(|e| e.iter().any(|a| a == alias))
    }

    fn service(&self, t: &str) -> bool {
        has_service(&self.catalog, t, self.region.as_deref())
    }

    /// The capabilities these facts imply.
    pub fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::all();
        let region = self.region.as_deref().unwrap_or("this region");
        let mut set = |f: Feature, cap: Capability| *c.get_mut(f) = cap;
        let no_service = |svc: &str| {
            Capability::deployment(format!(
                "the service catalog of {region} has no {svc} endpoint"
            ))
        };

        if !self.service("compute") {
            for f in [
                Feature::Servers,
                Feature::Power,
                Feature::Reboot,
                Feature::Resize,
                Feature::Flavors,
                Feature::KeyPairs,
                Feature::ServerTags,
                Feature::ServerMetadata,
            ] {
                set(f, no_service("compute (Nova)"));
            }
        } else if self
            .nova_microversion
            .is_some_and(|v| v < Microversion::new(2, 26))
        {
            set(
                Feature::ServerTags,
                Capability::deployment(
                    "server tags need Nova microversion 2.26; this Nova is older",
                ),
            );
        }

        if !self.service("network") {
            for f in [
                Feature::Networks,
                Feature::Sdn,
                Feature::Subnets,
                Feature::Ports,
                Feature::SecurityGroups,
                Feature::Routers,
                Feature::FloatingIps,
            ] {
                set(f, no_service("network (Neutron)"));
            }
        } else {
            if self.has_ext("security-group") == Some(false) {
                set(
                    Feature::SecurityGroups,
                    Capability::deployment("Neutron's security-group extension is not enabled"),
                );
            }
            if self.has_ext("router") == Some(false) {
                set(
                    Feature::Routers,
                    Capability::deployment("Neutron's router extension is not enabled"),
                );
                set(
                    Feature::FloatingIps,
                    Capability::deployment(
                        "floating IPs need Neutron's router extension, which is not enabled",
                    ),
                );
            } else if self.has_ext("external-net") == Some(false) {
                set(
                    Feature::FloatingIps,
                    Capability::deployment(
                        "floating IPs need Neutron's external-net extension, which is not enabled",
                    ),
                );
            }
            if self.is_vmware() && !self.has_nsx() {
                let why = "this region's Nova drives vCenter and its Neutron has no NSX plugin";
                set(
                    Feature::Sdn,
                    Capability::deployment(format!("overlay networks need NSX: {why}")),
                );
                set(
                    Feature::SecurityGroups,
                    Capability::deployment(format!("security groups need NSX: {why}")),
                );
                set(
                    Feature::Routers,
                    Capability::deployment(format!("routers need NSX: {why}")),
                );
                set(
                    Feature::FloatingIps,
                    Capability::deployment(format!("floating IPs need NSX: {why}")),
                );
            }
        }

        if !self.service("block-storage") {
            for f in [
                Feature::Volumes,
                Feature::ExtendVolume,
                Feature::AttachVolume,
                Feature::Snapshots,
            ] {
                set(f, no_service("block-storage (Cinder)"));
            }
        }

        if !self.service("image") {
            for f in [
                Feature::Images,
                Feature::ImageUpload,
                Feature::ImageImportUrl,
                Feature::ImageDownload,
            ] {
                set(f, no_service("image (Glance)"));
            }
        } else if let Some(methods) = &self.glance_import_methods {
            if !methods.iter().any(|m| m == "web-download") {
                set(
                    Feature::ImageImportUrl,
                    Capability::deployment(
                        "Glance's web-download import method is not enabled in this region",
                    ),
                );
            }
        }

        let vmware = self.is_vmware();
        c.platform.object_storage = if vmware {
            Capability::never("a vSphere-backed region has no Swift: storage is what VMware supports (datastores, vSAN)")
        } else if self.service("object-store") {
            Capability::yes()
        } else {
            no_service("object-store (Swift)")
        };
        c.platform.image_sharing = if vmware {
            Capability::never(
                "images of a vSphere-backed region live in Glance's VMware datastore store and cannot be shared with other environments",
            )
        } else {
            Capability::yes()
        };
        c.platform.high_availability = if vmware {
            Capability::yes()
        } else {
            Capability::deployment(
                "Nova does not restart instances of a failed host by itself; that needs Masakari or an external monitor",
            )
        };
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::keystone::CatalogEndpoint;
    use hybrid_core::ReasonKind;

    fn svc(t: &str) -> CatalogService {
        CatalogService {
            service_type: t.into(),
            name: None,
            id: None,
            endpoints: vec![CatalogEndpoint {
                interface: "public".into(),
                region: Some("R1".into()),
                region_id: Some("R1".into()),
                url: format!("http://127.0.0.1/{t}"),
                id: None,
            }],
        }
    }

    fn full() -> RegionFacts {
        RegionFacts {
            catalog: [
                "compute",
                "network",
                "volumev3",
                "image",
                "identity",
                "object-store",
            ]
            .iter()
            .map(|t| svc(t))
            .collect(),
            region: Some("R1".into()),
            neutron_extensions: Some(vec![
                "security-group".into(),
                "router".into(),
                "external-net".into(),
            ]),
            hypervisor_types: Some(vec!["QEMU".into()]),
            nova_microversion: Some(Microversion::new(2, 93)),
            glance_import_methods: Some(vec!["glance-direct".into(), "web-download".into()]),
        }
    }

    #[test]
    fn kvm_region_supports_everything() {
        let c = full().capabilities();
        assert_eq!(
            c.unsupported().count(),
            0,
            "{:?}",
            c.unsupported().collect::<Vec<_>>()
        );
        assert!(c.platform.object_storage.supported);
        assert!(c.platform.image_sharing.supported);
    }

    #[test]
    fn vmware_region_without_nsx_gets_vmware_limits() {
        let mut f = full();
        f.hypervisor_types = Some(vec!["VMware vCenter Server".into()]);
        let c = f.capabilities();
        for feat in [
            Feature::Sdn,
            Feature::SecurityGroups,
            Feature::Routers,
            Feature::FloatingIps,
        ] {
            let cap = c.get(feat);
            assert!(!cap.supported, "{feat}");
            assert_eq!(
                cap.reason.as_ref().unwrap().kind,
                ReasonKind::DeploymentDependent
            );
            assert!(cap.reason.as_ref().unwrap().message.contains("NSX"));
        }
        assert!(
            c.supports(Feature::Networks)
                && c.supports(Feature::Ports)
                && c.supports(Feature::KeyPairs)
        );
        assert_eq!(
            c.platform.object_storage.reason.as_ref().unwrap().kind,
            ReasonKind::PlatformNever
        );
        assert!(!c.platform.image_sharing.supported);

        f.neutron_extensions
            .as_mut()
            .unwrap()
            .push("nsx-policy".into());
        let nsx = f.capabilities();
        assert!(nsx.supports(Feature::SecurityGroups) && nsx.supports(Feature::Sdn));
        assert!(
            !nsx.platform.object_storage.supported,
            "NSX does not bring Swift"
        );
    }

    #[test]
    fn missing_services_and_extensions_are_deployment_limits() {
        let mut f = full();
        f.catalog
            .retain(|s| s.service_type != "volumev3" && s.service_type != "object-store");
        f.neutron_extensions = Some(vec!["security-group".into()]);
        f.nova_microversion = Some(Microversion::new(2, 20));
        f.glance_import_methods = Some(vec!["glance-direct".into()]);
        let c = f.capabilities();
        assert!(!c.supports(Feature::Volumes));
        assert!(c
            .get(Feature::Volumes)
            .reason
            .as_ref()
            .unwrap()
            .message
            .contains("block-storage"));
        assert!(!c.supports(Feature::Routers) && !c.supports(Feature::FloatingIps));
        assert!(c.supports(Feature::SecurityGroups));
        assert!(!c.supports(Feature::ServerTags));
        assert!(!c.supports(Feature::ImageImportUrl));
        assert!(!c.platform.object_storage.supported);
        assert!(c.supports(Feature::Servers));
    }

    #[test]
    fn microversions_parse_and_negotiate() {
        let v = |s| Microversion::parse(s).unwrap();
        assert!(v("2.93") > v("2.9"));
        assert_eq!(Microversion::parse(""), None);
        assert_eq!(Microversion::parse("abc"), None);
        let ours = (v("2.1"), v("2.96"));
        assert_eq!(
            Microversion::negotiate(ours, (v("2.1"), v("2.93"))),
            Some(v("2.93"))
        );
        assert_eq!(
            Microversion::negotiate(ours, (v("2.1"), v("2.104"))),
            Some(v("2.96"))
        );
        assert_eq!(Microversion::negotiate(ours, (v("3.0"), v("3.70"))), None);
        assert_eq!(v("2.93").to_string(), "2.93");
    }

    #[test]
    fn version_documents_from_the_samples() {
        let read = |p: &str| -> VersionDoc {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(p);
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let nova = read("nova/versions-resp.json");
        assert_eq!(
            nova.range("v2.1"),
            Some((Microversion::new(2, 1), Microversion::new(2, 104)))
        );
        let one = read("nova/version-v2.1-resp.json");
        assert_eq!(one.range("v2.1").unwrap().1, Microversion::new(2, 104));
        let cinder = read("cinder/version-v3-resp.json");
        assert_eq!(
            cinder.range("v3"),
            Some((Microversion::new(3, 0), Microversion::new(3, 71)))
        );
    }
}
