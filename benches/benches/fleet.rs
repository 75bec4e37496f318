//! Benchmarks of the fleet inventory fan-out over three mock environments.
//!
//! Each environment is a mock (vSphere, OpenStack KVM, Azure profiles) with 1,500
//! servers (two pages), its networks and images; every request to it is slowed by a
//! latency of its own (`Fault::latency`): 30 ms for `vsphere-prod`, 20 ms for
//! `openstack-dev`, 45 ms for `azure-public`. One iteration drains
//! `Fleet::inventory` (servers, networks, volumes, images) to the end.
//!
//! - `fleet/inventory_latency/fanout_3`: all three environments in one inventory.
//! - `fleet/inventory_latency/single/<env>`: one environment alone
//!   (`InventoryOptions::with_environment`). The fan-out's wall time should be close to
//!   the slowest single environment's, not to the sum.
//! - `fleet/inventory_no_latency/{fanout_3,single/<env>}`: the same without latency,
//!   where the time is the machinery's and the mock's CPU work.
//!
//! Run with `cargo bench -p hybrid-benches --bench fleet`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_main, Criterion};
use futures::StreamExt;
use hybrid_core::fleet::{Environment, Fleet, InventoryEvent, InventoryOptions};
use hybrid_core::mock::{Delays, Fault, MockProvider, Profile};
use tokio::runtime::Runtime;

/// Servers per environment: two pages of the mock's 1,000.
const SERVERS: usize = 1_500;

/// Every resource the fleet holds: servers plus the profiles' networks and images.
const ITEMS: usize = 3 * SERVERS + (2 + 2) + (2 + 2) + (1 + 2);

const ENVIRONMENTS: [(&str, Profile, u64); 3] = [
    ("vsphere-prod", Profile::Vsphere, 30),
    ("openstack-dev", Profile::OpenstackKvm, 20),
    ("azure-public", Profile::Azure, 45),
];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn fleet(latency: bool) -> Fleet {
    let mut b = Fleet::builder().with_deadline(Duration::from_secs(60));
    for (name, profile, ms) in ENVIRONMENTS {
        let mut m = MockProvider::builder()
            .with_profile(profile)
            .with_name(name)
            .with_servers(SERVERS)
            .with_delays(Delays::instant());
        if latency {
            m = m.with_fault(Fault::latency(Duration::from_millis(ms)));
        }
        let mock = m.build().expect("a valid mock config");
        b = b.with_environment(Environment::new(name, mock.into_provider()));
    }
    b.build().expect("a valid fleet")
}

/// Drains an inventory; returns the items seen and whether every report was complete.
async fn drain(fleet: &Fleet, options: InventoryOptions) -> (usize, bool) {
    let mut stream = fleet.inventory(options).expect("known environments");
    let mut items = 0usize;
    let mut complete = true;
    while let Some(ev) = stream.next().await {
        match ev {
            InventoryEvent::Item { resource, .. } => {
                black_box(&resource);
                items += 1;
            }
            InventoryEvent::Finished(r) => complete &= r.is_complete(),
            InventoryEvent::Opened { .. } => {}
        }
    }
    (items, complete)
}

fn bench(c: &mut Criterion, group_name: &str, latency: bool) {
    let rt = runtime();
    let fleet = fleet(latency);
    // Outside the timed code: every variant sees everything, complete.
    let (items, complete) = rt.block_on(drain(&fleet, InventoryOptions::new()));
    assert_eq!(items, ITEMS);
    assert!(complete);
    let mut g = c.benchmark_group(group_name);
    if latency {
        g.sample_size(20).measurement_time(Duration::from_secs(6));
    }
    g.bench_function("fanout_3", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(drain(&fleet, InventoryOptions::new()).await) })
    });
    for (name, _, _) in ENVIRONMENTS {
        g.bench_function(format!("single/{name}"), |b| {
            b.to_async(&rt).iter(|| async {
                black_box(drain(&fleet, InventoryOptions::new().with_environment(name)).await)
            })
        });
    }
    g.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, "fleet/inventory_latency", true);
    bench(&mut c, "fleet/inventory_no_latency", false);
    c.final_summary();
}

criterion_main!(benches);
