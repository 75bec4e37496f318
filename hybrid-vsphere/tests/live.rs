//! Live tests against vcsim (or a real vCenter) from `GOVC_*` variables.
//!
//! Enabled by `HYBRID_TEST_VSPHERE=1`; start the simulator with `testenv/vcsim.sh up`
//! and export what `testenv/vcsim.sh env` prints. Without it every test prints why it
//! is skipped and passes.

use std::sync::Arc;

use hybrid_core::testkit::Harness;
use hybrid_core::Provider;
use hybrid_vsphere::{VsphereConfig, VsphereProvider};

fn enabled(test: &str) -> bool {
    let on = std::env::var("HYBRID_TEST_VSPHERE").is_ok_and(|v| v == "1");
    if !on {
        say(&format!("skipped {test}: set HYBRID_TEST_VSPHERE=1 and GOVC_* (testenv/vcsim.sh up; eval \"$(testenv/vcsim.sh env)\") to run the live vSphere tests"));
    }
    on
}

/// Prints past the test harness's capture, so a skip is visible in `cargo test`.
fn say(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// A config for the instance at `url_var` (same credentials as `GOVC_*`), when set.
fn other_instance(test: &str, url_var: &str) -> Option<VsphereConfig> {
    if !enabled(test) {
        return None;
    }
    match std::env::var(url_var) {
        Ok(url) if !url.is_empty() => {
            let mut cfg = VsphereConfig::from_env().expect("GOVC_* variables");
            cfg.url = url;
            Some(cfg.normalized().unwrap())
        }
        _ => {
            say(&format!("skipped {test}: set {url_var} to the SDK URL of that vcsim instance (see hybrid-vsphere/DEVIATIONS.md)"));
            None
        }
    }
}

async fn provider() -> VsphereProvider {
    let cfg = VsphereConfig::from_env().expect("GOVC_* variables");
    VsphereProvider::connect(cfg)
        .await
        .expect("connect to vCenter")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_and_lists() {
    if !enabled("connects_and_lists") {
        return;
    }
    let p = provider().await;
    let info = p.info();
    eprintln!("{info:?}\n{:?}", p.discovery());
    let gated: Arc<dyn Provider> = p.clone().into_provider();
    use futures::TryStreamExt;
    let servers: Vec<_> = gated
        .compute()
        .list_servers(Default::default())
        .try_collect()
        .await
        .unwrap();
    assert!(!servers.is_empty());
    let nets: Vec<_> = gated
        .network()
        .list_networks(Default::default())
        .try_collect()
        .await
        .unwrap();
    eprintln!("{servers:#?}\n{nets:#?}");
    assert!(!nets.is_empty());
}

/// The behaviours that fail on vcsim 0.24.2 because of a named deviation (see the
/// crate's DEVIATIONS.md), with the text their failure must contain: the deviation is
/// checked to still be there, never silently skipped.
const VCSIM_DEVIATIONS: &[(&str, &str)] = &[("server_paging", "a page of size 2 held")];

/// Makes sure a template exists to create servers from (vcsim starts with none).
async fn ensure_template(p: &VsphereProvider) {
    use futures::TryStreamExt;
    let gated = p.clone().into_provider();
    let images: Vec<_> = gated
        .images()
        .list_images(Default::default())
        .try_collect()
        .await
        .unwrap();
    if !images.is_empty() {
        return;
    }
    let servers: Vec<_> = gated
        .compute()
        .list_servers(Default::default())
        .try_collect()
        .await
        .unwrap();
    let src = servers.first().expect("a VM to make a template from");
    let clone = p
        .clone_server(&src.id, "hybrid-live-template", false)
        .await
        .unwrap()
        .await
        .unwrap();
    let image = p.mark_as_template(&clone.id).await.unwrap();
    assert!(!image.locality.shareable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_against_vcsim() {
    if !enabled("conformance_suite_against_vcsim") {
        return;
    }
    let p = provider().await;
    ensure_template(&p).await;
    let counter = p.clone();
    let password = std::env::var("GOVC_PASSWORD").unwrap_or_default();
    let cfg = VsphereConfig::from_env().unwrap();
    let mut h = Harness::new(Arc::new(p.clone()))
        .with_request_counter(move || counter.soap_calls())
        .with_text("config (Debug)", format!("{cfg:?}"))
        .with_wait_options(hybrid_core::WaitOptions {
            timeout: std::time::Duration::from_secs(120),
            initial_delay: std::time::Duration::from_millis(20),
            max_delay: std::time::Duration::from_millis(500),
            ..hybrid_core::WaitOptions::default()
        });
    if password.len() >= 4 {
        h = h.with_secret(password);
    }
    let report = hybrid_core::testkit::run_all(&h).await;
    eprintln!("{report}");
    for (name, result) in &report.results {
        match (result, VCSIM_DEVIATIONS.iter().find(|(n, _)| n == name)) {
            (Err(f), Some((_, why))) => assert!(
                f.0.contains(why),
                "{name} failed otherwise than its deviation says: {f}"
            ),
            (Err(f), None) => panic!("conformance behaviour {name} failed: {f}"),
            (Ok(_), Some(_)) if std::env::var("HYBRID_VSPHERE_REAL").is_err() => {
                panic!("{name} passed: the vcsim deviation it is listed for is gone; remove it from VCSIM_DEVIATIONS")
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_without_and_with_nsx() {
    let Some(nsx_cfg) = other_instance(
        "capabilities_without_and_with_nsx",
        "HYBRID_TEST_VSPHERE_NSX_URL",
    ) else {
        return;
    };
    use hybrid_core::{Feature, ReasonKind};
    let flat = provider().await;
    let caps = flat.capabilities();
    let sdn = caps.get(Feature::Sdn).reason.clone().unwrap();
    assert_eq!(sdn.kind, ReasonKind::DeploymentDependent, "{sdn}");
    assert!(!flat.discovery().has_nsx());
    say(&format!("without NSX: network.sdn = {sdn}"));

    let nsx = VsphereProvider::connect(nsx_cfg).await.unwrap();
    let d = nsx.discovery();
    assert!(d.nsx_opaque_networks >= 1 && d.nsx_portgroups >= 1, "{d:?}");
    let caps = nsx.capabilities();
    let sdn = caps.get(Feature::Sdn).reason.clone().unwrap();
    assert_eq!(sdn.kind, ReasonKind::NotImplemented, "{sdn}");
    assert_eq!(nsx.info().variant.as_deref(), Some("vcenter with nsx"));
    say(&format!("with NSX: network.sdn = {sdn}"));
    use futures::TryStreamExt;
    let nets: Vec<_> = nsx
        .clone()
        .into_provider()
        .network()
        .list_networks(Default::default())
        .try_collect()
        .await
        .unwrap();
    let overlays = nets
        .iter()
        .filter(|n| n.kind == hybrid_core::model::NetworkKind::Overlay)
        .count();
    assert!(overlays >= 2, "{nets:#?}");
    // A VM gets a NIC on the NSX opaque network.
    let opaque = nets
        .iter()
        .find(|n| n.tags.iter().any(|t| t == "vsphere:nsx-opaque-network"))
        .unwrap();
    let servers: Vec<_> = nsx
        .clone()
        .into_provider()
        .compute()
        .list_servers(Default::default())
        .try_collect()
        .await
        .unwrap();
    let nics = nsx
        .add_nic(&servers[0].id, &opaque.id)
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(nics.iter().any(|n| n.network.is_some()), "{nics:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_esxi_is_refused() {
    let Some(cfg) = other_instance("standalone_esxi_is_refused", "HYBRID_TEST_VSPHERE_ESX_URL")
    else {
        return;
    };
    let err = VsphereProvider::connect(cfg).await.unwrap_err();
    assert_eq!(err.kind(), hybrid_core::ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("requires vCenter"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_of_a_thousand_vms_in_few_round_trips() {
    let Some(cfg) = other_instance(
        "inventory_of_a_thousand_vms_in_few_round_trips",
        "HYBRID_TEST_VSPHERE_BIG_URL",
    ) else {
        return;
    };
    use futures::TryStreamExt;
    let p = VsphereProvider::connect(cfg).await.unwrap();
    let before = p.soap_calls();
    let start = std::time::Instant::now();
    let servers: Vec<_> = p
        .clone()
        .into_provider()
        .compute()
        .list_servers(hybrid_core::ListOptions::new().with_page_size(250))
        .try_collect()
        .await
        .unwrap();
    let trips = p.soap_calls() - before;
    say(&format!(
        "listed {} VMs in {trips} SOAP round trips ({:?})",
        servers.len(),
        start.elapsed()
    ));
    assert!(servers.len() >= 1000, "{}", servers.len());
    // One view creation plus one call per page of 250, never one call per VM.
    assert!(
        trips <= 1 + servers.len().div_ceil(250) as u64,
        "{trips} round trips"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disks_and_nics_of_a_vm() {
    if !enabled("disks_and_nics_of_a_vm") {
        return;
    }
    use futures::TryStreamExt;
    use hybrid_core::model::CreateServer;
    let p = provider().await;
    let g = p.clone().into_provider();
    let net = g
        .network()
        .list_networks(Default::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .remove(0);
    let s = g
        .compute()
        .create_server(
            &CreateServer::new("hybrid-live-devices", "vm-1cpu-2gb").with_network(net.id.clone()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let disks = p.add_disk(&s.id, 2).await.unwrap().await.unwrap();
    assert_eq!(disks.len(), 2, "{disks:?}");
    let added = disks
        .iter()
        .find(|d| d.capacity_kib == 2 * 1024 * 1024)
        .expect("the 2 GiB disk");
    let left = p
        .remove_disk(&s.id, added.key, true)
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    let nics = p.add_nic(&s.id, &net.id).await.unwrap().await.unwrap();
    assert_eq!(nics.len(), 2, "{nics:?}");
    let left = p
        .remove_nic(&s.id, nics[1].key)
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    g.compute()
        .delete_server(&s.id)
        .await
        .unwrap()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_session_is_renewed_once() {
    if !enabled("an_ended_session_is_renewed_once") {
        return;
    }
    use hybrid_core::ComputeExt;
    let p = provider().await;
    p.logout().await.unwrap();
    // The next call meets NotAuthenticated, logs in again and succeeds.
    let n = p
        .clone()
        .into_provider()
        .compute()
        .count_servers(Default::default())
        .await
        .unwrap();
    assert!(n > 0);
}
