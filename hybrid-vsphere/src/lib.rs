//! # hybrid-vsphere
//!
//! hybrid's VMware vSphere backend, **through vCenter only**: a standalone ESXi host
//! (`about.apiType` `HostAgent`) is refused with `ErrorKind::Unsupported` before any
//! credential is sent.
//!
//! It speaks vim25 SOAP (XML written by quick-xml's serde support, read by its event
//! reader):
//! - sessions: `RetrieveServiceContent`, `SessionManager.Login` with the
//!   `vmware_soap_session` cookie, one re-login after a `NotAuthenticated` fault, `Logout`;
//! - inventory through the PropertyCollector over ContainerViews, one round trip per
//!   page (`RetrievePropertiesEx` with `maxObjects`, then `ContinueRetrievePropertiesEx`);
//! - VM lifecycle: create, clone, power, reset, guest shutdown, reconfigure (resize to
//!   a flavor, add/remove disks and NICs), destroy, every task awaited as an
//!   [`Operation`](hybrid_core::Operation) with `TaskInfo` progress;
//! - first-class disks (`VcenterVStorageObjectManager`) as the core's volumes;
//! - capabilities from what discovery sees ([`capabilities`]): SDN, security groups,
//!   routers and floating IPs only where NSX is present, no object storage, images bound
//!   to the datastore.
//!
//! And the vSphere Automation (vAPI) REST API, where REST is the only API, from the same
//! credentials: a session by `POST /api/session`, falling back to
//! `POST /rest/com/vmware/cis/session` when `/api` answers 404 (re-created on a `401`,
//! deleted at [`VsphereProvider::logout`]); tags ([`tags`]) and content libraries
//! ([`library`]: items, uploads through update sessions, URL imports, downloads, OVF
//! deployment).
//!
//! Both go through one [`hybrid_http::HttpClient`]: the
//! [`ClientOptions`](hybrid_http::ClientOptions) given to
//! [`VsphereProvider::connect_with_options`] (timeouts, retry policy and total
//! deadline, `Retry-After`, body limits, proxy, TLS) hold for SOAP and REST alike. A
//! mutating vim25 call is never sent twice once it may have reached the vCenter.
//! [`decode`] runs every decoder of vCenter answers without I/O.
//!
//! ## Mapping onto the core
//!
//! | core | vSphere |
//! | --- | --- |
//! | server | a VM that is not a template (id: its managed-object id, `vm-42`) |
//! | server tags | the VM's vSphere tags in the category [`VsphereConfig::tag_category`] (default `hybrid`, created on demand) |
//! | flavor | an entry of the configured catalogue ([`FlavorSpec`], [`config::default_flavors`]); a VM's flavor is the entry with its exact vCPU count and memory |
//! | image | a VM template (`config.template`, id `vm-N`), bound to its datastore; or a content-library item (id: its UUID), bound to its library and the library's datastore; never shareable with another environment |
//! | new image | an item of the library [`VsphereConfig::content_library`] (default `hybrid`, created on demand), uploaded through an update session |
//! | server from an OVF item | `ovf/library-item?action=deploy`, then sized to the flavor |
//! | network | a standard port group, distributed port group or NSX opaque network; new ones are distributed port groups; a switch's uplink port group is never a network |
//! | volume | a first-class disk (id: its UUID) on a datastore; a VM's own disks: [`VsphereProvider::add_disk`] |
//! | availability zone | a cluster (its root resource pool); for a volume, its datastore |
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
pub mod decode;
mod devices;
pub mod error;
mod images;
mod inventory;
pub mod library;
mod network;
pub(crate) mod protocol;
mod provider;
mod session;
mod storage;
pub mod tags;
mod task;
mod transport;
mod vapi;

#[cfg(test)]
mod core_rest_wire_tests;
#[cfg(test)]
mod spec_tests;
#[cfg(test)]
mod vapi_wire_tests;
#[cfg(test)]
mod vslm_wire_tests;
#[cfg(test)]
mod wire_tests;

use std::sync::Arc;

pub use capabilities::DiscoveryFacts;
pub use config::{FlavorSpec, VsphereBuilder, VsphereConfig};
pub use devices::{DiskInfo, NicInfo};
pub use library::{ContentLibrary, LibraryFile};
pub use provider::VsphereProvider;
pub use storage::PROVISIONING_TYPES;
pub use tags::{TagCategory, TaggedObject, VsphereTag};

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
