//! Scenario `vsphere`: every VM of a vCenter (N VMs and three templates) through
//! hybrid-vsphere's `list_servers` (server tags included, as it lists them) and through
//! the raw reqwest + quick-xml baseline making the same requests, against the fast fake
//! vCenter in a child process; `maxObjects` = the page size (hybrid-vsphere's default,
//! 100, and 1000), 0 or 5 ms added per request.
//!
//! Two measurements per configuration:
//! - warm listing, in this process: both clients connected and warmed up once, then
//!   listings alternated, wall and CPU time, requests counted by the fake;
//! - fresh process: `e2e child list-vsphere` connects and lists once, reporting the
//!   connect and listing wall times, CPU time and peak RSS; the fake counts every
//!   request of that process by operation.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use hybrid_core::{ListOptions, Provider};
use hybrid_vsphere::{VsphereBuilder, VsphereProvider};
use serde_json::Value;

use crate::fake_vc::{PASSWORD, TAG_CATEGORY, USER};
use crate::measure::{self, median, ms, Cost};
use crate::os_client::{Sink, Work};
use crate::procs::{self, FakeProcess};
use crate::raw_vc::{RawVc, RawVm};
use crate::Settings;

/// The consumer: the inventory line of [`Sink`] plus a checksum of each server's tags.
pub(crate) struct Seen {
    pub(crate) sink: Sink,
    pub(crate) tags: u64,
    line: String,
}

impl Seen {
    pub(crate) fn new() -> Self {
        Seen {
            sink: Sink::new(Work::Csv),
            tags: 0xcbf2_9ce4_8422_2325,
            line: String::with_capacity(64),
        }
    }

    fn tags_of(&mut self, id: &str, tags: &[String]) {
        self.line.clear();
        let _ = write!(self.line, "{id}:{}", tags.join(","));
        for b in self.line.bytes() {
            self.tags = (self.tags ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// A hybrid server.
    pub(crate) fn server(&mut self, s: &hybrid_core::model::Server) {
        self.sink.server(s);
        self.tags_of(s.id.as_str(), &s.tags);
    }

    /// A raw VM and its tags.
    pub(crate) fn raw(&mut self, v: &RawVm, tags: &[String]) {
        self.sink
            .row_of(&v.id, &v.name, v.status(), v.flavor(), v.first_address());
        self.tags_of(&v.id, tags);
    }

    fn key(&self) -> (usize, u64, u64) {
        (self.sink.count, self.sink.hash, self.tags)
    }
}

/// hybrid's provider on the fake at `url` with pages of `page`.
pub(crate) async fn connect_hybrid(url: &str, page: u32) -> Result<VsphereProvider, String> {
    let cfg = VsphereBuilder::new(format!("{url}/sdk"))
        .with_credentials(USER, PASSWORD)
        .with_page_size(page)
        .build()
        .map_err(|e| e.to_string())?;
    VsphereProvider::connect(cfg)
        .await
        .map_err(|e| e.to_string())
}

/// The baseline on the fake at `url` with pages of `page`.
pub(crate) async fn connect_raw(url: &str, page: u32) -> Result<RawVc, String> {
    RawVc::connect(url, USER, PASSWORD, page).await
}

/// Lists every server through hybrid (the gated provider, as users hold it).
pub(crate) async fn hybrid_list(p: &Arc<dyn Provider>, seen: &mut Seen) -> Result<(), String> {
    let mut s = p.compute().list_servers(ListOptions::new());
    while let Some(item) = s.next().await {
        seen.server(&item.map_err(|e| e.to_string())?);
    }
    Ok(())
}

/// Lists every server through the baseline.
pub(crate) async fn raw_list(raw: &RawVc, seen: &mut Seen) -> Result<(), String> {
    raw.list_servers(TAG_CATEGORY, |v, t| seen.raw(v, t))
        .await
        .map(drop)
}

const SIDES: [&str; 2] = ["hybrid", "raw"];

/// The fake's per-operation counts.
fn routes(stats: &Value) -> BTreeMap<String, u64> {
    stats["routes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

fn split(routes: &BTreeMap<String, u64>) -> (u64, u64) {
    let soap = routes
        .iter()
        .filter(|(k, _)| k.starts_with("SOAP"))
        .map(|(_, v)| v)
        .sum();
    let rest = routes
        .iter()
        .filter(|(k, _)| !k.starts_with("SOAP"))
        .map(|(_, v)| v)
        .sum();
    (soap, rest)
}

/// A fresh process's run.
#[derive(Default, Clone)]
struct Fresh {
    connect: Vec<f64>,
    list: Vec<f64>,
    cpu: Vec<f64>,
    peak: Vec<f64>,
    before: Vec<f64>,
    routes: BTreeMap<String, u64>,
}

struct Row {
    latency: u64,
    page: u32,
    warm: [Vec<Cost>; 2],
    warm_routes: [BTreeMap<String, u64>; 2],
    fresh: [Fresh; 2],
}

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    let n = settings.vsphere_vms;
    let mut rows = Vec::new();
    for &latency in &settings.latencies_ms {
        let fake = FakeProcess::start(&[
            "vsphere".into(),
            "--servers".into(),
            n.to_string(),
            "--latency-ms".into(),
            latency.to_string(),
        ])?;
        for &page in &settings.vsphere_pages {
            rows.push(measure_one(settings, &fake, n, latency, page).await?);
        }
    }
    print(n, &rows);
    Ok(())
}

async fn measure_one(
    settings: &Settings,
    fake: &FakeProcess,
    n: usize,
    latency: u64,
    page: u32,
) -> Result<Row, String> {
    // Fresh processes first: connect + first listing, every request counted.
    let mut fresh: [Fresh; 2] = Default::default();
    let mut keys = Vec::new();
    for rep in 0..settings.reps.min(3) {
        for (i, side) in SIDES.iter().enumerate() {
            fake.reset().await?;
            let kv = procs::run_child(&[
                "list-vsphere".into(),
                "--impl".into(),
                (*side).into(),
                "--url".into(),
                fake.url.clone(),
                "--page".into(),
                page.to_string(),
            ])?;
            let stats = fake.stats().await?;
            let f = &mut fresh[i];
            f.connect.push(procs::get(&kv, "connect_ms")?);
            f.list.push(procs::get(&kv, "list_ms")?);
            f.cpu.push(procs::get(&kv, "cpu_ms")?);
            f.peak.push(procs::get(&kv, "peak_kib")?);
            f.before.push(procs::get(&kv, "before_kib")?);
            if rep == 0 {
                f.routes = routes(&stats);
            }
            keys.push((
                *side,
                procs::get::<usize>(&kv, "count")?,
                procs::get::<String>(&kv, "hash")?,
                procs::get::<String>(&kv, "tags")?,
            ));
        }
    }
    if keys.iter().any(|k| {
        k.1 != n || (k.2.as_str(), k.3.as_str()) != (keys[0].2.as_str(), keys[0].3.as_str())
    }) {
        return Err(format!(
            "the fresh processes disagree or missed VMs ({n} expected): {keys:?}"
        ));
    }

    // Warm listings in this process.
    let hybrid = connect_hybrid(&fake.url, page).await?;
    let provider = hybrid.clone().into_provider();
    let raw = connect_raw(&fake.url, page).await?;
    let mut a = Seen::new();
    hybrid_list(&provider, &mut a).await?;
    let mut b = Seen::new();
    raw_list(&raw, &mut b).await?;
    if a.sink.count != n || a.key() != b.key() {
        return Err(format!(
            "hybrid saw {:?}, the baseline {:?} (count, rows, tags); {n} VMs expected",
            a.key(),
            b.key()
        ));
    }
    let mut warm: [Vec<Cost>; 2] = Default::default();
    let mut warm_routes: [BTreeMap<String, u64>; 2] = Default::default();
    for rep in 0..settings.reps {
        for k in 0..2 {
            let side = (k + rep) % 2;
            fake.reset().await?;
            let mut seen = Seen::new();
            let (cost, r) = if side == 0 {
                measure::measure(hybrid_list(&provider, &mut seen)).await
            } else {
                measure::measure(raw_list(&raw, &mut seen)).await
            };
            r?;
            if seen.key() != a.key() {
                return Err(format!("{} listed {:?}", SIDES[side], seen.key()));
            }
            warm[side].push(cost);
            warm_routes[side] = routes(&fake.stats().await?);
        }
    }
    Ok(Row {
        latency,
        page,
        warm,
        warm_routes,
        fresh,
    })
}

fn print(n: usize, rows: &[Row]) {
    let med = |c: &[Cost], f: fn(&Cost) -> f64| median(&c.iter().map(f).collect::<Vec<_>>());
    println!("## vsphere: every VM of a vCenter ({n} VMs + 3 templates), server tags per page (medians; ratios against `raw` of the same row)\n");
    println!("Warm listing (connected, views and tag names cached), in this process:\n");
    println!("| N | latency | page (maxObjects) | side | wall | wall ÷ raw | CPU | CPU ÷ raw | round trips (SOAP + vAPI) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let (wr, cr) = (
            med(&r.warm[1], |c| ms(c.wall)),
            med(&r.warm[1], |c| ms(c.cpu)),
        );
        for (i, side) in SIDES.iter().enumerate() {
            let (w, c) = (
                med(&r.warm[i], |c| ms(c.wall)),
                med(&r.warm[i], |c| ms(c.cpu)),
            );
            let (soap, rest) = split(&r.warm_routes[i]);
            println!(
                "| {n} | {} ms | {} | {side} | {w:.1} ms | {:.2} | {c:.1} ms | {:.2} | {} ({soap} + {rest}) |",
                r.latency,
                r.page,
                w / wr,
                c / cr,
                soap + rest
            );
        }
    }
    println!("\nFresh process (`e2e child list-vsphere`): connect, then one listing:\n");
    println!("| N | latency | page | side | connect wall | first listing wall | CPU (whole process run) | peak RSS (before listing) | RSS ÷ raw | round trips (SOAP + vAPI) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let raw_peak = median(&r.fresh[1].peak);
        for (i, side) in SIDES.iter().enumerate() {
            let f = &r.fresh[i];
            let (soap, rest) = split(&f.routes);
            let peak = median(&f.peak);
            println!(
                "| {n} | {} ms | {} | {side} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB ({:.1}) | {:.2} | {} ({soap} + {rest}) |",
                r.latency,
                r.page,
                median(&f.connect),
                median(&f.list),
                median(&f.cpu),
                peak / 1024.0,
                median(&f.before) / 1024.0,
                peak / raw_peak,
                soap + rest
            );
        }
    }
    // Operations do not depend on the latency: one table per page size.
    for r in rows.iter().filter(|r| r.latency == rows[0].latency) {
        println!("\nRequests by operation, page {} (fresh process: connect + first listing; warm: one listing):\n", r.page);
        println!("| operation | hybrid, fresh | raw, fresh | hybrid, warm | raw, warm |");
        println!("| --- | --- | --- | --- | --- |");
        let mut ops: Vec<&String> = r
            .fresh
            .iter()
            .flat_map(|f| f.routes.keys())
            .chain(r.warm_routes.iter().flat_map(|m| m.keys()))
            .collect();
        ops.sort();
        ops.dedup();
        let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
        for op in ops {
            println!(
                "| {op} | {} | {} | {} | {} |",
                get(&r.fresh[0].routes, op),
                get(&r.fresh[1].routes, op),
                get(&r.warm_routes[0], op),
                get(&r.warm_routes[1], op)
            );
        }
    }
    println!();
}

/// `e2e child list-vsphere --impl hybrid|raw --url URL --page N`: connects, lists every
/// server once, and reports times, the checksums and the peak RSS.
pub(crate) async fn child(args: &[String]) -> Result<(), String> {
    let side: String = procs::flag(args, "--impl").ok_or("--impl")?;
    let url: String = procs::flag(args, "--url").ok_or("--url")?;
    let page: u32 = procs::flag(args, "--page").ok_or("--page")?;
    let mut seen = Seen::new();
    let c0 = measure::cpu_time();
    let t0 = Instant::now();
    let (connect, list, before) = match side.as_str() {
        "hybrid" => {
            let p = connect_hybrid(&url, page).await?.into_provider();
            let connect = t0.elapsed();
            let before = measure::rss_kib();
            hybrid_list(&p, &mut seen).await?;
            (connect, t0.elapsed() - connect, before)
        }
        "raw" => {
            let raw = connect_raw(&url, page).await?;
            let connect = t0.elapsed();
            let before = measure::rss_kib();
            raw_list(&raw, &mut seen).await?;
            (connect, t0.elapsed() - connect, before)
        }
        other => return Err(format!("--impl {other:?}")),
    };
    let cpu = measure::cpu_time().saturating_sub(c0);
    println!(
        "count={} hash={:x} tags={:x} connect_ms={:.3} list_ms={:.3} cpu_ms={:.3} before_kib={before} peak_kib={}",
        seen.sink.count,
        seen.sink.hash,
        seen.tags,
        ms(connect),
        ms(list),
        ms(cpu),
        measure::peak_rss_kib()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Both sides list the same servers and tags with the same requests, through the
    /// in-process fake; hybrid's own SOAP and vAPI counters agree with the fake's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_sides_list_the_same_servers_with_the_same_requests() {
        let n = 1_234;
        let (running, fake) = crate::fake_vc::start(n, Duration::ZERO).await.unwrap();
        let url = running.url();
        let hybrid = connect_hybrid(&url, 100).await.unwrap();
        let connect_hybrid_routes = routes(&fake.stats());
        let provider = hybrid.clone().into_provider();
        fake_reset(&fake);
        let raw = connect_raw(&url, 100).await.unwrap();
        let connect_raw_routes = routes(&fake.stats());
        assert_eq!(connect_hybrid_routes, connect_raw_routes, "connect");

        let mut seen = Vec::new();
        for round in 0..2 {
            fake_reset(&fake);
            let (soap0, rest0) = (hybrid.soap_calls(), hybrid.rest_calls());
            let mut a = Seen::new();
            hybrid_list(&provider, &mut a).await.unwrap();
            let ha = routes(&fake.stats());
            assert_eq!(
                (hybrid.soap_calls() - soap0, hybrid.rest_calls() - rest0),
                split(&ha),
                "hybrid's counters against the fake's"
            );
            fake_reset(&fake);
            let mut b = Seen::new();
            raw_list(&raw, &mut b).await.unwrap();
            let rb = routes(&fake.stats());
            assert_eq!(ha, rb, "round {round}: the same requests");
            assert_eq!(a.key(), b.key(), "round {round}: the same servers and tags");
            assert_eq!(a.sink.count, n);
            // 1,237 objects in pages of 100: one RetrievePropertiesEx, 12 continuations,
            // one tag call per page.
            assert_eq!(
                ha["SOAP RetrievePropertiesEx(VirtualMachine, 10 paths, maxObjects 100)"],
                1
            );
            assert_eq!(ha["SOAP ContinueRetrievePropertiesEx(VirtualMachine)"], 12);
            assert_eq!(
                ha["vAPI POST /api/cis/tagging/tag-association?action=list-attached-tags-on-objects"],
                13
            );
            seen.push(a.key());
        }
        assert_eq!(seen[0], seen[1]);
        // The tags really are the fake's: VM 0 has `bench` and `tier-0`.
        let mut first = None;
        let mut s = provider.compute().list_servers(ListOptions::new());
        if let Some(srv) = s.next().await {
            first = Some(srv.unwrap());
        }
        let first = first.unwrap();
        assert_eq!(first.id.as_str(), "vm-1000");
        assert_eq!(first.tags, crate::fake_vc::vm_tag_names(0));
        assert_eq!(first.tags, vec!["bench".to_owned(), "tier-0".to_owned()]);
    }

    fn fake_reset(fake: &crate::fake_vc::FakeVc) {
        fake.reset_counters();
    }
}
