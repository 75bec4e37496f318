//! # hybrid-openstack
//!
//! hybrid's OpenStack backend (Keystone v3, Nova, Neutron, Cinder v3, Glance v2).
//!
//! **Status: in progress.** This crate holds the wire protocol (the `protocol` stratum:
//! serde types for every resource hybrid covers, checked against the official API
//! samples) and its conversion into `hybrid-core` models. The `api` stratum (one
//! function per call, on `hybrid-http`), configuration from `clouds.yaml`/`OS_*` and
//! the `Provider` implementation arrive next; until then this crate offers no provider.

pub mod protocol;
