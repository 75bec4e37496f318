//! # hybrid-fake-azure
//!
//! A stateful, fast, in-process fake of **Entra ID** (token endpoints), **IMDS**
//! (managed identity tokens) and **Azure Resource Manager** (Microsoft.Resources,
//! Microsoft.Compute, Microsoft.Network) on one loopback port, for hybrid's Azure
//! conformance suite, the Python tests, end-to-end benchmarks and reliability tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use hybrid_fake_azure::FakeAzure;
//!
//! let fake = FakeAzure::builder().servers(50_000).start().await?;
//! // One URL is the authority host, the ARM endpoint and the IMDS endpoint.
//! println!("{}", fake.url());
//! println!("{} {} {}", fake.tenant_id(), fake.client_id(), fake.subscription_id());
//! // ... run a client against it ...
//! assert!(fake.token_requests() <= 1);
//! fake.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The binary `fake-azure` serves the same fake until it is killed
//! (`fake-azure --help`).
//!
//! ## Entra ID and IMDS
//!
//! - `POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`, a
//!   `scope` ending in `/.default`, and either `client_id` + `client_secret`, or
//!   `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` +
//!   `client_assertion`. The answer is Entra's
//!   `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":...}`;
//!   refusals are Entra's error documents (`invalid_client` AADSTS7000215,
//!   `unauthorized_client` AADSTS700016, `invalid_request` AADSTS900144 / AADSTS90002,
//!   `unsupported_grant_type`, `invalid_scope`, …), never echoing a secret.
//! - `POST /{tenant}/oauth2/token` (v1, with `resource=`), and
//!   `GET /{tenant}/v2.0/.well-known/openid-configuration`.
//! - `GET /metadata/identity/oauth2/token?api-version=...&resource=...` with the
//!   `Metadata: true` header (IMDS; values are strings, as IMDS sends them).
//!
//! ## Azure Resource Manager
//!
//! Every ARM request needs `Authorization: Bearer <token issued by this fake>` (401
//! `AuthenticationFailed`, `InvalidAuthenticationToken`, `ExpiredAuthenticationToken`
//! or `InvalidAuthenticationTokenAudience`, with a `WWW-Authenticate: Bearer ...`
//! challenge) and an `api-version` (400 `MissingApiVersionParameter`). Answers carry
//! `x-ms-request-id`, `x-ms-correlation-request-id` (the client's, echoed, or a new
//! one), `x-ms-routing-request-id` and the throttling counter of the request's bucket
//! (`x-ms-ratelimit-remaining-subscription-reads` / `-writes` / `-deletes`); an empty
//! bucket answers 429 `SubscriptionRequestsThrottled` with `Retry-After`.
//!
//! Served resources (paths compare case-insensitively, as in ARM):
//!
//! | resource | operations |
//! | --- | --- |
//! | subscription, `locations`, `providers/{namespace}` | GET |
//! | `resourceGroups/{rg}` | PUT, GET, HEAD, PATCH, DELETE (202 + `Location`, deletes what it holds), list |
//! | `{resource or group}/providers/Microsoft.Resources/tags/default` | GET, PUT, PATCH (`Merge`, `Replace`, `Delete`), DELETE |
//! | `Microsoft.Compute/virtualMachines` | PUT (create, update incl. resize, data disk attach/detach), PATCH, GET (`$expand=instanceView,userData`), `instanceView`, `vmSizes`, POST `start` / `powerOff` / `restart` / `deallocate`, DELETE, list by group and by subscription (`$expand=instanceView`: each VM with its instance view, kept by the `nextLink`; `statusOnly=true` by subscription) and by location |
//! | `Microsoft.Compute/locations/{l}/vmSizes` | GET |
//! | `Microsoft.Compute/disks`, `snapshots` | PUT (`Empty`, `Copy`, `FromImage`), PATCH (grow, SKU, tags), GET, DELETE, lists |
//! | `Microsoft.Compute/images` | PUT (from a VM or an OS disk/snapshot), GET, DELETE, lists |
//! | `Microsoft.Compute/galleries/{g}/images/{i}/versions/{v}` | GET and lists (read only) |
//! | `Microsoft.Compute/sshPublicKeys` | PUT, PATCH, GET, DELETE, POST `generateKeyPair`, lists |
//! | `Microsoft.Network/virtualNetworks` (+ `subnets`) | PUT, PATCH (tags), GET, DELETE, lists |
//! | `Microsoft.Network/networkInterfaces` | PUT, PATCH (tags), GET (`$expand=ipConfigurations/publicIPAddress`), DELETE, lists |
//! | `Microsoft.Network/networkSecurityGroups` (+ `securityRules`, `defaultSecurityRules`) | PUT, PATCH (tags), GET, DELETE, lists |
//! | `Microsoft.Network/publicIPAddresses` | PUT, PATCH (tags), GET, DELETE, lists |
//!
//! The seeded first resource group holds the virtual network `hybrid-vnet`
//! (`10.0.0.0/8`, subnet `default`), the managed image `ubuntu-22.04-image`, and the
//! gallery `hybridGallery` with image `ubuntu-22_04` versions `1.0.0` and `1.1.0`;
//! [`FakeAzureBuilder::servers`] adds running VMs `vm-00001`… with a NIC and an OS
//! disk each.
//!
//! Consistency rules follow ARM: a disk attached to a VM cannot be deleted (409
//! `OperationNotAllowed`) nor attached elsewhere (409 `ConflictingUserInput`); a NIC
//! used by a VM cannot be deleted (400 `NicInUse`); a subnet with IP configurations
//! cannot be deleted (400 `InUseSubnetCannotBeDeleted`), nor an associated public IP
//! (`PublicIPAddressCannotBeDeleted`) or NSG (`InUseNetworkSecurityGroupCannotBeDeleted`);
//! two rules with one priority and direction conflict (400 `SecurityRuleConflict`);
//! subnets must fit the address space and not overlap; missing resources are 404
//! `ResourceNotFound` (`NotFound` for child resources, `ResourceGroupNotFound` for
//! groups); deleting a missing resource is 204.
//!
//! ## Long-running operations
//!
//! As in ARM: a VM PUT answers 201 (create) or 200 (update) with
//! `provisioningState` `Creating` / `Updating` and an `Azure-AsyncOperation` URL
//! (`/subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}`);
//! VM actions and deletions answer 202 with `Azure-AsyncOperation` and `Location`
//! (the same URL plus `monitor=true`); disks and snapshots (DiskRP) answer 202 with
//! both headers under `.../DiskOperations/{id}`; network PUTs answer 201/200 with
//! `Azure-AsyncOperation` under `Microsoft.Network/locations/{l}/operations/{id}` and
//! network deletions 202 with `Location` under `.../operationResults/{id}`; resource
//! group deletion answers 202 with `Location` under `/subscriptions/{s}/operationresults/{id}`.
//! Every such answer carries `Retry-After` ([`FakeAzureBuilder::lro_retry_after`]).
//!
//! The status document says `InProgress` for [`FakeAzureBuilder::lro_polls`]
//! observations, then `Succeeded` (or `Failed` / `Canceled` with an `error`, see
//! [`FakeAzure::lro_fail_next`]); reading the resource or its `Location` URL counts as
//! an observation too. A `Location` URL answers 202 while running, then 200 (204 for
//! network deletions; the disk for DiskRP writes), or 400 (`Failed`) / 409
//! (`Canceled`) with the error. A newer VM, disk or image operation preempts a
//! running one (which ends `Canceled` with `OperationPreempted`; a VM PUT while the VM
//! is still being created carries the creation on); a network write
//! while an operation runs on the same resource is 409 `AnotherOperationInProgress`.
//!
//! ## Paging
//!
//! Lists answer `{"value": [...], "nextLink": "..."}`; the next link is an absolute
//! URL on the request's own origin (its `Host`) with the same query plus a
//! `$skiptoken`. Every resource kind lives in an ordered map keyed by
//! (resource group, name), lower-cased, so a page costs `O(log n + page)` even with
//! 50 000 VMs; lists are ordered by resource group, then name.
//!
//! ## Deviations from Azure
//!
//! - One subscription and one tenant; every token has full access (no RBAC).
//! - Client assertions are accepted without checking their signature: a
//!   well-formed three-part JWT is a certificate credential when its `iss` and `sub`
//!   are both a configured client id, and a federated credential when (`iss`, `sub`)
//!   was configured with [`FakeAzureBuilder::federated_credential`]; an `exp` in the
//!   past is refused (AADSTS700024). `aud` is not checked.
//! - Entra issues tokens for any resource; ARM accepts only tokens whose audience is
//!   `https://management.azure.com`, `https://management.core.windows.net` (or a
//!   sovereign cloud's equivalent), or the fake's own URL (`http` or, behind a TLS front, `https`).
//! - Any well-formed `api-version` (`yyyy-MM-dd[-preview]`) is accepted for every
//!   type; the shapes are those of the current versions (compute 2024-11-01, disks
//!   2024-03-02, galleries 2024-03-03, network 2024-05-01).
//! - Marketplace image references are accepted when well-formed (publisher, offer,
//!   sku, version `latest` or `x.y.z`); their OS type is Windows when the publisher or
//!   offer says so. Managed images and gallery versions must exist in the VM's
//!   location.
//! - Operations complete by observation count, not by time. Attaching and detaching
//!   disks and NICs takes effect when the update is accepted.
//! - Galleries are read-only; disks support the `Empty`, `Copy` and `FromImage`
//!   create options, snapshots `Copy`, images a source VM or OS disk/snapshot (no
//!   blob URIs). Public IPs are IPv4 only.
//! - Generated SSH key pairs (`generateKeyPair`) hold random bytes, not real RSA keys.
//! - A PUT of an existing VM without `storageProfile.dataDisks` keeps its data disks.

mod arm;
mod compute;
mod config;
mod entra;
mod fake;
mod http;
mod ids;
mod lro;
mod network;
mod resources;
mod service;
mod storage;
mod util;
mod vm_doc;
mod world;

pub use config::{LroEnd, Mangle, RateLimit, RateLimits, RetryAfter, VmSize};
pub use fake::{FakeAzure, FakeAzureBuilder};
