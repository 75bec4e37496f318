//! A fast fake of the Azure calls a VM listing makes: Entra ID's client-credentials
//! token, the resource group (the provider's connect check), `VirtualMachines_List` in
//! pages of 1000 with `nextLink` (with `$expand=instanceView`, each VM carries its
//! instance view and the next link keeps the expansion, as ARM's do), and each VM's
//! instance view on its own. Every VM and instance view is rendered once at start,
//! following the azure-rest-api-specs examples.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::json;

use crate::server::{self, Body, Handler, Reply};

/// The fake's tenant.
pub(crate) const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The client id.
pub(crate) const CLIENT: &str = "11111111-aaaa-4bbb-8ccc-222222222222";
/// The client secret.
pub(crate) const SECRET: &str = "bench-azure-secret";
/// The subscription.
pub(crate) const SUBSCRIPTION: &str = "00000000-1111-2222-3333-444444444444";
/// The resource group.
pub(crate) const GROUP: &str = "bench-rg";
/// The location.
pub(crate) const LOCATION: &str = "westeurope";
/// VMs per page.
pub(crate) const PAGE: usize = 1000;

/// The fake's state.
pub(crate) struct FakeArm {
    base: String,
    vms: Vec<Bytes>,
    /// The VMs with their instance view (`$expand=instanceView`).
    expanded: Vec<Bytes>,
    views: HashMap<String, Bytes>,
    requests: AtomicU64,
    tokens: AtomicU64,
    routes: Mutex<BTreeMap<String, u64>>,
}

fn vm_name(i: usize) -> String {
    format!("vm-{i:06}")
}

fn group_path() -> String {
    format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}")
}

/// One VM as `VirtualMachines_List` sends it (compact JSON), with its instance view
/// in `properties.instanceView` when `expanded`.
fn vm_doc(i: usize, expanded: bool) -> String {
    let mut doc = vm_value(i);
    if expanded {
        doc["properties"]["instanceView"] = view_value(i);
    }
    doc.to_string()
}

fn vm_value(i: usize) -> serde_json::Value {
    let name = vm_name(i);
    let g = group_path();
    let size = ["Standard_D2s_v5", "Standard_B2s", "Standard_D4s_v5"][i % 3];
    json!({
        "name": name,
        "id": format!("{g}/providers/Microsoft.Compute/virtualMachines/{name}"),
        "type": "Microsoft.Compute/virtualMachines",
        "location": LOCATION,
        "tags": {"env": "bench", "owner": format!("team-{}", i % 10)},
        "properties": {
            "vmId": crate::fake_os::uuid(9, i as u64),
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {
                "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest", "exactVersion": "22.04.202405140"},
                "osDisk": {"osType": "Linux", "name": format!("{name}-osdisk"), "createOption": "FromImage", "caching": "ReadWrite",
                           "managedDisk": {"storageAccountType": "Premium_LRS", "id": format!("{g}/providers/Microsoft.Compute/disks/{name}-osdisk")},
                           "deleteOption": "Delete", "diskSizeGB": 30},
                "dataDisks": []
            },
            "osProfile": {"computerName": name, "adminUsername": "azureuser",
                          "linuxConfiguration": {"disablePasswordAuthentication": true, "provisionVMAgent": true},
                          "secrets": [], "allowExtensionOperations": true},
            "networkProfile": {"networkInterfaces": [{"id": format!("{g}/providers/Microsoft.Network/networkInterfaces/{name}-nic"), "properties": {"primary": true}}]},
            "diagnosticsProfile": {"bootDiagnostics": {"enabled": true}},
            "provisioningState": "Succeeded",
            "timeCreated": "2024-05-01T04:01:32.1234567+00:00"
        },
        "zones": [format!("{}", i % 3 + 1)]
    })
}

/// A VM's instance view.
fn view_value(i: usize) -> serde_json::Value {
    let power = if i % 10 == 9 {
        "PowerState/deallocated"
    } else {
        "PowerState/running"
    };
    json!({
        "computerName": vm_name(i),
        "osName": "ubuntu", "osVersion": "22.04",
        "vmAgent": {"vmAgentVersion": "2.10.0.8", "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Ready", "time": "2024-05-01T04:05:00+00:00"}]},
        "disks": [{"name": format!("{}-osdisk", vm_name(i)), "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "time": "2024-05-01T04:01:40+00:00"}]}],
        "hyperVGeneration": "V2",
        "statuses": [
            {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded", "time": "2024-05-01T04:01:40+00:00"},
            {"code": power, "level": "Info", "displayStatus": "VM running"}
        ]
    })
}

impl FakeArm {
    /// A fake with `n` VMs whose links point at `base`.
    pub(crate) fn new(n: usize, base: String) -> Self {
        let vms = (0..n).map(|i| Bytes::from(vm_doc(i, false))).collect();
        let expanded = (0..n).map(|i| Bytes::from(vm_doc(i, true))).collect();
        let views = (0..n)
            .map(|i| (vm_name(i), Bytes::from(view_value(i).to_string())))
            .collect();
        FakeArm {
            base,
            vms,
            expanded,
            views,
            requests: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            routes: Mutex::new(BTreeMap::new()),
        }
    }

    fn count(&self, route: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(route.to_owned())
            .or_default() += 1;
    }

    /// Counters as JSON.
    pub(crate) fn stats(&self) -> serde_json::Value {
        json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "tokens": self.tokens.load(Ordering::Relaxed),
            "routes": self.routes.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        })
    }

    fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.tokens.store(0, Ordering::Relaxed);
        self.routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn list(&self, req: &Request<Incoming>) -> Response<Body> {
        let start: usize = server::query_param(req, "$skiptoken")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let expand = server::query_param(req, "$expand")
            .is_some_and(|e| e.eq_ignore_ascii_case("instanceView"));
        let all = if expand { &self.expanded } else { &self.vms };
        let end = (start + PAGE).min(all.len());
        let items = &all[start.min(end)..end];
        let mut body = BytesMut::with_capacity(items.iter().map(Bytes::len).sum::<usize>() + 512);
        body.extend_from_slice(b"{\"value\":[");
        for (k, v) in items.iter().enumerate() {
            if k > 0 {
                body.extend_from_slice(b",");
            }
            body.extend_from_slice(v);
        }
        body.extend_from_slice(b"]");
        if end < all.len() {
            body.extend_from_slice(
                format!(
                    ",\"nextLink\":\"{}{}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01{}&$skiptoken={end}\"",
                    self.base,
                    group_path(),
                    if expand { "&$expand=instanceView" } else { "" },
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(b"}");
        server::json(200, body.freeze())
    }
}

fn arm_error(status: u16, code: &str, message: &str) -> Response<Body> {
    server::json(
        status,
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
}

impl Handler for FakeArm {
    fn handle(self: Arc<Self>, req: Request<Incoming>) -> Reply {
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            let segs: Vec<String> = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
            let m = req.method().clone();
            match (&m, segs.as_slice()) {
                (&Method::GET, ["_bench", "stats"]) => {
                    return server::json(200, self.stats().to_string())
                }
                (&Method::POST, ["_bench", "reset"]) => {
                    self.reset();
                    return server::empty(204);
                }
                (&Method::POST, [_, "oauth2", "v2.0", "token"]) => {
                    self.count("POST /{tenant}/oauth2/v2.0/token");
                    self.tokens.fetch_add(1, Ordering::Relaxed);
                    let form = server::read_body(req).await;
                    let form: HashMap<String, String> =
                        url::form_urlencoded::parse(&form).into_owned().collect();
                    if form.get("client_secret").map(String::as_str) != Some(SECRET) {
                        return arm_error(
                            401,
                            "invalid_client",
                            "AADSTS7000215: Invalid client secret provided.",
                        );
                    }
                    return server::json(
                        200,
                        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                               "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bench.token"})
                        .to_string(),
                    );
                }
                _ => {}
            }
            let authed = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer eyJ0eXAiOiJKV1Qi"));
            if !authed {
                self.count("unauthenticated");
                return arm_error(401, "AuthenticationFailed", "Authentication failed.");
            }
            let sub = SUBSCRIPTION.to_ascii_lowercase();
            let group = GROUP.to_ascii_lowercase();
            match (&m, segs.as_slice()) {
                (&Method::GET, ["subscriptions", s, "resourcegroups", g])
                    if *s == sub && *g == group =>
                {
                    self.count("GET resourceGroup");
                    server::json(
                        200,
                        json!({"id": group_path(), "name": GROUP, "type": "Microsoft.Resources/resourceGroups",
                               "location": LOCATION, "properties": {"provisioningState": "Succeeded"}})
                        .to_string(),
                    )
                }
                (
                    &Method::GET,
                    ["subscriptions", s, "resourcegroups", g, "providers", "microsoft.compute", "virtualmachines"],
                ) if *s == sub && *g == group => {
                    let expand = server::query_param(&req, "$expand").is_some();
                    self.count(if expand {
                        "GET virtualMachines?$expand=instanceView"
                    } else {
                        "GET virtualMachines"
                    });
                    self.list(&req)
                }
                (
                    &Method::GET,
                    ["subscriptions", s, "resourcegroups", g, "providers", "microsoft.compute", "virtualmachines", name, "instanceview"],
                ) if *s == sub && *g == group => {
                    self.count("GET virtualMachines/{vm}/instanceView");
                    match self.views.get(*name) {
                        Some(v) => server::json(200, v.clone()),
                        None => arm_error(404, "ResourceNotFound", "The Resource was not found."),
                    }
                }
                _ => {
                    self.count("unknown");
                    arm_error(404, "ResourceNotFound", "The Resource was not found.")
                }
            }
        })
    }
}

/// Starts the fake on 127.0.0.1 with `n` VMs and `latency` per request.
pub(crate) async fn start(
    n: usize,
    latency: Duration,
) -> std::io::Result<(server::Running, Arc<FakeArm>)> {
    let probe = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let port = probe.local_addr()?.port();
    drop(probe);
    let fake = Arc::new(FakeArm::new(n, format!("http://127.0.0.1:{port}")));
    let running = server::serve(fake.clone(), port, latency).await?;
    Ok((running, fake))
}
