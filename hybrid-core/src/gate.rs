//! The capability gate: the one place where a false capability becomes an
//! `Unsupported` error, before any I/O, for every provider.
//!
//! [`gate`] wraps any provider. Each call first checks the features it needs against
//! [`Provider::capabilities`]; when one is false it returns
//! [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) with the capability's
//! [`Reason`](crate::Reason) and the operation's name, and the wrapped provider is never
//! called. Backends' builders, the mock and the facade all hand out gated providers;
//! gating twice is a no-op.

use std::sync::Arc;

use async_trait::async_trait;

use crate::capabilities::{Capabilities, Feature};
use crate::error::{Error, Result};
use crate::model::*;
use crate::operation::Operation;
use crate::paging::{error_stream, ListOptions, Page, PageToken};
use crate::provider::Network;
use crate::provider::*;

/// Wraps `provider` in the capability gate (returns it unchanged if already gated).
pub fn gate(provider: Arc<dyn Provider>) -> Arc<dyn Provider> {
    if provider.is_gated() {
        return provider;
    }
    Arc::new(Gated { inner: provider })
}

/// A provider behind the capability gate. Build it with [`gate`].
pub struct Gated {
    inner: Arc<dyn Provider>,
}

impl std::fmt::Debug for Gated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Gated").field(&self.inner).finish()
    }
}

impl Gated {
    fn require(&self, operation: &'static str, features: &[Feature]) -> Result<()> {
        let caps: Arc<Capabilities> = self.inner.capabilities();
        for f in features {
            if let Err(e) = caps.require(*f) {
                let info = self.inner.info();
                tracing::debug!(provider = %info.name, operation, feature = %f, "refused before any request: capability unsupported");
                let mut e = e.with_operation(operation).with_provider(info.name);
                if let Some(r) = info.region {
                    e = e.with_region(r);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    fn stream<T: Send + 'static>(
        &self,
        operation: &'static str,
        features: &[Feature],
        f: impl FnOnce() -> ItemStream<T>,
    ) -> ItemStream<T> {
        match self.require(operation, features) {
            Ok(()) => f(),
            Err(e) => error_stream(e),
        }
    }
}

fn server_spec_features(spec: &CreateServer) -> Vec<Feature> {
    let mut f = vec![Feature::Servers];
    if !spec.security_groups.is_empty() {
        f.push(Feature::SecurityGroups);
    }
    if spec.key_name.is_some() {
        f.push(Feature::KeyPairs);
    }
    if !spec.tags.is_empty() {
        f.push(Feature::ServerTags);
    }
    if !spec.metadata.is_empty() {
        f.push(Feature::ServerMetadata);
    }
    if spec.boot_volume.is_some() {
        f.push(Feature::Volumes);
    }
    f
}

#[async_trait]
impl Provider for Gated {
    fn info(&self) -> ProviderInfo {
        self.inner.info()
    }
    fn capabilities(&self) -> Arc<Capabilities> {
        self.inner.capabilities()
    }
    async fn check(&self) -> Result<()> {
        self.inner.check().await
    }
    fn compute(&self) -> &dyn Compute {
        self
    }
    fn network(&self) -> &dyn Network {
        self
    }
    fn storage(&self) -> &dyn Storage {
        self
    }
    fn images(&self) -> &dyn Images {
        self
    }
    fn is_gated(&self) -> bool {
        true
    }
}

use Feature as F;

#[async_trait]
impl Compute for Gated {
    fn list_servers(&self, o: ListOptions) -> ItemStream<Server> {
        self.stream("list_servers", &[F::Servers], || {
            self.inner.compute().list_servers(o)
        })
    }
    async fn list_servers_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Server>> {
        self.require("list_servers_page", &[F::Servers])?;
        self.inner.compute().list_servers_page(o, p).await
    }
    async fn get_server(&self, id: &ServerId) -> Result<Server> {
        self.require("get_server", &[F::Servers])?;
        self.inner.compute().get_server(id).await
    }
    async fn create_server(&self, spec: &CreateServer) -> Result<Operation<Server>> {
        self.require("create_server", &server_spec_features(spec))?;
        self.inner.compute().create_server(spec).await
    }
    async fn delete_server(&self, id: &ServerId) -> Result<Operation<()>> {
        self.require("delete_server", &[F::Servers])?;
        self.inner.compute().delete_server(id).await
    }
    async fn start_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.require("start_server", &[F::Servers, F::Power])?;
        self.inner.compute().start_server(id).await
    }
    async fn stop_server(&self, id: &ServerId) -> Result<Operation<Server>> {
        self.require("stop_server", &[F::Servers, F::Power])?;
        self.inner.compute().stop_server(id).await
    }
    async fn reboot_server(&self, id: &ServerId, kind: RebootKind) -> Result<Operation<Server>> {
        self.require("reboot_server", &[F::Servers, F::Reboot])?;
        self.inner.compute().reboot_server(id, kind).await
    }
    async fn resize_server(&self, id: &ServerId, flavor: &FlavorId) -> Result<Operation<Server>> {
        self.require("resize_server", &[F::Servers, F::Resize])?;
        self.inner.compute().resize_server(id, flavor).await
    }
    fn list_flavors(&self, o: ListOptions) -> ItemStream<Flavor> {
        self.stream("list_flavors", &[F::Flavors], || {
            self.inner.compute().list_flavors(o)
        })
    }
    async fn list_flavors_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Flavor>> {
        self.require("list_flavors_page", &[F::Flavors])?;
        self.inner.compute().list_flavors_page(o, p).await
    }
    async fn get_flavor(&self, id: &FlavorId) -> Result<Flavor> {
        self.require("get_flavor", &[F::Flavors])?;
        self.inner.compute().get_flavor(id).await
    }
    fn list_key_pairs(&self, o: ListOptions) -> ItemStream<KeyPair> {
        self.stream("list_key_pairs", &[F::KeyPairs], || {
            self.inner.compute().list_key_pairs(o)
        })
    }
    async fn list_key_pairs_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<KeyPair>> {
        self.require("list_key_pairs_page", &[F::KeyPairs])?;
        self.inner.compute().list_key_pairs_page(o, p).await
    }
    async fn get_key_pair(&self, name: &str) -> Result<KeyPair> {
        self.require("get_key_pair", &[F::KeyPairs])?;
        self.inner.compute().get_key_pair(name).await
    }
    async fn create_key_pair(&self, spec: &CreateKeyPair) -> Result<KeyPair> {
        self.require("create_key_pair", &[F::KeyPairs])?;
        self.inner.compute().create_key_pair(spec).await
    }
    async fn delete_key_pair(&self, name: &str) -> Result<()> {
        self.require("delete_key_pair", &[F::KeyPairs])?;
        self.inner.compute().delete_key_pair(name).await
    }
    async fn set_server_tags(&self, id: &ServerId, tags: &[String]) -> Result<Vec<String>> {
        self.require("set_server_tags", &[F::Servers, F::ServerTags])?;
        self.inner.compute().set_server_tags(id, tags).await
    }
    async fn add_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        self.require("add_server_tag", &[F::Servers, F::ServerTags])?;
        self.inner.compute().add_server_tag(id, tag).await
    }
    async fn remove_server_tag(&self, id: &ServerId, tag: &str) -> Result<()> {
        self.require("remove_server_tag", &[F::Servers, F::ServerTags])?;
        self.inner.compute().remove_server_tag(id, tag).await
    }
    async fn set_server_metadata(&self, id: &ServerId, m: &Metadata) -> Result<Metadata> {
        self.require("set_server_metadata", &[F::Servers, F::ServerMetadata])?;
        self.inner.compute().set_server_metadata(id, m).await
    }
    async fn delete_server_metadata(&self, id: &ServerId, key: &str) -> Result<()> {
        self.require("delete_server_metadata", &[F::Servers, F::ServerMetadata])?;
        self.inner.compute().delete_server_metadata(id, key).await
    }
}

#[async_trait]
impl Network for Gated {
    fn list_networks(&self, o: ListOptions) -> ItemStream<crate::model::Network> {
        self.stream("list_networks", &[F::Networks], || {
            self.inner.network().list_networks(o)
        })
    }
    async fn list_networks_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<crate::model::Network>> {
        self.require("list_networks_page", &[F::Networks])?;
        self.inner.network().list_networks_page(o, p).await
    }
    async fn get_network(&self, id: &NetworkId) -> Result<crate::model::Network> {
        self.require("get_network", &[F::Networks])?;
        self.inner.network().get_network(id).await
    }
    async fn create_network(
        &self,
        spec: &CreateNetwork,
    ) -> Result<Operation<crate::model::Network>> {
        if spec.kind.needs_sdn() {
            self.require("create_network", &[F::Networks, F::Sdn])?;
        } else {
            self.require("create_network", &[F::Networks])?;
        }
        self.inner.network().create_network(spec).await
    }
    async fn delete_network(&self, id: &NetworkId) -> Result<Operation<()>> {
        self.require("delete_network", &[F::Networks])?;
        self.inner.network().delete_network(id).await
    }
    fn list_subnets(&self, o: ListOptions) -> ItemStream<Subnet> {
        self.stream("list_subnets", &[F::Subnets], || {
            self.inner.network().list_subnets(o)
        })
    }
    async fn list_subnets_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Subnet>> {
        self.require("list_subnets_page", &[F::Subnets])?;
        self.inner.network().list_subnets_page(o, p).await
    }
    async fn get_subnet(&self, id: &SubnetId) -> Result<Subnet> {
        self.require("get_subnet", &[F::Subnets])?;
        self.inner.network().get_subnet(id).await
    }
    async fn create_subnet(&self, spec: &CreateSubnet) -> Result<Operation<Subnet>> {
        self.require("create_subnet", &[F::Subnets])?;
        self.inner.network().create_subnet(spec).await
    }
    async fn delete_subnet(&self, id: &SubnetId) -> Result<Operation<()>> {
        self.require("delete_subnet", &[F::Subnets])?;
        self.inner.network().delete_subnet(id).await
    }
    fn list_ports(&self, o: ListOptions) -> ItemStream<Port> {
        self.stream("list_ports", &[F::Ports], || {
            self.inner.network().list_ports(o)
        })
    }
    async fn list_ports_page(&self, o: &ListOptions, p: Option<PageToken>) -> Result<Page<Port>> {
        self.require("list_ports_page", &[F::Ports])?;
        self.inner.network().list_ports_page(o, p).await
    }
    async fn get_port(&self, id: &PortId) -> Result<Port> {
        self.require("get_port", &[F::Ports])?;
        self.inner.network().get_port(id).await
    }
    async fn create_port(&self, spec: &CreatePort) -> Result<Operation<Port>> {
        if spec.security_groups.is_empty() {
            self.require("create_port", &[F::Ports])?;
        } else {
            self.require("create_port", &[F::Ports, F::SecurityGroups])?;
        }
        self.inner.network().create_port(spec).await
    }
    async fn delete_port(&self, id: &PortId) -> Result<Operation<()>> {
        self.require("delete_port", &[F::Ports])?;
        self.inner.network().delete_port(id).await
    }
    fn list_security_groups(&self, o: ListOptions) -> ItemStream<SecurityGroup> {
        self.stream("list_security_groups", &[F::SecurityGroups], || {
            self.inner.network().list_security_groups(o)
        })
    }
    async fn list_security_groups_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<SecurityGroup>> {
        self.require("list_security_groups_page", &[F::SecurityGroups])?;
        self.inner.network().list_security_groups_page(o, p).await
    }
    async fn get_security_group(&self, id: &SecurityGroupId) -> Result<SecurityGroup> {
        self.require("get_security_group", &[F::SecurityGroups])?;
        self.inner.network().get_security_group(id).await
    }
    async fn create_security_group(
        &self,
        spec: &CreateSecurityGroup,
    ) -> Result<Operation<SecurityGroup>> {
        self.require("create_security_group", &[F::SecurityGroups])?;
        self.inner.network().create_security_group(spec).await
    }
    async fn delete_security_group(&self, id: &SecurityGroupId) -> Result<Operation<()>> {
        self.require("delete_security_group", &[F::SecurityGroups])?;
        self.inner.network().delete_security_group(id).await
    }
    async fn create_security_group_rule(
        &self,
        spec: &CreateSecurityGroupRule,
    ) -> Result<Operation<SecurityGroupRule>> {
        self.require("create_security_group_rule", &[F::SecurityGroups])?;
        self.inner.network().create_security_group_rule(spec).await
    }
    async fn delete_security_group_rule(&self, id: &SecurityGroupRuleId) -> Result<Operation<()>> {
        self.require("delete_security_group_rule", &[F::SecurityGroups])?;
        self.inner.network().delete_security_group_rule(id).await
    }
    fn list_routers(&self, o: ListOptions) -> ItemStream<Router> {
        self.stream("list_routers", &[F::Routers], || {
            self.inner.network().list_routers(o)
        })
    }
    async fn list_routers_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Router>> {
        self.require("list_routers_page", &[F::Routers])?;
        self.inner.network().list_routers_page(o, p).await
    }
    async fn get_router(&self, id: &RouterId) -> Result<Router> {
        self.require("get_router", &[F::Routers])?;
        self.inner.network().get_router(id).await
    }
    async fn create_router(&self, spec: &CreateRouter) -> Result<Operation<Router>> {
        self.require("create_router", &[F::Routers])?;
        self.inner.network().create_router(spec).await
    }
    async fn delete_router(&self, id: &RouterId) -> Result<Operation<()>> {
        self.require("delete_router", &[F::Routers])?;
        self.inner.network().delete_router(id).await
    }
    async fn add_router_interface(&self, r: &RouterId, s: &SubnetId) -> Result<Operation<Router>> {
        self.require("add_router_interface", &[F::Routers])?;
        self.inner.network().add_router_interface(r, s).await
    }
    async fn remove_router_interface(
        &self,
        r: &RouterId,
        s: &SubnetId,
    ) -> Result<Operation<Router>> {
        self.require("remove_router_interface", &[F::Routers])?;
        self.inner.network().remove_router_interface(r, s).await
    }
    fn list_floating_ips(&self, o: ListOptions) -> ItemStream<FloatingIp> {
        self.stream("list_floating_ips", &[F::FloatingIps], || {
            self.inner.network().list_floating_ips(o)
        })
    }
    async fn list_floating_ips_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<FloatingIp>> {
        self.require("list_floating_ips_page", &[F::FloatingIps])?;
        self.inner.network().list_floating_ips_page(o, p).await
    }
    async fn get_floating_ip(&self, id: &FloatingIpId) -> Result<FloatingIp> {
        self.require("get_floating_ip", &[F::FloatingIps])?;
        self.inner.network().get_floating_ip(id).await
    }
    async fn create_floating_ip(&self, spec: &CreateFloatingIp) -> Result<Operation<FloatingIp>> {
        self.require("create_floating_ip", &[F::FloatingIps])?;
        self.inner.network().create_floating_ip(spec).await
    }
    async fn associate_floating_ip(
        &self,
        id: &FloatingIpId,
        port: Option<&PortId>,
    ) -> Result<Operation<FloatingIp>> {
        self.require("associate_floating_ip", &[F::FloatingIps])?;
        self.inner.network().associate_floating_ip(id, port).await
    }
    async fn delete_floating_ip(&self, id: &FloatingIpId) -> Result<Operation<()>> {
        self.require("delete_floating_ip", &[F::FloatingIps])?;
        self.inner.network().delete_floating_ip(id).await
    }
}

#[async_trait]
impl Storage for Gated {
    fn list_volumes(&self, o: ListOptions) -> ItemStream<Volume> {
        self.stream("list_volumes", &[F::Volumes], || {
            self.inner.storage().list_volumes(o)
        })
    }
    async fn list_volumes_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Volume>> {
        self.require("list_volumes_page", &[F::Volumes])?;
        self.inner.storage().list_volumes_page(o, p).await
    }
    async fn get_volume(&self, id: &VolumeId) -> Result<Volume> {
        self.require("get_volume", &[F::Volumes])?;
        self.inner.storage().get_volume(id).await
    }
    async fn create_volume(&self, spec: &CreateVolume) -> Result<Operation<Volume>> {
        if spec.snapshot_id.is_some() {
            self.require("create_volume", &[F::Volumes, F::Snapshots])?;
        } else {
            self.require("create_volume", &[F::Volumes])?;
        }
        self.inner.storage().create_volume(spec).await
    }
    async fn delete_volume(&self, id: &VolumeId) -> Result<Operation<()>> {
        self.require("delete_volume", &[F::Volumes])?;
        self.inner.storage().delete_volume(id).await
    }
    async fn extend_volume(&self, id: &VolumeId, size: u64) -> Result<Operation<Volume>> {
        self.require("extend_volume", &[F::Volumes, F::ExtendVolume])?;
        self.inner.storage().extend_volume(id, size).await
    }
    async fn attach_volume(
        &self,
        v: &VolumeId,
        s: &ServerId,
        device: Option<&str>,
    ) -> Result<Operation<Attachment>> {
        self.require("attach_volume", &[F::Volumes, F::AttachVolume])?;
        self.inner.storage().attach_volume(v, s, device).await
    }
    async fn detach_volume(&self, v: &VolumeId, s: &ServerId) -> Result<Operation<()>> {
        self.require("detach_volume", &[F::Volumes, F::AttachVolume])?;
        self.inner.storage().detach_volume(v, s).await
    }
    fn list_snapshots(&self, o: ListOptions) -> ItemStream<Snapshot> {
        self.stream("list_snapshots", &[F::Snapshots], || {
            self.inner.storage().list_snapshots(o)
        })
    }
    async fn list_snapshots_page(
        &self,
        o: &ListOptions,
        p: Option<PageToken>,
    ) -> Result<Page<Snapshot>> {
        self.require("list_snapshots_page", &[F::Snapshots])?;
        self.inner.storage().list_snapshots_page(o, p).await
    }
    async fn get_snapshot(&self, id: &SnapshotId) -> Result<Snapshot> {
        self.require("get_snapshot", &[F::Snapshots])?;
        self.inner.storage().get_snapshot(id).await
    }
    async fn create_snapshot(&self, spec: &CreateSnapshot) -> Result<Operation<Snapshot>> {
        self.require("create_snapshot", &[F::Snapshots])?;
        self.inner.storage().create_snapshot(spec).await
    }
    async fn delete_snapshot(&self, id: &SnapshotId) -> Result<Operation<()>> {
        self.require("delete_snapshot", &[F::Snapshots])?;
        self.inner.storage().delete_snapshot(id).await
    }
}

#[async_trait]
impl Images for Gated {
    fn list_images(&self, o: ListOptions) -> ItemStream<Image> {
        self.stream("list_images", &[F::Images], || {
            self.inner.images().list_images(o)
        })
    }
    async fn list_images_page(&self, o: &ListOptions, p: Option<PageToken>) -> Result<Page<Image>> {
        self.require("list_images_page", &[F::Images])?;
        self.inner.images().list_images_page(o, p).await
    }
    async fn get_image(&self, id: &ImageId) -> Result<Image> {
        self.require("get_image", &[F::Images])?;
        self.inner.images().get_image(id).await
    }
    async fn create_image(&self, spec: &CreateImage, data: ImageData) -> Result<Operation<Image>> {
        match &data {
            ImageData::Upload { .. } => {
                self.require("create_image", &[F::Images, F::ImageUpload])?
            }
            ImageData::Url(_) => self.require("create_image", &[F::Images, F::ImageImportUrl])?,
        }
        self.inner.images().create_image(spec, data).await
    }
    async fn download_image(&self, id: &ImageId) -> Result<ByteStream> {
        self.require("download_image", &[F::Images, F::ImageDownload])?;
        self.inner.images().download_image(id).await
    }
    async fn delete_image(&self, id: &ImageId) -> Result<Operation<()>> {
        self.require("delete_image", &[F::Images])?;
        self.inner.images().delete_image(id).await
    }
}

/// Makes one call that needs `feature` and nothing else new, with placeholder
/// arguments: what the conformance suite uses to prove that every false capability
/// fails fast. Returns the call's error, or `None` when the call got through.
pub async fn probe_feature(provider: &dyn Provider, feature: Feature) -> Option<Error> {
    use futures::StreamExt;
    let sid = ServerId::new("hybrid-probe-server");
    let vid = VolumeId::new("hybrid-probe-volume");
    let r: Result<()> = match feature {
        F::Servers => provider.compute().get_server(&sid).await.map(drop),
        F::Power => provider.compute().start_server(&sid).await.map(drop),
        F::Reboot => provider
            .compute()
            .reboot_server(&sid, RebootKind::Soft)
            .await
            .map(drop),
        F::Resize => provider
            .compute()
            .resize_server(&sid, &FlavorId::new("hybrid-probe-flavor"))
            .await
            .map(drop),
        F::Flavors => provider
            .compute()
            .list_flavors_page(&ListOptions::new(), None)
            .await
            .map(drop),
        F::KeyPairs => provider
            .compute()
            .get_key_pair("hybrid-probe-key")
            .await
            .map(drop),
        F::ServerTags => provider.compute().add_server_tag(&sid, "probe").await,
        F::ServerMetadata => {
            provider
                .compute()
                .delete_server_metadata(&sid, "probe")
                .await
        }
        F::Networks => provider
            .network()
            .get_network(&NetworkId::new("hybrid-probe"))
            .await
            .map(drop),
        F::Sdn => provider
            .network()
            .create_network(&CreateNetwork::new("hybrid-probe", NetworkKind::Overlay))
            .await
            .map(drop),
        F::Subnets => provider
            .network()
            .get_subnet(&SubnetId::new("hybrid-probe"))
            .await
            .map(drop),
        F::Ports => provider
            .network()
            .get_port(&PortId::new("hybrid-probe"))
            .await
            .map(drop),
        F::SecurityGroups => match provider
            .network()
            .list_security_groups(ListOptions::new())
            .next()
            .await
        {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        },
        F::Routers => provider
            .network()
            .get_router(&RouterId::new("hybrid-probe"))
            .await
            .map(drop),
        F::FloatingIps => provider
            .network()
            .get_floating_ip(&FloatingIpId::new("hybrid-probe"))
            .await
            .map(drop),
        F::Volumes => provider.storage().get_volume(&vid).await.map(drop),
        F::ExtendVolume => provider.storage().extend_volume(&vid, 2).await.map(drop),
        F::AttachVolume => provider.storage().detach_volume(&vid, &sid).await.map(drop),
        F::Snapshots => provider
            .storage()
            .get_snapshot(&SnapshotId::new("hybrid-probe"))
            .await
            .map(drop),
        F::Images => provider
            .images()
            .get_image(&ImageId::new("hybrid-probe"))
            .await
            .map(drop),
        F::ImageUpload => provider
            .images()
            .create_image(
                &CreateImage::new("hybrid-probe", "raw", "bare"),
                ImageData::bytes(&b"probe"[..]),
            )
            .await
            .map(drop),
        F::ImageImportUrl => provider
            .images()
            .create_image(
                &CreateImage::new("hybrid-probe", "raw", "bare"),
                ImageData::Url("http://127.0.0.1:9/hybrid-probe.img".into()),
            )
            .await
            .map(drop),
        F::ImageDownload => provider
            .images()
            .download_image(&ImageId::new("hybrid-probe"))
            .await
            .map(drop),
    };
    r.err()
}
