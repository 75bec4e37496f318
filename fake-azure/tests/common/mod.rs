//! Helpers shared by the test binaries: a reqwest client with a token, and ARM
//! call shortcuts.

#![allow(dead_code, unreachable_pub)]

use hybrid_fake_azure::{FakeAzure, FakeAzureBuilder};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

pub const COMPUTE: &str = "2024-07-01";
pub const DISKS: &str = "2024-03-02";
pub const GALLERY: &str = "2024-03-03";
pub const NETWORK: &str = "2024-05-01";
pub const RESOURCES: &str = "2024-03-01";
pub const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh5YnJpZC10ZXN0LWtleS1mb3ItdGhlLWZha2U test@hybrid";

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of an ARM error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct Az {
    pub fake: FakeAzure,
    pub http: reqwest::Client,
    pub token: String,
}

pub async fn client_token(http: &reqwest::Client, fake: &FakeAzure) -> String {
    let r = http
        .post(fake.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("token json");
    v["access_token"].as_str().expect("access_token").to_owned()
}

pub async fn setup(b: FakeAzureBuilder) -> Az {
    let fake = b.start().await.expect("start fake");
    let http = reqwest::Client::new();
    let token = client_token(&http, &fake).await;
    Az { fake, http, token }
}

pub async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut r = http.request(method, url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

impl Az {
    pub fn sub(&self) -> String {
        format!("/subscriptions/{}", self.fake.subscription_id())
    }

    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/{rest}`.
    pub fn rg_path(&self, rest: &str) -> String {
        format!(
            "{}/resourceGroups/{}/providers/{rest}",
            self.sub(),
            self.fake.resource_group()
        )
    }

    pub fn id(&self, rest: &str) -> String {
        self.rg_path(rest)
    }

    /// An absolute URL for `path` with `api-version` added.
    pub fn url(&self, path: &str, api: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}api-version={api}", self.fake.url())
    }

    pub async fn call(&self, method: Method, path: &str, api: &str, body: Option<&Value>) -> Reply {
        send(
            &self.http,
            method,
            &self.url(path, api),
            Some(&self.token),
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str, api: &str) -> Reply {
        self.call(Method::GET, path, api, None).await
    }

    pub async fn put(&self, path: &str, api: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, api, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, api: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, api, Some(&body)).await
    }

    pub async fn post(&self, path: &str, api: &str) -> Reply {
        self.call(Method::POST, path, api, None).await
    }

    pub async fn delete(&self, path: &str, api: &str) -> Reply {
        self.call(Method::DELETE, path, api, None).await
    }

    /// GETs an absolute URL (operation status, Location, nextLink).
    pub async fn get_abs(&self, url: &str) -> Reply {
        send(&self.http, Method::GET, url, Some(&self.token), None).await
    }

    /// Polls `Azure-AsyncOperation` until a terminal status; returns the last status
    /// document and the number of polls.
    pub async fn wait(&self, r: &Reply) -> (Value, usize) {
        let url = r
            .header("azure-asyncoperation")
            .expect("Azure-AsyncOperation header")
            .to_owned();
        for n in 1..=50 {
            let s = self.get_abs(&url).await;
            assert_eq!(s.status, 200, "operation status: {}", s.text);
            let status = s.body["status"].as_str().unwrap_or("").to_owned();
            if status != "InProgress" {
                return (s.body, n);
            }
        }
        panic!("operation {url} never finished");
    }

    /// Polls until `Succeeded` and checks it.
    pub async fn done(&self, r: &Reply) {
        let (s, _) = self.wait(r).await;
        assert_eq!(s["status"], "Succeeded", "operation: {s}");
    }

    pub async fn vnet(&self, name: &str, prefix: &str, subnets: &[(&str, &str)]) {
        let subnets: Vec<Value> = subnets
            .iter()
            .map(|(n, p)| json!({"name": n, "properties": {"addressPrefix": p}}))
            .collect();
        let r = self
            .put(
                &self.rg_path(&format!("Microsoft.Network/virtualNetworks/{name}")),
                NETWORK,
                json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": [prefix]}, "subnets": subnets}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        self.done(&r).await;
    }

    /// Creates a NIC in `vnet`/`subnet`, optionally with a public IP.
    pub async fn nic(&self, name: &str, vnet: &str, subnet: &str, pip: Option<&str>) -> Reply {
        let mut cfg = json!({"name": "ipconfig1", "properties": {
            "subnet": {"id": self.id(&format!("Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}"))}
        }});
        if let Some(p) = pip {
            cfg["properties"]["publicIPAddress"] =
                json!({"id": self.id(&format!("Microsoft.Network/publicIPAddresses/{p}"))});
        }
        let r = self
            .put(
                &self.rg_path(&format!("Microsoft.Network/networkInterfaces/{name}")),
                NETWORK,
                json!({"location": "westeurope", "properties": {"ipConfigurations": [cfg]}}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        self.done(&r).await;
        r
    }

    /// A Linux VM body with an SSH key and one NIC.
    pub fn vm_body(&self, nic: &str, size: &str) -> Value {
        json!({
            "location": "westeurope",
            "tags": {"purpose": "test"},
            "properties": {
                "hardwareProfile": {"vmSize": size},
                "storageProfile": {
                    "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2", "version": "latest"},
                    "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Standard_LRS"}, "deleteOption": "Delete"}
                },
                "osProfile": {
                    "computerName": "host1",
                    "adminUsername": "azureuser",
                    "customData": "I2Nsb3VkLWNvbmZpZwo=",
                    "linuxConfiguration": {
                        "disablePasswordAuthentication": true,
                        "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}
                    }
                },
                "networkProfile": {"networkInterfaces": [{"id": self.id(&format!("Microsoft.Network/networkInterfaces/{nic}")), "properties": {"primary": true}}]}
            }
        })
    }

    /// Creates a VM (with its vnet and NIC) and waits for it.
    pub async fn vm(&self, name: &str) -> Reply {
        let vnet = format!("{name}-vnet");
        self.vnet(&vnet, "10.10.0.0/16", &[("default", "10.10.0.0/24")])
            .await;
        self.nic(&format!("{name}-nic"), &vnet, "default", None)
            .await;
        let r = self
            .put(
                &self.rg_path(&format!("Microsoft.Compute/virtualMachines/{name}")),
                COMPUTE,
                self.vm_body(&format!("{name}-nic"), "Standard_D2s_v3"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        self.done(&r).await;
        r
    }

    pub fn vm_path(&self, name: &str) -> String {
        self.rg_path(&format!("Microsoft.Compute/virtualMachines/{name}"))
    }

    /// The `PowerState/...` code of a VM's instance view.
    pub async fn power(&self, name: &str) -> String {
        let r = self
            .get(&format!("{}/instanceView", self.vm_path(name)), COMPUTE)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["statuses"]
            .as_array()
            .expect("statuses")
            .iter()
            .filter_map(|s| s["code"].as_str())
            .find(|c| c.starts_with("PowerState/"))
            .expect("power state")
            .to_owned()
    }
}
