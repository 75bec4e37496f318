//! # hybrid-openstack
//!
//! hybrid's OpenStack backend (Keystone v3, Nova, Neutron, Cinder v3, Glance v2).
//!
//! **Status: in progress.** This crate holds the wire protocol (the `protocol` stratum:
//! serde types for every resource hybrid covers, checked against the official API
//! samples) and its conversion into `hybrid-core` models, and the configuration
//! users already have ([`config`]: `clouds.yaml`, `secure.yaml`, `OS_CLOUD`, `OS_*`),
//! region capabilities ([`capabilities`]) and Keystone v3 authentication ([`auth`]: a
//! `hybrid-http` token source for password, application-credential and token auth),
//! and the authenticated [`session`] (token cache, catalog endpoint selection by
//! service type, interface and region, microversion headers).
//! The `api` stratum (one function per call, on `hybrid-http`) and the `Provider`
//! implementation arrive next; until then this crate offers no provider.

pub mod api;
pub mod auth;
pub mod capabilities;
pub mod config;
pub mod protocol;
pub mod provider;
pub mod session;

pub use provider::OpenStackProvider;
