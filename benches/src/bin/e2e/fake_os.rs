//! A fast fake of the OpenStack calls the scenarios make: Keystone (password token with
//! a catalog), Nova (version document, servers in marker pages, flavors, hypervisors,
//! create / get / delete with a BUILD → ACTIVE lifecycle) and Glance (records, streamed
//! upload and download, import info).
//!
//! Fast on purpose: every listed server is rendered to JSON once at start, a page is the
//! concatenation of its servers' bytes, and uploaded image data is counted, not kept, so
//! that what the scenarios measure is the client, not the fake. The documents follow
//! Nova's 2.96 and Glance's v2 samples.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH};
use hyper::{Method, Request, Response};
use serde_json::{json, Value};

use crate::server::{self, Body, Handler, Reply};

/// The microversion the fake Nova offers at most.
pub(crate) const NOVA_MAX: &str = "2.96";
/// The fake's only user.
pub(crate) const USER: &str = "bench";
/// Its password.
pub(crate) const PASSWORD: &str = "bench-secret";
/// Its project.
pub(crate) const PROJECT: &str = "bench";
/// The project id.
pub(crate) const PROJECT_ID: &str = "6f70656e737461636b20342065766572";

/// How the fake behaves.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Servers listed at start.
    pub(crate) servers: usize,
    /// Nova's `max_limit`: the largest page.
    pub(crate) max_limit: usize,
    /// How long a created server stays in BUILD.
    pub(crate) build_time: Duration,
    /// How long a deleted server stays visible (task `deleting`).
    pub(crate) delete_time: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            servers: 0,
            max_limit: 1000,
            build_time: Duration::from_secs(2),
            delete_time: Duration::from_secs(1),
        }
    }
}

struct DynServer {
    name: String,
    created: Instant,
    deleted: Option<Instant>,
    /// When each `GET` of this server came, after its create (or its delete).
    polls_building: Vec<Duration>,
    polls_deleting: Vec<Duration>,
}

struct Img {
    name: String,
    size: Option<u64>,
    status: &'static str,
}

/// The fake's state.
pub(crate) struct FakeOs {
    cfg: Config,
    base: String,
    /// Listed servers, each rendered once.
    listed: Vec<Bytes>,
    ids: Vec<String>,
    position: HashMap<String, usize>,
    dynamic: Mutex<HashMap<String, DynServer>>,
    images: Mutex<HashMap<String, Img>>,
    next_id: AtomicU64,
    requests: AtomicU64,
    tokens: AtomicU64,
    routes: Mutex<BTreeMap<String, u64>>,
    /// Bytes of image data received and sent.
    uploaded: AtomicU64,
    downloaded: AtomicU64,
}

/// A uuid-looking id from a number and a kind.
pub(crate) fn uuid(kind: u32, n: u64) -> String {
    let h =
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(kind).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h & 0xfff) as u16,
        (n & 0xfff) as u16,
        n
    )
}

const FLAVORS: [(&str, &str, u32, u64, u64); 3] = [
    ("1", "m1.tiny", 1, 512, 1),
    ("2", "m1.small", 1, 2048, 20),
    ("3", "m1.medium", 2, 4096, 40),
];

/// One server as Nova 2.96 lists it (compact JSON).
fn server_doc(
    base: &str,
    id: &str,
    name: &str,
    i: u64,
    status: &str,
    task: Option<&str>,
) -> String {
    let (_, flavor, vcpus, ram, disk) = FLAVORS[(i % 3) as usize];
    let image = uuid(7, i % 17);
    let vm_state = match status {
        "BUILD" => "building",
        "SHUTOFF" => "stopped",
        _ => "active",
    };
    let task = match task {
        Some(t) => format!("\"{t}\""),
        None => "null".to_owned(),
    };
    let floating = if i % 4 == 0 {
        format!(
            ",{{\"addr\":\"172.24.4.{}\",\"OS-EXT-IPS-MAC:mac_addr\":\"fa:16:3e:{:02x}:{:02x}:{:02x}\",\"OS-EXT-IPS:type\":\"floating\",\"version\":4}}",
            i % 250 + 2,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        )
    } else {
        String::new()
    };
    format!(
        concat!(
            "{{\"accessIPv4\":\"\",\"accessIPv6\":\"\",",
            "\"addresses\":{{\"private\":[{{\"addr\":\"10.{}.{}.{}\",\"OS-EXT-IPS-MAC:mac_addr\":\"fa:16:3e:{:02x}:{:02x}:{:02x}\",\"OS-EXT-IPS:type\":\"fixed\",\"version\":4}}{}]}},",
            "\"created\":\"2024-05-{:02}T04:01:32Z\",\"description\":null,",
            "\"flavor\":{{\"disk\":{},\"ephemeral\":0,\"extra_specs\":{{}},\"original_name\":\"{}\",\"ram\":{},\"swap\":0,\"vcpus\":{}}},",
            "\"hostId\":\"bcf92836fc9ed4203a75cb0337afc7f917d2be504164b995c2334b25\",\"id\":\"{}\",",
            "\"image\":{{\"id\":\"{}\",\"links\":[{{\"href\":\"{}/compute/images/{}\",\"rel\":\"bookmark\"}}]}},",
            "\"key_name\":\"ops\",",
            "\"links\":[{{\"href\":\"{}/compute/v2.1/servers/{}\",\"rel\":\"self\"}},{{\"href\":\"{}/compute/servers/{}\",\"rel\":\"bookmark\"}}],",
            "\"metadata\":{{\"owner\":\"team-{}\",\"role\":\"web\"}},\"name\":\"{}\",",
            "\"config_drive\":\"\",\"locked\":false,\"locked_reason\":null,\"OS-DCF:diskConfig\":\"MANUAL\",",
            "\"OS-EXT-AZ:availability_zone\":\"nova\",\"OS-EXT-SRV-ATTR:hostname\":\"{}\",\"OS-EXT-STS:power_state\":1,",
            "\"OS-EXT-STS:task_state\":{},\"OS-EXT-STS:vm_state\":\"{}\",\"os-extended-volumes:volumes_attached\":[],",
            "\"OS-SRV-USG:launched_at\":\"2024-05-01T04:01:40.000000\",\"OS-SRV-USG:terminated_at\":null,",
            "\"pinned_availability_zone\":null,\"progress\":0,\"security_groups\":[{{\"name\":\"default\"}}],",
            "\"status\":\"{}\",\"tags\":[\"bench\",\"tier-{}\"],\"tenant_id\":\"{}\",\"trusted_image_certificates\":null,",
            "\"updated\":\"2024-05-01T04:01:40Z\",\"user_id\":\"a1b2c3\"}}"
        ),
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff,
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff,
        floating,
        i % 28 + 1,
        disk,
        flavor,
        ram,
        vcpus,
        id,
        image,
        base,
        image,
        base,
        id,
        base,
        id,
        i % 10,
        name,
        name,
        task,
        vm_state,
        status,
        i % 3,
        PROJECT_ID,
    )
}

/// The body of one `servers/detail` page of `n` servers, as the fake serves it.
pub(crate) fn page_body(n: usize) -> Bytes {
    let base = "http://127.0.0.1:8774";
    let mut body = String::from("{\"servers\":[");
    for i in 0..n as u64 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&server_doc(
            base,
            &uuid(1, i),
            &format!("srv-{i:06}"),
            i,
            "ACTIVE",
            None,
        ));
    }
    body.push_str("]}");
    Bytes::from(body)
}

impl FakeOs {
    /// A fake whose links point at `base` (`http://127.0.0.1:<port>`).
    pub(crate) fn new(cfg: Config, base: String) -> Self {
        let mut listed = Vec::with_capacity(cfg.servers);
        let mut ids = Vec::with_capacity(cfg.servers);
        let mut position = HashMap::with_capacity(cfg.servers);
        for i in 0..cfg.servers as u64 {
            let id = uuid(1, i);
            let name = format!("srv-{i:06}");
            let status = if i % 10 == 9 { "SHUTOFF" } else { "ACTIVE" };
            listed.push(Bytes::from(server_doc(&base, &id, &name, i, status, None)));
            position.insert(id.clone(), i as usize);
            ids.push(id);
        }
        FakeOs {
            cfg,
            base,
            listed,
            ids,
            position,
            dynamic: Mutex::new(HashMap::new()),
            images: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1_000_000_000),
            requests: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            routes: Mutex::new(BTreeMap::new()),
            uploaded: AtomicU64::new(0),
            downloaded: AtomicU64::new(0),
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

    /// Counters and the poll schedule, as JSON.
    pub(crate) fn stats(&self) -> Value {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let dynamic = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        let ms = |v: &Vec<Duration>| {
            v.iter()
                .map(|d| d.as_secs_f64() * 1e3)
                .collect::<Vec<f64>>()
        };
        let building: Vec<Vec<f64>> = dynamic.values().map(|d| ms(&d.polls_building)).collect();
        let deleting: Vec<Vec<f64>> = dynamic.values().map(|d| ms(&d.polls_deleting)).collect();
        json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "tokens": self.tokens.load(Ordering::Relaxed),
            "routes": routes,
            "polls_building_ms": building,
            "polls_deleting_ms": deleting,
            "uploaded": self.uploaded.load(Ordering::Relaxed),
            "downloaded": self.downloaded.load(Ordering::Relaxed),
        })
    }

    fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.tokens.store(0, Ordering::Relaxed);
        self.routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.dynamic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.uploaded.store(0, Ordering::Relaxed);
        self.downloaded.store(0, Ordering::Relaxed);
    }

    fn token(&self) -> Response<Body> {
        self.tokens.fetch_add(1, Ordering::Relaxed);
        let n = self.tokens.load(Ordering::Relaxed);
        let endpoints = |url: String| json!([{"id": "e1", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": url}]);
        let body = json!({"token": {
            "methods": ["password"],
            "user": {"domain": {"id": "default", "name": "Default"}, "id": "a1b2c3", "name": USER},
            "audit_ids": ["3T2dc1CGQxyJsHdDu1xkcw"],
            "expires_at": "2099-12-31T23:59:59.000000Z",
            "issued_at": "2024-05-01T00:00:00.000000Z",
            "project": {"domain": {"id": "default", "name": "Default"}, "id": PROJECT_ID, "name": PROJECT},
            "is_domain": false,
            "roles": [{"id": "r1", "name": "member"}],
            "catalog": [
                {"type": "identity", "name": "keystone", "id": "s0", "endpoints": endpoints(format!("{}/identity", self.base))},
                {"type": "compute", "name": "nova", "id": "s1", "endpoints": endpoints(format!("{}/compute/v2.1", self.base))},
                {"type": "image", "name": "glance", "id": "s2", "endpoints": endpoints(format!("{}/image", self.base))},
            ],
        }});
        let mut r = server::json(201, body.to_string());
        r.headers_mut().insert(
            "x-subject-token",
            HeaderValue::from_str(&format!("gAAAAA-bench-token-{n}")).expect("ascii"),
        );
        r
    }

    fn list_servers(&self, req: &Request<Incoming>) -> Response<Body> {
        let limit = server::query_param(req, "limit")
            .and_then(|l| l.parse::<usize>().ok())
            .map_or(self.cfg.max_limit, |l| l.min(self.cfg.max_limit));
        let start = match server::query_param(req, "marker") {
            None => 0,
            Some(m) => match self.position.get(&m) {
                Some(p) => p + 1,
                None => {
                    return server::json(
                        400,
                        format!(
                            r#"{{"badRequest": {{"code": 400, "message": "marker [{m}] not found"}}}}"#
                        ),
                    )
                }
            },
        };
        let end = (start + limit).min(self.listed.len());
        let items = &self.listed[start.min(end)..end];
        let mut body = BytesMut::with_capacity(items.iter().map(Bytes::len).sum::<usize>() + 512);
        body.extend_from_slice(b"{\"servers\":[");
        for (k, s) in items.iter().enumerate() {
            if k > 0 {
                body.extend_from_slice(b",");
            }
            body.extend_from_slice(s);
        }
        body.extend_from_slice(b"]");
        if end < self.listed.len() && end > start {
            let mut href = format!(
                "{}/compute/v2.1/servers/detail?marker={}",
                self.base,
                self.ids[end - 1]
            );
            if server::query_param(req, "limit").is_some() {
                href = format!(
                    "{}/compute/v2.1/servers/detail?limit={limit}&marker={}",
                    self.base,
                    self.ids[end - 1]
                );
            }
            body.extend_from_slice(
                format!(",\"servers_links\":[{{\"href\":\"{href}\",\"rel\":\"next\"}}]").as_bytes(),
            );
        }
        body.extend_from_slice(b"}");
        server::json(200, body.freeze())
    }

    fn flavors(&self) -> Response<Body> {
        let list: Vec<Value> = FLAVORS
            .iter()
            .map(|(id, name, vcpus, ram, disk)| {
                json!({"id": id, "name": name, "vcpus": vcpus, "ram": ram, "disk": disk,
                       "OS-FLV-EXT-DATA:ephemeral": 0, "os-flavor-access:is_public": true,
                       "swap": 0, "rxtx_factor": 1.0, "extra_specs": {},
                       "links": [{"href": format!("{}/compute/v2.1/flavors/{id}", self.base), "rel": "self"}]})
            })
            .collect();
        server::json(200, json!({ "flavors": list }).to_string())
    }

    fn create_server(&self, body: &[u8]) -> Response<Body> {
        let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let name = doc
            .pointer("/server/name")
            .and_then(Value::as_str)
            .unwrap_or("unnamed")
            .to_owned();
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let id = uuid(2, n);
        self.dynamic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                id.clone(),
                DynServer {
                    name,
                    created: Instant::now(),
                    deleted: None,
                    polls_building: Vec::new(),
                    polls_deleting: Vec::new(),
                },
            );
        let body = json!({"server": {
            "id": id,
            "links": [{"href": format!("{}/compute/v2.1/servers/{id}", self.base), "rel": "self"}],
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": [{"name": "default"}],
            "adminPass": "wfksH3GTTseP",
        }});
        server::json(202, body.to_string())
    }

    fn get_server(&self, id: &str) -> Response<Body> {
        let now = Instant::now();
        let mut dynamic = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = dynamic.get_mut(id) {
            let (status, task) = match d.deleted {
                Some(at) => {
                    d.polls_deleting.push(now - at);
                    if now - at >= self.cfg.delete_time {
                        return not_found(id);
                    }
                    ("ACTIVE", Some("deleting"))
                }
                None => {
                    d.polls_building.push(now - d.created);
                    if now - d.created >= self.cfg.build_time {
                        ("ACTIVE", None)
                    } else {
                        ("BUILD", Some("spawning"))
                    }
                }
            };
            let doc = server_doc(&self.base, id, &d.name, 0, status, task);
            return server::json(200, format!("{{\"server\":{doc}}}"));
        }
        drop(dynamic);
        match self.position.get(id) {
            Some(&p) => {
                let mut body = BytesMut::from(&b"{\"server\":"[..]);
                body.extend_from_slice(&self.listed[p]);
                body.extend_from_slice(b"}");
                server::json(200, body.freeze())
            }
            None => not_found(id),
        }
    }

    fn delete_server(&self, id: &str) -> Response<Body> {
        let mut dynamic = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        match dynamic.get_mut(id) {
            Some(d) if d.deleted.is_none() => {
                d.deleted = Some(Instant::now());
                server::empty(204)
            }
            _ => not_found(id),
        }
    }

    fn image_doc(&self, id: &str, img: &Img) -> String {
        json!({
            "id": id, "name": img.name, "status": img.status, "visibility": "private",
            "protected": false, "os_hidden": false, "checksum": null, "os_hash_algo": null,
            "os_hash_value": null, "owner": PROJECT_ID, "size": img.size, "min_ram": 0,
            "min_disk": 0, "disk_format": "raw", "container_format": "bare",
            "created_at": "2024-05-01T00:00:00Z", "updated_at": "2024-05-01T00:00:00Z",
            "tags": [], "self": format!("/v2/images/{id}"), "file": format!("/v2/images/{id}/file"),
            "schema": "/v2/schemas/image",
        })
        .to_string()
    }

    async fn upload(self: Arc<Self>, id: String, req: Request<Incoming>) -> Response<Body> {
        let mut body = req.into_body();
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => {
                    if let Some(d) = f.data_ref() {
                        n += d.len() as u64;
                    }
                }
                Err(_) => return server::empty(400),
            }
        }
        self.uploaded.fetch_add(n, Ordering::Relaxed);
        let mut images = self.images.lock().unwrap_or_else(|e| e.into_inner());
        match images.get_mut(&id) {
            Some(img) => {
                img.size = Some(n);
                img.status = "active";
                server::empty(204)
            }
            None => not_found(&id),
        }
    }

    fn download(self: Arc<Self>, id: &str) -> Response<Body> {
        let size = match self
            .images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            Some(Img { size: Some(s), .. }) => *s,
            Some(_) => return server::empty(204),
            None => return not_found(id),
        };
        const CHUNK: usize = 64 * 1024;
        let chunk = Bytes::from(vec![0x5a_u8; CHUNK]);
        let me = self.clone();
        let stream = futures::stream::unfold(0u64, move |sent| {
            let chunk = chunk.clone();
            let me = me.clone();
            async move {
                if sent >= size {
                    return None;
                }
                let take = (size - sent).min(CHUNK as u64) as usize;
                me.downloaded.fetch_add(take as u64, Ordering::Relaxed);
                Some((Ok(chunk.slice(..take)), sent + take as u64))
            }
        });
        let mut r = Response::new(server::streamed(stream));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        r.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(size));
        r
    }
}

fn not_found(id: &str) -> Response<Body> {
    server::json(
        404,
        format!(
            r#"{{"itemNotFound": {{"code": 404, "message": "Instance {id} could not be found."}}}}"#
        ),
    )
}

impl Handler for FakeOs {
    fn handle(self: Arc<Self>, req: Request<Incoming>) -> Reply {
        Box::pin(async move {
            let path = req.uri().path().trim_end_matches('/').to_owned();
            let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let m = req.method().clone();
            match (m.clone(), segs.as_slice()) {
                (Method::GET, ["_bench", "stats"]) => {
                    return server::json(200, self.stats().to_string())
                }
                (Method::POST, ["_bench", "reset"]) => {
                    self.reset();
                    return server::empty(204);
                }
                _ => {}
            }
            let authed = req
                .headers()
                .get("x-auth-token")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("gAAAAA-bench-token-"));
            match (m, segs.as_slice()) {
                (Method::POST, ["identity", "v3", "auth", "tokens"]) => {
                    self.count("POST /v3/auth/tokens");
                    let body = server::read_body(req).await;
                    let ok = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .is_some_and(|d| {
                            d.pointer("/auth/identity/password/user/name")
                                .and_then(Value::as_str)
                                == Some(USER)
                                && d.pointer("/auth/identity/password/user/password")
                                    .and_then(Value::as_str)
                                    == Some(PASSWORD)
                        });
                    if ok {
                        self.token()
                    } else {
                        server::json(
                            401,
                            r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#,
                        )
                    }
                }
                _ if !authed => {
                    self.count("unauthenticated");
                    server::json(
                        401,
                        r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#,
                    )
                }
                (Method::GET, ["compute", "v2.1"]) => {
                    self.count("GET /compute/v2.1/");
                    let doc = json!({"version": {"id": "v2.1", "status": "CURRENT", "version": NOVA_MAX,
                        "min_version": "2.1", "updated": "2013-07-23T11:33:21Z", "links": []}});
                    server::json(200, doc.to_string())
                }
                (Method::GET, ["compute", "v2.1", "servers", "detail"]) => {
                    self.count("GET /servers/detail");
                    self.list_servers(&req)
                }
                (Method::GET, ["compute", "v2.1", "flavors", "detail"]) => {
                    self.count("GET /flavors/detail");
                    self.flavors()
                }
                (Method::GET, ["compute", "v2.1", "os-hypervisors", "detail"]) => {
                    self.count("GET /os-hypervisors/detail");
                    server::json(
                        200,
                        r#"{"hypervisors": [{"id": "1", "hypervisor_type": "QEMU", "hypervisor_hostname": "node-1", "state": "up", "status": "enabled"}]}"#,
                    )
                }
                (Method::POST, ["compute", "v2.1", "servers"]) => {
                    self.count("POST /servers");
                    let body = server::read_body(req).await;
                    self.create_server(&body)
                }
                (Method::GET, ["compute", "v2.1", "servers", id]) => {
                    self.count("GET /servers/{id}");
                    self.get_server(id)
                }
                (Method::DELETE, ["compute", "v2.1", "servers", id]) => {
                    self.count("DELETE /servers/{id}");
                    self.delete_server(id)
                }
                (Method::GET, ["image", "v2", "info", "import"]) => {
                    self.count("GET /v2/info/import");
                    server::json(
                        200,
                        r#"{"import-methods": {"description": "Import methods available.", "type": "array", "value": ["glance-direct", "web-download"]}}"#,
                    )
                }
                (Method::POST, ["image", "v2", "images"]) => {
                    self.count("POST /v2/images");
                    let body = server::read_body(req).await;
                    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let n = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let id = uuid(3, n);
                    let img = Img {
                        name: doc
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        size: None,
                        status: "queued",
                    };
                    let doc = self.image_doc(&id, &img);
                    self.images
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, img);
                    server::json(201, doc)
                }
                (Method::PUT, ["image", "v2", "images", id, "file"]) => {
                    self.count("PUT /v2/images/{id}/file");
                    let id = (*id).to_owned();
                    self.clone().upload(id, req).await
                }
                (Method::GET, ["image", "v2", "images", id, "file"]) => {
                    self.count("GET /v2/images/{id}/file");
                    self.clone().download(id)
                }
                (Method::GET, ["image", "v2", "images", id]) => {
                    self.count("GET /v2/images/{id}");
                    let images = self.images.lock().unwrap_or_else(|e| e.into_inner());
                    match images.get(*id) {
                        Some(img) => server::json(200, self.image_doc(id, img)),
                        None => not_found(id),
                    }
                }
                (Method::DELETE, ["image", "v2", "images", id]) => {
                    self.count("DELETE /v2/images/{id}");
                    match self
                        .images
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(*id)
                    {
                        Some(_) => server::empty(204),
                        None => not_found(id),
                    }
                }
                _ => {
                    self.count("unknown");
                    server::json(
                        404,
                        r#"{"itemNotFound": {"code": 404, "message": "The resource could not be found."}}"#,
                    )
                }
            }
        })
    }
}

/// Starts the fake on 127.0.0.1 (`port` 0 for any) with `latency` per request.
pub(crate) async fn start(
    cfg: Config,
    port: u16,
    latency: Duration,
) -> std::io::Result<(server::Running, Arc<FakeOs>)> {
    // The links in the documents need the port before the servers are rendered: bind
    // first, then build.
    let probe = std::net::TcpListener::bind(("127.0.0.1", port))?;
    let port = probe.local_addr()?.port();
    drop(probe);
    let fake = Arc::new(FakeOs::new(cfg, format!("http://127.0.0.1:{port}")));
    let running = server::serve(fake.clone(), port, latency).await?;
    Ok((running, fake))
}
