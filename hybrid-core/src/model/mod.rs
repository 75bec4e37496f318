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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "format", content = "document", rename_all = "snake_case")]
pub enum RawDocument {
    /// A JSON document (OpenStack, Azure, vSphere REST).
    Json(serde_json::Value),
    /// An XML fragment (vSphere vim25 SOAP).
    Xml(String),
}

impl RawDocument {
    /// The JSON document, when this is JSON.
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match self {
            RawDocument::Json(v) => Some(v),
            RawDocument::Xml(_) => None,
        }
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
        let r = RawDocument::Json(serde_json::json!({"a": 1}));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"format": "json", "document": {"a": 1}})
        );
        assert_eq!(r.as_json().unwrap()["a"], 1);
    }
}
