//! A small, stateful fake vCenter on 127.0.0.1 for the fault matrix and the TLS tests:
//! vim25 SOAP at `/sdk` (service content, login with the `vmware_soap_session` cookie,
//! container views, the PropertyCollector over a datacenter with one pool, datastore,
//! network and cluster and `vms` VMs, tasks that succeed, fail or are cancelled) and the
//! vSphere Automation API at `/api` (session, tag categories, tag associations).
//!
//! Faults are scripted per route (a SOAP method name such as `RetrievePropertiesEx`, or
//! `"<METHOD> <path>"` for REST) and served before anything else: an HTTP status with an
//! optional `Retry-After` (seconds or HTTP date) and body, a dropped connection, an
//! answer reset or stalled half-way. Every request is counted per route; sessions can
//! be expired; every session id issued is recorded (for the secret-hygiene checks).

#![allow(dead_code, unreachable_pub)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};

pub const USER: &str = "matrix@vsphere.local";
pub const ENVELOPE_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#;
pub const ENVELOPE_TAIL: &str = "</soapenv:Body></soapenv:Envelope>";

pub fn envelope(inner: &str) -> String {
    format!("{ENVELOPE_HEAD}{inner}{ENVELOPE_TAIL}")
}

pub fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How a scripted fault answers.
#[derive(Debug, Clone)]
pub enum FaultKind {
    /// `status`, with `Retry-After` and a body of `content_type` when given.
    Status {
        status: u16,
        retry_after: Option<RetryAfter>,
        body: Option<(&'static str, Bytes)>,
    },
    /// The connection is closed without an answer.
    Drop,
    /// The real answer, but the connection is reset after half of the body.
    ResetMidBody,
    /// The real answer, but after half of the body nothing is sent for this long.
    StallMidBody(Duration),
}

/// A `Retry-After` value.
#[derive(Debug, Clone, Copy)]
pub enum RetryAfter {
    Seconds(u64),
    /// An HTTP date this far ahead.
    DateIn(Duration),
}

#[derive(Debug, Clone)]
struct Fault {
    route: String,
    times: u32,
    kind: FaultKind,
}

/// How the next task ends.
#[derive(Debug, Clone)]
pub enum TaskEnd {
    Success,
    /// Never ends: `state` `running`, forever.
    Running,
    /// `state` `error` with a fault of `fault` type and `message`.
    Error {
        fault: String,
        message: String,
    },
}

#[derive(Default)]
struct State {
    password: String,
    vms: usize,
    /// Replaces the objects of a VirtualMachine listing once.
    vm_objects_override: VecDeque<String>,
    soap_sessions: HashSet<String>,
    vapi_sessions: HashSet<String>,
    issued: Vec<String>,
    counts: HashMap<String, u64>,
    faults: Vec<Fault>,
    views: HashMap<String, String>,
    tasks: HashMap<String, (TaskEnd, Option<String>)>,
    next_tasks: VecDeque<TaskEnd>,
    categories: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    seq: AtomicU64,
    latency_ms: AtomicU64,
}

impl Shared {
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The fake; stops serving when dropped.
pub struct FakeVcenter {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeVcenter {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

impl FakeVcenter {
    /// A fake with `vms` VMs accepting `USER` with `password`.
    pub async fn start(password: &str, vms: usize) -> FakeVcenter {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                password: password.to_owned(),
                vms,
                ..State::default()
            }),
            seq: AtomicU64::new(0),
            latency_ms: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sh = shared.clone();
        let server = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let sh = sh.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(tcp);
                    let svc = hyper::service::service_fn(move |req| handle(sh.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        FakeVcenter {
            addr,
            shared,
            server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SDK URL (plain HTTP).
    pub fn sdk_url(&self) -> String {
        format!("http://{}/sdk", self.addr)
    }

    /// Requests seen on `route` so far (a SOAP method, or `"GET /api/…"`).
    pub fn count(&self, route: &str) -> u64 {
        lock(&self.shared.state)
            .counts
            .get(route)
            .copied()
            .unwrap_or(0)
    }

    /// Every session id issued so far (vim25 cookies and vAPI session ids).
    /// The container views created and not destroyed.
    pub fn live_views(&self) -> usize {
        lock(&self.shared.state).views.len()
    }

    pub fn issued_sessions(&self) -> Vec<String> {
        lock(&self.shared.state).issued.clone()
    }

    /// Ends every vim25 session: the next call with an old cookie gets `NotAuthenticated`.
    pub fn expire_soap_sessions(&self) {
        lock(&self.shared.state).soap_sessions.clear();
    }

    /// Ends every vAPI session: the next call with an old id gets `401`.
    pub fn expire_vapi_sessions(&self) {
        lock(&self.shared.state).vapi_sessions.clear();
    }

    fn fault(&self, route: &str, times: u32, kind: FaultKind) {
        lock(&self.shared.state).faults.push(Fault {
            route: route.to_owned(),
            times,
            kind,
        });
    }

    /// The next `times` requests on `route` get `status` (with `Retry-After`).
    pub fn fail_next(&self, route: &str, status: u16, times: u32, retry_after: Option<RetryAfter>) {
        self.fault(
            route,
            times,
            FaultKind::Status {
                status,
                retry_after,
                body: None,
            },
        );
    }

    /// The next `times` requests on `route` get `status` with exactly `body`.
    pub fn respond_next(
        &self,
        route: &str,
        status: u16,
        content_type: &'static str,
        body: impl Into<Bytes>,
        times: u32,
    ) {
        self.fault(
            route,
            times,
            FaultKind::Status {
                status,
                retry_after: None,
                body: Some((content_type, body.into())),
            },
        );
    }

    /// The next `times` requests on `route` are dropped without an answer.
    pub fn drop_next(&self, route: &str, times: u32) {
        self.fault(route, times, FaultKind::Drop);
    }

    /// The next `times` requests on `route` are reset half-way through the answer.
    pub fn reset_mid_body_next(&self, route: &str, times: u32) {
        self.fault(route, times, FaultKind::ResetMidBody);
    }

    /// The next `times` requests on `route` stall half-way through the answer.
    pub fn stall_mid_body_next(&self, route: &str, stall: Duration, times: u32) {
        self.fault(route, times, FaultKind::StallMidBody(stall));
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.state).faults.clear();
    }

    /// The next VirtualMachine listing answers these `<objects>` instead.
    pub fn vm_objects_next(&self, objects: &str) {
        lock(&self.shared.state)
            .vm_objects_override
            .push_back(objects.to_owned());
    }

    /// The next task created ends like this.
    pub fn next_task_ends(&self, end: TaskEnd) {
        lock(&self.shared.state).next_tasks.push_back(end);
    }

    /// Latency added before every answer.
    pub fn set_latency(&self, d: Duration) {
        self.shared
            .latency_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }
}

/// The SOAP method of an envelope hybrid sent.
fn soap_method(body: &str) -> Option<String> {
    let start = body.find(":Body><")? + ":Body><".len();
    let rest = &body[start..];
    let end = rest.find([' ', '>', '/'])?;
    Some(rest[..end].to_owned())
}

/// The text of the first `<name …>…</name>` in `body`.
fn element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = body[from..].find(&open) {
        let at = from + i + open.len();
        let next = body[at..].chars().next()?;
        if next == '>' || next == ' ' {
            let gt = at + body[at..].find('>')? + 1;
            let close = format!("</{name}>");
            let end = gt + body[gt..].find(&close)?;
            return Some(body[gt..end].to_owned());
        }
        from = at;
    }
    None
}

/// The text of the first `<obj type="{kind}">…</obj>`.
fn obj_of(body: &str, kind: &str) -> Option<String> {
    let open = format!(r#"<obj type="{kind}">"#);
    let i = body.find(&open)? + open.len();
    let end = body[i..].find("</obj>")?;
    Some(body[i..i + end].to_owned())
}

/// The text of `<tag type="kind">…</tag>` in `body`.
fn element_with_type(body: &str, tag: &str, kind: &str) -> Option<String> {
    let open = format!(r#"<{tag} type="{kind}">"#);
    let i = body.find(&open)? + open.len();
    let end = body[i..].find(&format!("</{tag}>"))?;
    Some(body[i..i + end].to_owned())
}

fn soap_answer(method: &str, inner: &str) -> String {
    envelope(&format!(
        r#"<{method}Response xmlns="urn:vim25">{inner}</{method}Response>"#
    ))
}

fn soap_fault(kind: &str, message: &str) -> (u16, String) {
    (
        500,
        envelope(&format!(
            r#"<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>{message}</faultstring><detail><{kind}Fault xmlns="urn:vim25" xsi:type="{kind}"></{kind}Fault></detail></soapenv:Fault>"#
        )),
    )
}

fn prop(name: &str, val: &str) -> String {
    format!("<propSet><name>{name}</name><val{val}</val></propSet>")
}

/// A VM object with the properties hybrid lists servers with.
pub fn vm_object(id: &str, name: &str, power: &str) -> String {
    format!(
        r#"<objects><obj type="VirtualMachine">{id}</obj>{}{}{}{}{}{}</objects>"#,
        prop("name", &format!(r#" xsi:type="xsd:string">{name}"#)),
        prop("config.template", r#" xsi:type="xsd:boolean">false"#),
        prop("config.hardware.numCPU", r#" xsi:type="xsd:int">1"#),
        prop("config.hardware.memoryMB", r#" xsi:type="xsd:int">2048"#),
        prop("config.guestId", r#" xsi:type="xsd:string">otherGuest64"#),
        prop(
            "runtime.powerState",
            &format!(r#" xsi:type="VirtualMachinePowerState">{power}"#)
        ),
    )
}

fn objects_of(st: &mut State, kind: &str) -> String {
    match kind {
        "Datacenter" => format!(
            r#"<objects><obj type="Datacenter">datacenter-2</obj>{}{}{}</objects>"#,
            prop("name", r#" xsi:type="xsd:string">DC0"#),
            prop(
                "vmFolder",
                r#" type="Folder" xsi:type="ManagedObjectReference">group-4"#
            ),
            prop(
                "networkFolder",
                r#" type="Folder" xsi:type="ManagedObjectReference">group-6"#
            ),
        ),
        "ResourcePool" => format!(
            r#"<objects><obj type="ResourcePool">resgroup-9</obj>{}{}</objects>"#,
            prop("name", r#" xsi:type="xsd:string">Resources"#),
            prop(
                "parent",
                r#" type="ClusterComputeResource" xsi:type="ManagedObjectReference">domain-c7"#
            ),
        ),
        "Datastore" => format!(
            r#"<objects><obj type="Datastore">datastore-1</obj>{}{}</objects>"#,
            prop("name", r#" xsi:type="xsd:string">LocalDS_0"#),
            prop("summary.accessible", r#" xsi:type="xsd:boolean">true"#),
        ),
        "Network" => format!(
            r#"<objects><obj type="Network">network-10</obj>{}</objects>"#,
            prop("name", r#" xsi:type="xsd:string">VM Network"#),
        ),
        "ClusterComputeResource" => format!(
            r#"<objects><obj type="ClusterComputeResource">domain-c7</obj>{}{}</objects>"#,
            prop("name", r#" xsi:type="xsd:string">DC0_C0"#),
            prop(
                "resourcePool",
                r#" type="ResourcePool" xsi:type="ManagedObjectReference">resgroup-9"#
            ),
        ),
        "VirtualMachine" => match st.vm_objects_override.pop_front() {
            Some(o) => o,
            None => (0..st.vms)
                .map(|i| vm_object(&format!("vm-{}", 100 + i), &format!("vm-{i}"), "poweredOn"))
                .collect(),
        },
        _ => String::new(),
    }
}

fn task_info(task: &str, end: &TaskEnd, result: Option<&str>) -> String {
    let body = match end {
        TaskEnd::Success => format!(
            "<state>success</state>{}",
            result
                .map(|vm| format!(r#"<result xsi:type="ManagedObjectReference" type="VirtualMachine">{vm}</result>"#))
                .unwrap_or_default()
        ),
        TaskEnd::Running => "<state>running</state><progress>42</progress>".to_owned(),
        TaskEnd::Error { fault, message } => format!(
            r#"<state>error</state><error><fault xsi:type="{fault}"></fault><localizedMessage>{message}</localizedMessage></error>"#
        ),
    };
    format!(
        r#"<objects><obj type="Task">{task}</obj><propSet><name>info</name><val xsi:type="TaskInfo"><key>{task}</key><task type="Task">{task}</task>{body}</val></propSet></objects>"#
    )
}

fn cookie_session(req: &http::request::Parts) -> Option<String> {
    let h = req.headers.get(http::header::COOKIE)?.to_str().ok()?;
    h.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == "vmware_soap_session").then(|| v.trim_matches('"').to_owned())
    })
}

/// Answers a SOAP call: `(status, body, set-cookie)`.
fn soap(
    sh: &Shared,
    parts: &http::request::Parts,
    method: &str,
    body: &str,
) -> (u16, String, Option<String>) {
    let mut st = lock(&sh.state);
    match method {
        "RetrieveServiceContent" => (200, fixture("vcsim-RetrieveServiceContent.resp.xml"), None),
        "Login" => {
            let user = element(body, "userName").unwrap_or_default();
            let pw = element(body, "password").unwrap_or_default();
            if user != USER || pw != st.password {
                let (s, b) = soap_fault(
                    "InvalidLogin",
                    "Cannot complete login due to an incorrect user name or password.",
                );
                return (s, b, None);
            }
            let id = format!("52{:04}-soap-{:016x}", sh.next(), rand_u64(sh));
            st.soap_sessions.insert(id.clone());
            st.issued.push(id.clone());
            let answer = soap_answer(
                "Login",
                &format!("<returnval><key>{id}</key><userName>{USER}</userName><fullName>matrix</fullName></returnval>"),
            );
            (
                200,
                answer,
                Some(format!(
                    r#"vmware_soap_session="{id}"; Path=/; HttpOnly; Secure;"#
                )),
            )
        }
        _ => {
            let valid = cookie_session(parts).is_some_and(|c| st.soap_sessions.contains(&c));
            if !valid {
                return (500, fixture("vcsim-fault-NotAuthenticated.resp.xml"), None);
            }
            let (s, b) = soap_authenticated(sh, &mut st, parts, method, body);
            (s, b, None)
        }
    }
}

fn soap_authenticated(
    sh: &Shared,
    st: &mut State,
    parts: &http::request::Parts,
    method: &str,
    body: &str,
) -> (u16, String) {
    match method {
        "Logout" => {
            if let Some(c) = cookie_session(parts) {
                st.soap_sessions.remove(&c);
            }
            (200, soap_answer(method, ""))
        }
        "CreateContainerView" => {
            let kind = element(body, "type").unwrap_or_default();
            let id = format!("session[fake]view-{}", sh.next());
            st.views.insert(id.clone(), kind);
            (
                200,
                soap_answer(
                    method,
                    &format!(r#"<returnval type="ContainerView">{id}</returnval>"#),
                ),
            )
        }
        "DestroyView" => {
            let this = element_with_type(body, "_this", "ContainerView");
            match this.and_then(|v| st.views.remove(&v)) {
                Some(_) => (200, soap_answer(method, "")),
                None => soap_fault(
                    "ManagedObjectNotFound",
                    "The object has already been deleted",
                ),
            }
        }
        "RetrievePropertiesEx" => {
            let objects = if let Some(view) = obj_of(body, "ContainerView") {
                match st.views.get(&view).cloned() {
                    Some(kind) => objects_of(st, &kind),
                    None => {
                        return soap_fault(
                            "ManagedObjectNotFound",
                            "The object has already been deleted",
                        )
                    }
                }
            } else if let Some(task) = obj_of(body, "Task") {
                match st.tasks.get(&task) {
                    Some((end, result)) => task_info(&task, end, result.as_deref()),
                    None => return soap_fault("ManagedObjectNotFound", "no such task"),
                }
            } else if let Some(vm) = obj_of(body, "VirtualMachine") {
                vm_object(&vm, &vm, "poweredOff")
            } else {
                String::new()
            };
            let inner = if objects.is_empty() {
                String::new()
            } else {
                format!("<returnval>{objects}</returnval>")
            };
            (200, soap_answer(method, &inner))
        }
        m if m.ends_with("_Task") => {
            let task = format!("task-{}", sh.next());
            let end = st.next_tasks.pop_front().unwrap_or(TaskEnd::Success);
            let result = (m == "CreateVM_Task").then(|| format!("vm-{}", 900 + sh.next()));
            st.tasks.insert(task.clone(), (end, result));
            (
                200,
                soap_answer(
                    method,
                    &format!(r#"<returnval type="Task">{task}</returnval>"#),
                ),
            )
        }
        _ => soap_fault("MethodNotFound", "not in the fake"),
    }
}

fn rand_u64(sh: &Shared) -> u64 {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t.rotate_left(17)
        ^ (sh
            .seq
            .load(Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Answers a vAPI call: `(status, json body)`.
fn vapi(sh: &Shared, parts: &http::request::Parts, route: &str, body: &str) -> (u16, String) {
    use base64::Engine as _;
    let mut st = lock(&sh.state);
    if route == "POST /api/session" {
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{}", st.password))
        );
        let got = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(want.as_str()) {
            return (
                401,
                r#"{"error_type":"UNAUTHENTICATED","messages":[]}"#.to_owned(),
            );
        }
        let id = format!("vapi-{:04}-{:016x}", sh.next(), rand_u64(sh));
        st.vapi_sessions.insert(id.clone());
        st.issued.push(id.clone());
        return (201, format!("\"{id}\""));
    }
    let session = parts
        .headers
        .get("vmware-api-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !st.vapi_sessions.contains(session) {
        return (401, r#"{"error_type":"UNAUTHENTICATED","messages":[{"id":"x","default_message":"This method requires authentication."}]}"#.to_owned());
    }
    match route {
        "DELETE /api/session" => {
            st.vapi_sessions.remove(session);
            (204, String::new())
        }
        "GET /api/cis/tagging/category" => (200, serde_json::to_string(&st.categories).unwrap()),
        "POST /api/cis/tagging/category" => {
            let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            let name = v["name"].as_str().unwrap_or("").to_owned();
            let id = format!(
                "urn:vmomi:InventoryServiceCategory:{}:{name}:GLOBAL",
                sh.next()
            );
            st.categories.push(id.clone());
            (201, format!("\"{id}\""))
        }
        r if r.starts_with("GET /api/cis/tagging/category/") => {
            let id = &r["GET /api/cis/tagging/category/".len()..];
            let id = id.replace("%3A", ":");
            if !st.categories.contains(&id) {
                return (
                    404,
                    r#"{"error_type":"NOT_FOUND","messages":[]}"#.to_owned(),
                );
            }
            let name = id.split(':').nth(3).unwrap_or("");
            (
                200,
                serde_json::json!({"id": id, "name": name, "description": "", "cardinality": "MULTIPLE", "associable_types": [], "used_by": []}).to_string(),
            )
        }
        "POST /api/cis/tagging/tag-association" => (200, "[]".to_owned()),
        _ => (
            404,
            r#"{"error_type":"NOT_FOUND","messages":[]}"#.to_owned(),
        ),
    }
}

async fn handle(sh: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, std::io::Error> {
    let latency = sh.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let (parts, incoming) = req.into_parts();
    let body = incoming
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let path = parts.uri.path().to_owned();
    let route = if path == "/sdk" {
        soap_method(&body).unwrap_or_else(|| "SOAP?".to_owned())
    } else {
        format!("{} {}", parts.method, path)
    };
    let fault = {
        let mut st = lock(&sh.state);
        *st.counts.entry(route.clone()).or_insert(0) += 1;
        let hit = st
            .faults
            .iter_mut()
            .find(|f| f.route == route && f.times > 0)
            .map(|f| {
                f.times -= 1;
                f.kind.clone()
            });
        st.faults.retain(|f| f.times > 0);
        hit
    };
    let mut mid_body = None;
    match fault {
        Some(FaultKind::Drop) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "scripted drop",
            ))
        }
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
        }) => {
            let mut b = Response::builder().status(status);
            if let Some(ra) = retry_after {
                let v = match ra {
                    RetryAfter::Seconds(s) => s.to_string(),
                    RetryAfter::DateIn(d) => httpdate::fmt_http_date(SystemTime::now() + d),
                };
                b = b.header("Retry-After", v);
            }
            let (ct, bytes) = body.unwrap_or((
                "text/html",
                Bytes::from_static(b"<html><body>Service Unavailable</body></html>"),
            ));
            return Ok(b.header("Content-Type", ct).body(full(bytes)).unwrap());
        }
        Some(k) => mid_body = Some(k),
        None => {}
    }
    let (status, text, cookie, ct) = if path == "/sdk" {
        let (s, b, c) = soap(&sh, &parts, &route, &body);
        (s, b, c, "text/xml; charset=utf-8")
    } else {
        let (s, b) = vapi(&sh, &parts, &route, &body);
        (s, b, None, "application/json")
    };
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("Content-Type", ct);
    if let Some(c) = cookie {
        b = b.header("Set-Cookie", c);
    }
    let bytes = Bytes::from(text);
    let body = match mid_body {
        None => full(bytes),
        Some(how) => {
            b = b.header("Content-Length", bytes.len().to_string());
            let mut first = bytes.clone();
            let rest = first.split_off(first.len() / 2);
            let head = futures::stream::iter([Ok::<_, std::io::Error>(Frame::data(first))]);
            let tail = futures::stream::once(async move {
                match how {
                    FaultKind::StallMidBody(d) => {
                        tokio::time::sleep(d).await;
                        Ok(Frame::data(rest))
                    }
                    _ => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "scripted reset mid-body",
                        ))
                    }
                }
            });
            BodyExt::boxed_unsync(StreamBody::new(head.chain(tail).boxed()))
        }
    };
    Ok(b.body(body).unwrap())
}

/// Terminates TLS on 127.0.0.1 with `cert`/`key` (PEM files) and forwards the plain
/// bytes to `backend`.
pub async fn tls_terminator(
    backend: SocketAddr,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> SocketAddr {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}
