//! The baseline: what a competent hand-written client does with reqwest and serde
//! against the same OpenStack, making the same requests as hybrid: one reqwest client,
//! one token, typed structs decoded straight from the body bytes, next links followed.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use crate::fake_os::{NOVA_MAX, PASSWORD, PROJECT, USER};

/// An authenticated raw session.
#[derive(Clone)]
pub(crate) struct RawOs {
    http: reqwest::Client,
    token: String,
    compute: String,
    image: String,
    /// Flavor name → id (Nova 2.47+ names a server's flavor), loaded at connect, as
    /// hybrid does on its first listing.
    flavors: std::sync::Arc<std::collections::HashMap<String, String>>,
}

#[derive(Deserialize)]
struct FlavorList {
    flavors: Vec<FlavorRef>,
}

#[derive(Deserialize)]
struct FlavorRef {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct TokenDoc {
    token: TokenBody,
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    catalog: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    #[serde(rename = "type")]
    kind: String,
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    interface: String,
    url: String,
}

/// `servers/detail` as Nova sends it.
#[derive(Deserialize)]
pub(crate) struct ServerList {
    pub(crate) servers: Vec<RawServer>,
    #[serde(default)]
    servers_links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    href: String,
    rel: String,
}

/// A server, with the fields hybrid's `Server` carries.
#[derive(Deserialize)]
#[allow(dead_code)] // decoded like a real client would; not every field is read here
pub(crate) struct RawServer {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) flavor: RawFlavor,
    #[serde(default)]
    image: RawImage,
    #[serde(default)]
    pub(crate) addresses: BTreeMap<String, Vec<RawAddress>>,
    #[serde(default)]
    key_name: Option<String>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    availability_zone: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    progress: Option<u8>,
    #[serde(default)]
    fault: Option<RawFault>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub(crate) task_state: Option<String>,
}

/// `servers/detail` with each server kept as its JSON document.
#[derive(Deserialize)]
struct DocList {
    servers: Vec<serde_json::Value>,
    #[serde(default)]
    servers_links: Vec<Link>,
}

/// A server's fields borrowed from its JSON document.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct RawServerRef<'a> {
    pub(crate) id: &'a str,
    #[serde(default)]
    pub(crate) name: &'a str,
    #[serde(default)]
    pub(crate) status: &'a str,
    #[serde(default, borrow)]
    pub(crate) flavor: RawFlavorRef<'a>,
    #[serde(default)]
    image: serde::de::IgnoredAny,
    #[serde(default, borrow)]
    pub(crate) addresses: BTreeMap<&'a str, Vec<RawAddressRef<'a>>>,
    #[serde(default)]
    key_name: Option<&'a str>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    availability_zone: Option<&'a str>,
    #[serde(default, borrow)]
    tags: Vec<&'a str>,
    #[serde(default, borrow)]
    metadata: BTreeMap<&'a str, &'a str>,
    #[serde(default)]
    created: Option<&'a str>,
    #[serde(default)]
    progress: Option<u8>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    task_state: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RawFlavorRef<'a> {
    #[serde(default)]
    pub(crate) id: Option<&'a str>,
    #[serde(default)]
    pub(crate) original_name: Option<&'a str>,
}

#[derive(Deserialize)]
pub(crate) struct RawAddressRef<'a> {
    pub(crate) addr: &'a str,
    #[serde(rename = "OS-EXT-IPS:type", default)]
    #[allow(dead_code)]
    kind: Option<&'a str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RawFlavor {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) original_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
#[allow(dead_code)]
enum RawImage {
    Ref {
        id: String,
    },
    #[default]
    None,
    Other(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
pub(crate) struct RawAddress {
    pub(crate) addr: String,
    #[serde(rename = "OS-EXT-IPS:type", default)]
    #[allow(dead_code)]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct RawFault {
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    server: CreatedServer,
}

#[derive(Deserialize)]
struct CreatedServer {
    id: String,
}

#[derive(Deserialize)]
struct OneServer {
    server: RawServer,
}

#[derive(Deserialize)]
struct ImageDoc {
    id: String,
    status: String,
}

/// An error of the baseline (it needs no more than a message).
pub(crate) type RawResult<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl RawOs {
    /// Authenticates against `auth_url` (`.../identity/v3`): one token request.
    pub(crate) async fn connect(auth_url: &str) -> RawResult<Self> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .build()
            .map_err(err)?;
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": USER, "domain": {"name": "Default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": PROJECT, "domain": {"name": "Default"}}},
        }});
        let resp = http
            .post(format!("{auth_url}/auth/tokens"))
            .json(&body)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .ok_or("no token")?
            .to_owned();
        let doc: TokenDoc =
            serde_json::from_slice(&resp.bytes().await.map_err(err)?).map_err(err)?;
        let find = |kind: &str| {
            doc.token
                .catalog
                .iter()
                .filter(|c| c.kind == kind)
                .flat_map(|c| c.endpoints.iter())
                .find(|e| e.interface == "public")
                .map(|e| e.url.trim_end_matches('/').to_owned())
                .ok_or(format!("no {kind} endpoint"))
        };
        let mut raw = RawOs {
            compute: find("compute")?,
            image: find("image")?,
            http,
            token,
            flavors: Default::default(),
        };
        let list: FlavorList = raw
            .get_json(&format!("{}/flavors/detail?is_public=None", raw.compute))
            .await?;
        raw.flavors =
            std::sync::Arc::new(list.flavors.into_iter().map(|f| (f.name, f.id)).collect());
        Ok(raw)
    }

    /// The flavor id of a listed server (by id before 2.47, by name after).
    pub(crate) fn flavor_id<'a>(&'a self, s: &'a RawServer) -> &'a str {
        match (&s.flavor.id, &s.flavor.original_name) {
            (Some(id), _) => id,
            (None, Some(name)) => self.flavors.get(name).map_or(name.as_str(), String::as_str),
            (None, None) => "",
        }
    }

    fn nova(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header("X-Auth-Token", &self.token)
            .header("Accept", "application/json")
            .header("OpenStack-API-Version", format!("compute {NOVA_MAX}"))
            .header("X-OpenStack-Nova-API-Version", NOVA_MAX)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> RawResult<T> {
        let resp = self
            .nova(reqwest::Method::GET, url)
            .send()
            .await
            .map_err(err)?;
        let resp = resp.error_for_status().map_err(err)?;
        let body = resp.bytes().await.map_err(err)?;
        serde_json::from_slice(&body).map_err(err)
    }

    /// Every server, page by page (`GET servers/detail`, then each `next` link), each
    /// handed to `each` as soon as its page is decoded.
    pub(crate) async fn list_servers(
        &self,
        mut each: impl FnMut(&RawServer, &str),
    ) -> RawResult<usize> {
        let mut url = format!("{}/servers/detail", self.compute);
        let mut n = 0;
        loop {
            let page: ServerList = self.get_json(&url).await?;
            for s in &page.servers {
                each(s, self.flavor_id(s));
            }
            n += page.servers.len();
            match page.servers_links.into_iter().find(|l| l.rel == "next") {
                Some(l) => url = l.href,
                None => return Ok(n),
            }
        }
    }

    /// As [`list_servers`](Self::list_servers), but keeping each server's JSON
    /// document for the page's lifetime and reading the fields from it (borrowed), as a
    /// client that keeps the raw documents would.
    pub(crate) async fn list_servers_with_docs(
        &self,
        mut each: impl FnMut(&RawServerRef<'_>, &str),
    ) -> RawResult<usize> {
        let mut url = format!("{}/servers/detail", self.compute);
        let mut n = 0;
        loop {
            let page: DocList = self.get_json(&url).await?;
            for v in &page.servers {
                let s = RawServerRef::deserialize(v).map_err(err)?;
                let flavor = match (s.flavor.id, s.flavor.original_name) {
                    (Some(id), _) => id,
                    (None, Some(name)) => self.flavors.get(name).map_or(name, String::as_str),
                    (None, None) => "",
                };
                each(&s, flavor);
            }
            n += page.servers.len();
            match page.servers_links.into_iter().find(|l| l.rel == "next") {
                Some(l) => url = l.href,
                None => return Ok(n),
            }
        }
    }

    /// As [`list_servers`](Self::list_servers), but keeping each server's JSON text
    /// (what hybrid's `Server::raw` would cost if it held the document as text, parsed
    /// on demand): each server's text is found in the page, copied, and decoded typed.
    pub(crate) async fn list_servers_with_text(
        &self,
        mut each: impl FnMut(&RawServer, &str),
    ) -> RawResult<usize> {
        #[derive(Deserialize)]
        struct TextList<'a> {
            #[serde(borrow)]
            servers: Vec<&'a serde_json::value::RawValue>,
            #[serde(default)]
            servers_links: Vec<Link>,
        }
        let mut url = format!("{}/servers/detail", self.compute);
        let mut n = 0;
        loop {
            let resp = self
                .nova(reqwest::Method::GET, &url)
                .send()
                .await
                .map_err(err)?;
            let body = resp
                .error_for_status()
                .map_err(err)?
                .bytes()
                .await
                .map_err(err)?;
            let page: TextList<'_> = serde_json::from_slice(&body).map_err(err)?;
            let mut kept: Vec<(RawServer, Box<serde_json::value::RawValue>)> =
                Vec::with_capacity(page.servers.len());
            for text in &page.servers {
                let s: RawServer = serde_json::from_str(text.get()).map_err(err)?;
                kept.push((s, (*text).to_owned()));
            }
            for (s, _) in &kept {
                each(s, self.flavor_id(s));
            }
            n += kept.len();
            match page.servers_links.into_iter().find(|l| l.rel == "next") {
                Some(l) => url = l.href,
                None => return Ok(n),
            }
        }
    }

    async fn server_status(&self, id: &str) -> RawResult<Option<(String, Option<String>)>> {
        let resp = self
            .nova(
                reqwest::Method::GET,
                &format!("{}/servers/{id}", self.compute),
            )
            .send()
            .await
            .map_err(err)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = resp
            .error_for_status()
            .map_err(err)?
            .bytes()
            .await
            .map_err(err)?;
        let s: OneServer = serde_json::from_slice(&body).map_err(err)?;
        Ok(Some((s.server.status, s.server.task_state)))
    }

    /// Creates a server, waits for ACTIVE (polling at once, then after `delays`), deletes
    /// it and waits until it is gone. Returns the number of requests made.
    pub(crate) async fn create_wait_delete(
        &self,
        name: &str,
        image: &str,
        flavor: &str,
        network: &str,
    ) -> RawResult<u32> {
        let body = json!({"server": {"name": name, "imageRef": image, "flavorRef": flavor,
            "networks": [{"uuid": network}]}});
        let resp = self
            .nova(reqwest::Method::POST, &format!("{}/servers", self.compute))
            .json(&body)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let created: Created =
            serde_json::from_slice(&resp.bytes().await.map_err(err)?).map_err(err)?;
        let id = created.server.id;
        let mut requests = 1;
        let mut delays = Backoff::new();
        loop {
            requests += 1;
            match self.server_status(&id).await? {
                Some((s, None)) if s == "ACTIVE" => break,
                Some((s, _)) if s == "ERROR" => return Err(format!("server {id} failed")),
                Some(_) => tokio::time::sleep(delays.next()).await,
                None => return Err(format!("server {id} vanished")),
            }
        }
        self.nova(
            reqwest::Method::DELETE,
            &format!("{}/servers/{id}", self.compute),
        )
        .send()
        .await
        .map_err(err)?
        .error_for_status()
        .map_err(err)?;
        requests += 1;
        let mut delays = Backoff::new();
        loop {
            requests += 1;
            match self.server_status(&id).await? {
                None => return Ok(requests),
                Some(_) => tokio::time::sleep(delays.next()).await,
            }
        }
    }

    fn glance(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/v2/{path}", self.image))
            .header("X-Auth-Token", &self.token)
    }

    /// Creates an image record and streams `size` bytes into it from `data`, then reads
    /// the record back. Returns the image id.
    pub(crate) async fn upload_image<S>(&self, name: &str, data: S, size: u64) -> RawResult<String>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static,
    {
        let body = json!({"name": name, "disk_format": "raw", "container_format": "bare"});
        let resp = self
            .glance(reqwest::Method::POST, "images")
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let img: ImageDoc =
            serde_json::from_slice(&resp.bytes().await.map_err(err)?).map_err(err)?;
        self.glance(reqwest::Method::PUT, &format!("images/{}/file", img.id))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", size)
            .body(reqwest::Body::wrap_stream(data))
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let resp = self
            .glance(reqwest::Method::GET, &format!("images/{}", img.id))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let img: ImageDoc =
            serde_json::from_slice(&resp.bytes().await.map_err(err)?).map_err(err)?;
        if img.status != "active" {
            return Err(format!("image {} is {}", img.id, img.status));
        }
        Ok(img.id)
    }

    /// Streams the image's data, handing each chunk to `each`; returns the byte count.
    pub(crate) async fn download_image(
        &self,
        id: &str,
        mut each: impl FnMut(&[u8]),
    ) -> RawResult<u64> {
        let resp = self
            .glance(reqwest::Method::GET, &format!("images/{id}/file"))
            .header("Accept", "application/octet-stream")
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        let mut stream = resp.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(err)?;
            n += chunk.len() as u64;
            each(&chunk);
        }
        Ok(n)
    }

    /// Deletes an image.
    pub(crate) async fn delete_image(&self, id: &str) -> RawResult<()> {
        self.glance(reqwest::Method::DELETE, &format!("images/{id}"))
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        Ok(())
    }
}

/// The polling schedule of the baseline: the same as hybrid's default `WaitOptions`
/// (first check at once, then 250 ms growing by 1.6 up to 15 s), without jitter, so
/// that the two make the same number of checks and any difference is overhead.
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Backoff {
            next: Duration::from_millis(250),
        }
    }

    fn next(&mut self) -> Duration {
        let d = self.next;
        self.next = Duration::from_secs_f64((d.as_secs_f64() * 1.6).min(15.0));
        d
    }
}
