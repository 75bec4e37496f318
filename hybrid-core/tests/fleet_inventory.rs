//! Fleet inventory: concurrent streaming, partial failure with fault injection on
//! one environment, per-environment deadlines, skipped kinds and the report texts.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use hybrid_core::fleet::{
    Environment, EnvironmentReport, Fleet, InventoryEvent, InventoryOptions, Resource, ResourceKind,
};
use hybrid_core::mock::{Fault, Profile};
use hybrid_core::{Error, ErrorKind, Feature, ListOptions, Provider};

/// Every event, in arrival order.
async fn run(fleet: &Fleet, options: InventoryOptions) -> Vec<InventoryEvent> {
    fleet.inventory(options).unwrap().collect().await
}

fn reports(events: Vec<InventoryEvent>) -> BTreeMap<String, EnvironmentReport> {
    events
        .into_iter()
        .filter_map(|e| match e {
            InventoryEvent::Finished(r) => Some((r.environment.clone(), r)),
            _ => None,
        })
        .collect()
}

fn items_of(events: &[InventoryEvent], env: &str, kind: ResourceKind) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            InventoryEvent::Item {
                environment,
                resource,
            } if &**environment == env && resource.kind() == kind => {
                Some(resource.name().to_owned())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn lists_every_environment_with_one_report_each() {
    let (fleet, _) = fleet();
    let events = run(&fleet, InventoryOptions::new()).await;
    let opened: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            InventoryEvent::Opened { info, .. } => Some(info.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(opened.len(), 3);
    assert_eq!(
        items_of(&events, "vsphere-prod", ResourceKind::Networks),
        ["VM Network", "dvpg-prod-120"]
    );
    assert_eq!(
        items_of(&events, "azure-public", ResourceKind::Images),
        [
            "Canonical:ubuntu-24_04-lts:server",
            "MicrosoftWindowsServer:2022-datacenter"
        ]
    );
    assert_eq!(
        items_of(&events, "openstack-dev", ResourceKind::Servers).len(),
        3
    );
    let r = reports(events);
    assert_eq!(r.len(), 3);
    assert_eq!(
        r["vsphere-prod"].summary(),
        "vsphere-prod: complete — 3 servers, 2 networks, 0 volumes, 2 images"
    );
    assert_eq!(
        r["azure-public"].to_string(),
        "azure-public: complete — 3 servers, 1 network, 0 volumes, 2 images"
    );
    for rep in r.values() {
        assert!(rep.is_complete() && !rep.timed_out);
        assert_eq!(rep.complete, ResourceKind::ALL);
        assert_eq!(
            rep.counts.total(),
            rep.counts.servers + rep.counts.networks + rep.counts.images
        );
    }
}

#[tokio::test]
async fn one_failing_environment_gives_a_partial_result_naming_it() {
    let (fleet, m) = fleet();
    m.azure
        .inject(Fault::error(ErrorKind::Unavailable).on("list_volumes"))
        .unwrap();
    m.openstack
        .inject(Fault::error(ErrorKind::Unavailable).on("list_servers"))
        .unwrap();
    let events = run(&fleet, InventoryOptions::new()).await;
    // What the failing environments could list still streamed.
    assert_eq!(
        items_of(&events, "azure-public", ResourceKind::Servers).len(),
        3
    );
    assert_eq!(
        items_of(&events, "openstack-dev", ResourceKind::Servers).len(),
        0
    );
    assert_eq!(
        items_of(&events, "openstack-dev", ResourceKind::Images).len(),
        2
    );
    let r = reports(events);
    assert!(r["vsphere-prod"].is_complete());
    let az = &r["azure-public"];
    assert!(!az.is_complete() && !az.timed_out);
    assert_eq!(az.incomplete, [ResourceKind::Volumes]);
    assert_eq!(az.errors[0].kind(), ErrorKind::Unavailable);
    assert_eq!(
        az.errors[0].context().provider.as_deref(),
        Some("azure-public")
    );
    assert_eq!(
        az.summary(),
        "azure-public: partial — 3 servers, 1 network, 0 volumes, 2 images; not listed in full: volumes; list_volumes on azure-public (westeurope) failed: unavailable: injected fault on list_volumes (HTTP 503)"
    );
    assert_eq!(
        r["openstack-dev"].summary(),
        "openstack-dev: partial — 0 servers, 2 networks, 0 volumes, 2 images; not listed in full: servers; list_servers on openstack-dev (RegionOne) failed: unavailable: injected fault on list_servers (HTTP 503)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_environment_is_cut_at_its_own_deadline_and_the_rest_stream_first() {
    let (_, m) = builder();
    m.openstack
        .inject(Fault::latency(Duration::from_secs(10)).on("list_servers"))
        .unwrap();
    m.vsphere
        .inject(Fault::latency(Duration::from_millis(300)))
        .unwrap();
    let fleet = Fleet::builder()
        .with_environment(vsphere_env(m.vsphere.provider()))
        .with_environment(
            openstack_env(m.openstack.provider()).with_deadline(Duration::from_secs(1)),
        )
        .with_environment(azure_env(m.azure.provider()))
        .with_deadline(Duration::from_secs(60))
        .build()
        .unwrap();
    let events = run(&fleet, InventoryOptions::new()).await;
    let finished: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            InventoryEvent::Finished(r) => Some(r.environment.as_str()),
            _ => None,
        })
        .collect();
    // Streamed as they came: Azure (no latency), vSphere (0.3 s a request), then the cut.
    assert_eq!(finished, ["azure-public", "vsphere-prod", "openstack-dev"]);
    let first_vsphere_item = events
        .iter()
        .position(|e| matches!(e, InventoryEvent::Item { environment, .. } if &**environment == "vsphere-prod"))
        .unwrap();
    let azure_done = events
        .iter()
        .position(|e| matches!(e, InventoryEvent::Finished(r) if r.environment == "azure-public"))
        .unwrap();
    assert!(azure_done < first_vsphere_item);
    let r = reports(events);
    let os = &r["openstack-dev"];
    assert!(os.timed_out);
    assert_eq!(os.deadline, Duration::from_secs(1));
    assert_eq!(os.errors[0].kind(), ErrorKind::Timeout);
    assert_eq!(
        os.summary(),
        "openstack-dev: partial — 0 servers, 2 networks, 0 volumes, 2 images; not listed in full: servers; inventory on openstack-dev failed: timeout: did not finish within 1s"
    );
    assert!(r["vsphere-prod"].is_complete());
    assert!(r["azure-public"].is_complete());
    // The listing was dropped at the cut: one request, never retried.
    assert_eq!(m.openstack.request_count("list_servers"), 1);
}

#[tokio::test(start_paused = true)]
async fn environments_that_cannot_be_opened_end_failed() {
    let (b, _) = builder();
    let fleet = b
        .with_environment(Environment::lazy("broken", || async {
            Err::<Arc<dyn Provider>, _>(Error::new(
                ErrorKind::Unauthenticated,
                "the password was refused",
            ))
        }))
        .with_environment(
            Environment::lazy("hanging", futures::future::pending)
                .with_deadline(Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    let r = reports(run(&fleet, InventoryOptions::new()).await);
    assert_eq!(r.len(), 5);
    assert_eq!(
        r["broken"].summary(),
        "broken: failed; broken: unauthenticated: the password was refused"
    );
    assert_eq!(r["broken"].incomplete, ResourceKind::ALL);
    assert!(r["broken"].info.is_none());
    assert_eq!(
        r["hanging"].summary(),
        "hanging: failed; inventory on hanging failed: timeout: did not finish within 500ms"
    );
    assert!(r["vsphere-prod"].is_complete());
}

#[tokio::test]
async fn kinds_an_environment_cannot_list_are_skipped_with_the_reason() {
    let fleet = Fleet::builder()
        .with_environment(Environment::new(
            "no-volumes",
            Limited::without(
                mock(Profile::OpenstackKvm, "no-volumes"),
                &[Feature::Volumes],
                "this region's catalog has no block-storage endpoint",
            ),
        ))
        .build()
        .unwrap();
    let r = reports(run(&fleet, InventoryOptions::new()).await);
    let rep = &r["no-volumes"];
    assert!(rep.is_complete());
    assert_eq!(rep.skipped[0].0, ResourceKind::Volumes);
    assert_eq!(
        rep.summary(),
        "no-volumes: complete — 3 servers, 2 networks, 2 images; volumes skipped: this region's catalog has no block-storage endpoint"
    );
}

#[tokio::test(start_paused = true)]
async fn options_choose_environments_kinds_deadline_and_filters() {
    let (fleet, m) = fleet();
    m.vsphere
        .inject(Fault::latency(Duration::from_secs(5)).on("list_images"))
        .unwrap();
    let options = InventoryOptions::new()
        .with_environment("vsphere-prod")
        .with_environment("azure-public")
        .with_kinds([ResourceKind::Servers, ResourceKind::Images])
        .with_deadline(Duration::from_secs(2))
        .with_list_options(ListOptions::new().with_name("seed-000001"));
    let events = run(&fleet, options).await;
    assert!(events.iter().all(|e| e.environment() != "openstack-dev"));
    assert!(events.iter().all(|e| match e {
        InventoryEvent::Item { resource, .. } =>
            matches!(resource, Resource::Server(s) if s.name == "seed-000001"),
        _ => true,
    }));
    let r = reports(events);
    assert_eq!(
        r["azure-public"].summary(),
        "azure-public: complete — 1 server, 0 images"
    );
    assert_eq!(
        r["vsphere-prod"].summary(),
        "vsphere-prod: partial — 1 server, 0 images; not listed in full: images; inventory on vsphere-prod failed: timeout: did not finish within 2s"
    );
    let e = match fleet.inventory(InventoryOptions::new().with_environment("nope")) {
        Err(e) => e,
        Ok(_) => panic!("an unknown environment was accepted"),
    };
    assert_eq!(e.kind(), ErrorKind::NotFound);
}
