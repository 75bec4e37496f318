//! Nova (compute v2.1): servers, flavors, key pairs, hypervisors.

use std::collections::BTreeMap;

use hybrid_core::model::{
    AddressKind, Flavor, FlavorId, ImageId, KeyPair, Metadata, Server, ServerAddress, ServerId,
    ServerStatus,
};
use serde::{Deserialize, Deserializer};

use super::{raw, Link};

/// `null` as the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `{"server": ..}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerEnvelope {
    /// The server.
    pub server: NovaServer,
}

/// `{"servers": [..], "servers_links": [..]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerList {
    /// The servers.
    pub servers: Vec<NovaServer>,
    /// Paging links.
    #[serde(default)]
    pub servers_links: Vec<Link>,
}

/// The flavor of a server: a link with an id before 2.47, the flavor's facts after.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServerFlavor {
    /// Id (before 2.47).
    #[serde(default)]
    pub id: Option<String>,
    /// Name (2.47 and later).
    #[serde(default)]
    pub original_name: Option<String>,
    /// vCPUs (2.47 and later).
    #[serde(default)]
    pub vcpus: Option<u32>,
    /// Memory in MiB (2.47 and later).
    #[serde(default)]
    pub ram: Option<u64>,
}

/// One address of a server.
#[derive(Debug, Clone, Deserialize)]
pub struct NovaAddress {
    /// The address.
    pub addr: String,
    /// 4 or 6.
    #[serde(default)]
    pub version: Option<u8>,
    /// `fixed` or `floating`.
    #[serde(rename = "OS-EXT-IPS:type", default)]
    pub kind: Option<String>,
}

/// A server's fault.
#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
}

/// A server as Nova sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NovaServer {
    /// Id.
    pub id: String,
    /// Name (absent for servers in a down cell, 2.69).
    #[serde(default)]
    pub name: Option<String>,
    /// Status (`ACTIVE`, `BUILD`, `SHUTOFF`, ...; `UNKNOWN` in a down cell).
    #[serde(default)]
    pub status: Option<String>,
    /// Flavor.
    #[serde(default, deserialize_with = "null_default")]
    pub flavor: ServerFlavor,
    /// Image: an object with an id, or `""` for a server booted from a volume.
    #[serde(default)]
    pub image: serde_json::Value,
    /// Addresses per network.
    #[serde(default, deserialize_with = "null_default")]
    pub addresses: BTreeMap<String, Vec<NovaAddress>>,
    /// Key pair name.
    #[serde(default)]
    pub key_name: Option<String>,
    /// Availability zone.
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    pub availability_zone: Option<String>,
    /// Tags (2.26 and later).
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Metadata.
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: Metadata,
    /// Creation time.
    #[serde(default)]
    pub created: Option<String>,
    /// Build progress, 0–100.
    #[serde(default)]
    pub progress: Option<u8>,
    /// Fault, when in error.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// The task in progress (`spawning`, `powering-off`, ...).
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub task_state: Option<String>,
}

impl NovaServer {
    /// The image id, when booted from an image.
    pub fn image_id(&self) -> Option<&str> {
        self.image.get("id").and_then(|v| v.as_str())
    }

    /// The core model. Nova 2.47+ names the flavor instead of linking it: its name is
    /// then used as the flavor reference.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Server {
        let image = self.image_id().map(ImageId::new);
        let flavor = self
            .flavor
            .id
            .clone()
            .or_else(|| self.flavor.original_name.clone())
            .map(FlavorId::new);
        let mut addresses = Vec::new();
        for (net, list) in self.addresses {
            for a in list {
                addresses.push(ServerAddress {
                    network: net.clone(),
                    address: a.addr,
                    kind: if a.kind.as_deref() == Some("floating") {
                        AddressKind::Floating
                    } else {
                        AddressKind::Fixed
                    },
                });
            }
        }
        Server {
            id: ServerId::new(self.id),
            name: self.name.unwrap_or_default(),
            status: ServerStatus::parse(self.status.as_deref().unwrap_or("UNKNOWN")),
            flavor,
            image,
            addresses,
            key_name: self.key_name,
            availability_zone: self.availability_zone,
            tags: self.tags,
            metadata: self.metadata,
            created_at: self.created,
            progress: self.progress,
            fault: self.fault.and_then(|f| f.message),
            raw: raw(doc),
        }
    }
}

/// `{"flavor": ..}`.
#[derive(Debug, Clone, Deserialize)]
pub struct FlavorEnvelope {
    /// The flavor.
    pub flavor: NovaFlavor,
}

/// `{"flavors": [..], "flavors_links": [..]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct FlavorList {
    /// The flavors.
    pub flavors: Vec<NovaFlavor>,
    /// Paging links.
    #[serde(default)]
    pub flavors_links: Vec<Link>,
}

/// A flavor as Nova sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NovaFlavor {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// vCPUs (absent from the summary list).
    #[serde(default)]
    pub vcpus: u32,
    /// Memory in MiB.
    #[serde(default)]
    pub ram: u64,
    /// Root disk in GiB.
    #[serde(default)]
    pub disk: u64,
    /// Ephemeral disk in GiB.
    #[serde(rename = "OS-FLV-EXT-DATA:ephemeral", default)]
    pub ephemeral: u64,
    /// Public.
    #[serde(rename = "os-flavor-access:is_public", default)]
    pub is_public: Option<bool>,
    /// Extra specs (2.61 and later).
    #[serde(default, deserialize_with = "null_default")]
    pub extra_specs: Metadata,
}

impl NovaFlavor {
    /// The core model.
    pub fn into_core(self, doc: Option<serde_json::Value>) -> Flavor {
        Flavor {
            id: FlavorId::new(self.id),
            name: self.name,
            vcpus: self.vcpus,
            ram_mib: self.ram,
            disk_gib: self.disk,
            ephemeral_gib: self.ephemeral,
            is_public: self.is_public.unwrap_or(true),
            extra: self.extra_specs,
            raw: raw(doc),
        }
    }
}

/// `{"keypair": ..}`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyPairEnvelope {
    /// The key pair.
    pub keypair: NovaKeyPair,
}

/// `{"keypairs": [{"keypair": ..}], "keypairs_links": [..]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyPairList {
    /// The key pairs, each wrapped.
    pub keypairs: Vec<KeyPairEnvelope>,
    /// Paging links (2.35 and later).
    #[serde(default)]
    pub keypairs_links: Vec<Link>,
}

/// A key pair as Nova sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct NovaKeyPair {
    /// Name.
    pub name: String,
    /// Public key.
    #[serde(default)]
    pub public_key: String,
    /// Fingerprint.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl NovaKeyPair {
    /// The core model.
    pub fn into_core(self) -> KeyPair {
        KeyPair {
            name: self.name,
            fingerprint: self.fingerprint,
            public_key: self.public_key.trim_end().to_owned(),
        }
    }
}

/// `{"hypervisors": [..]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct HypervisorList {
    /// The hypervisors.
    pub hypervisors: Vec<Hypervisor>,
}

/// A hypervisor (detail view).
#[derive(Debug, Clone, Deserialize)]
pub struct Hypervisor {
    /// `QEMU`, `VMware vCenter Server`, `fake`, ...
    #[serde(default)]
    pub hypervisor_type: Option<String>,
    /// Host name.
    #[serde(default)]
    pub hypervisor_hostname: Option<String>,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
}

impl Hypervisor {
    /// Whether this hypervisor is a vCenter cluster driven by Nova's VMware driver.
    pub fn is_vmware(&self) -> bool {
        self.hypervisor_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("vmware"))
    }
}
