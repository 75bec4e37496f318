//! The provider contract: a root [`Provider`] and the four domain traits.
//!
//! Backends implement these traits; callers use them as `Arc<dyn Provider>`. Every
//! provider handed to a caller is wrapped by [`gate`](crate::gate::gate), which checks
//! [`Capabilities`] before each call, so a backend never sees a call it declared
//! unsupported.
//!
//! Conventions: `list_x` returns a lazy `'static` stream, `list_x_page` one resumable
//! page; mutations that may run long return an [`Operation`] to await.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::capabilities::Capabilities;
use crate::error::Result;
use crate::model::*;
use crate::operation::Operation;
use crate::paging::{ListOptions, Page, PageToken};

/// A stream of bytes: image uploads and downloads.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A lazy stream of listed items.
pub type ItemStream<T> = BoxStream<'static, Result<T>>;

/// The platform a provider speaks to (or imitates, for the mock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProviderKind {
    /// OpenStack (Nova, Neutron, Cinder, Glance).
    Openstack,
    /// VMware vSphere through vCenter.
    Vsphere,
    /// Microsoft Azure Resource Manager.
    Azure,
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ProviderKind::Openstack => "openstack",
            ProviderKind::Vsphere => "vsphere",
            ProviderKind::Azure => "azure",
        })
    }
}

/// Who a provider is: kind, name, region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// The platform.
    pub kind: ProviderKind,
    /// The configured name, for example `vsphere-prod`.
    pub name: String,
    /// Region or location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A short description of the flavour of the deployment, for example
    /// `openstack on vsphere` or `vsphere with nsx`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Whether this is an in-memory simulation (the mock) rather than a real service.
    #[serde(default)]
    pub simulated: bool,
}

/// What to create an image from.
pub enum ImageData {
    /// Bytes streamed by the caller.
    Upload {
        /// The data.
        stream: ByteStream,
        /// Its length, when known (lets backends send `Content-Length`).
        size: Option<u64>,
    },
    /// A URL the service imports from itself.
    Url(String),
}

impl ImageData {
    /// Upload of in-memory bytes.
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        let size = Some(data.len() as u64);
        ImageData::Upload {
            stream: Box::pin(futures::stream::once(async move { Ok(data) })),
            size,
        }
    }
}

impl fmt::Debug for ImageData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageData::Upload { size, .. } => f
                .debug_struct("Upload")
                .field("size", size)
                .finish_non_exhaustive(),
            ImageData::Url(u) => f.debug_tuple("Url").field(u).finish(),
        }
    }
}

/// The root of a provider: identity, capabilities, health, and the four domains.
///
/// Object-safe; use it as `Arc<dyn Provider>`. `Debug` must never show a secret.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug + 'static {
    /// Kind, name and region.
    fn info(&self) -> ProviderInfo;

    /// What this provider can do, computed when it was built or last checked. Cheap.
    fn capabilities(&self) -> Arc<Capabilities>;

    /// Verifies that the service answers and the credentials work, and refreshes what
    /// the capabilities are computed from.
    ///
    /// # Errors
    /// `Unauthenticated`, `Transport`, `Unavailable`, `Unsupported` (for example a
    /// standalone ESXi host where vCenter is required).
    async fn check(&self) -> Result<()>;

    /// Servers, flavors, key pairs.
    fn compute(&self) -> &dyn Compute;
    /// Networks, subnets, ports, security groups, routers, floating IPs.
    fn network(&self) -> &dyn Network;
    /// Volumes, attachments, snapshots.
    fn storage(&self) -> &dyn Storage;
    /// Images.
    fn images(&self) -> &dyn Images;

    /// Whether this value is already wrapped by the capability gate.
    #[doc(hidden)]
    fn is_gated(&self) -> bool {
        false
    }
}

/// Servers, flavors, key pairs, server tags and metadata.
///
/// Every method requires [`Feature::Servers`](crate::Feature::Servers) unless it names
/// another feature.
#[async_trait]
pub trait Compute: Send + Sync {
    /// Lists servers lazily.
    fn list_servers(&self, options: ListOptions) -> ItemStream<Server>;
    /// One page of servers.
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_servers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Server>>;
    /// One server.
    ///
    /// # Errors
    /// `NotFound` when it does not exist.
    async fn get_server(&self, id: &ServerId) -> Result<Server>;
    /// Creates a server; the operation ends when it is active.
    ///
    /// Also requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups),
    /// [`Feature::KeyPairs`](crate::Feature::KeyPairs),
    /// [`Feature::ServerTags`](crate::Feature::ServerTags) and
    /// [`Feature::ServerMetadata`](crate::Feature::ServerMetadata) when the spec uses them.
    ///
    /// # Errors
    /// `InvalidInput`, `NotFound` (flavor, image, network), `QuotaExceeded`; the
    /// operation fails with `OperationFailed` when the server ends in error.
    async fn create_server(&self, spec: &CreateServer) -> Result<Operation<Server>>;
    /// Deletes a server; the operation ends when it is gone.
    ///
    /// # Errors
    /// `NotFound` when it does not exist.
    async fn delete_server(&self, id: &ServerId) -> Result<Operation<()>>;
    /// Powers a server on. Requires [`Feature::Power`](crate::Feature::Power).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` when the state forbids it.
    async fn start_server(&self, id: &ServerId) -> Result<Operation<Server>>;
    /// Powers a server off. Requires [`Feature::Power`](crate::Feature::Power).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` when the state forbids it.
    async fn stop_server(&self, id: &ServerId) -> Result<Operation<Server>>;
    /// Reboots a server. Requires [`Feature::Reboot`](crate::Feature::Reboot).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` when the state forbids it.
    async fn reboot_server(&self, id: &ServerId, kind: RebootKind) -> Result<Operation<Server>>;
    /// Changes a server's flavor, confirming the resize where the platform asks to.
    /// Requires [`Feature::Resize`](crate::Feature::Resize).
    ///
    /// # Errors
    /// `NotFound` (server or flavor), `Conflict`, `InvalidInput`.
    async fn resize_server(&self, id: &ServerId, flavor: &FlavorId) -> Result<Operation<Server>>;

    /// Lists flavors lazily. Requires [`Feature::Flavors`](crate::Feature::Flavors).
    fn list_flavors(&self, options: ListOptions) -> ItemStream<Flavor>;
    /// One page of flavors. Requires [`Feature::Flavors`](crate::Feature::Flavors).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_flavors_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Flavor>>;
    /// One flavor. Requires [`Feature::Flavors`](crate::Feature::Flavors).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_flavor(&self, id: &FlavorId) -> Result<Flavor>;

    /// Lists key pairs lazily. Requires [`Feature::KeyPairs`](crate::Feature::KeyPairs).
    fn list_key_pairs(&self, options: ListOptions) -> ItemStream<KeyPair>;
    /// One page of key pairs. Requires [`Feature::KeyPairs`](crate::Feature::KeyPairs).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_key_pairs_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<KeyPair>>;
    /// One key pair by name. Requires [`Feature::KeyPairs`](crate::Feature::KeyPairs).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_key_pair(&self, name: &str) -> Result<KeyPair>;
    /// Registers a public key. Requires [`Feature::KeyPairs`](crate::Feature::KeyPairs).
    ///
    /// # Errors
    /// `AlreadyExists`, `InvalidInput`.
    async fn create_key_pair(&self, spec: &CreateKeyPair) -> Result<KeyPair>;
    /// Deletes a key pair. Requires [`Feature::KeyPairs`](crate::Feature::KeyPairs).
    ///
    /// # Errors
    /// `NotFound`.
    async fn delete_key_pair(&self, name: &str) -> Result<()>;

    /// Replaces a server's tags. Requires [`Feature::ServerTags`](crate::Feature::ServerTags).
    ///
    /// # Errors
    /// `NotFound`, `InvalidInput`.
    async fn set_server_tags(&self, id: &ServerId, tags: &[String]) -> Result<Vec<String>>;
    /// Adds one tag. Requires [`Feature::ServerTags`](crate::Feature::ServerTags).
    ///
    /// # Errors
    /// `NotFound`, `InvalidInput`.
    async fn add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()>;
    /// Removes one tag. Requires [`Feature::ServerTags`](crate::Feature::ServerTags).
    ///
    /// # Errors
    /// `NotFound` when the server or the tag does not exist.
    async fn remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()>;
    /// Merges entries into a server's metadata and returns all of it.
    /// Requires [`Feature::ServerMetadata`](crate::Feature::ServerMetadata).
    ///
    /// # Errors
    /// `NotFound`, `InvalidInput`.
    async fn set_server_metadata(&self, id: &ServerId, metadata: &Metadata) -> Result<Metadata>;
    /// Deletes one metadata key. Requires [`Feature::ServerMetadata`](crate::Feature::ServerMetadata).
    ///
    /// # Errors
    /// `NotFound` when the server or the key does not exist.
    async fn delete_server_metadata(&self, id: &ServerId, key: &str) -> Result<()>;
}

/// Networks, subnets, ports, security groups and rules, routers, floating IPs.
#[async_trait]
pub trait Network: Send + Sync {
    /// Lists networks lazily. Requires [`Feature::Networks`](crate::Feature::Networks).
    fn list_networks(&self, options: ListOptions) -> ItemStream<crate::model::Network>;
    /// One page of networks. Requires [`Feature::Networks`](crate::Feature::Networks).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_networks_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<crate::model::Network>>;
    /// One network. Requires [`Feature::Networks`](crate::Feature::Networks).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_network(&self, id: &NetworkId) -> Result<crate::model::Network>;
    /// Creates a network. Requires [`Feature::Networks`](crate::Feature::Networks), and
    /// [`Feature::Sdn`](crate::Feature::Sdn) for any kind but flat or VLAN.
    ///
    /// # Errors
    /// `InvalidInput`, `Conflict` (VLAN in use), `QuotaExceeded`.
    async fn create_network(
        &self,
        spec: &CreateNetwork,
    ) -> Result<Operation<crate::model::Network>>;
    /// Deletes a network. Requires [`Feature::Networks`](crate::Feature::Networks).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` while ports remain.
    async fn delete_network(&self, id: &NetworkId) -> Result<Operation<()>>;

    /// Lists subnets lazily. Requires [`Feature::Subnets`](crate::Feature::Subnets).
    fn list_subnets(&self, options: ListOptions) -> ItemStream<Subnet>;
    /// One page of subnets. Requires [`Feature::Subnets`](crate::Feature::Subnets).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_subnets_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Subnet>>;
    /// One subnet. Requires [`Feature::Subnets`](crate::Feature::Subnets).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_subnet(&self, id: &SubnetId) -> Result<Subnet>;
    /// Creates a subnet. Requires [`Feature::Subnets`](crate::Feature::Subnets).
    ///
    /// # Errors
    /// `NotFound` (network), `InvalidInput` (CIDR), `Conflict` (overlap).
    async fn create_subnet(&self, spec: &CreateSubnet) -> Result<Operation<Subnet>>;
    /// Deletes a subnet. Requires [`Feature::Subnets`](crate::Feature::Subnets).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` while in use.
    async fn delete_subnet(&self, id: &SubnetId) -> Result<Operation<()>>;

    /// Lists ports lazily. Requires [`Feature::Ports`](crate::Feature::Ports).
    fn list_ports(&self, options: ListOptions) -> ItemStream<Port>;
    /// One page of ports. Requires [`Feature::Ports`](crate::Feature::Ports).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_ports_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Port>>;
    /// One port. Requires [`Feature::Ports`](crate::Feature::Ports).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_port(&self, id: &PortId) -> Result<Port>;
    /// Creates a port. Requires [`Feature::Ports`](crate::Feature::Ports), and
    /// [`Feature::SecurityGroups`](crate::Feature::SecurityGroups) when it names groups.
    ///
    /// # Errors
    /// `NotFound` (network), `Conflict` (address in use).
    async fn create_port(&self, spec: &CreatePort) -> Result<Operation<Port>>;
    /// Deletes a port. Requires [`Feature::Ports`](crate::Feature::Ports).
    ///
    /// # Errors
    /// `NotFound`.
    async fn delete_port(&self, id: &PortId) -> Result<Operation<()>>;

    /// Lists security groups lazily. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    fn list_security_groups(&self, options: ListOptions) -> ItemStream<SecurityGroup>;
    /// One page of security groups. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_security_groups_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>>;
    /// One security group with its rules. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_security_group(&self, id: &SecurityGroupId) -> Result<SecurityGroup>;
    /// Creates a security group. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    ///
    /// # Errors
    /// `InvalidInput`, `QuotaExceeded`.
    async fn create_security_group(
        &self,
        spec: &CreateSecurityGroup,
    ) -> Result<Operation<SecurityGroup>>;
    /// Deletes a security group. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` while in use.
    async fn delete_security_group(&self, id: &SecurityGroupId) -> Result<Operation<()>>;
    /// Adds a rule. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    ///
    /// # Errors
    /// `NotFound` (group), `AlreadyExists` (same rule), `InvalidInput`.
    async fn create_security_group_rule(
        &self,
        spec: &CreateSecurityGroupRule,
    ) -> Result<Operation<SecurityGroupRule>>;
    /// Removes a rule. Requires [`Feature::SecurityGroups`](crate::Feature::SecurityGroups).
    ///
    /// # Errors
    /// `NotFound`.
    async fn delete_security_group_rule(&self, id: &SecurityGroupRuleId) -> Result<Operation<()>>;

    /// Lists routers lazily. Requires [`Feature::Routers`](crate::Feature::Routers).
    fn list_routers(&self, options: ListOptions) -> ItemStream<Router>;
    /// One page of routers. Requires [`Feature::Routers`](crate::Feature::Routers).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_routers_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Router>>;
    /// One router. Requires [`Feature::Routers`](crate::Feature::Routers).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_router(&self, id: &RouterId) -> Result<Router>;
    /// Creates a router. Requires [`Feature::Routers`](crate::Feature::Routers).
    ///
    /// # Errors
    /// `NotFound` (external network), `QuotaExceeded`.
    async fn create_router(&self, spec: &CreateRouter) -> Result<Operation<Router>>;
    /// Deletes a router. Requires [`Feature::Routers`](crate::Feature::Routers).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` while interfaces remain.
    async fn delete_router(&self, id: &RouterId) -> Result<Operation<()>>;
    /// Connects a subnet to a router. Requires [`Feature::Routers`](crate::Feature::Routers).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (already connected).
    async fn add_router_interface(
        &self,
        router: &RouterId,
        subnet: &SubnetId,
    ) -> Result<Operation<Router>>;
    /// Disconnects a subnet from a router. Requires [`Feature::Routers`](crate::Feature::Routers).
    ///
    /// # Errors
    /// `NotFound` when not connected.
    async fn remove_router_interface(
        &self,
        router: &RouterId,
        subnet: &SubnetId,
    ) -> Result<Operation<Router>>;

    /// Lists floating IPs lazily. Requires [`Feature::FloatingIps`](crate::Feature::FloatingIps).
    fn list_floating_ips(&self, options: ListOptions) -> ItemStream<FloatingIp>;
    /// One page of floating IPs. Requires [`Feature::FloatingIps`](crate::Feature::FloatingIps).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_floating_ips_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<FloatingIp>>;
    /// One floating IP. Requires [`Feature::FloatingIps`](crate::Feature::FloatingIps).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_floating_ip(&self, id: &FloatingIpId) -> Result<FloatingIp>;
    /// Allocates a floating IP. Requires [`Feature::FloatingIps`](crate::Feature::FloatingIps).
    ///
    /// # Errors
    /// `NotFound` (network, port), `QuotaExceeded`.
    async fn create_floating_ip(&self, spec: &CreateFloatingIp) -> Result<Operation<FloatingIp>>;
    /// Maps a floating IP to a port, or unmaps it with `None`.
    /// Requires [`Feature::FloatingIps`](crate::Feature::FloatingIps).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (port already mapped).
    async fn associate_floating_ip(
        &self,
        id: &FloatingIpId,
        port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>>;
    /// Releases a floating IP. Requires [`Feature::FloatingIps`](crate::Feature::FloatingIps).
    ///
    /// # Errors
    /// `NotFound`.
    async fn delete_floating_ip(&self, id: &FloatingIpId) -> Result<Operation<()>>;
}

/// Block volumes, attachments and snapshots.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Lists volumes lazily. Requires [`Feature::Volumes`](crate::Feature::Volumes).
    fn list_volumes(&self, options: ListOptions) -> ItemStream<Volume>;
    /// One page of volumes. Requires [`Feature::Volumes`](crate::Feature::Volumes).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_volumes_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Volume>>;
    /// One volume. Requires [`Feature::Volumes`](crate::Feature::Volumes).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_volume(&self, id: &VolumeId) -> Result<Volume>;
    /// Creates a volume; the operation ends when it is available.
    /// Requires [`Feature::Volumes`](crate::Feature::Volumes), and
    /// [`Feature::Snapshots`](crate::Feature::Snapshots) when created from a snapshot.
    ///
    /// # Errors
    /// `InvalidInput`, `QuotaExceeded`; the operation fails with `OperationFailed`.
    async fn create_volume(&self, spec: &CreateVolume) -> Result<Operation<Volume>>;
    /// Deletes a volume. Requires [`Feature::Volumes`](crate::Feature::Volumes).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` while attached or with snapshots.
    async fn delete_volume(&self, id: &VolumeId) -> Result<Operation<()>>;
    /// Grows a volume to `new_size_gib`. Requires [`Feature::ExtendVolume`](crate::Feature::ExtendVolume).
    ///
    /// # Errors
    /// `NotFound`, `InvalidInput` (not larger), `Conflict` (state).
    async fn extend_volume(&self, id: &VolumeId, new_size_gib: u64) -> Result<Operation<Volume>>;
    /// Attaches a volume to a server. Requires [`Feature::AttachVolume`](crate::Feature::AttachVolume).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (already attached).
    async fn attach_volume(
        &self,
        volume: &VolumeId,
        server: &ServerId,
        device: Option<&str>,
    ) -> Result<Operation<Attachment>>;
    /// Detaches a volume from a server. Requires [`Feature::AttachVolume`](crate::Feature::AttachVolume).
    ///
    /// # Errors
    /// `NotFound` when not attached there.
    async fn detach_volume(&self, volume: &VolumeId, server: &ServerId) -> Result<Operation<()>>;

    /// Lists snapshots lazily. Requires [`Feature::Snapshots`](crate::Feature::Snapshots).
    fn list_snapshots(&self, options: ListOptions) -> ItemStream<Snapshot>;
    /// One page of snapshots. Requires [`Feature::Snapshots`](crate::Feature::Snapshots).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_snapshots_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Snapshot>>;
    /// One snapshot. Requires [`Feature::Snapshots`](crate::Feature::Snapshots).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_snapshot(&self, id: &SnapshotId) -> Result<Snapshot>;
    /// Snapshots a volume. Requires [`Feature::Snapshots`](crate::Feature::Snapshots).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (attached without `force`).
    async fn create_snapshot(&self, spec: &CreateSnapshot) -> Result<Operation<Snapshot>>;
    /// Deletes a snapshot. Requires [`Feature::Snapshots`](crate::Feature::Snapshots).
    ///
    /// # Errors
    /// `NotFound`.
    async fn delete_snapshot(&self, id: &SnapshotId) -> Result<Operation<()>>;
}

/// Images: list, get, create from an upload or a URL, download, delete.
#[async_trait]
pub trait Images: Send + Sync {
    /// Lists images lazily. Requires [`Feature::Images`](crate::Feature::Images).
    fn list_images(&self, options: ListOptions) -> ItemStream<Image>;
    /// One page of images. Requires [`Feature::Images`](crate::Feature::Images).
    ///
    /// # Errors
    /// Transport, authentication and service errors.
    async fn list_images_page(
        &self,
        options: &ListOptions,
        page: Option<PageToken>,
    ) -> Result<Page<Image>>;
    /// One image. Requires [`Feature::Images`](crate::Feature::Images).
    ///
    /// # Errors
    /// `NotFound`.
    async fn get_image(&self, id: &ImageId) -> Result<Image>;
    /// Creates an image from `data`; the operation ends when it is active. Requires
    /// [`Feature::Images`](crate::Feature::Images) and
    /// [`Feature::ImageUpload`](crate::Feature::ImageUpload) or
    /// [`Feature::ImageImportUrl`](crate::Feature::ImageImportUrl).
    ///
    /// # Errors
    /// `InvalidInput`, `QuotaExceeded`, the upload stream's own error; the operation
    /// fails with `OperationFailed` when the import fails.
    async fn create_image(&self, spec: &CreateImage, data: ImageData) -> Result<Operation<Image>>;
    /// Streams an image's data. Requires [`Feature::ImageDownload`](crate::Feature::ImageDownload).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` when it has no data yet.
    async fn download_image(&self, id: &ImageId) -> Result<ByteStream>;
    /// Deletes an image. Requires [`Feature::Images`](crate::Feature::Images).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` while in use where the platform forbids that.
    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>>;
}
