//! The HTTP service: listener, request context, counters, faults and the router.

use std::collections::{BTreeMap, HashMap};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::config::{Config, FaultSpec};
use crate::http::{render_error, ApiError, ChunkBody, Resp, Service};
use crate::keystone::{Keystone, TokenInfo};
use crate::util::Query;
use crate::world::World;
use crate::{cinder, glance, keystone, neutron, nova};

/// Largest JSON request body accepted (Glance file uploads are streamed instead).
const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

/// Words of the APIs' paths that are kept in route templates.
const FIXED_WORDS: &[&str] = &[
    "identity",
    "v3",
    "auth",
    "tokens",
    "catalog",
    "projects",
    "domains",
    "system",
    "compute",
    "v2.1",
    "servers",
    "detail",
    "action",
    "tags",
    "metadata",
    "os-volume_attachments",
    "flavors",
    "os-extra_specs",
    "os-keypairs",
    "os-hypervisors",
    "os-availability-zone",
    "os-interface",
    "ips",
    "limits",
    "network",
    "v2.0",
    "extensions",
    "networks",
    "subnets",
    "ports",
    "security-groups",
    "security-group-rules",
    "routers",
    "add_router_interface",
    "remove_router_interface",
    "floatingips",
    "volume",
    "volumes",
    "snapshots",
    "types",
    "image",
    "versions",
    "v2",
    "images",
    "file",
    "stage",
    "import",
    "info",
    "stores",
    "schemas",
    "image",
];

/// Request counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) total: AtomicU64,
    pub(crate) tokens: AtomicU64,
    pub(crate) routes: Mutex<HashMap<String, u64>>,
}

/// Shared state of one running fake.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) cfg: Config,
    pub(crate) base: String,
    pub(crate) world: Mutex<World>,
    /// Shared by every region of one fake.
    pub(crate) keystone: Arc<Keystone>,
    /// Shared by every region of one fake.
    pub(crate) counters: Arc<Counters>,
    /// Shared by every region of one fake; matched against the request's full path.
    pub(crate) faults: Arc<Mutex<Vec<FaultSpec>>>,
    /// Shared by every region of one fake.
    pub(crate) latency_ms: Arc<AtomicU64>,
    /// Random seed of request ids.
    pub(crate) id_seed: u64,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the regions of one fake share.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) keystone: Arc<Keystone>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) faults: Arc<Mutex<Vec<FaultSpec>>>,
    pub(crate) latency_ms: Arc<AtomicU64>,
}

impl App {
    /// One region's services, under `base` (the listener's URL, plus `/r/{region}` for
    /// every region but the first).
    pub(crate) fn new(cfg: Config, base: String, shared: Shared) -> App {
        let world = World::new(&cfg, &shared.keystone);
        App {
            faults: shared.faults,
            latency_ms: shared.latency_ms,
            id_seed: crate::util::Rng::new().next_u64(),
            cfg,
            base,
            world: Mutex::new(world),
            keystone: shared.keystone,
            counters: shared.counters,
        }
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }
}

/// One request, as handlers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    /// Percent-decoded, non-empty path segments after the service prefix.
    pub(crate) segs: Vec<String>,
    pub(crate) query: Query,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The raw body, for the streaming Glance upload routes.
    pub(crate) stream: Option<Incoming>,
}

impl Req {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> Result<serde_json::Value, ApiError> {
        crate::http::parse_json(&self.body)
    }

    pub(crate) fn seg_refs(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }
}

fn template(method: &Method, segs: &[String]) -> String {
    let mut t = format!("{method} ");
    if segs.is_empty() {
        t.push('/');
    }
    for s in segs {
        t.push('/');
        if FIXED_WORDS.contains(&s.as_str()) {
            t.push_str(s);
        } else {
            t.push_str("{id}");
        }
    }
    t
}

fn decode_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| s.to_owned())
        })
        .collect()
}

fn is_streamed_upload(method: &Method, segs: &[String]) -> bool {
    method == Method::PUT
        && segs.len() == 5
        && segs[0] == "image"
        && segs[1] == "v2"
        && segs[2] == "images"
        && (segs[4] == "file" || segs[4] == "stage")
}

/// Outcome of the request pipeline before the common headers.
enum Outcome {
    Resp(Resp),
    Drop,
}

pub(crate) async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<ChunkBody>, std::io::Error> {
    let n = app.counters.total.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("req-{}", crate::util::uuid_from(app.id_seed ^ n, n));
    let (parts, incoming) = req.into_parts();
    let segs = decode_segments(parts.uri.path());
    let service = Service::of(segs.first().map(String::as_str).unwrap_or(""));

    *lock(&app.counters.routes)
        .entry(template(&parts.method, &segs))
        .or_insert(0) += 1;

    let latency = app.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }

    let outcome = pipeline(&app, parts, incoming, segs, service).await;
    let mut resp = match outcome {
        Outcome::Resp(r) => r,
        Outcome::Drop => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "scripted connection drop",
            ))
        }
    };
    resp = resp.header("x-openstack-request-id", &request_id);
    if service == Service::Compute {
        resp = resp.header("x-compute-request-id", &request_id);
    }
    let mut out = Response::new(resp.body);
    *out.status_mut() = resp.status;
    *out.headers_mut() = resp.headers;
    Ok(out)
}

async fn pipeline(
    app: &Arc<App>,
    parts: http::request::Parts,
    incoming: Incoming,
    segs: Vec<String>,
    service: Service,
) -> Outcome {
    // Scripted faults come first: they model a proxy or an overloaded service.
    let path = parts
        .extensions
        .get::<OriginalPath>()
        .map(|p| p.0.clone())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let fault = {
        let mut faults = lock(&app.faults);
        let hit = faults
            .iter_mut()
            .find(|f| f.matches(parts.method.as_str(), &path));
        hit.map(|f| {
            f.times -= 1;
            f.clone()
        })
    };
    let mut mid_body = None;
    if let Some(f) = fault {
        lock(&app.faults).retain(|f| f.times > 0);
        if let Some(how) = f.mid_body {
            mid_body = Some(how);
        } else {
            let Some(status) = f.status else {
                return Outcome::Drop;
            };
            if let Some(body) = f.body {
                return Outcome::Resp(Resp::raw(status, "application/json", body));
            }
            let mut e = ApiError::new(status, "Scripted fault injected by the fake.");
            if let Some(ra) = f.retry_after {
                let value = if f.retry_after_date {
                    httpdate::fmt_http_date(std::time::SystemTime::now() + ra)
                } else {
                    ra.as_secs().to_string()
                };
                e = e.with_header("Retry-After", &value);
            }
            return Outcome::Resp(render_error(service, &e));
        }
    }

    let (body, stream) = if is_streamed_upload(&parts.method, &segs) {
        (Bytes::new(), Some(incoming))
    } else {
        match read_body(incoming).await {
            Ok(b) => (b, None),
            Err(e) => return Outcome::Resp(render_error(service, &e)),
        }
    };
    let mut req = Req {
        method: parts.method,
        segs: segs.into_iter().skip(1).collect(),
        query: Query::parse(parts.uri.query()),
        headers: parts.headers,
        body,
        stream,
    };
    let result = match service {
        Service::Identity => {
            if req.method == Method::POST && req.seg_refs() == ["v3", "auth", "tokens"] {
                app.counters.tokens.fetch_add(1, Ordering::Relaxed);
            }
            keystone::handle(app, &req)
        }
        Service::Compute => nova::handle(app, &req),
        Service::Network => neutron::handle(app, &req),
        Service::Volume => cinder::handle(app, &req),
        Service::Image => glance::handle(app, &mut req).await,
        Service::Unknown => Err(ApiError::not_found("The resource could not be found.")),
    };
    let mut resp = result.unwrap_or_else(|e| render_error(service, &e));
    if let Some(how) = mid_body {
        resp.body = std::mem::take(&mut resp.body).broken(how);
    }
    Outcome::Resp(resp)
}

async fn read_body(mut body: Incoming) -> Result<Bytes, ApiError> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::bad("Could not read the request body"))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_JSON_BODY {
                return Err(ApiError::new(413, "Request is too large."));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// The token of a non-Keystone request, or 401.
pub(crate) fn authenticate(app: &App, req: &Req) -> Result<TokenInfo, ApiError> {
    let unauthorized = || {
        ApiError::new(401, "The request you have made requires authentication.").with_header(
            "WWW-Authenticate",
            &format!("Keystone uri=\"{}/identity\"", app.base),
        )
    };
    let token = req.header("x-auth-token").ok_or_else(unauthorized)?;
    let info = app.keystone.validate(token).ok_or_else(unauthorized)?;
    if info.project.is_none() {
        return Err(ApiError::new(
            403,
            "Policy doesn't allow this operation: the token is not scoped to a project.",
        ));
    }
    Ok(info)
}

/// Route counters as a sorted map.
pub(crate) fn route_counts(app: &App) -> BTreeMap<String, u64> {
    lock(&app.counters.routes)
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// The full path a request arrived with, kept when a region prefix is stripped.
#[derive(Debug, Clone)]
struct OriginalPath(String);

/// Routes a request to its region: `/r/{region}/...` goes to that region's services
/// (with the prefix stripped), everything else to the first region.
async fn dispatch(
    apps: Arc<Vec<Arc<App>>>,
    mut req: Request<Incoming>,
) -> Result<Response<ChunkBody>, std::io::Error> {
    let path = req.uri().path().to_owned();
    let mut target = apps[0].clone();
    if let Some(rest) = path.strip_prefix("/r/") {
        let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(app) = apps[1..].iter().find(|a| a.cfg.region == name) {
            target = app.clone();
            let pq = match req.uri().query() {
                Some(q) => format!("/{tail}?{q}"),
                None => format!("/{tail}"),
            };
            if let Ok(uri) = pq.parse::<http::Uri>() {
                *req.uri_mut() = uri;
            }
            req.extensions_mut().insert(OriginalPath(path));
        }
    }
    handle(target, req).await
}

/// Serves one connection until it closes or the fake shuts down.
pub(crate) async fn serve_connection(
    apps: Arc<Vec<Arc<App>>>,
    stream: tokio::net::TcpStream,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let svc = hyper::service::service_fn(move |req| dispatch(apps.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.as_mut()).await;
        }
    }
}
