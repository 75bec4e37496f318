//! # hybrid
//!
//! One async Rust API for compute, network, block storage and images across
//! **VMware vSphere** (through vCenter), **OpenStack** and **Microsoft Azure**, for
//! the people who build cloud-management portals, automation and test harnesses for
//! Dual-Mode / Hybrid IT.
//!
//! This facade re-exports [`hybrid_core`] and adds [`Cloud`], a provider handle built
//! from a serde [`CloudConfig`] (a provider kind and its settings), a JSON file, or the
//! environment; and [`fleet::FleetConfig`], many environments from one YAML file as a
//! [`fleet::Fleet`] that inventories them concurrently and places workloads with
//! explanations.
//!
//! Cargo features: `mock` (default) embeds the in-memory mock provider with its
//! profiles; `openstack` adds the OpenStack backend ([`openstack`], configured from
//! `clouds.yaml` or `OS_*` as openstacksdk is); `vsphere` adds the vSphere backend
//! ([`vsphere`], vCenter only, configured from a JSON config or govc's `GOVC_*`
//! variables); `azure` adds the Azure backend ([`azure`], Azure Resource Manager with
//! Entra ID credentials, configured from a JSON config or the `AZURE_*` variables).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> hybrid::Result<()> {
//! use hybrid::{Cloud, CloudConfig, ErrorKind};
//! use hybrid::model::{CreateSecurityGroup};
//!
//! let cloud = Cloud::connect(CloudConfig::from_json(r#"{"kind": "mock", "profile": "vsphere"}"#)?).await?;
//! let err = cloud
//!     .network()
//!     .create_security_group(&CreateSecurityGroup { name: "web".into(), description: String::new() })
//!     .await
//!     .unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Unsupported);
//! println!("{}", err.unsupported_reason().unwrap()); // security groups need the NSX distributed firewall …
//! # Ok(())
//! # }
//! ```

mod cloud;
pub mod fleet;

#[cfg(feature = "azure")]
pub use cloud::AzureSettings;
#[cfg(feature = "openstack")]
pub use cloud::OpenstackConfig;
#[cfg(feature = "vsphere")]
pub use cloud::VsphereSettings;
pub use cloud::{Cloud, CloudConfig};

/// The Azure backend (feature `azure`): [`AzureProvider`](hybrid_azure::AzureProvider)
/// with its `api` stratum, [`AzureConfig`](hybrid_azure::AzureConfig), the credential
/// chain and [`connect`](hybrid_azure::connect).
#[cfg(feature = "azure")]
pub use hybrid_azure as azure;
pub use hybrid_core::*;
/// The OpenStack backend (feature `openstack`): [`OpenStackProvider`](hybrid_openstack::OpenStackProvider),
/// its configuration loader and its `api` stratum.
#[cfg(feature = "openstack")]
pub use hybrid_openstack as openstack;
/// The vSphere backend (feature `vsphere`): [`VsphereProvider`](hybrid_vsphere::VsphereProvider)
/// with its vSphere-only extras, [`VsphereConfig`](hybrid_vsphere::VsphereConfig) and
/// [`connect`](hybrid_vsphere::connect).
#[cfg(feature = "vsphere")]
pub use hybrid_vsphere as vsphere;
