//! Provisioning: place, bring the image, create, await.

use std::fmt;
use std::sync::Arc;

use crate::capabilities::{Feature, Reason, ReasonKind};
use crate::error::{Error, Result};
use crate::model::{
    CreateFloatingIp, CreateImage, CreatePort, CreateSecurityGroup, CreateServer, FloatingIp,
    Image, ImageId, NetworkAttachment, Port, SecurityGroup, Server,
};
use crate::provider::{ImageData, Provider};

use super::placement::{evaluate, index_of, Candidate, Placement, Scope};
use super::resolve::{ImageAction, Snapshots};
use super::{Fleet, WorkloadSpec};

/// What [`Fleet::provision`] made.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Where it went and why.
    pub candidate: Candidate,
    /// The whole decision, for [`Fleet::provision`] (not for
    /// [`Fleet::provision_on`], which decides nothing).
    pub placement: Option<Placement>,
    /// The server, active.
    pub server: Server,
    /// The image imported for it, when it had to be.
    pub imported_image: Option<Image>,
    /// Security groups created for it.
    pub created_security_groups: Vec<SecurityGroup>,
    /// The port made for its public IP.
    pub port: Option<Port>,
    /// Its public IP.
    pub floating_ip: Option<FloatingIp>,
}

impl fmt::Display for Provisioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is {} on {} ({})",
            self.server.name,
            self.server.status,
            self.candidate.environment,
            super::text::flavor_label(&self.candidate.resolution.flavor)
        )?;
        if let Some(ip) = &self.floating_ip {
            write!(f, ", public IP {}", ip.address)?;
        }
        Ok(())
    }
}

impl Fleet {
    /// Places `spec` (see [`place`](Fleet::place)), then makes it: imports the image
    /// when it must be imported, creates missing security groups, a port and a public
    /// IP when needed, creates the server and awaits its [`Operation`](crate::Operation)
    /// until it is active (within the fleet's operation timeout).
    ///
    /// Requires [`Feature::Servers`], and as the spec needs them
    /// [`Feature::SecurityGroups`], [`Feature::Ports`], [`Feature::FloatingIps`],
    /// [`Feature::ServerTags`] (tags are set only where supported),
    /// [`Feature::ImageDownload`] on the image's source and [`Feature::ImageUpload`] on
    /// the target (to import an image).
    ///
    /// # Errors
    /// [`Placement::require`]'s error when no environment is eligible, before any
    /// request that creates something; [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported)
    /// when the image must be converted (hybrid does not convert disk images) or
    /// cannot be copied by streaming; otherwise the errors of the calls made, with the
    /// environment named.
    pub async fn provision(&self, spec: &WorkloadSpec) -> Result<Provisioned> {
        spec.validate()?;
        let all = self.snapshots(spec).await;
        let placement = self.decide(spec, &all);
        let candidate = placement.require()?.clone();
        let index = index_of(&all, &candidate.environment);
        let mut made = self.make(spec, index, &all, candidate).await?;
        made.placement = Some(placement);
        Ok(made)
    }

    /// Provisions `spec` in `environment`, which must pass every rule
    /// [`place`](Fleet::place) applies (policy included); see
    /// [`provision`](Fleet::provision).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound) for an unknown environment;
    /// the environment's error when it cannot be reached;
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) with every rule it
    /// breaks (see [`Rejection::to_error`](super::Rejection::to_error)), before any
    /// request that creates something; then as [`provision`](Fleet::provision).
    pub async fn provision_on(
        &self,
        spec: &WorkloadSpec,
        environment: &str,
    ) -> Result<Provisioned> {
        spec.validate()?;
        self.find(environment)?;
        let all = self.snapshots(spec).await;
        let index = index_of(&all, environment);
        let candidate = evaluate(self, spec, index, &all, Scope::Everything)
            .map_err(|r| r.to_error(&spec.name, "provision"))?;
        self.make(spec, index, &all, candidate).await
    }

    async fn make(
        &self,
        spec: &WorkloadSpec,
        index: usize,
        all: &Snapshots,
        candidate: Candidate,
    ) -> Result<Provisioned> {
        let (env, snap) = &all[index];
        let snap = snap
            .as_ref()
            .map_err(|e| Error::new(e.kind(), e.to_string()))?;
        let p = snap.provider.clone();
        let res = &candidate.resolution;
        let timeout = self.inner.operation_timeout;
        let ctx = |e: Error| env.context(e).with_resource(spec.name.clone());
        tracing::info!(workload = %spec.name, environment = %env.name(), flavor = %res.flavor.name, "provisioning");

        let (image_id, imported_image) = self
            .bring_image(spec, &p, &candidate, all)
            .await
            .map_err(ctx)?;

        let mut created_security_groups = Vec::new();
        let mut group_ids = Vec::new();
        for g in &res.security_groups {
            match &g.existing {
                Some(id) => group_ids.push(id.clone()),
                None => {
                    let made = p
                        .network()
                        .create_security_group(&CreateSecurityGroup {
                            name: g.name.clone(),
                            description: format!("created by hybrid for workload {}", spec.name),
                        })
                        .await
                        .map_err(ctx)?
                        .with_timeout(timeout)
                        .await
                        .map_err(ctx)?;
                    group_ids.push(made.id.clone());
                    created_security_groups.push(made);
                }
            }
        }

        let mut create =
            CreateServer::new(spec.name.clone(), res.flavor.id.clone()).with_image(image_id);
        let mut port = None;
        if res.public_ip {
            let made = p
                .network()
                .create_port(&CreatePort {
                    network_id: res.network.id.clone(),
                    name: format!("{}-port", spec.name),
                    fixed_ips: Vec::new(),
                    security_groups: group_ids,
                })
                .await
                .map_err(ctx)?
                .with_timeout(timeout)
                .await
                .map_err(ctx)?;
            create.networks.push(NetworkAttachment::Port {
                port: made.id.clone(),
            });
            port = Some(made);
        } else {
            create = create.with_network(res.network.id.clone());
            create.security_groups = res.security_groups.iter().map(|g| g.name.clone()).collect();
        }
        let caps = p.capabilities();
        if caps.supports(Feature::ServerTags) {
            create.tags = spec.tags.clone();
        }
        if caps.supports(Feature::ServerMetadata) {
            create = create.with_metadata("hybrid-workload", spec.name.clone());
        }
        let server = p
            .compute()
            .create_server(&create)
            .await
            .map_err(ctx)?
            .with_timeout(timeout)
            .await
            .map_err(ctx)?;

        let floating_ip = match &port {
            Some(port) => Some(
                p.network()
                    .create_floating_ip(&CreateFloatingIp {
                        network_id: res.external_network.clone(),
                        port_id: Some(port.id.clone()),
                    })
                    .await
                    .map_err(ctx)?
                    .with_timeout(timeout)
                    .await
                    .map_err(|e| ctx(e).with_resource(format!("server {}", server.id)))?,
            ),
            None => None,
        };
        tracing::info!(workload = %spec.name, environment = %env.name(), server = %server.id, "provisioned");
        Ok(Provisioned {
            candidate,
            placement: None,
            server,
            imported_image,
            created_security_groups,
            port,
            floating_ip,
        })
    }

    /// The id of the image to boot, importing it by streaming when it must be.
    async fn bring_image(
        &self,
        spec: &WorkloadSpec,
        target: &Arc<dyn Provider>,
        candidate: &Candidate,
        all: &Snapshots,
    ) -> Result<(ImageId, Option<Image>)> {
        let plan = &candidate.resolution.image;
        let env = &candidate.environment;
        let image = plan.image.as_ref().ok_or_else(|| {
            Error::unsupported(Reason::new(
                ReasonKind::DeploymentDependent,
                plan.explanation.clone(),
            ))
        })?;
        match plan.action {
            ImageAction::Present => return Ok((image.id.clone(), None)),
            ImageAction::Convert => {
                return Err(Error::unsupported(Reason::new(
                    ReasonKind::NotImplemented,
                    format!(
                        "{}; hybrid does not convert disk images: convert {} to {} (for example with qemu-img) and import it into {env}",
                        plan.explanation,
                        image.name,
                        plan.target_format.as_deref().unwrap_or("the target's format"),
                    ),
                ))
                .with_operation("provision"))
            }
            ImageAction::Unavailable => {
                return Err(Error::unsupported(Reason::new(
                    ReasonKind::DeploymentDependent,
                    plan.explanation.clone(),
                ))
                .with_operation("provision"))
            }
            ImageAction::Import => {}
        }
        let source_name = plan.source.clone().unwrap_or_default();
        let source = all
            .iter()
            .find(|(e, _)| e.name() == source_name)
            .and_then(|(_, s)| s.as_ref().ok())
            .map(|s| s.provider.clone())
            .ok_or_else(|| Error::not_found(format!("environment {source_name}")))?;
        for (p, feature, side) in [
            (&source, Feature::ImageDownload, source_name.as_str()),
            (target, Feature::ImageUpload, env.as_str()),
        ] {
            if let Err(e) = p.capabilities().require(feature) {
                let why = e
                    .unsupported_reason()
                    .cloned()
                    .unwrap_or_else(|| Reason::new(ReasonKind::NotImplemented, e.to_string()));
                return Err(Error::unsupported(Reason::new(
                    why.kind,
                    format!(
                        "{}; hybrid copies images by streaming them, which needs {feature} on {side}: {}",
                        plan.explanation, why.message
                    ),
                ))
                .with_operation("provision"));
            }
        }
        tracing::info!(workload = %spec.name, image = %image.name, from = %source_name, to = %env, "importing image");
        let stream = source.images().download_image(&image.id).await?;
        let create = CreateImage {
            name: image.name.clone(),
            disk_format: image.disk_format.clone(),
            container_format: image.container_format.clone(),
            visibility: None,
            min_disk_gib: image.min_disk_gib,
            min_ram_mib: image.min_ram_mib,
            os_family: image.os_family.clone(),
            tags: image.tags.clone(),
            properties: image.properties.clone(),
        };
        let imported = target
            .images()
            .create_image(
                &create,
                ImageData::Upload {
                    stream,
                    size: image.size_bytes,
                },
            )
            .await?
            .with_timeout(self.inner.operation_timeout)
            .await?;
        Ok((imported.id.clone(), Some(imported)))
    }
}
