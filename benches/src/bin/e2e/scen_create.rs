//! Scenario `create`: create a server, wait until it is ACTIVE, delete it and wait until
//! it is gone, for M servers at concurrency 10, through hybrid and through the raw
//! baseline (same requests, same polling schedule as hybrid's defaults); the fake
//! counts every request, the token requests, and when each poll came.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use hybrid_core::model::{CreateServer, FlavorId, ImageId, NetworkAttachment, NetworkId};
use hybrid_core::Provider;
use serde_json::Value;

use crate::measure::{median, ms};
use crate::os_client;
use crate::procs::FakeProcess;
use crate::raw_os::RawOs;
use crate::Settings;

const CONCURRENCY: usize = 10;
const IMAGE: &str = "70a599e0-31e7-49b7-b260-868f441e862b";
const NETWORK: &str = "3cb9bc59-5699-4588-a4b1-b87f96708bc6";

async fn hybrid_one(p: &Arc<dyn Provider>, i: usize) -> Result<(), String> {
    let mut spec = CreateServer::new(format!("bench-{i}"), FlavorId::new("1"));
    spec.image = Some(ImageId::new(IMAGE));
    spec.networks = vec![NetworkAttachment::Network {
        network: NetworkId::new(NETWORK),
        fixed_ip: None,
    }];
    let op = p
        .compute()
        .create_server(&spec)
        .await
        .map_err(|e| e.to_string())?;
    let s = op.await.map_err(|e| e.to_string())?;
    let op = p
        .compute()
        .delete_server(&s.id)
        .await
        .map_err(|e| e.to_string())?;
    op.await.map_err(|e| e.to_string())
}

/// What one side cost.
struct Outcome {
    wall_ms: f64,
    stats: Value,
}

async fn run_hybrid(fake: &FakeProcess, m: usize) -> Result<(Outcome, Value), String> {
    fake.reset().await?;
    let p = os_client::connect(&fake.url).await?;
    let connect = fake.stats().await?;
    fake.reset().await?;
    let t0 = Instant::now();
    let results: Vec<Result<(), String>> = futures::stream::iter(0..m)
        .map(|i| {
            let p = p.clone();
            async move { hybrid_one(&p, i).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let wall_ms = ms(t0.elapsed());
    results.into_iter().collect::<Result<Vec<()>, String>>()?;
    Ok((
        Outcome {
            wall_ms,
            stats: fake.stats().await?,
        },
        connect,
    ))
}

async fn run_raw(fake: &FakeProcess, m: usize) -> Result<(Outcome, Value), String> {
    fake.reset().await?;
    let raw = RawOs::connect(&format!("{}/identity/v3", fake.url)).await?;
    let connect = fake.stats().await?;
    fake.reset().await?;
    let t0 = Instant::now();
    let results: Vec<Result<u32, String>> = futures::stream::iter(0..m)
        .map(|i| {
            let raw = raw.clone();
            async move {
                raw.create_wait_delete(&format!("raw-{i}"), IMAGE, "1", NETWORK)
                    .await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let wall_ms = ms(t0.elapsed());
    results.into_iter().collect::<Result<Vec<u32>, String>>()?;
    Ok((
        Outcome {
            wall_ms,
            stats: fake.stats().await?,
        },
        connect,
    ))
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

fn route(v: &Value, r: &str) -> u64 {
    v["routes"][r].as_u64().unwrap_or(0)
}

/// Per server: when the first check came after the create, how many checks until
/// ACTIVE, and the gaps between checks (ms).
fn schedule(v: &Value, key: &str) -> (f64, f64, Vec<f64>, f64) {
    let polls: Vec<Vec<f64>> = v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    p.as_array()
                        .map(|x| x.iter().filter_map(Value::as_f64).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    let firsts: Vec<f64> = polls.iter().filter_map(|p| p.first().copied()).collect();
    let counts: Vec<f64> = polls.iter().map(|p| p.len() as f64).collect();
    let min_gap = polls
        .iter()
        .flat_map(|p| p.windows(2).map(|w| w[1] - w[0]))
        .fold(f64::INFINITY, f64::min);
    let example = polls
        .iter()
        .max_by_key(|p| p.len())
        .cloned()
        .unwrap_or_default();
    (median(&firsts), median(&counts), example, min_gap)
}

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    let m = settings.create;
    let fake = FakeProcess::start(&[
        "openstack".into(),
        "--build-ms".into(),
        "2000".into(),
        "--delete-ms".into(),
        "1000".into(),
    ])?;
    let (h, h_connect) = run_hybrid(&fake, m).await?;
    let (r, r_connect) = run_raw(&fake, m).await?;
    println!("## create: {m} servers created, awaited ACTIVE, deleted and awaited gone, {CONCURRENCY} at a time\n");
    println!("The fake keeps a server in BUILD for 2 s and shows it `deleting` for 1 s after the DELETE.\n");
    println!("| | hybrid | raw | hybrid ÷ raw |");
    println!("| --- | --- | --- | --- |");
    let hr = n(&h.stats, "requests");
    let rr = n(&r.stats, "requests");
    println!(
        "| requests (create, polls, delete, polls) | {hr} | {rr} | **{:.2}** |",
        hr as f64 / rr as f64
    );
    for (what, key) in [
        ("POST /servers", "POST /servers"),
        ("GET /servers/{id}", "GET /servers/{id}"),
        ("DELETE /servers/{id}", "DELETE /servers/{id}"),
        ("GET /flavors/detail", "GET /flavors/detail"),
    ] {
        println!(
            "| {what} | {} | {} | |",
            route(&h.stats, key),
            route(&r.stats, key)
        );
    }
    let ht = n(&h.stats, "tokens") + n(&h_connect, "tokens");
    let rt = n(&r.stats, "tokens") + n(&r_connect, "tokens");
    println!("| token requests, connect included | **{ht}** | {rt} | |");
    println!(
        "| requests to connect (token, discovery) | {} | {} | |",
        n(&h_connect, "requests"),
        n(&r_connect, "requests")
    );
    println!(
        "| wall time | {:.0} ms | {:.0} ms | {:.2} |",
        h.wall_ms,
        r.wall_ms,
        h.wall_ms / r.wall_ms
    );
    for (side, stats) in [("hybrid", &h.stats), ("raw", &r.stats)] {
        let (first, count, example, min_gap) = schedule(stats, "polls_building_ms");
        let (dfirst, dcount, _, _) = schedule(stats, "polls_deleting_ms");
        println!(
            "| {side}: first check after the create (median) / checks until ACTIVE / shortest gap | {first:.0} ms / {count:.0} / {min_gap:.0} ms | | |"
        );
        println!(
            "| {side}: first check after the delete / checks until gone | {dfirst:.0} ms / {dcount:.0} | | |"
        );
        let ex: Vec<String> = example.iter().map(|x| format!("{x:.0}")).collect();
        println!(
            "| {side}: the checks of one server, ms after its create | {} | | |",
            ex.join(", ")
        );
    }
    println!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hybrid_creates_waits_and_deletes_with_one_token() {
        let cfg = crate::fake_os::Config {
            build_time: Duration::from_millis(300),
            delete_time: Duration::from_millis(300),
            ..crate::fake_os::Config::default()
        };
        let (running, fake) = crate::fake_os::start(cfg, 0, Duration::ZERO).await.unwrap();
        let p = os_client::connect(&running.url()).await.unwrap();
        let results: Vec<Result<(), String>> = futures::stream::iter(0..6)
            .map(|i| {
                let p = p.clone();
                async move { hybrid_one(&p, i).await }
            })
            .buffer_unordered(3)
            .collect()
            .await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let stats = fake.stats();
        assert_eq!(n(&stats, "tokens"), 1, "one token for everything");
        assert_eq!(route(&stats, "POST /servers"), 6);
        assert_eq!(route(&stats, "DELETE /servers/{id}"), 6);
        // At once, then after about 250 ms and 650 ms: ACTIVE by the third check. (Only
        // bounds a loaded machine cannot break: sleeps are never shorter than asked.)
        let (first, checks, _, min_gap) = schedule(&stats, "polls_building_ms");
        assert!(
            first < 1000.0,
            "no fixed one-second sleep before the first check"
        );
        assert!((2.0..=6.0).contains(&checks), "{checks} checks");
        assert!(
            min_gap >= 200.0,
            "no hammering: {min_gap} ms between checks"
        );
    }
}
