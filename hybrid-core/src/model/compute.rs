//! Compute models: servers, flavors, key pairs.

use serde::{Deserialize, Serialize};

use super::{status_enum, ImageId, Metadata, NetworkId, PortId, RawDocument, VolumeId};

crate::typed_id!(
    /// A server (VM, instance) id.
    ServerId
);
crate::typed_id!(
    /// A flavor (size, template) id.
    FlavorId
);

status_enum!(
    /// Provider-neutral server state.
    ServerStatus {
        /// Being created.
        Building => "BUILD" | "building" | "creating",
        /// Running.
        Active => "ACTIVE" | "running" | "poweredOn",
        /// Powered off.
        Stopped => "SHUTOFF" | "stopped" | "poweredOff" | "deallocated",
        /// Rebooting.
        Rebooting => "REBOOT" | "HARD_REBOOT" | "rebooting",
        /// Changing size.
        Resizing => "RESIZE" | "resizing",
        /// Resized; waiting for the resize to be confirmed.
        VerifyResize => "VERIFY_RESIZE",
        /// Paused in memory.
        Paused => "PAUSED",
        /// Suspended to disk.
        Suspended => "SUSPENDED" | "suspended",
        /// Being deleted.
        Deleting => "DELETING" | "deleting",
        /// Gone.
        Deleted => "DELETED",
        /// Failed.
        Error => "ERROR" | "failed",
    }
);

impl ServerStatus {
    /// Whether the server is in a settled state (not in transition).
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            ServerStatus::Active
                | ServerStatus::Stopped
                | ServerStatus::Paused
                | ServerStatus::Suspended
                | ServerStatus::VerifyResize
                | ServerStatus::Deleted
                | ServerStatus::Error
        )
    }
}

/// One address of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAddress {
    /// The network the address is on, by name or id as the provider reports it.
    pub network: String,
    /// The IP address, as text.
    pub address: String,
    /// `fixed` (private) or `floating` (public).
    pub kind: AddressKind,
}

/// Whether an address is private or public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// A private address on the server's network.
    Fixed,
    /// A floating or public address mapped to it.
    Floating,
}

/// A server (VM, instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// Id.
    pub id: ServerId,
    /// Name.
    pub name: String,
    /// State.
    pub status: ServerStatus,
    /// The flavor (size) it runs with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<FlavorId>,
    /// The image it was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageId>,
    /// Its addresses.
    #[serde(default)]
    pub addresses: Vec<ServerAddress>,
    /// The key pair injected at boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Availability zone, cluster or zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// Creation time, RFC 3339, as the provider reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Progress of the current transition, 0–100, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// Fault message when in error, where reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

/// Where a new server connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkAttachment {
    /// A new port on this network, optionally with a fixed IP.
    Network {
        /// The network.
        network: NetworkId,
        /// A fixed IP to request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fixed_ip: Option<String>,
    },
    /// An existing port or NIC.
    Port {
        /// The port.
        port: PortId,
    },
}

/// What to create: the portable description of a new server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateServer {
    /// Name.
    pub name: String,
    /// Flavor (size, template).
    pub flavor: FlavorId,
    /// Image to boot from (omit when booting from `boot_volume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageId>,
    /// An existing volume to boot from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_volume: Option<VolumeId>,
    /// Networks or ports to connect.
    #[serde(default)]
    pub networks: Vec<NetworkAttachment>,
    /// Security groups by name or id. Needs [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Key pair to inject. Needs [`Feature::KeyPairs`](crate::Feature::KeyPairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// User data (cloud-init), plain text; the backend encodes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    /// Availability zone, cluster or zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Metadata. Needs [`Feature::ServerMetadata`](crate::Feature::ServerMetadata) when not empty.
    #[serde(default)]
    pub metadata: Metadata,
    /// Tags. Needs [`Feature::ServerTags`](crate::Feature::ServerTags) when not empty.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl CreateServer {
    /// A spec with a name and a flavor; fill the rest with the `with_*` methods.
    pub fn new(name: impl Into<String>, flavor: impl Into<FlavorId>) -> Self {
        CreateServer {
            name: name.into(),
            flavor: flavor.into(),
            ..CreateServer::default()
        }
    }

    /// Boots from `image`.
    pub fn with_image(mut self, image: impl Into<ImageId>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Connects to `network`.
    pub fn with_network(mut self, network: impl Into<NetworkId>) -> Self {
        self.networks.push(NetworkAttachment::Network {
            network: network.into(),
            fixed_ip: None,
        });
        self
    }

    /// Adds a security group.
    pub fn with_security_group(mut self, group: impl Into<String>) -> Self {
        self.security_groups.push(group.into());
        self
    }

    /// Injects a key pair.
    pub fn with_key_name(mut self, key: impl Into<String>) -> Self {
        self.key_name = Some(key.into());
        self
    }

    /// Adds a metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
}

/// Soft (ACPI) or hard (reset) reboot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RebootKind {
    /// Ask the guest to reboot.
    #[default]
    Soft,
    /// Reset the virtual hardware.
    Hard,
}

/// A flavor: a size a server can be created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flavor {
    /// Id.
    pub id: FlavorId,
    /// Name.
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub ram_mib: u64,
    /// Root disk in GiB (0: the image decides, or boot from volume).
    pub disk_gib: u64,
    /// Extra ephemeral disk in GiB.
    #[serde(default)]
    pub ephemeral_gib: u64,
    /// Whether every project can use it.
    #[serde(default = "default_true")]
    pub is_public: bool,
    /// Extra specs or provider-specific properties.
    #[serde(default)]
    pub extra: Metadata,
    /// The provider's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<RawDocument>,
}

fn default_true() -> bool {
    true
}

/// An SSH key pair registered with the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPair {
    /// Name (the id of a key pair).
    pub name: String,
    /// Fingerprint of the public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The public key, OpenSSH format.
    pub public_key: String,
}

/// A new key pair: a name and the public key to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateKeyPair {
    /// Name.
    pub name: String,
    /// The public key, OpenSSH format.
    pub public_key: String,
}
