//! # hybrid-openstack
//!
//! hybrid's OpenStack backend: Keystone v3, Nova, Neutron, Cinder v3 and Glance v2 as
//! a `hybrid-core` [`Provider`](hybrid_core::Provider).
//!
//! ```no_run
//! # async fn demo() -> hybrid_core::Result<()> {
//! use hybrid_openstack::config::ConfigLoader;
//! use hybrid_openstack::OpenStackProvider;
//!
//! // clouds.yaml + secure.yaml, OS_CLOUD, or the OS_* variables, as openstacksdk reads them
//! let cloud = ConfigLoader::new().load(Some("prod"))?;
//! let provider = OpenStackProvider::connect(&cloud).await?;
//! println!("{:?}", provider.capabilities());
//! # Ok(()) }
//! ```
//!
//! Three strata, one module each per service:
//! - [`protocol`]: wire types (serde), checked against the official API samples, their
//!   conversion into core models, and request bodies built from the portable specs.
//! - [`api`]: one function per REST call on an authenticated [`session::Session`]
//!   (token cache, catalog endpoint selection by service type, interface and region,
//!   microversion headers).
//! - [`provider`]: [`OpenStackProvider`], the portable traits over the calls, with
//!   [`Operation`](hybrid_core::Operation)s that wait for Nova, Cinder and Glance state
//!   changes.
//!
//! Around them: [`config`] (the configuration users already have), [`auth`] (Keystone
//! v3 password, application-credential and token authentication with project, domain
//! or system scope) and [`capabilities`] (what a region can do, from its catalog,
//! Neutron extensions, hypervisor types, microversions and Glance import methods; a
//! region whose Nova drives vCenter gets VMware's limits).

pub mod api;
pub mod auth;
pub mod capabilities;
pub mod config;
pub mod protocol;
pub mod provider;
pub mod session;

pub use provider::OpenStackProvider;

/// The shared HTTP layer (client options, retry policy), re-exported for callers that
/// tune the client.
pub use hybrid_http as http;
