//! Nova (compute v2.1): servers, flavors, key pairs, hypervisors.

use std::borrow::Cow;
use std::collections::BTreeMap;

use hybrid_core::model::{
    AddressKind, Flavor, FlavorId, ImageId, KeyPair, Metadata, RawDocument, Server, ServerAddress,
    ServerId, ServerStatus,
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

/// A string borrowed from the input where the deserializer can lend it (always from a
/// `serde_json::Value`), copied otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

impl Str<'_> {
    fn owned(self) -> String {
        self.0.into_owned()
    }
}

/// A server read from its JSON document with the strings it only transforms borrowed:
/// the same fields, types and errors as [`NovaServer`] (it decodes exactly the
/// documents `NovaServer` decodes, into the same [`Server`]), without copying the image
/// link object, the address map and the flavor names on the way. What the provider
/// decodes listed and polled servers with; decode it from the server's
/// `serde_json::Value` (`NovaServerRef::deserialize(&value)`), which lends every string.
#[derive(Debug, Deserialize)]
pub struct NovaServerRef<'a> {
    #[serde(borrow)]
    id: Str<'a>,
    #[serde(default, borrow)]
    name: Option<Str<'a>>,
    #[serde(default, borrow)]
    status: Option<Str<'a>>,
    #[serde(default, borrow, deserialize_with = "null_default")]
    flavor: ServerFlavorRef<'a>,
    #[serde(default, borrow)]
    image: ImageIdRef<'a>,
    #[serde(default, borrow, deserialize_with = "null_default")]
    addresses: BTreeMap<Str<'a>, Vec<NovaAddressRef<'a>>>,
    #[serde(default)]
    key_name: Option<String>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    availability_zone: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    tags: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    metadata: Metadata,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    progress: Option<u8>,
    #[serde(default)]
    fault: Option<Fault>,
    #[serde(rename = "OS-EXT-STS:task_state", default, borrow)]
    task_state: Option<Str<'a>>,
}

/// [`ServerFlavor`], borrowed (`vcpus` and `ram` are checked as there, not kept).
#[derive(Debug, Default, Deserialize)]
struct ServerFlavorRef<'a> {
    #[serde(default, borrow)]
    id: Option<Str<'a>>,
    #[serde(default, borrow)]
    original_name: Option<Str<'a>>,
    #[serde(default)]
    #[allow(dead_code)]
    vcpus: Option<u32>,
    #[serde(default)]
    #[allow(dead_code)]
    ram: Option<u64>,
}

/// [`NovaAddress`], borrowed.
#[derive(Debug, Deserialize)]
struct NovaAddressRef<'a> {
    #[serde(borrow)]
    addr: Str<'a>,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<u8>,
    #[serde(rename = "OS-EXT-IPS:type", default, borrow)]
    kind: Option<Str<'a>>,
}

/// A server's `image`: any JSON value (an object with an id, or `""` for a server
/// booted from a volume), of which only a string `id` member is kept, as
/// [`NovaServer::image_id`] reads it.
#[derive(Debug, Default)]
struct ImageIdRef<'a>(Option<Str<'a>>);

/// Any JSON value, ignored.
fn ignore_any<'de, A: serde::de::SeqAccess<'de>>(mut a: A) -> Result<(), A::Error> {
    while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Whether a map key is `id`, without copying it.
struct IsId(bool);

impl<'de> Deserialize<'de> for IsId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IsId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IsId(v == "id"))
            }
        }
        d.deserialize_str(V)
    }
}

/// A value that is kept when it is a string and ignored otherwise.
struct MaybeStr<'a>(Option<Str<'a>>);

macro_rules! ignore_scalars {
    ($ret:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($ret)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($ret)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($ret)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($ret)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($ret)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($ret)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
            ignore_any(a)?;
            Ok($ret)
        }
    };
}

impl<'de: 'a, 'a> Deserialize<'de> for MaybeStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = MaybeStr<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Str(Cow::Borrowed(v)))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Str(Cow::Owned(v.to_owned())))))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(MaybeStr(None))
            }
            ignore_scalars!(MaybeStr(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ImageIdRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = ImageIdRef<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut id = None;
                while let Some(key) = a.next_key::<IsId>()? {
                    if key.0 {
                        // A repeated key: the last one wins, as in a `Value` object.
                        id = a.next_value::<MaybeStr<'a>>()?.0;
                    } else {
                        a.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(ImageIdRef(id))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(ImageIdRef(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            ignore_scalars!(ImageIdRef(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl NovaServerRef<'_> {
    /// The flavor's name when the server names its flavor (2.47+) instead of linking
    /// it by id: the name to resolve to an id.
    pub fn flavor_name_only(&self) -> Option<&str> {
        match (&self.flavor.id, &self.flavor.original_name) {
            (None, Some(name)) => Some(&name.0),
            _ => None,
        }
    }

    /// Nova's task state.
    pub fn task_state(&self) -> Option<String> {
        self.task_state.as_ref().map(|t| t.0.clone().into_owned())
    }

    /// The core model, as [`NovaServer::into_core`] makes it.
    pub fn into_core(self, doc: Option<RawDocument>) -> Server {
        let image = self.image.0.map(|i| ImageId::new(i.owned()));
        let flavor = self
            .flavor
            .id
            .or(self.flavor.original_name)
            .map(|f| FlavorId::new(f.owned()));
        let mut addresses = Vec::new();
        for (net, list) in self.addresses {
            for a in list {
                addresses.push(ServerAddress {
                    network: net.0.as_ref().to_owned(),
                    address: a.addr.owned(),
                    kind: if a.kind.as_ref().map(|k| k.0.as_ref()) == Some("floating") {
                        AddressKind::Floating
                    } else {
                        AddressKind::Fixed
                    },
                });
            }
        }
        Server {
            id: ServerId::new(self.id.owned()),
            name: self.name.map(Str::owned).unwrap_or_default(),
            status: ServerStatus::parse(self.status.as_ref().map_or("UNKNOWN", |s| &s.0)),
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
            raw: doc,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Every server document of the official samples copied in `tests/fixtures/nova`.
    fn sample_servers() -> Vec<Value> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nova");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).expect("the Nova fixtures") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("server") || !name.ends_with(".json") {
                continue;
            }
            let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            if let Some(s) = doc.get("server") {
                if s.get("status").is_some() {
                    out.push(s.clone());
                }
            }
            if let Some(Value::Array(list)) = doc.get("servers") {
                out.extend(list.iter().filter(|s| s.get("status").is_some()).cloned());
            }
        }
        out
    }

    /// A decoded server and its task state, or `None` when decoding failed.
    type Outcome = Option<(Server, Option<String>)>;

    /// What each decoder makes of `v`.
    fn both(v: &Value) -> (Outcome, Outcome) {
        let owned = serde_json::from_value::<NovaServer>(v.clone())
            .ok()
            .map(|ns| {
                let task = ns.task_state.clone();
                (ns.into_core(Some(v.clone())), task)
            });
        let borrowed = NovaServerRef::deserialize(v).ok().map(|ns| {
            let task = ns.task_state();
            (ns.into_core(Some(RawDocument::from_value(v))), task)
        });
        // The listing decodes from each server's JSON text, where escaped strings
        // cannot be lent: the same result either way.
        let text = v.to_string();
        let from_text = serde_json::from_str::<NovaServerRef<'_>>(&text)
            .ok()
            .map(|ns| {
                let task = ns.task_state();
                (ns.into_core(Some(RawDocument::from_value(v))), task)
            });
        assert_eq!(borrowed, from_text, "from text: {text}");
        (owned, borrowed)
    }

    #[test]
    fn the_borrowed_decoder_agrees_with_nova_server_on_every_sample() {
        let samples = sample_servers();
        assert!(
            samples.len() >= 10,
            "found {} sample servers",
            samples.len()
        );
        for s in &samples {
            let (owned, borrowed) = both(s);
            assert!(owned.is_some(), "the sample decodes: {s}");
            assert_eq!(owned, borrowed, "on {s}");
        }
    }

    #[test]
    fn the_borrowed_decoder_agrees_with_nova_server_on_edited_documents() {
        let replacements = [
            json!(null),
            json!(7),
            json!(-1),
            json!(300),
            json!(1.5),
            json!(true),
            json!(""),
            json!("x"),
            json!([]),
            json!([1, "a", null]),
            json!({}),
            json!({"id": "i"}),
            json!({"id": 5, "links": []}),
            json!({"a": [{"addr": "10.0.0.1", "version": 4}]}),
            json!({"a": [{"addr": 1}]}),
            json!({"a": [{"addr": "1", "version": "4"}]}),
            json!({"a": [{"addr": "1", "OS-EXT-IPS:type": "floating"}]}),
            json!({"k": "v"}),
            json!({"k": 1}),
            json!({"original_name": "m1", "vcpus": "1"}),
            json!({"original_name": "m1", "ram": 512}),
            json!({"message": "boom"}),
        ];
        let mut compared = 0;
        for s in sample_servers() {
            let Value::Object(map) = &s else { continue };
            let mut keys: Vec<String> = map.keys().cloned().collect();
            keys.push("not-a-field".into());
            for key in keys {
                for r in &replacements {
                    let mut edited = s.clone();
                    edited[key.as_str()] = r.clone();
                    let (owned, borrowed) = both(&edited);
                    assert_eq!(owned, borrowed, "{key} = {r} in {edited}");
                    compared += 1;
                }
                let mut without = s.clone();
                without.as_object_mut().unwrap().remove(&key);
                let (owned, borrowed) = both(&without);
                assert_eq!(owned, borrowed, "without {key}");
            }
        }
        assert!(compared > 1000);
    }

    #[test]
    fn the_borrowed_decoder_reads_escaped_strings_from_bytes_too() {
        let text = br#"{"id": "a\"b", "name": "n\u00e9", "status": "ACTIVE",
            "image": {"id": "i\/1"}, "flavor": {"original_name": "m\u0031"},
            "addresses": {"n\t1": [{"addr": "10.0.0.1"}]}}"#;
        let s = serde_json::from_slice::<NovaServerRef<'_>>(text)
            .unwrap()
            .into_core(None);
        let v: Value = serde_json::from_slice(text).unwrap();
        let want = serde_json::from_value::<NovaServer>(v)
            .unwrap()
            .into_core(None);
        assert_eq!(s, want);
        assert_eq!(s.id.as_str(), "a\"b");
        assert_eq!(s.image.unwrap().as_str(), "i/1");
        assert_eq!(s.addresses[0].network, "n\t1");
    }
}
