//! The HTTP service: listener, request context, counters, faults, throttling,
//! authentication and the top-level router.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::config::{Config, FaultAction, FaultSpec, Mangle, RateLimit, RetryAfter};
use crate::entra::{self, TokenRejection, Tokens};
use crate::http::{ArmError, Body, Resp};
use crate::util::{arm_time, compact_time, http_date, now_secs, uuid_from, Query, Rng};
use crate::world::World;

/// Largest request body accepted.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Request counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) total: AtomicU64,
    pub(crate) tokens: AtomicU64,
    pub(crate) routes: Mutex<HashMap<String, u64>>,
}

/// One ARM throttling bucket.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(limit: RateLimit) -> Bucket {
        Bucket {
            limit,
            tokens: f64::from(limit.capacity),
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens =
            (self.tokens + dt * self.limit.refill_per_sec).min(f64::from(self.limit.capacity));
    }

    /// Takes a token: `Ok(remaining)`, or `Err(seconds to wait)`.
    fn take(&mut self) -> Result<u64, u64> {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(self.tokens.floor() as u64)
        } else if self.limit.refill_per_sec > 0.0 {
            Err(((1.0 - self.tokens) / self.limit.refill_per_sec)
                .ceil()
                .max(1.0) as u64)
        } else {
            Err(3600)
        }
    }

    /// Sets the tokens left now.
    pub(crate) fn set_remaining(&mut self, n: u32) {
        self.refill();
        self.tokens = f64::from(n.min(self.limit.capacity));
    }
}

/// Shared state of one running fake.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) cfg: Config,
    pub(crate) base: String,
    pub(crate) world: Mutex<World>,
    pub(crate) tokens: Mutex<Tokens>,
    pub(crate) counters: Counters,
    pub(crate) faults: Mutex<Vec<FaultSpec>>,
    pub(crate) latency_ms: AtomicU64,
    /// Reads, writes, deletes.
    pub(crate) buckets: Mutex<[Bucket; 3]>,
    id_seed: u64,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    pub(crate) fn new(cfg: Config, addr: SocketAddr) -> App {
        let base = format!("http://{addr}");
        let world = World::new(&cfg);
        let rl = cfg.rate_limits;
        App {
            faults: Mutex::new(cfg.faults.clone()),
            latency_ms: AtomicU64::new(cfg.latency.as_millis() as u64),
            buckets: Mutex::new([
                Bucket::new(rl.reads),
                Bucket::new(rl.writes),
                Bucket::new(rl.deletes),
            ]),
            id_seed: Rng::new().next_u64(),
            cfg,
            base,
            world: Mutex::new(world),
            tokens: Mutex::new(Tokens::new()),
            counters: Counters::default(),
        }
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }
}

/// One request, as handlers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    /// The raw path, for next links.
    pub(crate) path: String,
    /// Percent-decoded, non-empty path segments.
    pub(crate) segs: Vec<String>,
    /// The same, lower-cased.
    pub(crate) lsegs: Vec<String>,
    pub(crate) query: Query,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// `http://<Host header>` (or the listening address): the origin for links.
    pub(crate) base: String,
}

impl Req {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The request body as a JSON object.
    pub(crate) fn json(&self) -> Result<serde_json::Value, ArmError> {
        crate::http::parse_json(&self.body)
    }

    /// The `api-version` (checked before routing).
    pub(crate) fn api_version(&self) -> &str {
        self.query.get("api-version").unwrap_or("")
    }

    /// The full URL of this request.
    pub(crate) fn url(&self) -> String {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.query.0.iter())
            .finish();
        if q.is_empty() {
            format!("{}{}", self.base, self.path)
        } else {
            format!("{}{}?{q}", self.base, self.path)
        }
    }
}

/// Canonical spelling of the fixed words of ARM, Entra and IMDS paths (for route
/// templates).
const WORDS: &[&str] = &[
    "subscriptions",
    "resourceGroups",
    "providers",
    "locations",
    "operations",
    "operationResults",
    "DiskOperations",
    "Microsoft.Compute",
    "Microsoft.Network",
    "Microsoft.Resources",
    "virtualMachines",
    "disks",
    "snapshots",
    "images",
    "galleries",
    "versions",
    "sshPublicKeys",
    "virtualNetworks",
    "subnets",
    "networkInterfaces",
    "networkSecurityGroups",
    "securityRules",
    "defaultSecurityRules",
    "publicIPAddresses",
    "vmSizes",
    "instanceView",
    "start",
    "powerOff",
    "restart",
    "deallocate",
    "generateKeyPair",
    "metadata",
    "identity",
    "oauth2",
    "v2.0",
    "token",
    ".well-known",
    "openid-configuration",
];

fn canon(lower: &str) -> String {
    WORDS
        .iter()
        .find(|w| w.eq_ignore_ascii_case(lower))
        .map(|w| (*w).to_owned())
        .unwrap_or_else(|| lower.to_owned())
}

/// The route template of a request: fixed words in their canonical spelling, values
/// replaced by `{subscriptionId}`, `{resourceGroupName}`, `{location}`,
/// `{operationId}`, `{tenantId}` or `{name}`.
pub(crate) fn template(method: &Method, l: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    if l.first().map(String::as_str) == Some("subscriptions") {
        out.push("subscriptions".into());
        if l.len() > 1 {
            out.push("{subscriptionId}".into());
        }
        let mut i = 2;
        while i < l.len() {
            match l[i].as_str() {
                "resourcegroups" => {
                    out.push("resourceGroups".into());
                    if i + 1 < l.len() {
                        out.push("{resourceGroupName}".into());
                    }
                    i += 2;
                }
                "providers" => {
                    out.push("providers".into());
                    if let Some(ns) = l.get(i + 1) {
                        out.push(canon(ns));
                    }
                    let mut j = i + 2;
                    while j < l.len() {
                        let ty = l[j].as_str();
                        out.push(canon(ty));
                        if j + 1 < l.len() {
                            out.push(match ty {
                                "locations" => "{location}".into(),
                                "operations" | "operationresults" | "diskoperations" => {
                                    "{operationId}".into()
                                }
                                _ => "{name}".into(),
                            });
                        }
                        j += 2;
                    }
                    i = l.len();
                }
                "locations" | "operationresults" => {
                    out.push(canon(&l[i]));
                    if i + 1 < l.len() {
                        out.push(if l[i] == "locations" {
                            "{location}".into()
                        } else {
                            "{operationId}".into()
                        });
                    }
                    i += 2;
                }
                other => {
                    out.push(canon(other));
                    i += 1;
                }
            }
        }
    } else if l.first().map(String::as_str) == Some("metadata") {
        out.extend(l.iter().map(|s| canon(s)));
    } else if let Some((_, rest)) = l.split_first() {
        out.push("{tenantId}".into());
        out.extend(rest.iter().map(|s| canon(s)));
    }
    format!("{method} /{}", out.join("/"))
}

fn is_token_request(method: &Method, l: &[String]) -> bool {
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["metadata", "identity", "oauth2", "token"] => method == Method::GET,
        [_, "oauth2", "v2.0", "token"] | [_, "oauth2", "token"] => method == Method::POST,
        _ => false,
    }
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

fn is_entra_path(l: &[String]) -> bool {
    l.first()
        .is_some_and(|s| s != "subscriptions" && s != "providers" && s != "tenants")
}

/// Takes the next matching scripted fault, if any.
fn take_fault(app: &App, method: &str, lower_path: &str) -> Option<FaultAction> {
    let mut faults = lock(&app.faults);
    let hit = faults.iter_mut().find(|f| f.matches(method, lower_path))?;
    hit.times -= 1;
    let action = hit.action.clone();
    faults.retain(|f| f.times > 0);
    Some(action)
}

fn retry_headers(mut r: Resp, ra: RetryAfter) -> Resp {
    match ra {
        RetryAfter::None => r,
        RetryAfter::Seconds(s) => r.header("Retry-After", &s.to_string()),
        RetryAfter::HttpDate(s) => {
            r = r.header("Retry-After", &http_date(now_secs() + s as i64));
            r
        }
        RetryAfter::Millis(ms) => r.header("x-ms-retry-after-ms", &ms.to_string()),
    }
}

fn fault_response(app: &App, entra_path: bool, status: u16, ra: RetryAfter) -> Resp {
    let r = if entra_path {
        let (error, code, desc) = match status {
            400 => (
                "invalid_request",
                900144,
                "The request is invalid (scripted fault).",
            ),
            401 => (
                "invalid_client",
                7000215,
                "Invalid client credentials (scripted fault).",
            ),
            429 => (
                "temporarily_unavailable",
                50196,
                "The server is throttling requests (scripted fault).",
            ),
            _ => (
                "temporarily_unavailable",
                90033,
                "A transient error has occurred. Please try again (scripted fault).",
            ),
        };
        entra::entra_error(app, status, error, code, desc)
    } else {
        let mut e = ArmError::for_status(status);
        if status == 401 {
            e = e.with_header(
                "WWW-Authenticate",
                &www_authenticate(app, "The access token is invalid."),
            );
        }
        e.render()
    };
    retry_headers(r, ra)
}

pub(crate) fn www_authenticate(app: &App, description: &str) -> String {
    format!(
        "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{description}\"",
        app.base, app.cfg.tenant
    )
}

/// Outcome of the request pipeline before the common headers.
enum Outcome {
    Resp(Resp, Option<Mangle>),
    Drop,
}

pub(crate) async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let n = app.counters.total.fetch_add(1, Ordering::Relaxed);
    let request_id = uuid_from(
        app.id_seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        n.rotate_left(17) ^ app.id_seed.rotate_left(7),
    );
    let (parts, incoming) = req.into_parts();
    let segs = decode_segments(parts.uri.path());
    let lsegs: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    *lock(&app.counters.routes)
        .entry(template(&parts.method, &lsegs))
        .or_insert(0) += 1;
    if is_token_request(&parts.method, &lsegs) {
        app.counters.tokens.fetch_add(1, Ordering::Relaxed);
    }
    let latency = app.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let correlation = parts
        .headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());
    let client_request_id = parts
        .headers
        .get("x-ms-client-request-id")
        .or_else(|| parts.headers.get("client-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let outcome = pipeline(&app, parts, incoming, segs, lsegs).await;
    let (mut resp, mangle) = match outcome {
        Outcome::Resp(r, m) => (r, m),
        Outcome::Drop => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "scripted connection drop",
            ))
        }
    };
    resp = resp
        .header("x-ms-request-id", &request_id)
        .header("x-ms-correlation-request-id", &correlation)
        .header(
            "x-ms-routing-request-id",
            &format!(
                "{}:{}:{request_id}",
                app.cfg.location.to_ascii_uppercase().replace(' ', ""),
                compact_time(now_secs())
            ),
        );
    if !resp.headers.contains_key("cache-control") {
        resp = resp.header("Cache-Control", "no-cache");
    }
    if let Some(id) = client_request_id {
        resp = resp
            .header("x-ms-client-request-id", &id)
            .header("client-request-id", &id);
    }
    let body = match mangle {
        None => resp.body,
        Some(Mangle::TruncateBody) => resp.body.truncate(),
        Some(Mangle::StallBody(d)) => resp.body.stall(d),
        Some(Mangle::MalformedJson) => {
            let all = resp.body.concat();
            Body::full(all.slice(..all.len() / 2))
        }
        Some(Mangle::Oversize(extra)) => {
            let mut all = resp.body.concat().to_vec();
            all.resize(all.len() + extra, b' ');
            Body::full(all)
        }
    };
    let mut out = Response::new(body);
    *out.status_mut() = resp.status;
    *out.headers_mut() = resp.headers;
    out.headers_mut().remove(http::header::CONTENT_LENGTH);
    Ok(out)
}

async fn pipeline(
    app: &Arc<App>,
    parts: http::request::Parts,
    incoming: Incoming,
    segs: Vec<String>,
    lsegs: Vec<String>,
) -> Outcome {
    let raw_path = parts.uri.path().to_owned();
    let entra_path = is_entra_path(&lsegs);
    let mut mangle = None;
    let mut stall = None;
    match take_fault(app, parts.method.as_str(), &raw_path.to_ascii_lowercase()) {
        Some(FaultAction::Drop) => return Outcome::Drop,
        Some(FaultAction::Status(status, ra)) => {
            return Outcome::Resp(fault_response(app, entra_path, status, ra), None)
        }
        Some(FaultAction::Respond(status, body)) => {
            return Outcome::Resp(
                crate::http::Resp::raw(status, crate::http::JSON, body),
                None,
            )
        }
        Some(FaultAction::Stall(d)) => stall = Some(d),
        Some(FaultAction::Mangle(m)) => mangle = Some(m),
        None => {}
    }
    let body = match read_body(incoming).await {
        Ok(b) => b,
        Err(e) => return Outcome::Resp(e.render(), None),
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| app.base.clone());
    let req = Req {
        method: parts.method,
        path: raw_path,
        segs,
        lsegs,
        query: Query::parse(parts.uri.query()),
        headers: parts.headers,
        body,
        base: host,
    };
    let resp = match entra::handle(app, &req) {
        Some(r) => r,
        None => arm(app, &req),
    };
    if let Some(d) = stall {
        tokio::time::sleep(d).await;
    }
    Outcome::Resp(resp, mangle)
}

async fn read_body(mut body: Incoming) -> Result<Bytes, ArmError> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            ArmError::bad(
                "InvalidRequestContent",
                "The request body could not be read.",
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_BODY {
                return Err(ArmError::new(
                    413,
                    "RequestEntityTooLarge",
                    "The request content length exceeds the maximum allowed.",
                ));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

fn valid_api_version(v: &str) -> bool {
    let (date, suffix) = v.split_at(v.len().min(10));
    let b = date.as_bytes();
    date.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (suffix.is_empty() || suffix.eq_ignore_ascii_case("-preview"))
}

/// Authentication, `api-version`, throttling, then the ARM router.
fn arm(app: &App, req: &Req) -> Resp {
    let checked = app
        .tokens()
        .validate(req.header("authorization"), &req.base);
    if let Err(why) = checked {
        let (code, message, desc) = match why {
            TokenRejection::Missing => (
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.".to_owned(),
                "The authentication failed because of missing 'Authorization' header.".to_owned(),
            ),
            TokenRejection::Invalid => (
                "InvalidAuthenticationToken",
                "The access token is invalid.".to_owned(),
                "The access token is invalid.".to_owned(),
            ),
            TokenRejection::Expired(exp) => {
                let m = format!(
                    "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                    arm_time(exp),
                    arm_time(now_secs())
                );
                ("ExpiredAuthenticationToken", m.clone(), m)
            }
            TokenRejection::Audience(aud) => {
                let m = format!("The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.");
                ("InvalidAuthenticationTokenAudience", m.clone(), m)
            }
        };
        return ArmError::new(401, code, message)
            .with_header("WWW-Authenticate", &www_authenticate(app, &desc))
            .render();
    }
    match req.query.get("api-version") {
        None | Some("") => {
            return ArmError::bad(
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
            .render()
        }
        Some(v) if !valid_api_version(v) => {
            return ArmError::bad(
                "InvalidApiVersionParameter",
                format!("The api-version '{v}' is invalid. The supported versions are dates in the form 'yyyy-MM-dd', optionally followed by '-preview'."),
            )
            .render()
        }
        Some(_) => {}
    }
    let (class, header) = match req.method {
        Method::GET | Method::HEAD => (0, "x-ms-ratelimit-remaining-subscription-reads"),
        Method::DELETE => (2, "x-ms-ratelimit-remaining-subscription-deletes"),
        _ => (1, "x-ms-ratelimit-remaining-subscription-writes"),
    };
    let taken = lock(&app.buckets)[class].take();
    let remaining = match taken {
        Ok(r) => r,
        Err(wait) => {
            let what = ["read", "write", "delete"][class];
            return ArmError::new(
                429,
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{what}' requests for subscription '{}' actually exceeded the limit of '{}' for time interval '00:00:01'. Please try again after '{wait}' seconds.",
                    app.cfg.subscription,
                    app.cfg.rate_limits.reads.capacity.max(1)
                ),
            )
            .with_header("Retry-After", &wait.to_string())
            .with_header(header, "0")
            .render();
        }
    };
    let resp = crate::resources::route(app, req).unwrap_or_else(|e| e.render());
    resp.header(header, &remaining.to_string())
}

/// Route counters as a sorted map.
pub(crate) fn route_counts(app: &App) -> BTreeMap<String, u64> {
    lock(&app.counters.routes)
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Serves one connection until it closes or the fake shuts down.
pub(crate) async fn serve_connection(
    app: Arc<App>,
    stream: tokio::net::TcpStream,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let io = hyper_util::rt::TokioIo::new(stream);
    let svc = hyper::service::service_fn(move |req| handle(app.clone(), req));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn l(p: &str) -> Vec<String> {
        decode_segments(p)
            .into_iter()
            .map(|s| s.to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn templates() {
        assert_eq!(
            template(
                &Method::GET,
                &l("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines")
            ),
            "GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines"
        );
        assert_eq!(
            template(
                &Method::POST,
                &l("/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1/poweroff")
            ),
            "POST /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{name}/powerOff"
        );
        assert_eq!(
            template(
                &Method::GET,
                &l("/subscriptions/s/providers/Microsoft.Compute/locations/westeurope/operations/abc")
            ),
            "GET /subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}"
        );
        assert_eq!(
            template(&Method::POST, &l("/tenant-x/oauth2/v2.0/token")),
            "POST /{tenantId}/oauth2/v2.0/token"
        );
        assert_eq!(
            template(&Method::GET, &l("/metadata/identity/oauth2/token")),
            "GET /metadata/identity/oauth2/token"
        );
        assert_eq!(
            template(&Method::DELETE, &l("/subscriptions/s/resourcegroups/rg")),
            "DELETE /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
        );
    }

    #[test]
    fn api_versions() {
        assert!(valid_api_version("2024-07-01"));
        assert!(valid_api_version("2024-07-01-preview"));
        assert!(!valid_api_version("2024-7-01"));
        assert!(!valid_api_version("latest"));
        assert!(!valid_api_version("2024-07-01-beta"));
    }

    #[test]
    fn buckets() {
        let mut b = Bucket::new(RateLimit::new(2, 0.0));
        assert_eq!(b.take(), Ok(1));
        assert_eq!(b.take(), Ok(0));
        assert!(b.take().is_err());
    }
}
