//! The `protocol` stratum: ARM's wire types (serde) and their conversion into
//! `hybrid-core` models.
//!
//! Every type decodes leniently: fields ARM may leave out are `Option`s or default,
//! states are strings (unknown values become `Other` in the core models, never a
//! panic), and the raw document is kept as the model's `raw` escape hatch. The shapes
//! are checked against the official x-ms-examples of azure-rest-api-specs in
//! `tests/samples.rs`.
//!
//! How tags work: ARM tags are one name → value map per resource. hybrid keeps its
//! server **metadata** there under the metadata's own keys (so Azure tools show them as
//! they are), and its **tags** (plain strings) as tags named `hybrid:tag:<tag>` with an
//! empty value. Names starting with `hybrid:` are reserved: a metadata key with that
//! prefix is refused (`InvalidInput`), so neither can clobber the other. hybrid also
//! keeps `hybrid:key-name` (the key pair a VM was created with) and `hybrid:description`
//! (a security group's description). ARM compares tag names without case, allows 50 per
//! resource, names of at most 512 characters without `< > % & \ ? /`, and values of at
//! most 256; anything else is refused before a request.

pub mod common;
pub mod compute;
pub mod disks;
pub mod images;
pub mod network;
pub mod resources;
