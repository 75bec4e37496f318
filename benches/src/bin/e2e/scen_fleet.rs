//! Scenario `fleet`: the server inventory of three environments at once — an OpenStack
//! region (the OpenStack fake), an Azure resource group (the ARM fake) and a vCenter
//! (the vCenter fake), N servers each, every fake in its own child process with 0 or
//! 5 ms added per request.
//!
//! - hybrid: the facade's [`FleetConfig`] from a YAML document (an OpenStack
//!   `clouds.yaml` entry, an Azure resource group, a vCenter), [`FleetConfig::open`],
//!   then [`Fleet::inventory`](hybrid::fleet::Fleet::inventory) of servers drained to
//!   the end; each environment opens (connects) inside the inventory.
//! - raw: the three baselines (`RawOs`, `RawArm`, `RawVc`), each connecting then
//!   listing, run concurrently in one process (`tokio::try_join!`).
//!
//! Cold runs open and list (a new fleet, new raw clients); warm runs list again over
//! the same opened fleet and connected clients. Wall and CPU time in this process,
//! requests counted by each fake; peak RSS of a cold run in a fresh process
//! (`e2e child fleet`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use hybrid::fleet::{Fleet, FleetConfig, InventoryEvent, InventoryOptions, Resource, ResourceKind};

use crate::fake_arm::{CLIENT, GROUP, LOCATION, SECRET, SUBSCRIPTION, TENANT};
use crate::fake_os::{PASSWORD as OS_PASSWORD, PROJECT, USER as OS_USER};
use crate::fake_vc::{PASSWORD as VC_PASSWORD, TAG_CATEGORY, USER as VC_USER};
use crate::measure::{self, median, ms, Cost};
use crate::os_client::{Sink, Work};
use crate::procs::{self, FakeProcess};
use crate::raw_os::RawOs;
use crate::raw_vc::RawVc;
use crate::scen_azure::RawArm;
use crate::Settings;

/// hybrid-vsphere's default page size (`maxObjects`), which the fleet's vCenter uses.
const VC_PAGE: u32 = 100;

/// The environments, in the fleet's order.
const ENVS: [&str; 3] = ["openstack-kvm", "azure-public", "vsphere-prod"];

/// Where the three fakes are.
#[derive(Debug, Clone)]
struct Urls {
    os: String,
    az: String,
    vc: String,
    /// The `clouds.yaml` naming the OpenStack fake.
    clouds: PathBuf,
}

/// Writes the `clouds.yaml` of the OpenStack fake at `os` into `dir`.
fn write_clouds(dir: &Path, os: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let path = dir.join("clouds.yaml");
    let text = format!(
        "clouds:\n  bench:\n    auth:\n      auth_url: {os}/identity/v3\n      username: {OS_USER}\n      password: {OS_PASSWORD}\n      project_name: {PROJECT}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n    interface: public\n"
    );
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The fleet's YAML document.
fn fleet_yaml(u: &Urls) -> String {
    format!(
        r#"deadline_ms: 600000
environments:
  openstack-kvm:
    kind: openstack
    clouds_yaml: {clouds}
    cloud: bench
    roles: [dev-test]
  azure-public:
    kind: azure
    subscription_id: {SUBSCRIPTION}
    resource_group: {GROUP}
    location: {LOCATION}
    tenant_id: {TENANT}
    client_id: {CLIENT}
    client_secret: {SECRET}
    cloud: {{authority_host: "{az}", resource_manager: "{az}"}}
    roles: [public-web]
  vsphere-prod:
    kind: vsphere
    url: {vc}/sdk
    user: {VC_USER}
    password: {VC_PASSWORD}
    roles: [traditional]
"#,
        clouds = u.clouds.display(),
        az = u.az,
        vc = u.vc,
    )
}

/// One inventory line per server, per environment, and how long each environment took.
struct Seen {
    sinks: BTreeMap<&'static str, Sink>,
    elapsed: BTreeMap<&'static str, Duration>,
}

impl Seen {
    fn new() -> Self {
        Seen {
            sinks: ENVS.iter().map(|e| (*e, Sink::new(Work::Csv))).collect(),
            elapsed: BTreeMap::new(),
        }
    }

    fn sink(&mut self, env: &str) -> Result<&mut Sink, String> {
        self.sinks
            .iter_mut()
            .find(|(k, _)| **k == env)
            .map(|(_, s)| s)
            .ok_or_else(|| format!("an environment the fleet does not have: {env}"))
    }

    fn key(&self) -> Vec<(usize, u64)> {
        self.sinks.values().map(|s| (s.count, s.hash)).collect()
    }
}

/// Drains the fleet's server inventory into `seen`; an incomplete environment is an
/// error.
async fn hybrid_inventory(fleet: &Fleet, seen: &mut Seen) -> Result<(), String> {
    let mut s = fleet
        .inventory(InventoryOptions::new().with_kinds([ResourceKind::Servers]))
        .map_err(|e| e.to_string())?;
    while let Some(event) = s.next().await {
        match event {
            InventoryEvent::Item {
                environment,
                resource: Resource::Server(server),
            } => seen.sink(&environment)?.server(&server),
            InventoryEvent::Item { resource, .. } => {
                return Err(format!("not a server: {:?}", resource.kind()))
            }
            InventoryEvent::Finished(report) => {
                if !report.is_complete() {
                    return Err(report.summary());
                }
                let env = ENVS
                    .iter()
                    .find(|e| **e == report.environment)
                    .ok_or("an unknown environment finished")?;
                seen.elapsed.insert(env, report.elapsed);
            }
            InventoryEvent::Opened { .. } => {}
        }
    }
    Ok(())
}

/// A new fleet from the YAML, opened (connecting to nothing yet), then inventoried.
async fn hybrid_cold(yaml: &str, seen: &mut Seen) -> Result<Fleet, String> {
    let fleet = FleetConfig::from_yaml(yaml)
        .and_then(FleetConfig::open)
        .map_err(|e| e.to_string())?;
    hybrid_inventory(&fleet, seen).await?;
    Ok(fleet)
}

/// The three raw clients.
struct Raw {
    os: RawOs,
    az: RawArm,
    vc: RawVc,
}

async fn raw_os_list(raw: &RawOs, sink: &mut Sink) -> Result<(), String> {
    raw.list_servers(|s, flavor| sink.raw(s, flavor))
        .await
        .map(drop)
}

async fn raw_vc_list(raw: &RawVc, sink: &mut Sink) -> Result<(), String> {
    raw.list_servers(TAG_CATEGORY, |v, _tags| {
        sink.row_of(&v.id, &v.name, v.status(), v.flavor(), v.first_address())
    })
    .await
    .map(drop)
}

/// Runs `f` and times it.
async fn timed<T>(
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<(T, Duration), String> {
    let t0 = Instant::now();
    let out = f.await?;
    Ok((out, t0.elapsed()))
}

/// Connects the three baselines and lists every server of each, concurrently.
async fn raw_cold(u: &Urls, seen: &mut Seen) -> Result<Raw, String> {
    let mut sinks = std::mem::take(&mut seen.sinks);
    let mut it = sinks.iter_mut();
    // BTreeMap order: azure-public, openstack-kvm, vsphere-prod.
    let (Some((_, az_sink)), Some((_, os_sink)), Some((_, vc_sink))) =
        (it.next(), it.next(), it.next())
    else {
        return Err("three sinks".into());
    };
    let os = timed(async {
        let raw = RawOs::connect(&format!("{}/identity/v3", u.os)).await?;
        raw_os_list(&raw, os_sink).await?;
        Ok(raw)
    });
    let az = timed(async {
        let raw = RawArm::connect(&u.az).await?;
        raw.list(az_sink).await?;
        Ok(raw)
    });
    let vc = timed(async {
        let raw = RawVc::connect(&u.vc, VC_USER, VC_PASSWORD, VC_PAGE).await?;
        raw_vc_list(&raw, vc_sink).await?;
        Ok(raw)
    });
    let ((os, tos), (az, taz), (vc, tvc)) = tokio::try_join!(os, az, vc)?;
    seen.sinks = sinks;
    seen.elapsed = [(ENVS[0], tos), (ENVS[1], taz), (ENVS[2], tvc)].into();
    Ok(Raw { os, az, vc })
}

/// Lists every server of each connected baseline, concurrently.
async fn raw_warm(raw: &Raw, seen: &mut Seen) -> Result<(), String> {
    let mut sinks = std::mem::take(&mut seen.sinks);
    let mut it = sinks.iter_mut();
    let (Some((_, az_sink)), Some((_, os_sink)), Some((_, vc_sink))) =
        (it.next(), it.next(), it.next())
    else {
        return Err("three sinks".into());
    };
    let os = timed(raw_os_list(&raw.os, os_sink));
    let az = timed(raw.az.list(az_sink));
    let vc = timed(raw_vc_list(&raw.vc, vc_sink));
    let (((), tos), ((), taz), ((), tvc)) = tokio::try_join!(os, az, vc)?;
    seen.sinks = sinks;
    seen.elapsed = [(ENVS[0], tos), (ENVS[1], taz), (ENVS[2], tvc)].into();
    Ok(())
}

struct Fakes {
    os: FakeProcess,
    az: FakeProcess,
    vc: FakeProcess,
}

impl Fakes {
    async fn reset(&self) -> Result<(), String> {
        self.os.reset().await?;
        self.az.reset().await?;
        self.vc.reset().await
    }

    /// Requests by environment and operation.
    async fn routes(&self) -> Result<BTreeMap<String, u64>, String> {
        let mut out = BTreeMap::new();
        for (env, fake) in ENVS.iter().zip([&self.os, &self.az, &self.vc]) {
            let stats = fake.stats().await?;
            for (op, n) in stats["routes"].as_object().into_iter().flatten() {
                out.insert(format!("{env}: {op}"), n.as_u64().unwrap_or(0));
            }
        }
        Ok(out)
    }

    /// Requests per environment, in [`ENVS`] order.
    async fn requests(&self) -> Result<[u64; 3], String> {
        let n = |v: serde_json::Value| v["requests"].as_u64().unwrap_or(0);
        Ok([
            n(self.os.stats().await?),
            n(self.az.stats().await?),
            n(self.vc.stats().await?),
        ])
    }
}

#[derive(Default)]
struct Side {
    cold: Vec<Cost>,
    cold_envs: Vec<[f64; 3]>,
    warm: Vec<Cost>,
    warm_envs: Vec<[f64; 3]>,
    cold_requests: [u64; 3],
    warm_requests: [u64; 3],
    cold_routes: BTreeMap<String, u64>,
    warm_routes: BTreeMap<String, u64>,
    /// Fresh process: wall, CPU, peak RSS (KiB).
    fresh: Vec<(f64, f64, f64)>,
}

fn envs_ms(seen: &Seen) -> [f64; 3] {
    ENVS.map(|e| seen.elapsed.get(e).map_or(f64::NAN, |d| ms(*d)))
}

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    let n = settings.fleet_size;
    let dir = std::env::temp_dir().join(format!("hybrid-e2e-fleet-{}", std::process::id()));
    let mut rows = Vec::new();
    for &latency in &settings.fleet_latencies_ms {
        let start = |kind: &str, extra: &[&str]| {
            let mut args: Vec<String> = vec![
                kind.into(),
                "--servers".into(),
                n.to_string(),
                "--latency-ms".into(),
                latency.to_string(),
            ];
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            FakeProcess::start(&args)
        };
        let fakes = Fakes {
            os: start("openstack", &["--max-limit", "1000"])?,
            az: start("azure", &[])?,
            vc: start("vsphere", &[])?,
        };
        let urls = Urls {
            clouds: write_clouds(&dir, &fakes.os.url)?,
            os: fakes.os.url.clone(),
            az: fakes.az.url.clone(),
            vc: fakes.vc.url.clone(),
        };
        let yaml = fleet_yaml(&urls);
        let r = measure_one(settings, &fakes, &urls, &yaml, n).await;
        rows.push((latency, r?));
    }
    let _ = std::fs::remove_dir_all(&dir);
    print(n, &rows);
    Ok(())
}

async fn measure_one(
    settings: &Settings,
    fakes: &Fakes,
    urls: &Urls,
    yaml: &str,
    n: usize,
) -> Result<[Side; 2], String> {
    // Warm-up and the check that both sides see the same servers.
    let mut a = Seen::new();
    hybrid_cold(yaml, &mut a).await?;
    let mut b = Seen::new();
    raw_cold(urls, &mut b).await?;
    let want = a.key();
    if want.iter().any(|(count, _)| *count != n) || want != b.key() {
        return Err(format!(
            "hybrid saw {want:?}, the baselines {:?} (count, checksum per environment: {ENVS:?}); {n} each expected",
            b.key()
        ));
    }
    let mut sides: [Side; 2] = Default::default();
    let reps = settings.reps.min(3);
    for rep in 0..reps {
        for k in 0..2 {
            let i = (k + rep) % 2;
            fakes.reset().await?;
            let mut seen = Seen::new();
            let (cost, kept) = if i == 0 {
                let (c, r) = measure::measure(hybrid_cold(yaml, &mut seen)).await;
                (c, r.map(|f| (Some(f), None))?)
            } else {
                let (c, r) = measure::measure(raw_cold(urls, &mut seen)).await;
                (c, r.map(|raw| (None, Some(raw)))?)
            };
            check(&seen, &want)?;
            sides[i].cold.push(cost);
            sides[i].cold_envs.push(envs_ms(&seen));
            sides[i].cold_requests = fakes.requests().await?;
            sides[i].cold_routes = fakes.routes().await?;
            // Warm: list again over what the cold run opened.
            fakes.reset().await?;
            let mut seen = Seen::new();
            let cost = match kept {
                (Some(fleet), _) => {
                    let (c, r) = measure::measure(hybrid_inventory(&fleet, &mut seen)).await;
                    r?;
                    c
                }
                (_, Some(raw)) => {
                    let (c, r) = measure::measure(raw_warm(&raw, &mut seen)).await;
                    r?;
                    c
                }
                _ => return Err("nothing kept".into()),
            };
            check(&seen, &want)?;
            sides[i].warm.push(cost);
            sides[i].warm_envs.push(envs_ms(&seen));
            sides[i].warm_requests = fakes.requests().await?;
            sides[i].warm_routes = fakes.routes().await?;
        }
    }
    for (i, side) in ["hybrid", "raw"].iter().enumerate() {
        for _ in 0..reps {
            let kv = procs::run_child(&[
                "fleet".into(),
                "--impl".into(),
                (*side).into(),
                "--os".into(),
                urls.os.clone(),
                "--az".into(),
                urls.az.clone(),
                "--vc".into(),
                urls.vc.clone(),
                "--clouds".into(),
                urls.clouds.display().to_string(),
            ])?;
            if procs::get::<usize>(&kv, "count")? != 3 * n {
                return Err(format!("the {side} child listed {kv:?}"));
            }
            sides[i].fresh.push((
                procs::get(&kv, "wall_ms")?,
                procs::get(&kv, "cpu_ms")?,
                procs::get(&kv, "peak_kib")?,
            ));
        }
    }
    Ok(sides)
}

fn check(seen: &Seen, want: &[(usize, u64)]) -> Result<(), String> {
    if seen.key() != want {
        return Err(format!("listed {:?}, expected {want:?}", seen.key()));
    }
    Ok(())
}

fn print(n: usize, rows: &[(u64, [Side; 2])]) {
    let med = |c: &[Cost], f: fn(&Cost) -> f64| median(&c.iter().map(f).collect::<Vec<_>>());
    let env_med = |v: &[[f64; 3]]| -> String {
        (0..3)
            .map(|k| format!("{:.0}", median(&v.iter().map(|e| e[k]).collect::<Vec<_>>())))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!("## fleet: servers of three environments at once (OpenStack, Azure, vSphere; {n} servers each; medians; ratios against `raw`)\n");
    println!("hybrid: `FleetConfig::from_yaml` → `open` → `Fleet::inventory` (servers); raw: `RawOs`, `RawArm`, `RawVc` concurrently in one process. Cold: connect + list; warm: list again.\n");
    println!("| N per env | latency | run | side | wall | wall ÷ raw | per env, ms (OpenStack / Azure / vSphere) | CPU | CPU ÷ raw | requests (OpenStack / Azure / vSphere) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (latency, sides) in rows {
        for cold in [true, false] {
            let pick = |s: &Side| -> (Vec<Cost>, Vec<[f64; 3]>, [u64; 3]) {
                if cold {
                    (s.cold.clone(), s.cold_envs.clone(), s.cold_requests)
                } else {
                    (s.warm.clone(), s.warm_envs.clone(), s.warm_requests)
                }
            };
            let raw = pick(&sides[1]);
            let (wr, cr) = (med(&raw.0, |c| ms(c.wall)), med(&raw.0, |c| ms(c.cpu)));
            for (i, name) in ["hybrid", "raw"].iter().enumerate() {
                let (costs, envs, req) = pick(&sides[i]);
                let (w, c) = (med(&costs, |c| ms(c.wall)), med(&costs, |c| ms(c.cpu)));
                println!(
                    "| {n} | {latency} ms | {} | {name} | {w:.0} ms | {:.2} | {} | {c:.0} ms | {:.2} | {} ({} / {} / {}) |",
                    if cold { "cold" } else { "warm" },
                    w / wr,
                    env_med(&envs),
                    c / cr,
                    req.iter().sum::<u64>(),
                    req[0],
                    req[1],
                    req[2]
                );
            }
        }
    }
    println!("\nFresh process (`e2e child fleet`), one cold run:\n");
    println!("| N per env | latency | side | wall | CPU | peak RSS | RSS ÷ raw |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (latency, sides) in rows {
        let col = |s: &Side, k: usize| {
            median(
                &s.fresh
                    .iter()
                    .map(|f| [f.0, f.1, f.2][k])
                    .collect::<Vec<_>>(),
            )
        };
        let raw_peak = col(&sides[1], 2);
        for (i, name) in ["hybrid", "raw"].iter().enumerate() {
            let s = &sides[i];
            println!(
                "| {n} | {latency} ms | {name} | {:.0} ms | {:.0} ms | {:.1} MiB | {:.2} |",
                col(s, 0),
                col(s, 1),
                col(s, 2) / 1024.0,
                col(s, 2) / raw_peak
            );
        }
    }
    // Operations do not depend on the latency.
    if let Some((_, sides)) = rows.first() {
        println!("\nRequests by environment and operation (one cold run: open + list; one warm run: list):\n");
        println!("| operation | hybrid, cold | raw, cold | hybrid, warm | raw, warm |");
        println!("| --- | --- | --- | --- | --- |");
        let mut ops: Vec<&String> = sides
            .iter()
            .flat_map(|s| s.cold_routes.keys().chain(s.warm_routes.keys()))
            .collect();
        ops.sort();
        ops.dedup();
        let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
        for op in ops {
            println!(
                "| {op} | {} | {} | {} | {} |",
                get(&sides[0].cold_routes, op),
                get(&sides[1].cold_routes, op),
                get(&sides[0].warm_routes, op),
                get(&sides[1].warm_routes, op)
            );
        }
    }
    println!();
}

/// `e2e child fleet --impl hybrid|raw --os URL --az URL --vc URL --clouds PATH`: one
/// cold run; prints the server count, wall and CPU time and the peak RSS.
pub(crate) async fn child(args: &[String]) -> Result<(), String> {
    let side: String = procs::flag(args, "--impl").ok_or("--impl")?;
    let urls = Urls {
        os: procs::flag(args, "--os").ok_or("--os")?,
        az: procs::flag(args, "--az").ok_or("--az")?,
        vc: procs::flag(args, "--vc").ok_or("--vc")?,
        clouds: PathBuf::from(procs::flag::<String>(args, "--clouds").ok_or("--clouds")?),
    };
    let mut seen = Seen::new();
    let c0 = measure::cpu_time();
    let t0 = Instant::now();
    match side.as_str() {
        "hybrid" => drop(hybrid_cold(&fleet_yaml(&urls), &mut seen).await?),
        "raw" => drop(raw_cold(&urls, &mut seen).await?),
        other => return Err(format!("--impl {other:?}")),
    }
    let wall = t0.elapsed();
    let cpu = measure::cpu_time().saturating_sub(c0);
    let count: usize = seen.sinks.values().map(|s| s.count).sum();
    println!(
        "count={count} wall_ms={:.3} cpu_ms={:.3} peak_kib={}",
        ms(wall),
        ms(cpu),
        measure::peak_rss_kib()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facade's fleet and the three baselines list the same servers of the three
    /// in-process fakes, cold and warm.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_fleet_and_the_baselines_list_the_same_servers() {
        let n = 1_100;
        let cfg = crate::fake_os::Config {
            servers: n,
            ..crate::fake_os::Config::default()
        };
        let (os, _) = crate::fake_os::start(cfg, 0, Duration::ZERO).await.unwrap();
        let (az, _) = crate::fake_arm::start(n, Duration::ZERO).await.unwrap();
        let (vc, fake_vc) = crate::fake_vc::start(n, Duration::ZERO).await.unwrap();
        let dir =
            std::env::temp_dir().join(format!("hybrid-e2e-fleet-test-{}", std::process::id()));
        let urls = Urls {
            clouds: write_clouds(&dir, &os.url()).unwrap(),
            os: os.url(),
            az: az.url(),
            vc: vc.url(),
        };
        let yaml = fleet_yaml(&urls);
        let mut a = Seen::new();
        let fleet = hybrid_cold(&yaml, &mut a).await.unwrap();
        let mut b = Seen::new();
        let raw = raw_cold(&urls, &mut b).await.unwrap();
        assert_eq!(a.key(), b.key());
        assert!(a.key().iter().all(|(c, _)| *c == n), "{:?}", a.key());
        fake_vc.reset_counters();
        let mut c = Seen::new();
        hybrid_inventory(&fleet, &mut c).await.unwrap();
        let hybrid_vc = fake_vc.stats();
        fake_vc.reset_counters();
        let mut d = Seen::new();
        raw_warm(&raw, &mut d).await.unwrap();
        assert_eq!(c.key(), a.key());
        assert_eq!(d.key(), a.key());
        assert_eq!(
            hybrid_vc,
            fake_vc.stats(),
            "the same vCenter requests, warm"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
