//! # hybrid-azure
//!
//! hybrid's Microsoft Azure backend: Entra ID credentials and Azure Resource Manager
//! (ARM) compute, network, disks and images as a `hybrid-core`
//! [`Provider`](hybrid_core::Provider). Rust has no official crate for the ARM
//! management plane, so this crate speaks ARM REST itself, over `hybrid-http`.
//!
//! ```no_run
//! # async fn demo() -> hybrid_core::Result<()> {
//! // AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or a certificate, a federated
//! // token file, managed identity), AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZURE_LOCATION
//! let config = hybrid_azure::AzureConfig::from_env()?;
//! let provider = hybrid_azure::connect(config).await?; // Arc<dyn Provider>, gated
//! println!("{:?}", provider.capabilities().network.routers);
//! # Ok(()) }
//! ```
//!
//! ## Strata
//!
//! - [`protocol`]: ARM's wire types (serde), checked against the official examples of
//!   azure-rest-api-specs, and their conversion into core models.
//! - [`api`]: one function per ARM call on an [`ArmClient`](client::ArmClient), with the
//!   `api-version` of each resource type ([`api::versions`]).
//! - [`AzureProvider`]: the portable traits over the calls.
//!
//! Around them: [`config`] (settings, `AZURE_*` variables, sovereign clouds),
//! [`credential`] (client secret, client certificate, workload identity, managed
//! identity, and an explicit, inspectable chain of them), [`client`] (token, correlation
//! id, throttle, error refinement, `nextLink` paging that never leaves the ARM origin),
//! [`lro`] (long-running operations: `Azure-AsyncOperation`, `Location`,
//! `provisioningState`, `Retry-After`), [`throttle`] (slowing down when ARM's
//! `x-ms-ratelimit-remaining-*` counts run low) and [`capabilities`].
//!
//! ## Mapping onto the core
//!
//! The provider's scope is one subscription, one resource group (where resources are
//! created and listed) and one location (where they are created).
//!
//! | core | Azure |
//! | --- | --- |
//! | server | a virtual machine; its id is the full ARM resource id |
//! | server status | `provisioningState` (`Creating`, `Deleting`, `Failed`), else the power state of the instance view |
//! | flavor | a VM size of the location (`Standard_D2s_v5`); `disk_gib` 0 (the image decides), the temporary disk as `ephemeral_gib` |
//! | image | a managed image, or an Azure Compute Gallery image version (`gallery/definition/version`); a marketplace image is `publisher:offer:sku:version` |
//! | key pair | an SSH public key resource (`Microsoft.Compute/sshPublicKeys`) |
//! | server tags and metadata | ARM tags: metadata under its own keys, tags as `hybrid:tag:<tag>` (see [`protocol`]) |
//! | network | a virtual network (an overlay); subnets are its subnets |
//! | port | a network interface |
//! | security group | a network security group; rules are its allow rules |
//! | floating IP | a public IP address, mapped through a NIC's IP configuration |
//! | volume | a managed disk, attached through the VM's data disks (LUN as `lun<n>`) |
//! | snapshot | a disk snapshot |
//! | router | none: Azure has no Neutron-style routers ([`capabilities`]) |
//!
//! Listings take the filters `scope` (`resource_group`, the default, or
//! `subscription`) for servers and networks, `location` for servers, and `network` for
//! subnets; any other filter is `InvalidInput`. ARM lists have no page size, so
//! `page_size` is honoured by slicing ARM's pages (the page token says where).
//! Listed servers carry their state but no addresses (those live on the NICs):
//! [`get_server`](hybrid_core::provider::Compute::get_server) reads them. The state comes
//! with the pages: the resource group's and the subscription's listings ask ARM for each
//! VM's instance view (`$expand=instanceView`, `api-version` 2024-07-01), so a listing
//! costs one request per ARM page. Only VMs a page leaves without an instance view (the
//! listing by `location`, whose ARM call has no `$expand`; or an ARM that ignores or
//! refuses the expansion, which its specification allows only with a scale-set
//! `$filter`) have their instance view read, one request each, eight at a time. Each VM
//! is decoded once from its JSON text, which is kept as the server's raw document, and
//! the next page is requested while the current one is consumed.

pub mod api;
pub mod capabilities;
pub mod client;
pub mod config;
pub mod credential;
pub mod error;
pub mod ids;
pub mod lro;
pub mod protocol;
mod provider;
pub mod throttle;

pub use config::{AzureBuilder, AzureConfig, CloudEnvironment, CredentialKind};
pub use provider::{connect, connect_from_env, AzureProvider};

/// The shared HTTP layer (client options, retry policy), re-exported for callers that
/// tune the client.
pub use hybrid_http as http;
