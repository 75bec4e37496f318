//! Capabilities: what a provider can do, and when it can't, why.
//!
//! Each entry of [`Capabilities`] is a [`Capability`]: supported, or unsupported with a
//! [`Reason`] whose [`ReasonKind`] tells a platform limit (ESXi cannot clone; vSphere has
//! no Swift) from a deployment choice (SDN needs NSX; no object-store endpoint in this
//! region's catalog) and from work not done yet.
//!
//! Gated entries are named by [`Feature`]. A call that needs a false feature fails with
//! [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) carrying the reason, before
//! any I/O; this is enforced once for every provider by [`crate::gate`]. Entries under
//! [`PlatformFacts`] are not operations but facts about the platform (HA, live
//! migration, object storage, image sharing) that placement reads.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Why a capability is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// The platform can never do this (vSphere has no Swift; ESXi alone cannot clone).
    PlatformNever,
    /// This deployment lacks it (SDN needs NSX; the region has no such endpoint).
    DeploymentDependent,
    /// The platform can, but hybrid does not implement it yet.
    NotImplemented,
}

impl fmt::Display for ReasonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ReasonKind::PlatformNever => "platform never",
            ReasonKind::DeploymentDependent => "deployment dependent",
            ReasonKind::NotImplemented => "not implemented",
        })
    }
}

/// The reason a capability is missing: a kind and a human sentence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reason {
    /// Platform, deployment, or not implemented.
    pub kind: ReasonKind,
    /// A sentence a person can act on.
    pub message: String,
}

impl Reason {
    /// A reason of `kind` with `message`.
    pub fn new(kind: ReasonKind, message: impl Into<String>) -> Self {
        Reason {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind)
    }
}

/// One capability: supported, or not with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    /// Whether calls that need it may be made.
    pub supported: bool,
    /// Why not, when `supported` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl Default for Capability {
    fn default() -> Self {
        Capability::yes()
    }
}

impl Capability {
    /// A supported capability.
    pub fn yes() -> Self {
        Capability {
            supported: true,
            reason: None,
        }
    }

    /// An unsupported capability with its reason.
    pub fn no(kind: ReasonKind, message: impl Into<String>) -> Self {
        Capability {
            supported: false,
            reason: Some(Reason::new(kind, message)),
        }
    }

    /// Unsupported because the platform can never do it.
    pub fn never(message: impl Into<String>) -> Self {
        Capability::no(ReasonKind::PlatformNever, message)
    }

    /// Unsupported because of how this deployment is built.
    pub fn deployment(message: impl Into<String>) -> Self {
        Capability::no(ReasonKind::DeploymentDependent, message)
    }

    /// Unsupported because hybrid does not implement it yet.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Capability::no(ReasonKind::NotImplemented, message)
    }

    /// `Ok(())` when supported, else the `Unsupported` error with the reason.
    ///
    /// # Errors
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) when not supported.
    pub fn require(&self) -> Result<()> {
        if self.supported {
            return Ok(());
        }
        let reason = self.reason.clone().unwrap_or_else(|| {
            Reason::new(
                ReasonKind::NotImplemented,
                "the provider declared this capability unsupported without a reason",
            )
        });
        Err(Error::unsupported(reason))
    }
}

macro_rules! features {
    ($( $domain:ident . $field:ident => $variant:ident, $doc:literal; )*) => {
        /// A gated capability: one entry of [`Capabilities`] that operations require.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum Feature {
            $( #[doc = $doc] $variant, )*
        }

        impl Feature {
            /// Every gated feature.
            pub const ALL: &'static [Feature] = &[ $( Feature::$variant, )* ];

            /// The dotted path of the entry, for example `network.security_groups`.
            pub fn path(self) -> &'static str {
                match self { $( Feature::$variant => concat!(stringify!($domain), ".", stringify!($field)), )* }
            }
        }

        impl Capabilities {
            /// The entry for `feature`.
            pub fn get(&self, feature: Feature) -> &Capability {
                match feature { $( Feature::$variant => &self.$domain.$field, )* }
            }

            /// The entry for `feature`, to change it.
            pub fn get_mut(&mut self, feature: Feature) -> &mut Capability {
                match feature { $( Feature::$variant => &mut self.$domain.$field, )* }
            }
        }
    };
}

features! {
    compute.servers => Servers, "List, get, create and delete servers.";
    compute.power => Power, "Start and stop servers.";
    compute.reboot => Reboot, "Reboot servers, soft or hard.";
    compute.resize => Resize, "Change a server's flavor or size.";
    compute.flavors => Flavors, "List and get flavors (sizes, templates).";
    compute.key_pairs => KeyPairs, "Manage SSH key pairs as provider resources.";
    compute.server_tags => ServerTags, "Set, add and remove server tags.";
    compute.server_metadata => ServerMetadata, "Set and delete server metadata.";
    network.networks => Networks, "List, get, create and delete flat (VLAN or DHCP) networks.";
    network.sdn => Sdn, "Create overlay (software-defined) tenant networks.";
    network.subnets => Subnets, "Manage subnets.";
    network.ports => Ports, "Manage ports or network interfaces.";
    network.security_groups => SecurityGroups, "Manage security groups and their rules.";
    network.routers => Routers, "Manage routers and their interfaces.";
    network.floating_ips => FloatingIps, "Manage floating or public IP addresses.";
    storage.volumes => Volumes, "List, get, create and delete block volumes.";
    storage.extend => ExtendVolume, "Grow a volume.";
    storage.attach => AttachVolume, "Attach and detach volumes to servers.";
    storage.snapshots => Snapshots, "Manage volume snapshots.";
    image.images => Images, "List, get and delete images.";
    image.upload => ImageUpload, "Create an image from an uploaded byte stream.";
    image.import_url => ImageImportUrl, "Create an image by importing it from a URL.";
    image.download => ImageDownload, "Download an image as a byte stream.";
}

impl Feature {
    /// The features a call needing `self` also needs (for example `compute.power`
    /// needs `compute.servers`).
    pub fn prerequisites(self) -> &'static [Feature] {
        match self {
            Feature::Power
            | Feature::Reboot
            | Feature::Resize
            | Feature::ServerTags
            | Feature::ServerMetadata => &[Feature::Servers],
            Feature::Sdn => &[Feature::Networks],
            Feature::ExtendVolume | Feature::AttachVolume => &[Feature::Volumes],
            Feature::ImageUpload | Feature::ImageImportUrl | Feature::ImageDownload => {
                &[Feature::Images]
            }
            _ => &[],
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.path())
    }
}

/// Compute capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeCapabilities {
    /// See [`Feature::Servers`].
    pub servers: Capability,
    /// See [`Feature::Power`].
    pub power: Capability,
    /// See [`Feature::Reboot`].
    pub reboot: Capability,
    /// See [`Feature::Resize`].
    pub resize: Capability,
    /// See [`Feature::Flavors`].
    pub flavors: Capability,
    /// See [`Feature::KeyPairs`].
    pub key_pairs: Capability,
    /// See [`Feature::ServerTags`].
    pub server_tags: Capability,
    /// See [`Feature::ServerMetadata`].
    pub server_metadata: Capability,
}

/// Network capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkCapabilities {
    /// See [`Feature::Networks`].
    pub networks: Capability,
    /// See [`Feature::Sdn`].
    pub sdn: Capability,
    /// See [`Feature::Subnets`].
    pub subnets: Capability,
    /// See [`Feature::Ports`].
    pub ports: Capability,
    /// See [`Feature::SecurityGroups`].
    pub security_groups: Capability,
    /// See [`Feature::Routers`].
    pub routers: Capability,
    /// See [`Feature::FloatingIps`].
    pub floating_ips: Capability,
}

/// Block-storage capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageCapabilities {
    /// See [`Feature::Volumes`].
    pub volumes: Capability,
    /// See [`Feature::ExtendVolume`].
    pub extend: Capability,
    /// See [`Feature::AttachVolume`].
    pub attach: Capability,
    /// See [`Feature::Snapshots`].
    pub snapshots: Capability,
}

/// Image capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageCapabilities {
    /// See [`Feature::Images`].
    pub images: Capability,
    /// See [`Feature::ImageUpload`].
    pub upload: Capability,
    /// See [`Feature::ImageImportUrl`].
    pub import_url: Capability,
    /// See [`Feature::ImageDownload`].
    pub download: Capability,
}

/// Facts about the platform that no single call needs, but placement does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformFacts {
    /// Object storage (Swift, Blob) beside block storage.
    pub object_storage: Capability,
    /// Images can be shared with other environments (false where they are bound to a
    /// datastore or content library).
    pub image_sharing: Capability,
    /// Servers move between hosts without downtime (vMotion, live migration).
    pub live_migration: Capability,
    /// The platform restarts servers on another host when one fails (vSphere HA).
    pub high_availability: Capability,
    /// Volumes live on storage every host reaches (datastores, Ceph, managed disks).
    pub shared_storage: Capability,
}

/// Everything a provider can and cannot do, nested per domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Compute.
    pub compute: ComputeCapabilities,
    /// Network.
    pub network: NetworkCapabilities,
    /// Block storage.
    pub storage: StorageCapabilities,
    /// Images.
    pub image: ImageCapabilities,
    /// Platform facts for placement.
    pub platform: PlatformFacts,
}

impl Capabilities {
    /// Everything supported.
    pub fn all() -> Self {
        Capabilities::default()
    }

    /// `Ok(())` when `feature` is supported.
    ///
    /// # Errors
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) with the reason otherwise.
    pub fn require(&self, feature: Feature) -> Result<()> {
        self.get(feature)
            .require()
            .map_err(|e| e.with_resource(feature.path()))
    }

    /// Whether `feature` is supported.
    pub fn supports(&self, feature: Feature) -> bool {
        self.get(feature).supported
    }

    /// Sets `feature` to `cap`, returning `self` for chaining.
    pub fn set(mut self, feature: Feature, cap: Capability) -> Self {
        *self.get_mut(feature) = cap;
        self
    }

    /// The unsupported gated features with their reasons.
    pub fn unsupported(&self) -> impl Iterator<Item = (Feature, &Capability)> + '_ {
        Feature::ALL
            .iter()
            .map(move |f| (*f, self.get(*f)))
            .filter(|(_, c)| !c.supported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn every_feature_has_a_unique_path_and_round_trips() {
        let mut caps = Capabilities::all();
        let mut seen = std::collections::BTreeSet::new();
        for f in Feature::ALL {
            assert!(seen.insert(f.path()), "duplicate path {}", f.path());
            assert!(caps.supports(*f));
            *caps.get_mut(*f) = Capability::never(format!("no {f}"));
            assert_eq!(
                caps.get(*f).reason.as_ref().unwrap().message,
                format!("no {f}")
            );
        }
        assert_eq!(caps.unsupported().count(), Feature::ALL.len());
    }

    #[test]
    fn require_returns_reason() {
        let caps = Capabilities::all().set(
            Feature::SecurityGroups,
            Capability::deployment("security groups need NSX, which this vCenter lacks"),
        );
        let err = caps.require(Feature::SecurityGroups).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        let r = err.unsupported_reason().unwrap();
        assert_eq!(r.kind, ReasonKind::DeploymentDependent);
        assert!(err.to_string().contains("NSX"));
        assert!(caps.require(Feature::Servers).is_ok());
    }

    #[test]
    fn serde_shape() {
        let caps = Capabilities::all().set(Feature::Routers, Capability::never("no routers"));
        let v = serde_json::to_value(&caps).unwrap();
        assert_eq!(v["network"]["routers"]["supported"], false);
        assert_eq!(v["network"]["routers"]["reason"]["kind"], "platform_never");
        assert_eq!(
            v["compute"]["servers"],
            serde_json::json!({"supported": true})
        );
        let back: Capabilities = serde_json::from_value(v).unwrap();
        assert_eq!(back, caps);
    }
}
