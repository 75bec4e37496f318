//! Wire types of the OpenStack APIs, and their conversion into `hybrid-core` models.
//!
//! Decoding is lenient where the services are: unknown fields are ignored, `null` is
//! accepted wherever a service sends it, and unknown status strings are kept as
//! `Other(..)` by the core status enums. Each `into_core` conversion takes the raw
//! JSON document when the caller wants it kept as the model's escape hatch.

pub mod cinder;
pub mod glance;
pub mod keystone;
pub mod neutron;
pub mod nova;
pub mod requests;

use serde::Deserialize;

/// A `links` entry (`rel` = `next` carries the next page).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Link {
    /// Target URL.
    pub href: String,
    /// Relation: `self`, `bookmark`, `next`, `previous`.
    #[serde(default)]
    pub rel: Option<String>,
}

/// The `href` of the `next` link, if any.
pub fn next_link(links: &[Link]) -> Option<&str> {
    links
        .iter()
        .find(|l| l.rel.as_deref() == Some("next"))
        .map(|l| l.href.as_str())
}

/// Keeps `raw` as a JSON raw document when given.
pub(crate) fn raw(doc: Option<serde_json::Value>) -> Option<hybrid_core::model::RawDocument> {
    doc.map(|v| hybrid_core::model::RawDocument::from_value(&v))
}
