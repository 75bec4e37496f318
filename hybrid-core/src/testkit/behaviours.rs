//! The behaviours of the conformance suite.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::{Check, Failure, Harness, Outcome};
use crate::capabilities::Feature;
use crate::error::ErrorKind;
use crate::ext::{ComputeExt, ImagesExt};
use crate::gate::probe_feature;
use crate::model::*;
use crate::operation::Operation;
use crate::paging::{ListOptions, PageToken};
use crate::provider::{ImageData, Provider};

/// Every behaviour, in suite order.
pub const ALL: &[&str] = &[
    "identity_and_check",
    "unsupported_fails_fast",
    "not_found",
    "flavors",
    "server_lifecycle",
    "server_paging",
    "wait_timeout",
    "key_pairs",
    "networks",
    "security_groups",
    "routers",
    "floating_ips",
    "volume_lifecycle",
    "volume_attach",
    "image_lifecycle",
    "secrets_never_leak",
];

/// Runs the behaviour called `name`.
pub async fn run(name: &str, h: &Harness) -> Check {
    match name {
        "identity_and_check" => identity_and_check(h).await,
        "unsupported_fails_fast" => unsupported_fails_fast(h).await,
        "not_found" => not_found(h).await,
        "flavors" => flavors(h).await,
        "server_lifecycle" => server_lifecycle(h).await,
        "server_paging" => server_paging(h).await,
        "wait_timeout" => wait_timeout(h).await,
        "key_pairs" => key_pairs(h).await,
        "networks" => networks(h).await,
        "security_groups" => security_groups(h).await,
        "routers" => routers(h).await,
        "floating_ips" => floating_ips(h).await,
        "volume_lifecycle" => volume_lifecycle(h).await,
        "volume_attach" => volume_attach(h).await,
        "image_lifecycle" => image_lifecycle(h).await,
        "secrets_never_leak" => secrets_never_leak(h).await,
        other => Err(Failure(format!("no behaviour named {other}"))),
    }
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(Failure(format!($($arg)+)));
        }
    };
}

fn p(h: &Harness) -> &dyn Provider {
    h.provider.as_ref()
}

fn supports(h: &Harness, f: Feature) -> bool {
    h.provider.capabilities().supports(f)
}

fn skip_unless(h: &Harness, features: &[Feature]) -> Option<Outcome> {
    let caps = h.provider.capabilities();
    features.iter().find(|f| !caps.supports(**f)).map(|f| {
        let why = caps
            .get(*f)
            .reason
            .as_ref()
            .map(|r| r.message.clone())
            .unwrap_or_default();
        Outcome::Skipped(format!("{f} is unsupported: {why}"))
    })
}

async fn wait<T: Send + 'static>(h: &Harness, what: &str, op: Operation<T>) -> Result<T, Failure> {
    let op = match h.wait {
        Some(w) => op.with_options(w),
        None => op.with_timeout(h.timeout),
    };
    op.await.map_err(|e| Failure(format!("{what}: {e}")))
}

fn expect_kind<T>(r: crate::Result<T>, kind: ErrorKind, what: &str) -> Result<(), Failure> {
    match r {
        Ok(_) => Err(Failure(format!("{what}: expected {kind}, got success"))),
        Err(e) if e.kind() == kind => Ok(()),
        Err(e) => Err(Failure(format!("{what}: expected {kind}, got {e}"))),
    }
}

/// Runs `body`, then `cleanup` whatever happened; the body's failure wins.
async fn with_cleanup<B, C>(body: B, cleanup: C) -> Check
where
    B: Future<Output = Check>,
    C: Future<Output = ()>,
{
    let r = body.await;
    cleanup.await;
    r
}

/// Deletes a server and waits until it is gone, ignoring `NotFound`.
async fn drop_server(h: &Harness, id: &ServerId) {
    if let Ok(op) = p(h).compute().delete_server(id).await {
        let _ = op.with_timeout(h.timeout).await;
    }
}

async fn drop_volume(h: &Harness, id: &VolumeId) {
    if let Ok(op) = p(h).storage().delete_volume(id).await {
        let _ = op.with_timeout(h.timeout).await;
    }
}

/// The pieces a server needs: the smallest flavor, a bootable active image and the
/// first network that is not external.
async fn server_spec(h: &Harness, name: &str) -> Result<CreateServer, Failure> {
    let c = p(h).compute();
    let flavor = c
        .smallest_flavor(1, 0, 0)
        .await?
        .ok_or_else(|| Failure("the provider lists no flavor".into()))?;
    let mut spec = CreateServer::new(name, flavor.id);
    if supports(h, Feature::Images) {
        let image: Option<Image> = p(h)
            .images()
            .list_images(ListOptions::new())
            .try_filter(|i| futures::future::ready(i.status == ImageStatus::Active))
            .boxed()
            .try_next()
            .await?;
        let image = image.ok_or_else(|| Failure("the provider lists no active image".into()))?;
        spec.image = Some(image.id);
    }
    if supports(h, Feature::Networks) {
        let net: Option<crate::model::Network> = p(h)
            .network()
            .list_networks(ListOptions::new())
            .try_filter(|n| futures::future::ready(!n.external))
            .boxed()
            .try_next()
            .await?;
        if let Some(n) = net {
            spec = spec.with_network(n.id);
        }
    }
    Ok(spec)
}

/// `info()` names the provider, `check()` succeeds, every unsupported capability has
/// a reason, and capabilities survive a serde round trip.
pub async fn identity_and_check(h: &Harness) -> Check {
    let info = p(h).info();
    ensure!(!info.name.is_empty(), "info().name is empty");
    p(h).check()
        .await
        .map_err(|e| Failure(format!("check() failed: {e}")))?;
    let caps = p(h).capabilities();
    for (f, c) in caps.unsupported() {
        let r = c.reason.as_ref();
        ensure!(
            r.is_some_and(|r| !r.message.trim().is_empty()),
            "{f} is unsupported without a reason"
        );
    }
    let json = serde_json::to_string(caps.as_ref()).map_err(|e| Failure(e.to_string()))?;
    let back: crate::Capabilities =
        serde_json::from_str(&json).map_err(|e| Failure(e.to_string()))?;
    ensure!(
        back == *caps,
        "capabilities do not survive a serde round trip"
    );
    Ok(Outcome::Passed)
}

/// Every false capability makes its call fail with `Unsupported`, carrying the
/// capability's reason, before any request is made.
pub async fn unsupported_fails_fast(h: &Harness) -> Check {
    let caps = p(h).capabilities();
    let mut checked = 0;
    for (feature, cap) in caps.unsupported() {
        let before = h.requests();
        let err = probe_feature(p(h), feature)
            .await
            .ok_or_else(|| Failure(format!("{feature} is false but its call succeeded")))?;
        let after = h.requests();
        ensure!(
            err.kind() == ErrorKind::Unsupported,
            "{feature} is false but its call failed with {} instead of unsupported: {err}",
            err.kind()
        );
        ensure!(
            before == after,
            "{feature} is false but its call made {} request(s)",
            after.unwrap_or(0).saturating_sub(before.unwrap_or(0))
        );
        let prereqs_ok = feature.prerequisites().iter().all(|f| caps.supports(*f));
        if prereqs_ok {
            ensure!(
                err.unsupported_reason() == cap.reason.as_ref(),
                "{feature}: the error's reason {:?} is not the capability's {:?}",
                err.unsupported_reason(),
                cap.reason
            );
        }
        ensure!(
            err.context().operation.is_some(),
            "{feature}: the Unsupported error names no operation"
        );
        checked += 1;
    }
    if checked == 0 {
        return Ok(Outcome::Skipped("every capability is supported".into()));
    }
    Ok(Outcome::Passed)
}

/// Getting what does not exist is `NotFound`, in every supported domain.
pub async fn not_found(h: &Harness) -> Check {
    let id = h.missing_id.as_str();
    let c = p(h).compute();
    let n = p(h).network();
    let s = p(h).storage();
    let i = p(h).images();
    let checks: Vec<(Feature, &str, crate::Result<()>)> = vec![
        (
            Feature::Servers,
            "get_server",
            c.get_server(&id.into()).await.map(drop),
        ),
        (
            Feature::Flavors,
            "get_flavor",
            c.get_flavor(&id.into()).await.map(drop),
        ),
        (
            Feature::KeyPairs,
            "get_key_pair",
            c.get_key_pair(&h.name("missing")).await.map(drop),
        ),
        (
            Feature::Networks,
            "get_network",
            n.get_network(&id.into()).await.map(drop),
        ),
        (
            Feature::Subnets,
            "get_subnet",
            n.get_subnet(&id.into()).await.map(drop),
        ),
        (
            Feature::Ports,
            "get_port",
            n.get_port(&id.into()).await.map(drop),
        ),
        (
            Feature::SecurityGroups,
            "get_security_group",
            n.get_security_group(&id.into()).await.map(drop),
        ),
        (
            Feature::Routers,
            "get_router",
            n.get_router(&id.into()).await.map(drop),
        ),
        (
            Feature::FloatingIps,
            "get_floating_ip",
            n.get_floating_ip(&id.into()).await.map(drop),
        ),
        (
            Feature::Volumes,
            "get_volume",
            s.get_volume(&id.into()).await.map(drop),
        ),
        (
            Feature::Snapshots,
            "get_snapshot",
            s.get_snapshot(&id.into()).await.map(drop),
        ),
        (
            Feature::Images,
            "get_image",
            i.get_image(&id.into()).await.map(drop),
        ),
    ];
    for (feature, what, r) in checks {
        let kind = if supports(h, feature) {
            ErrorKind::NotFound
        } else {
            ErrorKind::Unsupported
        };
        expect_kind(r, kind, what)?;
    }
    Ok(Outcome::Passed)
}

/// Flavors list, page and get agree.
pub async fn flavors(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Flavors]) {
        return Ok(s);
    }
    let c = p(h).compute();
    let all: Vec<Flavor> = c.list_flavors(ListOptions::new()).try_collect().await?;
    ensure!(!all.is_empty(), "no flavor listed");
    let first = &all[0];
    let got = c.get_flavor(&first.id).await?;
    ensure!(
        got.id == first.id && got.name == first.name,
        "get_flavor disagrees with the list"
    );
    ensure!(
        got.vcpus > 0 && got.ram_mib > 0,
        "flavor {} has no vCPU or memory",
        got.id
    );
    let page = c
        .list_flavors_page(&ListOptions::new().with_page_size(1), None)
        .await?;
    ensure!(
        page.items.len() == 1,
        "a page of size 1 held {} flavors",
        page.items.len()
    );
    ensure!(
        page.items[0].id == first.id,
        "the first page does not start where the stream does"
    );
    ensure!(
        page.next.is_some() == (all.len() > 1),
        "page token presence is wrong for {} flavors",
        all.len()
    );
    Ok(Outcome::Passed)
}

/// Create, get, list, power, reboot, resize, tags, metadata and delete of a server.
pub async fn server_lifecycle(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Servers, Feature::Flavors]) {
        return Ok(s);
    }
    let c = p(h).compute();
    let name = h.name("srv");
    let mut spec = server_spec(h, &name).await?;
    if supports(h, Feature::ServerMetadata) {
        spec = spec.with_metadata("purpose", "conformance");
    }
    if supports(h, Feature::ServerTags) {
        spec = spec.with_tag("conformance");
    }
    let op = c.create_server(&spec).await?;
    let mut created = op.resource().map(ServerId::new);
    let body = async {
        let server = wait(h, "create_server", op).await?;
        created = Some(server.id.clone());
        ensure!(
            server.status == ServerStatus::Active,
            "created server is {}",
            server.status
        );
        ensure!(
            server.name == name,
            "created server is named {:?}",
            server.name
        );
        let id = server.id.clone();
        let got = c.get_server(&id).await?;
        ensure!(
            got.id == id && got.name == name,
            "get_server disagrees with create"
        );
        if supports(h, Feature::ServerMetadata) {
            ensure!(
                got.metadata.get("purpose").map(String::as_str) == Some("conformance"),
                "metadata given at create is missing: {:?}",
                got.metadata
            );
        }
        let listed = c.find_server(&name).await?;
        ensure!(
            listed.is_some_and(|s| s.id == id),
            "list_servers by name does not find it"
        );

        if supports(h, Feature::Power) {
            let s = wait(h, "stop_server", c.stop_server(&id).await?).await?;
            ensure!(
                s.status == ServerStatus::Stopped,
                "stopped server is {}",
                s.status
            );
            expect_kind(
                c.stop_server(&id).await.map(drop),
                ErrorKind::Conflict,
                "stopping a stopped server",
            )?;
            let s = wait(h, "start_server", c.start_server(&id).await?).await?;
            ensure!(
                s.status == ServerStatus::Active,
                "started server is {}",
                s.status
            );
        }
        if supports(h, Feature::Reboot) {
            let s = wait(
                h,
                "reboot_server",
                c.reboot_server(&id, RebootKind::Soft).await?,
            )
            .await?;
            ensure!(
                s.status == ServerStatus::Active,
                "rebooted server is {}",
                s.status
            );
        }
        if supports(h, Feature::Resize) {
            let current = got.flavor.clone();
            let other: Option<Flavor> = c
                .list_flavors(ListOptions::new())
                .try_filter(|f| futures::future::ready(Some(&f.id) != current.as_ref()))
                .boxed()
                .try_next()
                .await?;
            if let Some(other) = other {
                let s = wait(h, "resize_server", c.resize_server(&id, &other.id).await?).await?;
                ensure!(
                    s.flavor.as_ref() == Some(&other.id),
                    "resized server has flavor {:?}",
                    s.flavor
                );
                ensure!(
                    s.status == ServerStatus::Active,
                    "resized server is {}",
                    s.status
                );
            }
        }
        if supports(h, Feature::ServerTags) {
            let tags = c.set_server_tags(&id, &["a".into(), "b".into()]).await?;
            ensure!(
                tags == vec!["a".to_owned(), "b".to_owned()],
                "set_server_tags returned {tags:?}"
            );
            c.add_server_tag(&id, "c").await?;
            c.remove_server_tag(&id, "a").await?;
            let s = c.get_server(&id).await?;
            let got: BTreeSet<_> = s.tags.iter().cloned().collect();
            let want: BTreeSet<_> = ["b".to_owned(), "c".to_owned()].into();
            ensure!(got == want, "tags are {got:?}, expected {want:?}");
            expect_kind(
                c.remove_server_tag(&id, "zz").await,
                ErrorKind::NotFound,
                "removing an absent tag",
            )?;
        }
        if supports(h, Feature::ServerMetadata) {
            let m = c
                .set_server_metadata(&id, &[("k".to_owned(), "v".to_owned())].into())
                .await?;
            ensure!(
                m.get("k").map(String::as_str) == Some("v"),
                "set_server_metadata returned {m:?}"
            );
            c.delete_server_metadata(&id, "k").await?;
            let s = c.get_server(&id).await?;
            ensure!(
                !s.metadata.contains_key("k"),
                "deleted metadata key is still there"
            );
        }
        wait(h, "delete_server", c.delete_server(&id).await?).await?;
        expect_kind(
            c.get_server(&id).await,
            ErrorKind::NotFound,
            "get_server after delete",
        )?;
        created = None;
        Ok(Outcome::Passed)
    };
    let r = body.await;
    if let Some(id) = &created {
        drop_server(h, id).await;
    }
    r
}

/// Page tokens walk every server exactly once, in the order the stream gives them.
pub async fn server_paging(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Servers, Feature::Flavors]) {
        return Ok(s);
    }
    let c = p(h).compute();
    let mut ids = Vec::new();
    let body = async {
        for n in 0..3 {
            let spec = server_spec(h, &h.name(&format!("page-{n}"))).await?;
            let op = c.create_server(&spec).await?;
            if let Some(r) = op.resource() {
                ids.push(ServerId::new(r));
            }
            let s = wait(h, "create_server", op).await?;
            if !ids.contains(&s.id) {
                ids.push(s.id);
            }
        }
        let streamed: Vec<ServerId> = c
            .list_servers(ListOptions::new().with_page_size(2))
            .map_ok(|s| s.id)
            .try_collect()
            .await?;
        let mut paged = Vec::new();
        let mut token: Option<PageToken> = None;
        let mut pages = 0;
        loop {
            let page = c
                .list_servers_page(&ListOptions::new().with_page_size(2), token.clone())
                .await?;
            ensure!(
                page.items.len() <= 2,
                "a page of size 2 held {} servers",
                page.items.len()
            );
            // Tokens must survive serialization (resuming in another process).
            token = match page.next {
                Some(t) => Some(
                    serde_json::from_str(
                        &serde_json::to_string(&t).map_err(|e| Failure(e.to_string()))?,
                    )
                    .map_err(|e| Failure(e.to_string()))?,
                ),
                None => None,
            };
            paged.extend(page.items.into_iter().map(|s| s.id));
            pages += 1;
            ensure!(pages < 100_000, "paging does not end");
            if token.is_none() {
                break;
            }
        }
        let unique: BTreeSet<_> = paged.iter().collect();
        ensure!(
            unique.len() == paged.len(),
            "paging returned a server twice"
        );
        ensure!(paged == streamed, "pages and stream disagree");
        for id in &ids {
            ensure!(
                paged.contains(id),
                "created server {id} is missing from the pages"
            );
        }
        ensure!(
            pages >= 2,
            "three servers at two per page fit on {pages} page(s)"
        );
        Ok(Outcome::Passed)
    };
    let r = body.await;
    for id in &ids {
        drop_server(h, id).await;
    }
    r
}

/// A wait for a state that never comes ends in `Timeout`, on time.
pub async fn wait_timeout(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Servers, Feature::Flavors]) {
        return Ok(s);
    }
    let c = p(h).compute();
    let spec = server_spec(h, &h.name("wait")).await?;
    let op = c.create_server(&spec).await?;
    let mut id = op.resource().map(ServerId::new);
    let body = async {
        let s = wait(h, "create_server", op).await?;
        id = Some(s.id.clone());
        let start = tokio::time::Instant::now();
        let r = c
            .wait_for_server(&s.id, ServerStatus::Suspended, Duration::from_millis(1500))
            .await;
        let took = start.elapsed();
        expect_kind(
            r,
            ErrorKind::Timeout,
            "waiting for a state that never comes",
        )?;
        ensure!(
            took >= Duration::from_millis(1400) && took < Duration::from_secs(30),
            "a 1.5 s wait ended after {took:?}"
        );
        Ok(Outcome::Passed)
    };
    let r = body.await;
    if let Some(id) = &id {
        drop_server(h, id).await;
    }
    r
}

/// Key pairs: create, duplicate refused, get, list, delete.
pub async fn key_pairs(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::KeyPairs]) {
        return Ok(s);
    }
    let c = p(h).compute();
    let name = h.name("key");
    let spec = CreateKeyPair {
        name: name.clone(),
        public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq conformance"
            .into(),
    };
    let body = async {
        let kp = c.create_key_pair(&spec).await?;
        ensure!(kp.name == name, "created key pair is named {:?}", kp.name);
        expect_kind(
            c.create_key_pair(&spec).await,
            ErrorKind::AlreadyExists,
            "creating it twice",
        )?;
        let got = c.get_key_pair(&name).await?;
        ensure!(
            got.public_key.split_whitespace().nth(1) == spec.public_key.split_whitespace().nth(1),
            "get_key_pair returned another key"
        );
        let listed: Vec<KeyPair> = c.list_key_pairs(ListOptions::new()).try_collect().await?;
        ensure!(
            listed.iter().any(|k| k.name == name),
            "list_key_pairs misses it"
        );
        c.delete_key_pair(&name).await?;
        expect_kind(
            c.get_key_pair(&name).await,
            ErrorKind::NotFound,
            "get after delete",
        )?;
        Ok(Outcome::Passed)
    };
    with_cleanup(body, async {
        let _ = c.delete_key_pair(&name).await;
    })
    .await
}

fn network_spec(h: &Harness, name: &str) -> CreateNetwork {
    if supports(h, Feature::Sdn) {
        CreateNetwork::new(name, NetworkKind::Overlay)
    } else {
        let mut spec = CreateNetwork::new(name, NetworkKind::Vlan);
        let vlan = 1000 + (h.prefix.bytes().map(u32::from).sum::<u32>() % 2000);
        spec.segmentation_id = Some(vlan);
        spec
    }
}

/// Networks, and subnets and ports where supported: create, get, list, delete.
pub async fn networks(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Networks]) {
        return Ok(s);
    }
    let n = p(h).network();
    let name = h.name("net");
    let net = wait(
        h,
        "create_network",
        n.create_network(&network_spec(h, &name)).await?,
    )
    .await?;
    let mut subnet_id = None;
    let mut port_id = None;
    let body = async {
        let got = n.get_network(&net.id).await?;
        ensure!(got.name == name, "get_network returned {:?}", got.name);
        let listed: Vec<crate::model::Network> = n
            .list_networks(ListOptions::new().with_name(&name))
            .try_collect()
            .await?;
        ensure!(
            listed.iter().any(|x| x.id == net.id),
            "list_networks by name misses it"
        );
        if supports(h, Feature::Subnets) {
            let spec = CreateSubnet {
                network_id: net.id.clone(),
                name: h.name("subnet"),
                cidr: "10.251.7.0/24".into(),
                ip_version: IpVersion::V4,
                gateway_ip: None,
                dhcp_enabled: true,
                dns_nameservers: Vec::new(),
            };
            let sn = wait(h, "create_subnet", n.create_subnet(&spec).await?).await?;
            subnet_id = Some(sn.id.clone());
            ensure!(sn.cidr == "10.251.7.0/24", "subnet CIDR is {}", sn.cidr);
            ensure!(
                sn.network_id == net.id,
                "subnet is on network {}",
                sn.network_id
            );
            let got = n.get_subnet(&sn.id).await?;
            ensure!(got.id == sn.id, "get_subnet disagrees");
        }
        if supports(h, Feature::Ports) {
            let spec = CreatePort {
                network_id: net.id.clone(),
                name: h.name("port"),
                fixed_ips: Vec::new(),
                security_groups: Vec::new(),
            };
            let port = wait(h, "create_port", n.create_port(&spec).await?).await?;
            port_id = Some(port.id.clone());
            ensure!(
                port.network_id == net.id,
                "port is on network {}",
                port.network_id
            );
            let got = n.get_port(&port.id).await?;
            ensure!(got.id == port.id, "get_port disagrees");
            wait(h, "delete_port", n.delete_port(&port.id).await?).await?;
            port_id = None;
            expect_kind(
                n.get_port(&port.id).await,
                ErrorKind::NotFound,
                "get_port after delete",
            )?;
        }
        if let Some(sid) = subnet_id.take() {
            wait(h, "delete_subnet", n.delete_subnet(&sid).await?).await?;
            expect_kind(
                n.get_subnet(&sid).await,
                ErrorKind::NotFound,
                "get_subnet after delete",
            )?;
        }
        wait(h, "delete_network", n.delete_network(&net.id).await?).await?;
        expect_kind(
            n.get_network(&net.id).await,
            ErrorKind::NotFound,
            "get_network after delete",
        )?;
        Ok(Outcome::Passed)
    };
    let r = body.await;
    if let Some(pid) = &port_id {
        let _ = n.delete_port(pid).await;
    }
    if let Some(sid) = &subnet_id {
        let _ = n.delete_subnet(sid).await;
    }
    let _ = n.delete_network(&net.id).await;
    r
}

/// Security groups and rules: create, get with rules, duplicate rule refused, delete.
pub async fn security_groups(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::SecurityGroups]) {
        return Ok(s);
    }
    let n = p(h).network();
    let spec = CreateSecurityGroup {
        name: h.name("sg"),
        description: "hybrid conformance".into(),
    };
    let g = wait(
        h,
        "create_security_group",
        n.create_security_group(&spec).await?,
    )
    .await?;
    let body = async {
        let rule = CreateSecurityGroupRule {
            group_id: g.id.clone(),
            direction: Direction::Ingress,
            ip_version: IpVersion::V4,
            protocol: Some("tcp".into()),
            port_min: Some(22),
            port_max: Some(22),
            remote: Some(RuleRemote::Cidr("192.0.2.0/24".into())),
        };
        let r = wait(
            h,
            "create_security_group_rule",
            n.create_security_group_rule(&rule).await?,
        )
        .await?;
        ensure!(
            r.port_min == Some(22) && r.port_max == Some(22),
            "rule ports are {:?}-{:?}",
            r.port_min,
            r.port_max
        );
        expect_kind(
            n.create_security_group_rule(&rule).await.map(drop),
            ErrorKind::AlreadyExists,
            "creating the same rule twice",
        )?;
        let got = n.get_security_group(&g.id).await?;
        ensure!(
            got.rules.iter().any(|x| x.id == r.id),
            "get_security_group misses the new rule"
        );
        wait(
            h,
            "delete_security_group_rule",
            n.delete_security_group_rule(&r.id).await?,
        )
        .await?;
        let got = n.get_security_group(&g.id).await?;
        ensure!(
            !got.rules.iter().any(|x| x.id == r.id),
            "deleted rule is still listed"
        );
        wait(
            h,
            "delete_security_group",
            n.delete_security_group(&g.id).await?,
        )
        .await?;
        expect_kind(
            n.get_security_group(&g.id).await,
            ErrorKind::NotFound,
            "get after delete",
        )?;
        Ok(Outcome::Passed)
    };
    with_cleanup(body, async {
        let _ = n.delete_security_group(&g.id).await;
    })
    .await
}

/// Routers: create, add and remove a subnet interface, delete.
pub async fn routers(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Routers, Feature::Networks, Feature::Subnets]) {
        return Ok(s);
    }
    let n = p(h).network();
    let net = wait(
        h,
        "create_network",
        n.create_network(&network_spec(h, &h.name("rnet"))).await?,
    )
    .await?;
    let mut subnet = None;
    let mut router = None;
    let body = async {
        let spec = CreateSubnet {
            network_id: net.id.clone(),
            name: h.name("rsubnet"),
            cidr: "10.251.8.0/24".into(),
            ip_version: IpVersion::V4,
            gateway_ip: None,
            dhcp_enabled: true,
            dns_nameservers: Vec::new(),
        };
        let sn = wait(h, "create_subnet", n.create_subnet(&spec).await?).await?;
        subnet = Some(sn.id.clone());
        let r = wait(
            h,
            "create_router",
            n.create_router(&CreateRouter {
                name: h.name("router"),
                external_network: None,
            })
            .await?,
        )
        .await?;
        router = Some(r.id.clone());
        let r2 = wait(
            h,
            "add_router_interface",
            n.add_router_interface(&r.id, &sn.id).await?,
        )
        .await?;
        ensure!(
            r2.interfaces.contains(&sn.id),
            "router interfaces {:?} miss the subnet",
            r2.interfaces
        );
        let r3 = wait(
            h,
            "remove_router_interface",
            n.remove_router_interface(&r.id, &sn.id).await?,
        )
        .await?;
        ensure!(
            !r3.interfaces.contains(&sn.id),
            "removed interface still listed"
        );
        wait(h, "delete_router", n.delete_router(&r.id).await?).await?;
        router = None;
        expect_kind(
            n.get_router(&r.id).await,
            ErrorKind::NotFound,
            "get_router after delete",
        )?;
        Ok(Outcome::Passed)
    };
    let res = body.await;
    if let Some(r) = &router {
        if let Some(s) = &subnet {
            let _ = n.remove_router_interface(r, s).await;
        }
        let _ = n.delete_router(r).await;
    }
    if let Some(s) = &subnet {
        let _ = n.delete_subnet(s).await;
    }
    let _ = n.delete_network(&net.id).await;
    res
}

/// Floating IPs: allocate, get, list, delete.
pub async fn floating_ips(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::FloatingIps]) {
        return Ok(s);
    }
    let n = p(h).network();
    let f = wait(
        h,
        "create_floating_ip",
        n.create_floating_ip(&CreateFloatingIp::default()).await?,
    )
    .await?;
    let body = async {
        ensure!(!f.address.is_empty(), "floating IP has no address");
        let got = n.get_floating_ip(&f.id).await?;
        ensure!(
            got.address == f.address,
            "get_floating_ip returned {}",
            got.address
        );
        let listed: Vec<FloatingIp> = n
            .list_floating_ips(ListOptions::new())
            .try_collect()
            .await?;
        ensure!(
            listed.iter().any(|x| x.id == f.id),
            "list_floating_ips misses it"
        );
        wait(h, "delete_floating_ip", n.delete_floating_ip(&f.id).await?).await?;
        expect_kind(
            n.get_floating_ip(&f.id).await,
            ErrorKind::NotFound,
            "get after delete",
        )?;
        Ok(Outcome::Passed)
    };
    with_cleanup(body, async {
        let _ = n.delete_floating_ip(&f.id).await;
    })
    .await
}

/// Volumes: create to available, get, list, extend, snapshot, delete.
pub async fn volume_lifecycle(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Volumes]) {
        return Ok(s);
    }
    let st = p(h).storage();
    let name = h.name("vol");
    let op = st.create_volume(&CreateVolume::new(&name, 1)).await?;
    let hint = op.resource().map(VolumeId::new);
    let mut vol_id = hint;
    let mut snap_id: Option<SnapshotId> = None;
    let body = async {
        let v = wait(h, "create_volume", op).await?;
        vol_id = Some(v.id.clone());
        ensure!(
            v.status == VolumeStatus::Available,
            "new volume is {}",
            v.status
        );
        ensure!(
            v.size_gib == 1 && v.name == name,
            "new volume is {} GiB named {:?}",
            v.size_gib,
            v.name
        );
        let got = st.get_volume(&v.id).await?;
        ensure!(got.id == v.id, "get_volume disagrees");
        let listed: Vec<Volume> = st
            .list_volumes(ListOptions::new().with_name(&name))
            .try_collect()
            .await?;
        ensure!(
            listed.iter().any(|x| x.id == v.id),
            "list_volumes by name misses it"
        );
        if supports(h, Feature::ExtendVolume) {
            let e = wait(h, "extend_volume", st.extend_volume(&v.id, 2).await?).await?;
            ensure!(e.size_gib == 2, "extended volume is {} GiB", e.size_gib);
            expect_kind(
                st.extend_volume(&v.id, 1).await.map(drop),
                ErrorKind::InvalidInput,
                "shrinking",
            )?;
        }
        if supports(h, Feature::Snapshots) {
            let spec = CreateSnapshot {
                volume_id: v.id.clone(),
                name: h.name("snap"),
                force: false,
            };
            let op = st.create_snapshot(&spec).await?;
            snap_id = op.resource().map(SnapshotId::new);
            let s = wait(h, "create_snapshot", op).await?;
            snap_id = Some(s.id.clone());
            ensure!(s.volume_id == v.id, "snapshot is of volume {}", s.volume_id);
            let got = st.get_snapshot(&s.id).await?;
            ensure!(
                got.status == SnapshotStatus::Available,
                "snapshot is {}",
                got.status
            );
            wait(h, "delete_snapshot", st.delete_snapshot(&s.id).await?).await?;
            snap_id = None;
            expect_kind(
                st.get_snapshot(&s.id).await,
                ErrorKind::NotFound,
                "get_snapshot after delete",
            )?;
        }
        wait(h, "delete_volume", st.delete_volume(&v.id).await?).await?;
        expect_kind(
            st.get_volume(&v.id).await,
            ErrorKind::NotFound,
            "get_volume after delete",
        )?;
        vol_id = None;
        Ok(Outcome::Passed)
    };
    let r = body.await;
    if let Some(s) = &snap_id {
        if let Ok(op) = st.delete_snapshot(s).await {
            let _ = op.with_timeout(h.timeout).await;
        }
    }
    if let Some(v) = &vol_id {
        drop_volume(h, v).await;
    }
    r
}

/// Attach a volume to a server, see it in use, detach it.
pub async fn volume_attach(h: &Harness) -> Check {
    if let Some(s) = skip_unless(
        h,
        &[
            Feature::Volumes,
            Feature::AttachVolume,
            Feature::Servers,
            Feature::Flavors,
        ],
    ) {
        return Ok(s);
    }
    let st = p(h).storage();
    let c = p(h).compute();
    let mut server_id = None;
    let mut vol_id = None;
    let body = async {
        let spec = server_spec(h, &h.name("att-srv")).await?;
        let op = c.create_server(&spec).await?;
        server_id = op.resource().map(ServerId::new);
        let s = wait(h, "create_server", op).await?;
        server_id = Some(s.id.clone());
        let op = st
            .create_volume(&CreateVolume::new(h.name("att-vol"), 1))
            .await?;
        vol_id = op.resource().map(VolumeId::new);
        let v = wait(h, "create_volume", op).await?;
        vol_id = Some(v.id.clone());
        let a = wait(
            h,
            "attach_volume",
            st.attach_volume(&v.id, &s.id, None).await?,
        )
        .await?;
        ensure!(
            a.server_id == s.id && a.volume_id == v.id,
            "attachment is {a:?}"
        );
        let got = st.get_volume(&v.id).await?;
        ensure!(
            got.status == VolumeStatus::InUse,
            "attached volume is {}",
            got.status
        );
        ensure!(
            got.attachments.iter().any(|x| x.server_id == s.id),
            "volume lists no attachment to the server"
        );
        expect_kind(
            st.delete_volume(&v.id).await.map(drop),
            ErrorKind::Conflict,
            "deleting an attached volume",
        )?;
        wait(h, "detach_volume", st.detach_volume(&v.id, &s.id).await?).await?;
        let got = st.get_volume(&v.id).await?;
        ensure!(
            got.status == VolumeStatus::Available,
            "detached volume is {}",
            got.status
        );
        ensure!(
            got.attachments.is_empty(),
            "detached volume still lists attachments"
        );
        Ok(Outcome::Passed)
    };
    let r = body.await;
    if let (Some(v), Some(s)) = (&vol_id, &server_id) {
        if let Ok(op) = st.detach_volume(v, s).await {
            let _ = op.with_timeout(h.timeout).await;
        }
    }
    if let Some(v) = &vol_id {
        drop_volume(h, v).await;
    }
    if let Some(s) = &server_id {
        drop_server(h, s).await;
    }
    r
}

/// Images: streamed upload, download with the same bytes, URL import, delete.
pub async fn image_lifecycle(h: &Harness) -> Check {
    if let Some(s) = skip_unless(h, &[Feature::Images]) {
        return Ok(s);
    }
    let im = p(h).images();
    let mut made: Vec<ImageId> = Vec::new();
    let body = async {
        let mut ran = false;
        if supports(h, Feature::ImageUpload) {
            ran = true;
            let chunks: Vec<Bytes> = (0u8..3)
                .map(|i| Bytes::from(vec![i.wrapping_mul(37); 70_000]))
                .collect();
            let total: usize = chunks.iter().map(Bytes::len).sum();
            let expected: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            let stream = futures::stream::iter(chunks.into_iter().map(Ok)).boxed();
            let spec = CreateImage::new(h.name("img"), "raw", "bare");
            let op = im
                .create_image(
                    &spec,
                    ImageData::Upload {
                        stream,
                        size: Some(total as u64),
                    },
                )
                .await?;
            if let Some(r) = op.resource() {
                made.push(ImageId::new(r));
            }
            let img = wait(h, "create_image (upload)", op).await?;
            if !made.contains(&img.id) {
                made.push(img.id.clone());
            }
            ensure!(
                img.status == ImageStatus::Active,
                "uploaded image is {}",
                img.status
            );
            ensure!(
                img.size_bytes == Some(total as u64),
                "uploaded image size is {:?}",
                img.size_bytes
            );
            let got = im.get_image(&img.id).await?;
            ensure!(got.name == spec.name, "get_image returned {:?}", got.name);
            if supports(h, Feature::ImageDownload) {
                let data = im.download_image_to_vec(&img.id, 1 << 20).await?;
                ensure!(
                    data == expected,
                    "downloaded {} bytes differ from the {} uploaded",
                    data.len(),
                    total
                );
            }
            wait(h, "delete_image", im.delete_image(&img.id).await?).await?;
            expect_kind(
                im.get_image(&img.id).await,
                ErrorKind::NotFound,
                "get_image after delete",
            )?;
        }
        if let (true, Some(url)) = (supports(h, Feature::ImageImportUrl), h.import_url.clone()) {
            ran = true;
            let spec = CreateImage::new(h.name("imported"), "raw", "bare");
            let op = im.create_image(&spec, ImageData::Url(url)).await?;
            if let Some(r) = op.resource() {
                made.push(ImageId::new(r));
            }
            let img = wait(h, "create_image (url)", op).await?;
            if !made.contains(&img.id) {
                made.push(img.id.clone());
            }
            ensure!(
                img.status == ImageStatus::Active,
                "imported image is {}",
                img.status
            );
            wait(h, "delete_image", im.delete_image(&img.id).await?).await?;
        }
        if !ran {
            return Ok(Outcome::Skipped(
                "neither upload nor URL import (with an import URL) is available".into(),
            ));
        }
        Ok(Outcome::Passed)
    };
    let r = body.await;
    for id in &made {
        if let Ok(op) = im.delete_image(id).await {
            let _ = op.with_timeout(h.timeout).await;
        }
    }
    r
}

/// No configured secret appears in the Debug or Display of the provider, its info and
/// capabilities, the harness's texts (configs), or errors it returns.
pub async fn secrets_never_leak(h: &Harness) -> Check {
    let mut texts: Vec<(String, String)> = h.texts.clone();
    texts.push(("provider (Debug)".into(), format!("{:?}", h.provider)));
    texts.push(("info (Debug)".into(), format!("{:?}", p(h).info())));
    texts.push((
        "capabilities (Debug)".into(),
        format!("{:?}", p(h).capabilities()),
    ));
    let mut errors = Vec::new();
    if let Err(e) = p(h).check().await {
        errors.push(e);
    }
    if let Err(e) = p(h)
        .compute()
        .get_server(&h.missing_id.as_str().into())
        .await
    {
        errors.push(e);
    }
    if let Some((f, _)) = p(h).capabilities().unsupported().next() {
        if let Some(e) = probe_feature(p(h), f).await {
            errors.push(e);
        }
    }
    for e in &errors {
        texts.push(("error (Display)".into(), e.to_string()));
        texts.push(("error (Debug)".into(), format!("{e:?}")));
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            texts.push(("error source (Display)".into(), s.to_string()));
            src = s.source();
        }
    }
    let secrets: Vec<&String> = h.secrets.iter().filter(|s| s.len() >= 4).collect();
    for (label, text) in &texts {
        for s in &secrets {
            ensure!(
                !text.contains(s.as_str()),
                "a configured secret appears in the {label}"
            );
        }
    }
    if secrets.is_empty() {
        return Ok(Outcome::Skipped(
            "no secret was configured into the harness (Harness::with_secret)".into(),
        ));
    }
    Ok(Outcome::Passed)
}
