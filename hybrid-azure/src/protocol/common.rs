//! Shapes shared by every resource provider, and the tag mapping.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use hybrid_core::model::Metadata;
use hybrid_core::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};

/// ARM's error body: `{"error": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ArmErrorBody {
    /// The error.
    pub error: ArmErrorDetail,
}

/// ARM's error detail: code, message, target and nested details.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArmErrorDetail {
    /// The error code, for example `ResourceNotFound`.
    #[serde(default)]
    pub code: Option<String>,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// The property concerned.
    #[serde(default)]
    pub target: Option<String>,
    /// More errors.
    #[serde(default)]
    pub details: Vec<ArmErrorDetail>,
}

/// A reference to another resource: `{"id": "..."}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubResource {
    /// The referenced resource's id.
    #[serde(default)]
    pub id: Option<String>,
}

/// ARM tags.
pub type Tags = BTreeMap<String, String>;

/// A string lent by the input when the deserializer can lend it (JSON text without
/// escapes in the string, or a `serde_json::Value`), copied otherwise: what the
/// borrowing decoders ([`VirtualMachineRef`](super::compute::VirtualMachineRef)) read
/// strings as, so that a listing does not copy the strings it only looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

impl Str<'_> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The string, owned (no copy when it was copied already).
    pub fn owned(self) -> String {
        self.0.into_owned()
    }
}

/// ARM tags, borrowed where the input lends them (see [`Str`]).
pub type TagsRef<'a> = BTreeMap<Str<'a>, Str<'a>>;

/// The prefix of hybrid's tags among ARM tags.
pub const TAG_PREFIX: &str = "hybrid:tag:";
/// The prefix reserved for hybrid's own tags.
pub const RESERVED_PREFIX: &str = "hybrid:";
/// The ARM tag holding the key pair a VM was created with.
pub const KEY_NAME_TAG: &str = "hybrid:key-name";
/// The ARM tag holding a security group's description.
pub const DESCRIPTION_TAG: &str = "hybrid:description";
/// The most tags ARM keeps on one resource.
pub const MAX_TAGS: usize = 50;

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Splits ARM tags into hybrid tags (sorted), metadata, and hybrid's own entries.
pub fn split_tags(arm: &Tags) -> (Vec<String>, Metadata, Tags) {
    split_tag_pairs(arm.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// [`split_tags`] over name → value pairs in name order (a [`Tags`] or [`TagsRef`]).
pub fn split_tag_pairs<'t>(
    arm: impl Iterator<Item = (&'t str, &'t str)>,
) -> (Vec<String>, Metadata, Tags) {
    let mut tags = Vec::new();
    let mut metadata = Metadata::new();
    let mut own = Tags::new();
    for (k, v) in arm {
        if starts_with_ci(k, TAG_PREFIX) {
            tags.push(k[TAG_PREFIX.len()..].to_owned());
        } else if starts_with_ci(k, RESERVED_PREFIX) {
            own.insert(k.to_ascii_lowercase(), v.to_owned());
        } else {
            metadata.insert(k.to_owned(), v.to_owned());
        }
    }
    tags.sort();
    (tags, metadata, own)
}

fn check_name(name: &str, what: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::invalid_input(format!(
            "an empty {what} cannot be an Azure tag"
        )));
    }
    if name.chars().count() > 512 {
        return Err(Error::invalid_input(format!(
            "the {what} {name:?} is too long for an Azure tag name (512 characters)"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| "<>%&\\?/".contains(*c) || c.is_control())
    {
        return Err(Error::invalid_input(format!(
            "the {what} {name:?} holds {c:?}, which Azure tag names cannot"
        )));
    }
    Ok(())
}

/// The ARM tag name of hybrid tag `tag`.
///
/// # Errors
/// `InvalidInput` when the tag cannot be an ARM tag name.
pub fn tag_key(tag: &str) -> Result<String> {
    check_name(tag, "tag")?;
    let key = format!("{TAG_PREFIX}{tag}");
    check_name(&key, "tag")?;
    Ok(key)
}

/// Checks a metadata entry.
///
/// # Errors
/// `InvalidInput` for a reserved, empty or invalid key or a value over 256 characters.
pub fn check_metadata(key: &str, value: &str) -> Result<()> {
    check_name(key, "metadata key")?;
    if starts_with_ci(key, RESERVED_PREFIX) {
        return Err(Error::invalid_input(format!(
            "the metadata key {key:?} starts with {RESERVED_PREFIX:?}, which hybrid reserves for its own tags"
        )));
    }
    if value.chars().count() > 256 {
        return Err(Error::invalid_input(format!(
            "the value of metadata key {key:?} is longer than Azure's 256 characters"
        )));
    }
    Ok(())
}

/// ARM tags for hybrid `tags`, `metadata` and hybrid's own `own` entries.
///
/// # Errors
/// `InvalidInput` for an invalid tag or metadata entry, names that differ only in case
/// (ARM would merge them), or more than 50 in all.
pub fn arm_tags(tags: &[String], metadata: &Metadata, own: &Tags) -> Result<Tags> {
    let mut out = Tags::new();
    let mut seen = BTreeSet::new();
    let mut add = |k: String, v: String| -> Result<()> {
        if !seen.insert(k.to_ascii_lowercase()) {
            return Err(Error::invalid_input(format!(
                "{k:?} appears twice (Azure tag names ignore case)"
            )));
        }
        out.insert(k, v);
        Ok(())
    };
    // A tag given twice is one tag.
    let unique: BTreeSet<&String> = tags.iter().collect();
    for t in unique {
        add(tag_key(t)?, String::new())?;
    }
    for (k, v) in metadata {
        check_metadata(k, v)?;
        add(k.clone(), v.clone())?;
    }
    for (k, v) in own {
        add(k.clone(), v.clone())?;
    }
    if out.len() > MAX_TAGS {
        return Err(Error::invalid_input(format!(
            "{} tags and metadata entries are more than the {MAX_TAGS} Azure keeps on a resource",
            out.len()
        )));
    }
    Ok(out)
}

/// A resource's name: `name`, or the last segment of its `id` when ARM left the
/// name out (the generated minimal examples do).
pub fn name_of(name: &str, id: &str) -> String {
    if !name.is_empty() {
        return name.to_owned();
    }
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// A core network/resource state from ARM's `provisioningState`.
pub fn provisioning_status(state: Option<&str>) -> hybrid_core::model::NetworkStatus {
    hybrid_core::model::NetworkStatus::parse(state.unwrap_or("Succeeded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hybrid_core::ErrorKind;

    #[test]
    fn tags_and_metadata_do_not_clobber_each_other() {
        let meta: Metadata = [("env".to_owned(), "prod".to_owned())].into();
        let own: Tags = [(KEY_NAME_TAG.to_owned(), "k1".to_owned())].into();
        let arm = arm_tags(&["web".into(), "env".into()], &meta, &own).unwrap();
        assert_eq!(arm.get("env").unwrap(), "prod");
        assert_eq!(arm.get("hybrid:tag:env").unwrap(), "");
        assert_eq!(arm.get("hybrid:tag:web").unwrap(), "");
        let (tags, m, o) = split_tags(&arm);
        assert_eq!(tags, vec!["env".to_owned(), "web".to_owned()]);
        assert_eq!(m, meta);
        assert_eq!(o.get(KEY_NAME_TAG).unwrap(), "k1");
    }

    #[test]
    fn invalid_tags_are_refused() {
        let none = Metadata::new();
        for bad in ["a/b", "x?", "", "50%"] {
            let e = arm_tags(&[bad.to_owned()], &none, &Tags::new()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        let m: Metadata = [("hybrid:tag:x".to_owned(), "v".to_owned())].into();
        assert_eq!(
            arm_tags(&[], &m, &Tags::new()).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let m: Metadata = [
            ("Env".to_owned(), "a".to_owned()),
            ("env".to_owned(), "b".to_owned()),
        ]
        .into();
        assert!(arm_tags(&[], &m, &Tags::new())
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
        assert!(arm_tags(&many, &none, &Tags::new()).is_err());
        let long: Metadata = [("k".to_owned(), "v".repeat(257))].into();
        assert!(arm_tags(&[], &long, &Tags::new()).is_err());
    }
}
