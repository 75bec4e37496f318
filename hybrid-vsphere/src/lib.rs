//! # hybrid-vsphere
//!
//! hybrid's VMware vSphere backend, **through vCenter only**: a standalone ESXi host
//! (`about.apiType` `HostAgent`) is refused with `ErrorKind::Unsupported` before any
//! credential is sent.
//!
//! It speaks vim25 SOAP (XML read and written by quick-xml's serde support):
//! - sessions: `RetrieveServiceContent`, `SessionManager.Login` with the
//!   `vmware_soap_session` cookie, one re-login after a `NotAuthenticated` fault, `Logout`;
//! - inventory through the PropertyCollector over ContainerViews, one round trip per
//!   page (`RetrievePropertiesEx` with `maxObjects`, then `ContinueRetrievePropertiesEx`);
//! - VM lifecycle: create, clone, power, reset, guest shutdown, reconfigure (resize to
//!   a flavor, add/remove disks and NICs), destroy, every task awaited as an
//!   [`Operation`](hybrid_core::Operation) with `TaskInfo` progress;
//! - capabilities from what discovery sees ([`capabilities`]): SDN, security groups,
//!   routers and floating IPs only where NSX is present, no object storage, images bound
//!   to the datastore.
//!
//! ## Mapping onto the core
//!
//! | core | vSphere |
//! | --- | --- |
//! | server | a VM that is not a template (id: its managed-object id, `vm-42`) |
//! | flavor | an entry of the configured catalogue ([`FlavorSpec`], [`config::default_flavors`]); a VM's flavor is the entry with its exact vCPU count and memory |
//! | image | a VM template (`config.template`), bound to its datastore |
//! | network | a standard port group, distributed port group or NSX opaque network; new ones are distributed port groups |
//! | volume | not implemented yet (first-class disks); a VM's own disks: [`VsphereProvider::add_disk`] |
//! | availability zone | a cluster (its root resource pool) |
//!
//! ## Connecting
//!
//! ```no_run
//! # async fn demo() -> hybrid_core::Result<()> {
//! let config = hybrid_vsphere::VsphereConfig::from_env()?; // GOVC_URL, GOVC_USERNAME, …
//! let provider = hybrid_vsphere::connect(config).await?;   // Arc<dyn Provider>, gated
//! println!("{:?}", provider.capabilities().network.sdn);
//! # Ok(()) }
//! ```

pub(crate) mod api;
pub mod capabilities;
mod compute;
pub mod config;
mod devices;
pub mod error;
mod images;
mod inventory;
mod network;
pub(crate) mod protocol;
mod provider;
mod session;
mod storage;
mod task;
mod transport;

#[cfg(test)]
mod wire_tests;

use std::sync::Arc;

pub use capabilities::DiscoveryFacts;
pub use config::{FlavorSpec, VsphereBuilder, VsphereConfig};
pub use devices::{DiskInfo, NicInfo};
pub use provider::VsphereProvider;

/// Connects to the vCenter of `config` and returns it as a gated `Arc<dyn Provider>`:
/// a call that needs a capability this vCenter lacks fails with `Unsupported` before any
/// request.
///
/// # Errors
/// As [`VsphereProvider::connect`]: `Unsupported` for a standalone ESXi host,
/// `Unauthenticated`, `Config`, `Transport`.
pub async fn connect(config: VsphereConfig) -> hybrid_core::Result<Arc<dyn hybrid_core::Provider>> {
    Ok(VsphereProvider::connect(config).await?.into_provider())
}
