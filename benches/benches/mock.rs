//! Benchmarks of the mock provider over a fleet of 100k servers, through the public API
//! only: the gated `Arc<dyn Provider>` that `MockProvider::provider` hands to callers.
//!
//! - `mock/build_100k`: building a mock seeded with 100k active servers (drop excluded).
//! - `mock/get_server`: one `get_server` by id, cycling over ids spread across the fleet.
//! - `mock/get_server_ungated`: the same on the mock's own `Provider` impl, without the
//!   capability gate (`Arc::new(mock)`), as a baseline for the gate's cost.
//! - `mock/create_server_and_wait`: `create_server`, then awaiting the returned
//!   `Operation` to `ACTIVE` with `Delays::instant()` (two requests: the create and one
//!   `get_server` poll). Its mock grows by one server per iteration.
//! - `mock/list_100k/stream`: every server through the lazy `list_servers` stream.
//! - `mock/list_100k/page_walk`: every server by walking `list_servers_page` tokens.
//! - `mock/list_100k/count_servers`: `ComputeExt::count_servers` (the stream, not kept).
//! - `mock/find_server_100k`: `ComputeExt::find_server` by name, a server-side scan.
//!
//! Run with `cargo bench -p hybrid-benches --bench mock`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use futures::{StreamExt, TryStreamExt};
use hybrid_core::mock::{Delays, MockProvider, Profile};
use hybrid_core::model::{CreateServer, ServerId, ServerStatus};
use hybrid_core::{ComputeExt, ListOptions, PageToken, Provider};
use tokio::runtime::Runtime;

/// Servers seeded in the fleet benches.
const FLEET: usize = 100_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn fleet(n: usize) -> Arc<dyn Provider> {
    MockProvider::builder()
        .with_profile(Profile::OpenstackKvm)
        .with_servers(n)
        .with_delays(Delays::instant())
        .build()
        .expect("a valid mock config")
        .into_provider()
}

/// Lists every server through the lazy stream; returns how many there were.
async fn list_stream(p: &dyn Provider) -> usize {
    let mut stream = p.compute().list_servers(ListOptions::new());
    let mut n = 0usize;
    while let Some(server) = stream.next().await {
        black_box(&server.expect("list_servers"));
        n += 1;
    }
    n
}

/// Lists every server by walking `list_servers_page`; returns how many there were.
async fn list_pages(p: &dyn Provider) -> usize {
    let options = ListOptions::new();
    let mut token: Option<PageToken> = None;
    let mut n = 0usize;
    loop {
        let page = p
            .compute()
            .list_servers_page(&options, token.take())
            .await
            .expect("list_servers_page");
        for server in page.items {
            black_box(&server);
            n += 1;
        }
        match page.next {
            Some(next) => token = Some(next),
            None => return n,
        }
    }
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("mock");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(FLEET as u64));
    g.bench_function("build_100k", |b| {
        b.iter_with_large_drop(|| fleet(black_box(FLEET)))
    });
    g.finish();
}

fn point_ops(c: &mut Criterion) {
    let rt = runtime();
    let mock = MockProvider::builder()
        .with_servers(FLEET)
        .with_delays(Delays::instant())
        .build()
        .expect("a valid mock config");
    let p = mock.provider();
    // The same mock without the capability gate: the baseline for the gate's cost.
    let ungated: Arc<dyn Provider> = Arc::new(mock);

    // Ids spread across the whole fleet, read through the public API.
    let ids: Vec<ServerId> = rt.block_on(async {
        p.compute()
            .list_servers(ListOptions::new())
            .map_ok(|s| s.id)
            .try_collect::<Vec<_>>()
            .await
            .expect("list_servers")
            .into_iter()
            .step_by(97)
            .collect()
    });

    let mut g = c.benchmark_group("mock");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(1));

    let mut i = 0usize;
    g.bench_function("get_server", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 1) % ids.len();
            let id = &ids[i];
            let p = &p;
            async move { black_box(p.compute().get_server(id).await.expect("get_server")) }
        })
    });

    let mut i = 0usize;
    g.bench_function("get_server_ungated", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 1) % ids.len();
            let id = &ids[i];
            let p = &ungated;
            async move { black_box(p.compute().get_server(id).await.expect("get_server")) }
        })
    });

    // A fleet of its own: this one grows by one server per iteration.
    let creator = fleet(FLEET);
    let spec = rt.block_on(async {
        let flavor = creator
            .compute()
            .list_flavors(ListOptions::new())
            .try_next()
            .await
            .expect("list_flavors")
            .expect("a flavor");
        let image = creator
            .images()
            .list_images(ListOptions::new())
            .try_next()
            .await
            .expect("list_images")
            .expect("an image");
        let network = creator
            .network()
            .list_networks(ListOptions::new())
            .try_next()
            .await
            .expect("list_networks")
            .expect("a network");
        CreateServer::new("bench", flavor.id)
            .with_image(image.id)
            .with_network(network.id)
    });
    // The operation must end ACTIVE at once with instant delays; check it outside timing.
    let first = rt.block_on(async { creator.compute().create_server(&spec).await?.await });
    assert_eq!(first.expect("create_server").status, ServerStatus::Active);

    g.bench_function("create_server_and_wait", |b| {
        b.to_async(&rt).iter(|| {
            let creator = &creator;
            let spec = &spec;
            async move {
                let op = creator
                    .compute()
                    .create_server(spec)
                    .await
                    .expect("create_server");
                black_box(op.await.expect("server becomes active"))
            }
        })
    });

    g.sample_size(20);
    g.bench_function("find_server_100k", |b| {
        b.to_async(&rt).iter(|| {
            let p = &p;
            async move {
                black_box(
                    p.compute()
                        .find_server("seed-050000")
                        .await
                        .expect("find_server"),
                )
            }
        })
    });
    g.finish();
}

fn listing(c: &mut Criterion) {
    let rt = runtime();
    let p = fleet(FLEET);
    // Both walks must see the whole fleet; check it outside timing.
    assert_eq!(rt.block_on(list_stream(&*p)), FLEET);
    assert_eq!(rt.block_on(list_pages(&*p)), FLEET);

    let mut g = c.benchmark_group("mock/list_100k");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(FLEET as u64));
    g.bench_function("stream", |b| b.to_async(&rt).iter(|| list_stream(&*p)));
    g.bench_function("page_walk", |b| b.to_async(&rt).iter(|| list_pages(&*p)));
    g.bench_function("count_servers", |b| {
        b.to_async(&rt).iter(|| async {
            p.compute()
                .count_servers(ListOptions::new())
                .await
                .expect("count_servers")
        })
    });
    // What a caller pays just to hold the result: the stream collected into a Vec.
    g.bench_function("collect_servers", |b| {
        b.to_async(&rt).iter_batched(
            || (),
            |()| async {
                p.compute()
                    .collect_servers(ListOptions::new())
                    .await
                    .expect("collect_servers")
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

mod group {
    // `criterion_group!` generates an undocumented `pub fn`.
    #![allow(missing_docs, unreachable_pub)]
    criterion::criterion_group!(benches, super::build, super::point_ops, super::listing);
}
criterion_main!(group::benches);
