//! Scenario `azure`: every VM of a resource group through hybrid-azure's `list_servers`
//! and through a raw reqwest + serde baseline making the same requests (the list pages
//! with `$expand=instanceView`, each VM's power state in its page, as hybrid-azure asks
//! for them; no request per VM), against the fast ARM fake in a child process. Wall and
//! CPU time, requests counted by route; peak RSS of one listing by each side in its own
//! process (`e2e child list-azure`), the fake being in another.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use hybrid_azure::http::ClientOptions;
use hybrid_azure::{AzureBuilder, AzureProvider, CloudEnvironment};
use hybrid_core::{ListOptions, Provider};
use serde::Deserialize;

use crate::fake_arm::{CLIENT, GROUP, LOCATION, SECRET, SUBSCRIPTION, TENANT};
use crate::measure::{self, median, ms, Cost};
use crate::os_client::{Sink, Work};
use crate::procs::{self, FakeProcess};
use crate::Settings;

/// The gated provider, connected to the fake at `url`.
pub(crate) async fn connect(url: &str) -> Result<Arc<dyn Provider>, String> {
    let config = AzureBuilder::new(SUBSCRIPTION, GROUP, LOCATION)
        .with_client_secret(TENANT, CLIENT, SECRET)
        .with_cloud(CloudEnvironment {
            authority_host: url.to_owned(),
            resource_manager: url.to_owned(),
        })
        .with_http(ClientOptions::default())
        .build()
        .map_err(|e| e.to_string())?;
    let p = AzureProvider::connect(config)
        .await
        .map_err(|e| e.to_string())?;
    Ok(p.into_provider())
}

/// The baseline.
#[derive(Clone)]
pub(crate) struct RawArm {
    http: reqwest::Client,
    token: String,
    base: String,
}

#[derive(Deserialize)]
struct TokenDoc {
    access_token: String,
}

#[derive(Deserialize)]
struct VmList {
    value: Vec<Vm>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // decoded as a real client would; not every field is read
struct Vm {
    id: String,
    name: String,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    zones: Vec<String>,
    #[serde(default)]
    properties: VmProps,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct VmProps {
    #[serde(default)]
    vm_id: Option<String>,
    #[serde(default)]
    hardware_profile: Hardware,
    #[serde(default)]
    provisioning_state: Option<String>,
    #[serde(default)]
    time_created: Option<String>,
    #[serde(default)]
    instance_view: Option<View>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Hardware {
    #[serde(default)]
    vm_size: String,
}

#[derive(Deserialize)]
struct View {
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    code: String,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl RawArm {
    pub(crate) async fn connect(url: &str) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .build()
            .map_err(err)?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "https://management.azure.com/.default"),
        ];
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = http
            .post(format!("{url}/{TENANT}/oauth2/v2.0/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let t: TokenDoc = serde_json::from_slice(&resp.bytes().await.map_err(err)?).map_err(err)?;
        Ok(RawArm {
            http,
            token: format!("Bearer {}", t.access_token),
            base: url.to_owned(),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let resp = self
            .http
            .get(url)
            .header("Authorization", &self.token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        serde_json::from_slice(&resp.bytes().await.map_err(err)?).map_err(err)
    }

    /// Every VM with its power state, page by page (`$expand=instanceView`: the power
    /// state is in each VM's document), each handed to `sink`.
    pub(crate) async fn list(&self, sink: &mut Sink) -> Result<(), String> {
        let mut url = reqwest::Url::parse(&format!(
            "{}/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Compute/virtualMachines",
            self.base
        ))
        .map_err(err)?;
        // Encoded as hybrid-azure encodes it (`%24expand`): the same request.
        url.query_pairs_mut()
            .append_pair("api-version", "2024-07-01")
            .append_pair("$expand", "instanceView");
        let mut url = url.to_string();
        loop {
            let page: VmList = self.get(&url).await?;
            for vm in page.value {
                let power = vm
                    .properties
                    .instance_view
                    .as_ref()
                    .and_then(|v| {
                        v.statuses
                            .iter()
                            .find_map(|s| s.code.strip_prefix("PowerState/"))
                    })
                    .unwrap_or("");
                let status = match (vm.properties.provisioning_state.as_deref(), power) {
                    (Some("Creating"), _) => "BUILD",
                    (Some("Deleting"), _) => "DELETING",
                    (Some("Failed"), _) => "ERROR",
                    (_, "running") => "ACTIVE",
                    (_, "deallocated" | "stopped") => "SHUTOFF",
                    (_, other) => other,
                };
                sink.row_of(
                    &vm.id,
                    &vm.name,
                    status,
                    &vm.properties.hardware_profile.vm_size,
                    "",
                );
            }
            match page.next_link {
                Some(next) => url = next,
                None => return Ok(()),
            }
        }
    }
}

async fn hybrid_list(p: &Arc<dyn Provider>, sink: &mut Sink) -> Result<(), String> {
    let mut s = p.compute().list_servers(ListOptions::new());
    while let Some(item) = s.next().await {
        sink.server(&item.map_err(|e| e.to_string())?);
    }
    Ok(())
}

/// The sides, in the order of the tables.
const SIDES: [&str; 2] = ["hybrid", "raw"];

/// One listing in a fresh process (`e2e child list-azure`): peak RSS and RSS before
/// listing (KiB), medians over `reps` runs alternating the sides; checks that every
/// child saw the `n` VMs with the checksum `want`.
fn fresh_rss(url: &str, n: usize, want: u64, reps: usize) -> Result<[(f64, f64); 2], String> {
    let mut peaks: [Vec<f64>; 2] = Default::default();
    let mut befores: [Vec<f64>; 2] = Default::default();
    for rep in 0..reps.max(1) {
        for k in 0..2 {
            let side = (k + rep) % 2;
            let kv = procs::run_child(&[
                "list-azure".into(),
                "--impl".into(),
                SIDES[side].into(),
                "--url".into(),
                url.into(),
            ])?;
            let count: usize = procs::get(&kv, "count")?;
            let hash: String = procs::get(&kv, "hash")?;
            if count != n || hash != format!("{want:x}") {
                return Err(format!(
                    "the {} child saw {count} VMs ({hash}); {n} ({want:x}) expected",
                    SIDES[side]
                ));
            }
            peaks[side].push(procs::get(&kv, "peak_kib")?);
            befores[side].push(procs::get(&kv, "before_kib")?);
        }
    }
    Ok([0, 1].map(|i| (median(&peaks[i]), median(&befores[i]))))
}

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    println!("## azure: every VM of a resource group, pages of 1000 with `$expand=instanceView` (medians; ratios against `raw` of the same row; peak RSS of one listing in its own process)\n");
    println!("| N | latency | side | wall | wall ÷ raw | CPU | CPU ÷ raw | requests (by route) | peak RSS (before listing) | RSS ÷ raw |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for &latency in &settings.azure_latencies_ms {
        let n = settings.azure_vms;
        let fake = FakeProcess::start(&[
            "azure".into(),
            "--servers".into(),
            n.to_string(),
            "--latency-ms".into(),
            latency.to_string(),
        ])?;
        let p = connect(&fake.url).await?;
        let raw = RawArm::connect(&fake.url).await?;
        // Warm up, and check both see the same VMs in the same states.
        let mut a = Sink::new(Work::Csv);
        hybrid_list(&p, &mut a).await?;
        let mut b = Sink::new(Work::Csv);
        raw.list(&mut b).await?;
        if a.count != n || b.count != n || a.hash != b.hash {
            return Err(format!(
                "hybrid saw {} VMs ({:x}), the baseline {} ({:x}); {n} expected",
                a.count, a.hash, b.count, b.hash
            ));
        }
        let mut costs: [Vec<Cost>; 2] = [Vec::new(), Vec::new()];
        let mut requests = [String::new(), String::new()];
        for rep in 0..settings.reps.min(3) {
            for k in 0..2 {
                let side = (k + rep) % 2;
                fake.reset().await?;
                let mut sink = Sink::new(Work::Csv);
                let (cost, r) = if side == 0 {
                    measure::measure(hybrid_list(&p, &mut sink)).await
                } else {
                    measure::measure(raw.list(&mut sink)).await
                };
                r?;
                costs[side].push(cost);
                let stats = fake.stats().await?;
                let routes: Vec<String> = stats["routes"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| format!("{v} × `{k}`")).collect())
                    .unwrap_or_default();
                requests[side] = format!(
                    "{} ({})",
                    stats["requests"].as_u64().unwrap_or(0),
                    routes.join(", ")
                );
            }
        }
        let rss = fresh_rss(&fake.url, n, a.hash, settings.reps.min(3))?;
        let med = |c: &[Cost], f: fn(&Cost) -> f64| median(&c.iter().map(f).collect::<Vec<_>>());
        let (wr, cr) = (
            med(&costs[1], |c| ms(c.wall)),
            med(&costs[1], |c| ms(c.cpu)),
        );
        for (side, name) in SIDES.iter().enumerate() {
            let (w, c) = (
                med(&costs[side], |c| ms(c.wall)),
                med(&costs[side], |c| ms(c.cpu)),
            );
            let (peak, before) = rss[side];
            println!(
                "| {n} | {latency} ms | {name} | {w:.0} ms | {:.2} | {c:.0} ms | {:.2} | {} | {:.1} MiB ({:.1}) | {:.2} |",
                w / wr,
                c / cr,
                requests[side],
                peak / 1024.0,
                before / 1024.0,
                peak / rss[1].0
            );
        }
    }
    println!();
    Ok(())
}

/// `e2e child list-azure --impl hybrid|raw --url URL`: connects to the ARM fake at
/// `URL`, notes the RSS, lists every VM once with the CSV consumer, and reports the
/// count, the checksum, times and the peak RSS.
pub(crate) async fn child(args: &[String]) -> Result<(), String> {
    let side: String = procs::flag(args, "--impl").ok_or("--impl")?;
    let url: String = procs::flag(args, "--url").ok_or("--url")?;
    let mut sink = Sink::new(Work::Csv);
    let c0 = measure::cpu_time();
    let t0 = Instant::now();
    let (connect, list, before) = match side.as_str() {
        "hybrid" => {
            let p = connect(&url).await?;
            let connect = t0.elapsed();
            let before = measure::rss_kib();
            hybrid_list(&p, &mut sink).await?;
            (connect, t0.elapsed() - connect, before)
        }
        "raw" => {
            let raw = RawArm::connect(&url).await?;
            let connect = t0.elapsed();
            let before = measure::rss_kib();
            raw.list(&mut sink).await?;
            (connect, t0.elapsed() - connect, before)
        }
        other => return Err(format!("--impl {other:?}")),
    };
    let cpu = measure::cpu_time().saturating_sub(c0);
    println!(
        "count={} hash={:x} connect_ms={:.3} list_ms={:.3} cpu_ms={:.3} before_kib={before} peak_kib={}",
        sink.count,
        sink.hash,
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

    fn routes(stats: &serde_json::Value) -> BTreeMap<String, u64> {
        stats["routes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn minus(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        a.iter()
            .map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0)))
            .filter(|(_, v)| *v > 0)
            .collect()
    }

    /// Both sides list the same VMs in the same states with the same requests (one
    /// expanded page request per 1000 VMs, none per VM), through the in-process fake:
    /// the harness's check that its comparison is fair.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_sides_list_the_same_vms_with_the_same_requests() {
        let n = 2_345;
        let (running, fake) = crate::fake_arm::start(n, Duration::ZERO).await.unwrap();
        let url = running.url();
        let p = connect(&url).await.unwrap();
        let raw = RawArm::connect(&url).await.unwrap();
        let mut keys = Vec::new();
        for round in 0..2 {
            let r0 = routes(&fake.stats());
            let mut a = Sink::new(Work::Csv);
            hybrid_list(&p, &mut a).await.unwrap();
            let r1 = routes(&fake.stats());
            let mut b = Sink::new(Work::Csv);
            raw.list(&mut b).await.unwrap();
            let r2 = routes(&fake.stats());
            let (ha, rb) = (minus(&r1, &r0), minus(&r2, &r1));
            assert_eq!(ha, rb, "round {round}: the same requests");
            assert_eq!(
                ha,
                BTreeMap::from([("GET virtualMachines?$expand=instanceView".to_owned(), 3)]),
                "round {round}: three pages, no per-VM read"
            );
            assert_eq!((a.count, a.hash), (b.count, b.hash), "round {round}");
            assert_eq!(a.count, n);
            keys.push(a.hash);
        }
        assert_eq!(keys[0], keys[1]);
    }
}
