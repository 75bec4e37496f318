//! Scenario `list`: every server of an OpenStack region, N servers in pages of 1000,
//! with 0 or 5 ms added per request; hybrid's lazy stream against the raw baseline,
//! wall and CPU time in this process (the fake runs in a child process), peak RSS each
//! in its own child process.

use std::sync::Arc;

use futures::StreamExt;
use hybrid_core::{ListOptions, Provider};

use crate::measure::{self, median, ms, Cost};
use crate::os_client::{self, Sink, Work};
use crate::procs::{self, FakeProcess};
use crate::raw_os::RawOs;
use crate::Settings;

/// How a listing is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// hybrid's `list_servers` stream, as shipped (prefetching on tokio tasks).
    Hybrid,
    /// hybrid's pages walked one after the other (`list_servers_page` under
    /// `paginate`): what the stream was before prefetching.
    HybridSeq,
    /// hybrid's pages under `paginate_prefetch` with each fetch, decoding included, on
    /// its own tokio task (decoding in parallel with the consumer).
    HybridSpawn,
    /// The raw baseline: typed structs.
    Raw,
    /// The raw baseline keeping each server's JSON document too (as hybrid's
    /// `Server::raw` does): the same output as hybrid.
    RawDoc,
    /// The raw baseline keeping each server's JSON text (what a `Server::raw` held as
    /// text would cost).
    RawText,
}

impl Side {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Side::Hybrid => "hybrid",
            Side::HybridSeq => "hybrid, no prefetch",
            Side::HybridSpawn => "hybrid, spawned prefetch",
            Side::Raw => "raw",
            Side::RawDoc => "raw + doc",
            Side::RawText => "raw + text doc",
        }
    }
}

/// Lists every server through hybrid, feeding `sink`.
pub(crate) async fn hybrid_list(p: &Arc<dyn Provider>, sink: &mut Sink) -> Result<(), String> {
    let s = p.compute().list_servers(ListOptions::new());
    drain(s, sink).await
}

async fn drain(
    mut s: futures::stream::BoxStream<'static, hybrid_core::Result<hybrid_core::model::Server>>,
    sink: &mut Sink,
) -> Result<(), String> {
    while let Some(item) = s.next().await {
        sink.server(&item.map_err(|e| e.to_string())?);
    }
    Ok(())
}

/// Lists every server through hybrid's page API, under `paginate` (`prefetch` false)
/// or a `paginate_prefetch` spawning each fetch.
async fn hybrid_pages(
    p: &Arc<dyn Provider>,
    prefetch: bool,
    sink: &mut Sink,
) -> Result<(), String> {
    let p = p.clone();
    let fetch = move |token| {
        let p = p.clone();
        async move {
            p.compute()
                .list_servers_page(&ListOptions::new(), token)
                .await
        }
    };
    let s = if prefetch {
        hybrid_core::paging::paginate_prefetch(
            fetch,
            Some(hybrid_http::pagination::tokio_spawner()),
        )
    } else {
        hybrid_core::paging::paginate(fetch)
    };
    drain(s, sink).await
}

/// Lists every server through the baseline, feeding `sink`.
pub(crate) async fn raw_list(raw: &RawOs, sink: &mut Sink) -> Result<(), String> {
    raw.list_servers(|s, flavor| sink.raw(s, flavor))
        .await
        .map(drop)
}

/// One listing by `side`.
async fn list(
    side: Side,
    p: &Arc<dyn Provider>,
    raw: &RawOs,
    sink: &mut Sink,
) -> Result<(), String> {
    match side {
        Side::Hybrid => hybrid_list(p, sink).await,
        Side::HybridSeq => hybrid_pages(p, false, sink).await,
        Side::HybridSpawn => hybrid_pages(p, true, sink).await,
        Side::Raw => raw_list(raw, sink).await,
        Side::RawDoc => raw
            .list_servers_with_docs(|s, flavor| sink.raw_ref(s, flavor))
            .await
            .map(drop),
        Side::RawText => raw
            .list_servers_with_text(|s, flavor| sink.raw(s, flavor))
            .await
            .map(drop),
    }
}

/// One configuration's figures, per side.
struct Row {
    n: usize,
    latency: u64,
    work: Work,
    costs: Vec<(Side, Vec<Cost>, u64)>,
    /// Peak RSS and RSS before listing (KiB) per side measured.
    rss: Vec<(Side, u64, u64)>,
}

fn med(costs: &[Cost], f: fn(&Cost) -> f64) -> f64 {
    median(&costs.iter().map(f).collect::<Vec<_>>())
}

const SIDES: [Side; 6] = [
    Side::Hybrid,
    Side::HybridSeq,
    Side::HybridSpawn,
    Side::Raw,
    Side::RawDoc,
    Side::RawText,
];

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    let mut rows = Vec::new();
    for &n in &settings.sizes {
        for &latency in &settings.latencies_ms {
            let works: &[Work] = if latency == 0 {
                &[Work::Csv]
            } else {
                &[Work::Csv, Work::None]
            };
            let fake = FakeProcess::start(&[
                "openstack".into(),
                "--servers".into(),
                n.to_string(),
                "--latency-ms".into(),
                latency.to_string(),
            ])?;
            let provider = os_client::connect(&fake.url).await?;
            let raw = RawOs::connect(&format!("{}/identity/v3", fake.url)).await?;
            for &work in works {
                let row = measure_one(settings, &fake, &provider, &raw, n, latency, work).await?;
                print_rows(std::slice::from_ref(&row), rows.is_empty());
                rows.push(row);
            }
        }
    }
    println!();
    Ok(())
}

async fn measure_one(
    settings: &Settings,
    fake: &FakeProcess,
    provider: &Arc<dyn Provider>,
    raw: &RawOs,
    n: usize,
    latency: u64,
    work: Work,
) -> Result<Row, String> {
    // Warm up every side (connections, hybrid's flavor table, the allocator) and check
    // that they all see the same servers.
    let mut want = None;
    for side in SIDES {
        let mut sink = Sink::new(work);
        list(side, provider, raw, &mut sink).await?;
        let got = (sink.count, sink.hash);
        if sink.count != n || want.is_some_and(|w| w != got) {
            return Err(format!(
                "{} saw {} servers (checksum {:x}); {n} expected, and the same as the others ({want:x?})",
                side.name(),
                sink.count,
                sink.hash
            ));
        }
        want = Some(got);
    }
    let mut costs: Vec<(Side, Vec<Cost>, u64)> =
        SIDES.iter().map(|&s| (s, Vec::new(), 0)).collect();
    for rep in 0..settings.reps {
        // Rotate the order so that no side always runs first or after the same one.
        for k in 0..SIDES.len() {
            let i = (k + rep) % SIDES.len();
            let side = SIDES[i];
            fake.reset().await?;
            let mut sink = Sink::new(work);
            let (cost, r) = measure::measure(list(side, provider, raw, &mut sink)).await;
            r?;
            costs[i].1.push(cost);
            costs[i].2 = fake.stats().await?["requests"].as_u64().unwrap_or(0);
        }
    }
    let mut rss = Vec::new();
    if work == Work::Csv {
        for side in [
            Side::Hybrid,
            Side::HybridSeq,
            Side::Raw,
            Side::RawDoc,
            Side::RawText,
        ] {
            let (peak, before) = rss_of(&fake.url, side, settings.reps.min(3))?;
            rss.push((side, peak, before));
        }
    }
    Ok(Row {
        n,
        latency,
        work,
        costs,
        rss,
    })
}

fn side_arg(side: Side) -> &'static str {
    match side {
        Side::Hybrid => "hybrid",
        Side::HybridSeq => "hybrid-seq",
        Side::HybridSpawn => "hybrid-spawn",
        Side::Raw => "raw",
        Side::RawDoc => "raw-doc",
        Side::RawText => "raw-text",
    }
}

/// Peak RSS and RSS before listing (KiB) of one listing by `side` in its own process:
/// medians over `reps` runs.
fn rss_of(url: &str, side: Side, reps: usize) -> Result<(u64, u64), String> {
    let mut peaks = Vec::new();
    let mut befores = Vec::new();
    for _ in 0..reps.max(1) {
        let kv = procs::run_child(&[
            "list-openstack".into(),
            "--impl".into(),
            side_arg(side).into(),
            "--url".into(),
            url.into(),
        ])?;
        peaks.push(procs::get::<f64>(&kv, "peak_kib")?);
        befores.push(procs::get::<f64>(&kv, "before_kib")?);
    }
    Ok((median(&peaks) as u64, median(&befores) as u64))
}

/// `e2e child list-openstack --impl SIDE --url URL`: connects, notes the RSS, lists
/// every server once with the CSV consumer, and reports the peak RSS.
pub(crate) async fn child(args: &[String]) -> Result<(), String> {
    let side: String = procs::flag(args, "--impl").ok_or("--impl")?;
    let url: String = procs::flag(args, "--url").ok_or("--url")?;
    let side = SIDES
        .into_iter()
        .find(|s| side_arg(*s) == side)
        .ok_or_else(|| format!("--impl {side:?}"))?;
    let mut sink = Sink::new(Work::Csv);
    let raw = RawOs::connect(&format!("{url}/identity/v3")).await?;
    let p = os_client::connect(&url).await?;
    let before = measure::rss_kib();
    list(side, &p, &raw, &mut sink).await?;
    println!(
        "count={} before_kib={before} peak_kib={}",
        sink.count,
        measure::peak_rss_kib()
    );
    Ok(())
}

fn print_rows(rows: &[Row], header: bool) {
    if header {
        println!("## list: every server, pages of 1000 (medians; ratios against `raw` of the same row)\n");
        println!("| N | latency | consumer | side | wall | wall ÷ raw | CPU | CPU ÷ raw | requests | peak RSS (before listing) | RSS ÷ raw |");
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    }
    for r in rows {
        let raw = r
            .costs
            .iter()
            .find(|c| c.0 == Side::Raw)
            .expect("raw is measured");
        let wr = med(&raw.1, |c| ms(c.wall));
        let cr = med(&raw.1, |c| ms(c.cpu));
        let rss_raw = r.rss.iter().find(|x| x.0 == Side::Raw).map(|x| x.1);
        for (side, costs, requests) in &r.costs {
            let w = med(costs, |c| ms(c.wall));
            let c = med(costs, |c| ms(c.cpu));
            let rss = match (r.rss.iter().find(|x| x.0 == *side), rss_raw) {
                (Some((_, peak, before)), Some(base)) => format!(
                    "{:.1} MiB ({:.1}) | {:.2}",
                    *peak as f64 / 1024.0,
                    *before as f64 / 1024.0,
                    *peak as f64 / base as f64
                ),
                _ => "– | –".into(),
            };
            println!(
                "| {} | {} ms | {} | {} | {:.1} ms | {:.2} | {:.1} ms | {:.2} | {} | {} |",
                r.n,
                r.latency,
                r.work.name(),
                side.name(),
                w,
                w / wr,
                c,
                c / cr,
                requests,
                rss
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Every side lists the same servers with the same requests, through the in-process
    /// fake (the harness's own check that its comparison is fair).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_side_lists_the_same_servers_with_the_same_requests() {
        let cfg = crate::fake_os::Config {
            servers: 2_345,
            max_limit: 500,
            ..crate::fake_os::Config::default()
        };
        let (running, fake) = crate::fake_os::start(cfg, 0, Duration::ZERO).await.unwrap();
        let url = running.url();
        let provider = os_client::connect(&url).await.unwrap();
        let raw = RawOs::connect(&format!("{url}/identity/v3")).await.unwrap();
        let mut seen = Vec::new();
        for side in SIDES {
            for work in [Work::Csv, Work::None] {
                // The first hybrid listing loads the flavor table: warm up first.
                let mut sink = Sink::new(work);
                list(side, &provider, &raw, &mut sink).await.unwrap();
                let before = fake.stats()["routes"]["GET /servers/detail"]
                    .as_u64()
                    .unwrap();
                let mut sink = Sink::new(work);
                list(side, &provider, &raw, &mut sink).await.unwrap();
                let after = fake.stats()["routes"]["GET /servers/detail"]
                    .as_u64()
                    .unwrap();
                assert_eq!(sink.count, 2_345, "{side:?}");
                assert_eq!(after - before, 5, "{side:?}: five pages of 500");
                seen.push((work, sink.hash));
            }
        }
        for (work, hash) in &seen {
            assert!(seen
                .iter()
                .filter(|(w, _)| w == work)
                .all(|(_, h)| h == hash));
        }
    }
}
