//! Scenario `azure`: every VM of a resource group through hybrid-azure's `list_servers`
//! and through a raw reqwest + serde baseline making the same requests (the list pages
//! with `$expand=instanceView`, each VM's power state in its page, as hybrid-azure asks
//! for them; no request per VM), against the fast ARM fake in a child process. Wall and
//! CPU time, requests counted by route.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use hybrid_azure::http::ClientOptions;
use hybrid_azure::{AzureBuilder, AzureProvider, CloudEnvironment};
use hybrid_core::{ListOptions, Provider};
use serde::Deserialize;

use crate::fake_arm::{CLIENT, GROUP, LOCATION, SECRET, SUBSCRIPTION, TENANT};
use crate::measure::{self, median, ms, Cost};
use crate::os_client::{Sink, Work};
use crate::procs::FakeProcess;
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

pub(crate) async fn run(settings: &Settings) -> Result<(), String> {
    println!("## azure: every VM of a resource group, pages of 1000 with `$expand=instanceView` (medians)\n");
    println!("| N | latency | side | wall | wall ÷ raw | CPU | CPU ÷ raw | requests (by route) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
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
        let med = |c: &[Cost], f: fn(&Cost) -> f64| median(&c.iter().map(f).collect::<Vec<_>>());
        let (wr, cr) = (
            med(&costs[1], |c| ms(c.wall)),
            med(&costs[1], |c| ms(c.cpu)),
        );
        for (side, name) in [(0, "hybrid"), (1, "raw")] {
            let (w, c) = (
                med(&costs[side], |c| ms(c.wall)),
                med(&costs[side], |c| ms(c.cpu)),
            );
            println!(
                "| {n} | {latency} ms | {name} | {w:.0} ms | {:.2} | {c:.0} ms | {:.2} | {} |",
                w / wr,
                c / cr,
                requests[side]
            );
        }
    }
    println!();
    Ok(())
}
