//! Resolution of a workload to one environment's flavor, image and network, and the
//! image-locality answer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;

use crate::capabilities::{Capabilities, Feature};
use crate::error::{Error, ErrorKind, Result};
use crate::model::{
    Flavor, Image, ImageStatus, Network, NetworkId, SecurityGroup, SecurityGroupId,
};
use crate::paging::ListOptions;
use crate::provider::{ItemStream, Provider, ProviderInfo, ProviderKind};

use super::placement::{Constraint, Finding};
use super::{text, Environment, Fleet, WorkloadSpec};

/// What must happen before an environment can boot a workload's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImageAction {
    /// The image is already there.
    Present,
    /// A copy must be imported from another environment first (same disk format).
    Import,
    /// It must be converted to another disk format and imported first.
    Convert,
    /// It cannot be had: nowhere in the fleet, or the environment can import nothing.
    Unavailable,
}

impl fmt::Display for ImageAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ImageAction::Present => "present",
            ImageAction::Import => "import",
            ImageAction::Convert => "convert",
            ImageAction::Unavailable => "unavailable",
        })
    }
}

/// The image-locality answer for a workload bound for an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePlan {
    /// The environment the workload is bound for.
    pub environment: String,
    /// Present, import, convert or unavailable.
    pub action: ImageAction,
    /// The image: the local one when present, else the source to copy.
    pub image: Option<Image>,
    /// The environment the source image is in (import, convert).
    pub source: Option<String>,
    /// The disk format the environment needs (convert).
    pub target_format: Option<String>,
    /// Why, in a sentence.
    pub explanation: String,
}

impl fmt::Display for ImagePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explanation)
    }
}

/// A security group a workload needs, and whether the environment has it already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupPlan {
    /// The group's name.
    pub name: String,
    /// Its id when it exists; `None` when provisioning creates it.
    pub existing: Option<SecurityGroupId>,
}

/// A workload resolved to one environment: the smallest fitting flavor (size,
/// template), the image and what it needs first, the network, security groups and
/// public IP, with the reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The environment.
    pub environment: String,
    /// Its provider.
    pub provider: ProviderInfo,
    /// The smallest flavor that fits.
    pub flavor: Flavor,
    /// The image, and whether it must be imported or converted first.
    pub image: ImagePlan,
    /// The network to attach to.
    pub network: Network,
    /// The security groups.
    pub security_groups: Vec<SecurityGroupPlan>,
    /// Whether a public IP is mapped to the server's port.
    pub public_ip: bool,
    /// The external network the public IP comes from, when the environment has one.
    pub external_network: Option<NetworkId>,
    /// Why each was chosen, in the order flavor, image, network, security groups,
    /// public IP.
    pub reasons: Vec<String>,
}

impl Resolution {
    /// The reasons joined by `; `.
    pub fn explanation(&self) -> String {
        self.reasons.join("; ")
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.environment, self.explanation())
    }
}

/// What one environment offers, listed once per evaluation.
pub(crate) struct Snapshot {
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) info: ProviderInfo,
    pub(crate) caps: Arc<Capabilities>,
    pub(crate) flavors: Vec<Flavor>,
    pub(crate) images: Vec<Image>,
    pub(crate) networks: Vec<Network>,
    pub(crate) security_groups: Vec<SecurityGroup>,
}

/// Every environment of a fleet with its snapshot or why it has none, in fleet order.
pub(crate) type Snapshots = Vec<(Arc<Environment>, Result<Snapshot>)>;

async fn collect<T: Send + 'static>(
    wanted: bool,
    s: impl FnOnce() -> ItemStream<T>,
) -> Result<Vec<T>> {
    if wanted {
        s().try_collect().await
    } else {
        Ok(Vec::new())
    }
}

async fn load(
    env: Arc<Environment>,
    deadline: Duration,
    security_groups: bool,
) -> Result<Snapshot> {
    let work = async {
        let provider = env.provider().await?;
        let caps = provider.capabilities();
        let all = ListOptions::new;
        let (flavors, images, networks, groups) = futures::try_join!(
            collect(caps.supports(Feature::Flavors), || provider
                .compute()
                .list_flavors(all())),
            collect(caps.supports(Feature::Images), || provider
                .images()
                .list_images(all())),
            collect(caps.supports(Feature::Networks), || provider
                .network()
                .list_networks(all())),
            collect(
                security_groups && caps.supports(Feature::SecurityGroups),
                || provider.network().list_security_groups(all())
            ),
        )?;
        Ok(Snapshot {
            info: provider.info(),
            caps,
            provider,
            flavors,
            images,
            networks,
            security_groups: groups,
        })
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(r) => r.map_err(|e| env.context(e)),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!("did not answer within {deadline:?}"),
        )
        .with_operation("evaluate")
        .with_provider(env.name())),
    }
}

impl Fleet {
    /// Opens every environment and lists its flavors, images, networks (and security
    /// groups when `spec` names some), concurrently, each within its deadline.
    pub(crate) async fn snapshots(&self, spec: &WorkloadSpec) -> Snapshots {
        let groups = !spec.network.security_groups.is_empty();
        let loads = self.inner.environments.iter().map(|env| {
            let deadline = self.deadline_of(env);
            let env = env.clone();
            async move {
                let snap = load(env.clone(), deadline, groups).await;
                (env, snap)
            }
        });
        futures::future::join_all(loads).await
    }
}

fn active(i: &Image) -> bool {
    i.status == ImageStatus::Active
}

fn bound_suffix(i: &Image) -> String {
    i.locality
        .bound_to
        .as_deref()
        .map(|b| format!(" (bound to {b})"))
        .unwrap_or_default()
}

/// The disk formats an environment boots: those of its active images, most common
/// first; by platform when it has none.
fn boot_formats(s: &Snapshot) -> Vec<String> {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for f in s
        .images
        .iter()
        .filter(|i| active(i))
        .filter_map(|i| i.disk_format.as_ref())
    {
        match counted.iter_mut().find(|(g, _)| g == f) {
            Some((_, n)) => *n += 1,
            None => counted.push((f.clone(), 1)),
        }
    }
    // Stable: ties keep the order of first appearance.
    counted.sort_by_key(|c| std::cmp::Reverse(c.1));
    if counted.is_empty() {
        let defaults: &[&str] = match s.info.kind {
            ProviderKind::Vsphere => &["vmdk"],
            ProviderKind::Azure => &["vhd"],
            _ => &["qcow2", "raw"],
        };
        return defaults.iter().map(|s| (*s).to_owned()).collect();
    }
    counted.into_iter().map(|(f, _)| f).collect()
}

/// Where `spec`'s image is for the environment `target` of `all`.
pub(crate) fn plan_image(spec: &WorkloadSpec, target: usize, all: &Snapshots) -> ImagePlan {
    let (env, snap) = &all[target];
    let plan = |action,
                image: Option<&Image>,
                source: Option<&str>,
                fmt: Option<String>,
                explanation: String| ImagePlan {
        environment: env.name().to_owned(),
        action,
        image: image.cloned(),
        source: source.map(str::to_owned),
        target_format: fmt,
        explanation,
    };
    let snap = match snap {
        Ok(s) => s,
        Err(e) => {
            return plan(
                ImageAction::Unavailable,
                None,
                None,
                None,
                format!("its images could not be listed: {e}"),
            )
        }
    };
    if let Err(e) = snap.caps.require(Feature::Images) {
        let why = e
            .unsupported_reason()
            .map(|r| r.message.clone())
            .unwrap_or_else(|| e.to_string());
        return plan(
            ImageAction::Unavailable,
            None,
            None,
            None,
            format!("it has no images: {why}"),
        );
    }
    if let Some(name) = &spec.image {
        if let Some(i) = snap.images.iter().find(|i| active(i) && &i.name == name) {
            return plan(
                ImageAction::Present,
                Some(i),
                None,
                None,
                format!("image {name} is already there{}", bound_suffix(i)),
            );
        }
    }
    if let Some(family) = &spec.os_family {
        let local = snap
            .images
            .iter()
            .filter(|i| active(i) && i.os_family.as_deref() == Some(family.as_str()))
            .min_by(|a, b| a.name.cmp(&b.name));
        if let Some(i) = local {
            let explanation = match &spec.image {
                Some(name) => format!(
                    "it has no image {name}; its {family} image {} will do{}",
                    i.name,
                    bound_suffix(i)
                ),
                None => format!(
                    "{family} image {} is already there{}",
                    i.name,
                    bound_suffix(i)
                ),
            };
            return plan(ImageAction::Present, Some(i), None, None, explanation);
        }
    }
    let wanted = match (&spec.image, &spec.os_family) {
        (Some(n), _) => format!("image {n}"),
        (None, Some(f)) => format!("a {f} image"),
        (None, None) => "an image".to_owned(),
    };
    let matches = |i: &Image| {
        active(i)
            && match &spec.image {
                Some(n) => &i.name == n,
                None => spec.os_family.is_some() && i.os_family == spec.os_family,
            }
    };
    let formats = boot_formats(snap);
    let mut unsearched = Vec::new();
    let mut best: Option<(usize, &Image, bool)> = None;
    for (idx, (other, s)) in all.iter().enumerate() {
        if idx == target {
            continue;
        }
        let s = match s {
            Ok(s) => s,
            Err(_) => {
                unsearched.push(other.name().to_owned());
                continue;
            }
        };
        let mut found: Vec<&Image> = s.images.iter().filter(|i| matches(i)).collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        for i in found {
            let compatible = i.disk_format.as_ref().is_none_or(|f| formats.contains(f));
            let better = match best {
                None => true,
                Some((_, b, b_compatible)) => {
                    (compatible, i.locality.shareable) > (b_compatible, b.locality.shareable)
                }
            };
            if better {
                best = Some((idx, i, compatible));
            }
        }
    }
    let Some((src_idx, image, compatible)) = best else {
        let mut explanation = format!("needs {wanted}, and no environment of the fleet has it");
        if !unsearched.is_empty() {
            explanation.push_str(&format!(
                " ({} could not be searched)",
                text::and_list(&unsearched)
            ));
        }
        return plan(ImageAction::Unavailable, None, None, None, explanation);
    };
    if !snap.caps.supports(Feature::ImageUpload) && !snap.caps.supports(Feature::ImageImportUrl) {
        let why = snap
            .caps
            .get(Feature::ImageUpload)
            .reason
            .as_ref()
            .map(|r| r.message.clone())
            .unwrap_or_default();
        return plan(
            ImageAction::Unavailable,
            Some(image),
            None,
            None,
            format!("needs {wanted}, which it does not have, and it cannot import images: {why}"),
        );
    }
    let source = all[src_idx].0.name();
    let copied = if image.locality.shareable {
        String::new()
    } else {
        match &image.locality.bound_to {
            Some(b) => format!(" (it is bound to {b} there and cannot be shared, so it is copied)"),
            None => " (it cannot be shared, so it is copied)".to_owned(),
        }
    };
    if compatible {
        let fmt = image
            .disk_format
            .as_deref()
            .map(|f| format!(" as {f}"))
            .unwrap_or_default();
        plan(
            ImageAction::Import,
            Some(image),
            Some(source),
            None,
            format!("{wanted} must be imported from {source} first{fmt}{copied}"),
        )
    } else {
        let from = image.disk_format.clone().unwrap_or_default();
        let to = formats[0].clone();
        plan(
            ImageAction::Convert,
            Some(image),
            Some(source),
            Some(to.clone()),
            format!("{wanted} must be converted from {from} to {to} and imported from {source} first{copied}"),
        )
    }
}

/// The smallest flavor of `snap` that fits `spec`, with the reason.
pub(crate) fn fit_flavor(
    spec: &WorkloadSpec,
    snap: &Snapshot,
) -> std::result::Result<(Flavor, String), Finding> {
    let noun = text::flavor_noun(snap.info.kind);
    if let Err(e) = snap.caps.require(Feature::Flavors) {
        return Err(Finding::capability(
            Constraint::Size,
            format!("cannot list {noun}s"),
            &e,
        ));
    }
    // Azure sizes the OS disk as a managed disk, apart from the VM size.
    let disk_counts = snap.info.kind != ProviderKind::Azure;
    let need = text::size(
        spec.vcpus,
        spec.ram_mib,
        if disk_counts { spec.disk_gib } else { 0 },
    );
    let fits = |f: &&Flavor| {
        f.vcpus >= spec.vcpus
            && f.ram_mib >= spec.ram_mib
            && (!disk_counts || f.disk_gib == 0 || f.disk_gib >= spec.disk_gib)
    };
    let best = snap
        .flavors
        .iter()
        .filter(fits)
        .min_by_key(|f| (f.vcpus, f.ram_mib, f.disk_gib));
    match best {
        Some(f) => {
            let mut why = format!(
                "{noun} {} is the smallest of {} that fits {need}",
                text::flavor(f),
                text::count(snap.flavors.len(), noun)
            );
            if !disk_counts && spec.disk_gib > 0 {
                why.push_str(&format!(
                    " (the {} GiB OS disk is a managed disk, sized apart)",
                    spec.disk_gib
                ));
            }
            Ok((f.clone(), why))
        }
        None => {
            let message = match snap
                .flavors
                .iter()
                .max_by_key(|f| (f.vcpus, f.ram_mib, f.disk_gib))
            {
                Some(largest) => format!(
                    "no {noun} fits {need}: the largest is {}",
                    text::flavor(largest)
                ),
                None => format!("it offers no {noun}"),
            };
            Err(Finding::new(Constraint::Size, message))
        }
    }
}

/// The network `spec` attaches to in `snap`, with the reason.
pub(crate) fn pick_network(
    spec: &WorkloadSpec,
    snap: &Snapshot,
) -> std::result::Result<(Network, String), Finding> {
    let needs = &spec.network;
    if let Err(e) = snap.caps.require(Feature::Networks) {
        return Err(Finding::capability(
            Constraint::Network,
            "cannot list networks".into(),
            &e,
        ));
    }
    if let Some(name) = &needs.network {
        return match snap.networks.iter().find(|n| &n.name == name) {
            Some(n) => Ok((n.clone(), format!("network {}", text::network(n)))),
            None => Err(Finding::new(
                Constraint::Network,
                format!("needs network {name}; it has no network of that name"),
            )),
        };
    }
    if needs.needs_flat_vlan() {
        let flat = snap.networks.iter().find(|n| {
            !n.external
                && matches!(
                    n.kind,
                    crate::model::NetworkKind::Vlan | crate::model::NetworkKind::Flat
                )
                && needs.vlan_id.is_none_or(|id| n.segmentation_id == Some(id))
        });
        return match flat {
            Some(n) => Ok((n.clone(), format!("network {}", text::network(n)))),
            None => Err(Finding::new(
                Constraint::Network,
                match needs.vlan_id {
                    Some(id) => format!("needs flat VLAN {id}; it has no such network"),
                    None => "needs a flat VLAN network; it has none".to_owned(),
                },
            )),
        };
    }
    if let Some(n) = snap.networks.iter().find(|n| !n.external) {
        return Ok((n.clone(), format!("network {}", text::network(n))));
    }
    match snap.networks.first() {
        Some(n) => Ok((
            n.clone(),
            format!("network {}, its only kind of network", text::network(n)),
        )),
        None => Err(Finding::new(
            Constraint::Network,
            "has no network to attach a server to",
        )),
    }
}

/// The security groups `spec` names, found or to create, with the reason.
pub(crate) fn plan_groups(
    spec: &WorkloadSpec,
    snap: &Snapshot,
) -> (Vec<SecurityGroupPlan>, Option<String>) {
    let names = &spec.network.security_groups;
    if names.is_empty() {
        return (Vec::new(), None);
    }
    let plans: Vec<SecurityGroupPlan> = names
        .iter()
        .map(|n| SecurityGroupPlan {
            name: n.clone(),
            existing: snap
                .security_groups
                .iter()
                .find(|g| &g.name == n)
                .map(|g| g.id.clone()),
        })
        .collect();
    let (have, create): (Vec<&SecurityGroupPlan>, Vec<&SecurityGroupPlan>) =
        plans.iter().partition(|p| p.existing.is_some());
    let names_of = |v: &[&SecurityGroupPlan]| {
        text::and_list(&v.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
    };
    let mut parts = Vec::new();
    if !have.is_empty() {
        parts.push(format!(
            "security {} {} {}",
            if have.len() == 1 { "group" } else { "groups" },
            names_of(&have),
            if have.len() == 1 { "exists" } else { "exist" }
        ));
    }
    if !create.is_empty() {
        parts.push(format!(
            "security {} {} will be created",
            if create.len() == 1 { "group" } else { "groups" },
            names_of(&create)
        ));
    }
    (plans, Some(parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_action_orders_by_readiness() {
        assert!(ImageAction::Present < ImageAction::Import);
        assert!(ImageAction::Import < ImageAction::Convert);
        assert_eq!(ImageAction::Convert.to_string(), "convert");
    }
}
