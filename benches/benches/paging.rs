//! Benchmarks of the pagination machinery in isolation: `hybrid_core::paging::paginate`
//! over an in-memory page source, against baselines that walk the same pages without
//! it, all in the same run so the ratios hold on a noisy machine.
//!
//! For each item type (`u64`, and real `Server`s listed once from a mock) and page size
//! (1000 and 100 items, 100k items in all), every variant clones each page's `Vec` from
//! the same prebuilt pages and consumes every item, so they differ only in how the
//! items reach the consumer:
//!
//! - `vec`: a plain `for` loop over each cloned page (the floor).
//! - `stream_iter`: the cloned pages flattened into one boxed `futures::stream::iter`,
//!   polled item by item (the cost of being a boxed stream at all).
//! - `paginate`: `paginate` with an async fetch that returns the cloned page and a
//!   string `PageToken` (what every `list_*` of hybrid is built on).
//!
//! Run with `cargo bench -p hybrid-benches --bench paging`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use futures::stream::{self, BoxStream, StreamExt};
use hybrid_core::mock::{Delays, MockProvider};
use hybrid_core::model::Server;
use hybrid_core::paging::paginate;
use hybrid_core::{ComputeExt, ListOptions, Page, PageToken};
use tokio::runtime::Runtime;

/// Items in every listing.
const ITEMS: usize = 100_000;
/// Page sizes compared.
const PAGE_SIZES: [usize; 2] = [1000, 100];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Splits `items` into pages of `size`.
fn pages<T: Clone>(items: &[T], size: usize) -> Arc<Vec<Vec<T>>> {
    Arc::new(items.chunks(size).map(<[T]>::to_vec).collect())
}

/// `paginate` over `pages`: the token is the index of the next page, as a string.
fn paginated<T: Clone + Send + Sync + 'static>(
    pages: Arc<Vec<Vec<T>>>,
) -> BoxStream<'static, hybrid_core::Result<T>> {
    paginate(move |token: Option<PageToken>| {
        let pages = pages.clone();
        async move {
            let i: usize = token.map_or(0, |t| t.as_str().parse().expect("a page index"));
            let next = (i + 1 < pages.len()).then(|| PageToken::new((i + 1).to_string()));
            Ok(Page::new(pages[i].clone(), next))
        }
    })
}

/// The same pages as one boxed stream of items, without `paginate`.
fn flattened<T: Clone + Send + Sync + 'static>(
    pages: Arc<Vec<Vec<T>>>,
) -> BoxStream<'static, hybrid_core::Result<T>> {
    let n = pages.len();
    stream::iter(0..n)
        .flat_map(move |i| stream::iter(pages[i].clone().into_iter().map(Ok)))
        .boxed()
}

async fn drain<T>(mut s: BoxStream<'static, hybrid_core::Result<T>>) -> usize {
    let mut n = 0usize;
    while let Some(item) = s.next().await {
        black_box(&item.expect("an item"));
        n += 1;
    }
    n
}

fn walk_vecs<T: Clone>(pages: &[Vec<T>]) -> usize {
    let mut n = 0usize;
    for page in pages {
        for item in page.clone() {
            black_box(&item);
            n += 1;
        }
    }
    n
}

fn compare<T: Clone + Send + Sync + 'static>(
    c: &mut Criterion,
    rt: &Runtime,
    group: &str,
    items: &[T],
    configure: impl Fn(&mut BenchmarkGroup<'_, WallTime>),
) {
    let mut g = c.benchmark_group(group);
    configure(&mut g);
    g.throughput(Throughput::Elements(items.len() as u64));
    for size in PAGE_SIZES {
        let pages = pages(items, size);
        // Every variant must see every item; check it outside timing.
        assert_eq!(walk_vecs(&pages), items.len());
        assert_eq!(rt.block_on(drain(flattened(pages.clone()))), items.len());
        assert_eq!(rt.block_on(drain(paginated(pages.clone()))), items.len());

        g.bench_with_input(BenchmarkId::new("vec", size), &pages, |b, p| {
            b.iter(|| walk_vecs(p))
        });
        g.bench_with_input(BenchmarkId::new("stream_iter", size), &pages, |b, p| {
            b.to_async(rt).iter(|| drain(flattened(p.clone())))
        });
        g.bench_with_input(BenchmarkId::new("paginate", size), &pages, |b, p| {
            b.to_async(rt).iter(|| drain(paginated(p.clone())))
        });
    }
    g.finish();
}

fn paging(c: &mut Criterion) {
    let rt = runtime();
    let numbers: Vec<u64> = (0..ITEMS as u64).collect();
    compare(c, &rt, "paging/u64", &numbers, |g| {
        g.sample_size(20).measurement_time(Duration::from_secs(3));
    });

    // Real servers, as the mock lists them, through the public API.
    let servers: Vec<Server> = rt
        .block_on(async {
            MockProvider::builder()
                .with_servers(ITEMS)
                .with_delays(Delays::instant())
                .build()
                .expect("a valid mock config")
                .into_provider()
                .compute()
                .collect_servers(ListOptions::new())
                .await
        })
        .expect("collect_servers");
    // About 30 ms an iteration: fewer, flat samples keep the run short.
    compare(c, &rt, "paging/server", &servers, |g| {
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .measurement_time(Duration::from_secs(3));
    });
}

mod group {
    // `criterion_group!` generates an undocumented `pub fn`.
    #![allow(missing_docs, unreachable_pub)]
    criterion::criterion_group!(benches, super::paging);
}
criterion_main!(group::benches);
