//! Provider-neutral models: plain serde data with typed ids, status enums that keep
//! unknown values, tags/metadata, and the raw provider document as an escape hatch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod compute;
mod image;
mod network;
mod storage;

pub use compute::*;
pub use image::*;
pub use network::*;
pub use storage::*;

/// Free-form key/value metadata, ordered by key.
pub type Metadata = BTreeMap<String, String>;

/// The provider's own document for a resource, as it came over the wire: the escape
/// hatch for fields hybrid does not model.
///
/// JSON documents are kept as the JSON text itself ([`RawJson`]), not as a parsed
/// tree: listing 50k servers then costs one copy of each document's bytes, and a
/// caller who wants a field hybrid does not model parses just that document
/// ([`RawJson::to_value`], [`RawJson::deserialize`]).
///
/// Serialized as `{"format": "json" | "xml", "document": …}`; a JSON document is
/// embedded as JSON, an XML fragment as a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", content = "document", rename_all = "snake_case")]
pub enum RawDocument {
    /// A JSON document (OpenStack, Azure, vSphere REST).
    Json(RawJson),
    /// An XML fragment (vSphere vim25 SOAP).
    Xml(String),
}

impl RawDocument {
    /// The JSON document, when this is JSON.
    pub fn as_json(&self) -> Option<&RawJson> {
        match self {
            RawDocument::Json(v) => Some(v),
            RawDocument::Xml(_) => None,
        }
    }

    /// The XML fragment, when this is XML.
    pub fn as_xml(&self) -> Option<&str> {
        match self {
            RawDocument::Json(_) => None,
            RawDocument::Xml(s) => Some(s),
        }
    }

    /// A JSON document from a parsed value (serialized once, here).
    pub fn from_value(value: &serde_json::Value) -> Self {
        RawDocument::Json(RawJson::from_value(value))
    }
}

/// One JSON document, held as its text exactly as the provider sent it (whitespace
/// aside): valid JSON by construction, parsed only when asked.
#[derive(Clone)]
pub struct RawJson(Box<serde_json::value::RawValue>);

impl RawJson {
    /// Takes JSON text, checking that it is one well-formed JSON value.
    ///
    /// # Errors
    /// The parser's error when `text` is not JSON.
    pub fn from_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        serde_json::value::RawValue::from_string(text.into()).map(RawJson)
    }

    /// A copy of a document borrowed from a larger response (for example one item of
    /// a page decoded as `Vec<&RawValue>`): one allocation, no parse.
    pub fn from_raw(raw: &serde_json::value::RawValue) -> Self {
        RawJson(raw.to_owned())
    }

    /// Serializes a parsed value.
    pub fn from_value(value: &serde_json::Value) -> Self {
        // Serializing a `Value` cannot fail (its map keys are strings); the default
        // (`null`) only keeps this free of a panic path.
        RawJson(serde_json::value::to_raw_value(value).unwrap_or_default())
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Parses the document into a [`serde_json::Value`].
    ///
    /// # Errors
    /// Only the parser's nesting limit (128 levels) can refuse text that was valid
    /// when stored; such a document could not have been stored either.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// Deserializes the document into any type (a provider's own model of the
    /// resource, or just the fields you need).
    ///
    /// # Errors
    /// The deserializer's error when the document does not have `T`'s shape.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawJson").field(&self.0.get()).finish()
    }
}

impl std::fmt::Display for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.get())
    }
}

/// Two documents are equal when they hold the same JSON value (key order and
/// whitespace aside).
impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
            || matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b)
    }
}

impl PartialEq<serde_json::Value> for RawJson {
    fn eq(&self, other: &serde_json::Value) -> bool {
        matches!(self.to_value(), Ok(v) if &v == other)
    }
}

impl From<&serde_json::Value> for RawJson {
    fn from(value: &serde_json::Value) -> Self {
        RawJson::from_value(value)
    }
}

impl From<Box<serde_json::value::RawValue>> for RawJson {
    fn from(raw: Box<serde_json::value::RawValue>) -> Self {
        RawJson(raw)
    }
}

/// Serialized as the JSON value itself, whatever the format (JSON, YAML, Python
/// objects): the text is parsed for the serializer, so only serialization pays.
impl Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.to_value().map_err(serde::ser::Error::custom)?;
        v.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(deserializer)?;
        Ok(RawJson::from_value(&v))
    }
}

/// Declares a typed id: a transparent string newtype.
#[macro_export]
macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a provider id.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }
            /// The id as the provider spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Declares a provider-neutral status enum that parses any string, keeping unknown
/// values as `Other(String)`, and serializes as its canonical name.
macro_rules! status_enum {
    ($(#[$m:meta])* $name:ident { $( $(#[$vm:meta])* $variant:ident => $canon:literal $(| $alias:literal)* ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vm])* $variant, )*
            /// A value hybrid does not know, kept as the provider sent it.
            Other(String),
        }

        impl $name {
            /// The canonical name (the provider's own string for `Other`).
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $canon, )*
                    $name::Other(s) => s,
                }
            }

            /// Parses case-insensitively; unknown values become `Other`.
            pub fn parse(s: &str) -> Self {
                $(
                    if s.eq_ignore_ascii_case($canon) $(|| s.eq_ignore_ascii_case($alias))* {
                        return $name::$variant;
                    }
                )*
                $name::Other(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name::parse(&s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(s: $name) -> String {
                match s {
                    $name::Other(s) => s,
                    other => other.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
pub(crate) use status_enum;

/// Which way a security-group rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Traffic into the server.
    Ingress,
    /// Traffic out of the server.
    Egress,
}

/// IP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpVersion {
    /// IPv4.
    #[default]
    V4,
    /// IPv6.
    V6,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_status_is_kept_not_panicking() {
        let s: ServerStatus = serde_json::from_str("\"SHELVED_OFFLOADED\"").unwrap();
        assert_eq!(s, ServerStatus::Other("SHELVED_OFFLOADED".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"SHELVED_OFFLOADED\"");
        let a: ServerStatus = serde_json::from_str("\"active\"").unwrap();
        assert_eq!(a, ServerStatus::Active);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"ACTIVE\"");
        assert_eq!(VolumeStatus::parse("in-use"), VolumeStatus::InUse);
        assert_eq!(
            ImageStatus::parse("weird"),
            ImageStatus::Other("weird".into())
        );
    }

    #[test]
    fn typed_ids_are_transparent() {
        let id = ServerId::new("abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
        assert_eq!(id.to_string(), "abc");
        let back: ServerId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn raw_document_shape() {
        let r = RawDocument::from_value(&serde_json::json!({"a": 1}));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"format": "json", "document": {"a": 1}})
        );
        assert_eq!(r.as_json().unwrap().to_value().unwrap()["a"], 1);
        let back: RawDocument = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.as_xml(), None);
    }

    #[test]
    fn raw_json_keeps_the_text_and_parses_on_demand() {
        let r = RawJson::from_text(r#"{"id": "s-1", "extra": [1, 2]}"#).unwrap();
        assert_eq!(r.as_str(), r#"{"id": "s-1", "extra": [1, 2]}"#);
        assert_eq!(r, serde_json::json!({"extra": [1, 2], "id": "s-1"}));
        #[derive(Deserialize)]
        struct Only<'a> {
            id: &'a str,
        }
        assert_eq!(r.deserialize::<Only<'_>>().unwrap().id, "s-1");
        assert!(r.deserialize::<Vec<u8>>().is_err());
        // Same value, different text: still equal.
        assert_eq!(
            r,
            RawJson::from_text(r#"{"extra":[1,2],"id":"s-1"}"#).unwrap()
        );
        assert_ne!(r, RawJson::from_text("null").unwrap());
        assert!(RawJson::from_text("{\"truncated\": ").is_err());
        assert!(format!("{r:?}").contains("s-1"));
        let doc = RawDocument::Xml("<a/>".into());
        assert_eq!(doc.as_xml(), Some("<a/>"));
        assert!(doc.as_json().is_none());
    }
}
