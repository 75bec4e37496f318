//! A fast fake of the vCenter calls a connect and a VM listing make: vim25 SOAP at
//! `/sdk` (`RetrieveServiceContent`, `Login` with the `vmware_soap_session` cookie,
//! `CreateContainerView`, `DestroyView`, the PropertyCollector's `RetrievePropertiesEx`
//! honouring `maxObjects` and `ContinueRetrievePropertiesEx` with its token, faults as
//! vCenter sends them) and the vSphere Automation API at `/api` (session, tag
//! categories, tags, `list-attached-tags-on-objects`).
//!
//! The inventory is one datacenter with two resource pools, two datastores, a standard
//! network, a distributed switch with two port groups, a cluster, N VMs and three
//! templates. Every VM's `<objects>` element and its tag association are rendered
//! once at start; a page is the concatenation of its objects' bytes, so what the
//! scenarios measure is the client, not the fake. The documents follow vCenter 8's
//! vim25 WSDL (element order, `xsi:type`s) and the `cis.tagging` `/api` shapes.
//!
//! Every request is counted by operation (a SOAP method, qualified by the object type
//! of the view it reads and, for `RetrievePropertiesEx`, by the number of property
//! paths and the `maxObjects` asked; or a vAPI route): `GET /_bench/stats`,
//! `POST /_bench/reset`. The fake answers every rendered property whatever paths are
//! asked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE, SET_COOKIE};
use hyper::{Method, Request, Response};
use quick_xml::events::Event;
use serde_json::{json, Value};

use crate::fake_os::uuid;
use crate::server::{self, Body, Handler, Reply};

/// The fake's user.
pub(crate) const USER: &str = "administrator@vsphere.local";
/// Its password.
pub(crate) const PASSWORD: &str = "bench-vc-secret";
/// The category of hybrid's server tags (hybrid-vsphere's default).
pub(crate) const TAG_CATEGORY: &str = "hybrid";
/// The page size answered when a request sets no `maxObjects`.
const DEFAULT_PAGE: usize = 1000;
/// Templates listed besides the N VMs (not servers).
pub(crate) const TEMPLATES: usize = 3;

const HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" "#,
    r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
    r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
);
const TAIL: &str = "</soapenv:Body></soapenv:Envelope>";

/// A VM's id.
pub(crate) fn vm_id(i: usize) -> String {
    format!("vm-{}", 1000 + i)
}

/// A VM's name.
pub(crate) fn vm_name(i: usize) -> String {
    format!("vc-vm-{i:06}")
}

/// `(numCPU, memoryMB)` of VM `i`: mostly sizes of hybrid-vsphere's default catalogue,
/// every 13th a size outside it (no flavor).
pub(crate) fn vm_size(i: usize) -> (u32, u64) {
    if i % 13 == 12 {
        return (3, 6144);
    }
    [(1, 2048), (2, 4096), (4, 16384)][i % 3]
}

/// `runtime.powerState` of VM `i`.
pub(crate) fn vm_power(i: usize) -> &'static str {
    if i % 10 == 9 {
        "poweredOff"
    } else if i % 97 == 50 {
        "suspended"
    } else {
        "poweredOn"
    }
}

/// The category ids: `ops` first (hybrid reads categories in order until it finds its
/// own), then `hybrid`.
fn category_id(k: u32) -> String {
    format!(
        "urn:vmomi:InventoryServiceCategory:{}:GLOBAL",
        uuid(40 + k, 1)
    )
}

/// `(id, category index, name)` of every tag: four in `hybrid`, one in `ops`.
fn tags() -> Vec<(String, u32, &'static str)> {
    let names: [(u32, &str); 5] = [
        (1, "bench"),
        (1, "tier-0"),
        (1, "tier-1"),
        (1, "tier-2"),
        (0, "backup-daily"),
    ];
    names
        .iter()
        .enumerate()
        .map(|(k, (cat, name))| {
            (
                format!(
                    "urn:vmomi:InventoryServiceTag:{}:GLOBAL",
                    uuid(50, k as u64)
                ),
                *cat,
                *name,
            )
        })
        .collect()
}

/// The tag indices (into [`tags`]) attached to VM `i`: `bench` and its tier, and
/// every 7th VM the `ops` category's `backup-daily` too.
fn vm_tags(i: usize) -> Vec<usize> {
    let mut t = vec![0, 1 + i % 3];
    if i % 7 == 0 {
        t.push(4);
    }
    t
}

/// The server tags (names in the `hybrid` category, sorted) of VM `i`.
#[cfg(test)]
pub(crate) fn vm_tag_names(i: usize) -> Vec<String> {
    let all = tags();
    let mut names: Vec<String> = vm_tags(i)
        .into_iter()
        .filter(|&k| all[k].1 == 1)
        .map(|k| all[k].2.to_owned())
        .collect();
    names.sort();
    names
}

fn prop(out: &mut String, name: &str, val: &str) {
    out.push_str("<propSet><name>");
    out.push_str(name);
    out.push_str("</name>");
    out.push_str(val);
    out.push_str("</propSet>");
}

/// One VM (or template) as `RetrievePropertiesEx` returns it with hybrid-vsphere's
/// `VM_PATHS`.
fn vm_object(i: usize, template: bool) -> String {
    let id = if template {
        format!("vm-{}", 900_000 + i)
    } else {
        vm_id(i)
    };
    let name = if template {
        format!("tmpl-{i}")
    } else {
        vm_name(i)
    };
    let (cpus, mem) = vm_size(i);
    let power = if template { "poweredOff" } else { vm_power(i) };
    let guest = ["rhel9_64Guest", "ubuntu64Guest", "windows2019srv_64Guest"][i % 3];
    let mut o = String::with_capacity(2048);
    o.push_str(r#"<objects><obj type="VirtualMachine">"#);
    o.push_str(&id);
    o.push_str("</obj>");
    prop(
        &mut o,
        "config.createDate",
        &format!(
            r#"<val xsi:type="xsd:dateTime">2024-05-{:02}T04:01:{:02}.{:06}Z</val>"#,
            i % 28 + 1,
            i % 60,
            i % 1_000_000
        ),
    );
    prop(
        &mut o,
        "config.guestId",
        &format!(r#"<val xsi:type="xsd:string">{guest}</val>"#),
    );
    prop(
        &mut o,
        "config.hardware.memoryMB",
        &format!(r#"<val xsi:type="xsd:int">{mem}</val>"#),
    );
    prop(
        &mut o,
        "config.hardware.numCPU",
        &format!(r#"<val xsi:type="xsd:int">{cpus}</val>"#),
    );
    prop(
        &mut o,
        "config.template",
        &format!(r#"<val xsi:type="xsd:boolean">{template}</val>"#),
    );
    prop(
        &mut o,
        "datastore",
        &format!(
            r#"<val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore" xsi:type="ManagedObjectReference">datastore-{}</ManagedObjectReference></val>"#,
            11 + i % 2
        ),
    );
    let mut net = String::from(r#"<val xsi:type="ArrayOfGuestNicInfo">"#);
    if power == "poweredOn" {
        let nics = if i % 4 == 0 { 2 } else { 1 };
        for k in 0..nics {
            let network = match (k, i % 2) {
                (0, 0) => "VM Network",
                (0, _) => "pg-120",
                _ => "pg-backup",
            };
            let v4 = format!("10.{}.{}.{}", 10 + k, (i >> 8) & 0xff, i & 0xff);
            let v6 = format!("fe80::250:56ff:fe{:02x}:{:04x}", k, i & 0xffff);
            let mac = format!(
                "00:50:56:{:02x}:{:02x}:{:02x}",
                k,
                (i >> 8) & 0xff,
                i & 0xff
            );
            net.push_str(&format!(
                concat!(
                    r#"<GuestNicInfo xsi:type="GuestNicInfo"><network>{}</network>"#,
                    "<ipAddress>{}</ipAddress><ipAddress>{}</ipAddress>",
                    "<macAddress>{}</macAddress><connected>true</connected><deviceConfigId>{}</deviceConfigId>",
                    "<ipConfig><ipAddress><ipAddress>{}</ipAddress><prefixLength>24</prefixLength><state>preferred</state></ipAddress>",
                    "<ipAddress><ipAddress>{}</ipAddress><prefixLength>64</prefixLength><state>unknown</state></ipAddress></ipConfig>",
                    "</GuestNicInfo>"
                ),
                network,
                v4,
                v6,
                mac,
                4000 + k,
                v4,
                v6
            ));
        }
    }
    net.push_str("</val>");
    prop(&mut o, "guest.net", &net);
    prop(
        &mut o,
        "name",
        &format!(r#"<val xsi:type="xsd:string">{name}</val>"#),
    );
    prop(
        &mut o,
        "resourcePool",
        &format!(
            r#"<val type="ResourcePool" xsi:type="ManagedObjectReference">resgroup-{}</val>"#,
            9 + i % 2
        ),
    );
    prop(
        &mut o,
        "runtime.powerState",
        &format!(r#"<val xsi:type="VirtualMachinePowerState">{power}</val>"#),
    );
    o.push_str("</objects>");
    o
}

fn mor_val(kind: &str, id: &str) -> String {
    format!(r#"<val type="{kind}" xsi:type="ManagedObjectReference">{id}</val>"#)
}

fn str_val(s: &str) -> String {
    format!(r#"<val xsi:type="xsd:string">{s}</val>"#)
}

fn object(kind: &str, id: &str, props: &[(&str, String)]) -> Bytes {
    let mut o = format!(r#"<objects><obj type="{kind}">{id}</obj>"#);
    for (name, val) in props {
        prop(&mut o, name, val);
    }
    o.push_str("</objects>");
    Bytes::from(o)
}

/// The objects of the small kinds discovery reads, by the type a view was made for.
fn small_inventory() -> HashMap<String, Vec<Bytes>> {
    let mut m = HashMap::new();
    m.insert(
        "Datacenter".to_owned(),
        vec![object(
            "Datacenter",
            "datacenter-3",
            &[
                ("name", str_val("DC-Bench")),
                ("networkFolder", mor_val("Folder", "group-n5")),
                ("vmFolder", mor_val("Folder", "group-v4")),
            ],
        )],
    );
    m.insert(
        "ResourcePool".to_owned(),
        vec![
            object(
                "ResourcePool",
                "resgroup-9",
                &[
                    ("name", str_val("Resources")),
                    ("owner", mor_val("ClusterComputeResource", "domain-c7")),
                    ("parent", mor_val("ClusterComputeResource", "domain-c7")),
                ],
            ),
            object(
                "ResourcePool",
                "resgroup-10",
                &[
                    ("name", str_val("bench")),
                    ("owner", mor_val("ClusterComputeResource", "domain-c7")),
                    ("parent", mor_val("ResourcePool", "resgroup-9")),
                ],
            ),
        ],
    );
    m.insert(
        "Datastore".to_owned(),
        (11..13)
            .map(|k| {
                object(
                    "Datastore",
                    &format!("datastore-{k}"),
                    &[
                        ("name", str_val(&format!("vsanDatastore-{k}"))),
                        (
                            "summary.accessible",
                            r#"<val xsi:type="xsd:boolean">true</val>"#.to_owned(),
                        ),
                    ],
                )
            })
            .collect(),
    );
    let trunk = r#"<val xsi:type="VMwareDVSPortSetting"><vlan xsi:type="VmwareDistributedVirtualSwitchTrunkVlanSpec"><inherited>false</inherited><vlanId><start>0</start><end>4094</end></vlanId></vlan></val>"#;
    let vlan = |id: u32| {
        format!(
            r#"<val xsi:type="VMwareDVSPortSetting"><vlan xsi:type="VmwareDistributedVirtualSwitchVlanIdSpec"><inherited>false</inherited><vlanId>{id}</vlanId></vlan></val>"#
        )
    };
    let pg = |id: &str, name: &str, port: String| {
        object(
            "DistributedVirtualPortgroup",
            id,
            &[
                ("config.backingType", str_val("standard")),
                ("config.defaultPortConfig", port),
                (
                    "config.distributedVirtualSwitch",
                    mor_val("VmwareDistributedVirtualSwitch", "dvs-21"),
                ),
                (
                    "config.uplink",
                    format!(
                        r#"<val xsi:type="xsd:boolean">{}</val>"#,
                        name.contains("DVUplinks")
                    ),
                ),
                ("key", str_val(id)),
                ("name", str_val(name)),
            ],
        )
    };
    m.insert(
        "Network".to_owned(),
        vec![
            object("Network", "network-13", &[("name", str_val("VM Network"))]),
            pg("dvportgroup-22", "DSwitch-DVUplinks-21", trunk.to_owned()),
            pg("dvportgroup-23", "pg-120", vlan(120)),
            pg("dvportgroup-24", "pg-backup", vlan(130)),
        ],
    );
    m.insert(
        "DistributedVirtualSwitch".to_owned(),
        vec![object(
            "VmwareDistributedVirtualSwitch",
            "dvs-21",
            &[
                (
                    "config.uplinkPortgroup",
                    r#"<val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="DistributedVirtualPortgroup" xsi:type="ManagedObjectReference">dvportgroup-22</ManagedObjectReference></val>"#.to_owned(),
                ),
                ("name", str_val("DSwitch")),
                (
                    "uuid",
                    str_val("50 1d 8c 2a 7e 4f 3b 11-9a 6c 0e 52 d1 f7 a3 08"),
                ),
            ],
        )],
    );
    m.insert(
        "ClusterComputeResource".to_owned(),
        vec![object(
            "ClusterComputeResource",
            "domain-c7",
            &[
                (
                    "configurationEx",
                    r#"<val xsi:type="ClusterConfigInfoEx"><dasConfig><enabled>true</enabled><vmMonitoring>vmMonitoringDisabled</vmMonitoring><hostMonitoring>enabled</hostMonitoring></dasConfig><drsConfig><enabled>true</enabled><defaultVmBehavior>fullyAutomated</defaultVmBehavior><vmotionRate>3</vmotionRate></drsConfig></val>"#.to_owned(),
                ),
                (
                    "host",
                    r#"<val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="HostSystem" xsi:type="ManagedObjectReference">host-31</ManagedObjectReference><ManagedObjectReference type="HostSystem" xsi:type="ManagedObjectReference">host-32</ManagedObjectReference></val>"#.to_owned(),
                ),
                ("name", str_val("Cluster-Bench")),
                ("resourcePool", mor_val("ResourcePool", "resgroup-9")),
            ],
        )],
    );
    m
}

/// What a SOAP request asked: its method and the first text of a few elements.
#[derive(Debug, Default)]
struct SoapRequest {
    method: String,
    /// `(type attribute, text)` of the first `<obj>`.
    obj: Option<(String, String)>,
    max_objects: Option<usize>,
    /// Every `<pathSet>`.
    paths: Vec<String>,
    token: Option<String>,
    /// `<type>` elements directly under the method (CreateContainerView).
    types: Vec<String>,
    user: Option<String>,
    password: Option<String>,
}

/// Reads a SOAP request with quick-xml.
fn read_request(body: &[u8]) -> Result<SoapRequest, String> {
    let mut r = quick_xml::Reader::from_reader(body);
    let mut req = SoapRequest::default();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut obj_type = None;
    loop {
        match r.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                if stack.last().is_some_and(|p| p.as_slice() == b"Body") && req.method.is_empty() {
                    req.method = String::from_utf8_lossy(&name).into_owned();
                }
                if name == b"obj" && req.obj.is_none() {
                    obj_type = e
                        .try_get_attribute("type")
                        .ok()
                        .flatten()
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
                }
                stack.push(name);
                text.clear();
            }
            Event::Empty(e)
                if stack.last().is_some_and(|p| p.as_slice() == b"Body")
                    && req.method.is_empty() =>
            {
                req.method = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
            }
            Event::Text(t) => text.push_str(&t.unescape().map_err(|e| e.to_string())?),
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let depth = stack.len();
                match name.as_slice() {
                    b"obj" if req.obj.is_none() => {
                        req.obj = Some((obj_type.take().unwrap_or_default(), text.clone()));
                    }
                    b"maxObjects" => req.max_objects = text.trim().parse().ok(),
                    b"pathSet" => req.paths.push(text.clone()),
                    b"token" => req.token = Some(text.clone()),
                    // Envelope / Body / method / type.
                    b"type" if depth == 3 => req.types.push(text.clone()),
                    b"userName" => req.user = Some(text.clone()),
                    b"password" => req.password = Some(text.clone()),
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if req.method.is_empty() {
        return Err("no SOAP method in the request".into());
    }
    Ok(req)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A retrieval in progress: the view's object type and the next object.
struct Retrieval {
    kind: String,
    next: usize,
    page: usize,
}

/// The fake's state.
pub(crate) struct FakeVc {
    /// VMs, then templates, each rendered once.
    vms: Vec<Bytes>,
    small: HashMap<String, Vec<Bytes>>,
    /// VM id → its `list-attached-tags-on-objects` entry.
    associations: HashMap<String, Bytes>,
    tags: Vec<(String, u32, &'static str)>,
    soap_sessions: Mutex<HashSet<String>>,
    vapi_sessions: Mutex<HashSet<String>>,
    /// View id → the object type it shows.
    views: Mutex<HashMap<String, String>>,
    retrievals: Mutex<HashMap<String, Retrieval>>,
    seq: AtomicU64,
    requests: AtomicU64,
    routes: Mutex<BTreeMap<String, u64>>,
}

fn soap_answer(method: &str, inner: &[u8]) -> Response<Body> {
    let mut b = BytesMut::with_capacity(HEAD.len() + TAIL.len() + inner.len() + 96);
    b.extend_from_slice(HEAD.as_bytes());
    b.extend_from_slice(format!(r#"<{method}Response xmlns="urn:vim25">"#).as_bytes());
    b.extend_from_slice(inner);
    b.extend_from_slice(format!("</{method}Response>").as_bytes());
    b.extend_from_slice(TAIL.as_bytes());
    server::respond(200, "text/xml; charset=utf-8", b.freeze())
}

fn soap_fault(kind: &str, message: &str, detail: &str) -> Response<Body> {
    let body = format!(
        r#"{HEAD}<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>{message}</faultstring><detail><{kind}Fault xmlns="urn:vim25" xsi:type="{kind}">{detail}</{kind}Fault></detail></soapenv:Fault>{TAIL}"#
    );
    server::respond(500, "text/xml; charset=utf-8", body)
}

fn vapi_error(status: u16, kind: &str, message: &str) -> Response<Body> {
    server::json(
        status,
        json!({"error_type": kind, "messages": [{"id": "vapi.bench", "default_message": message, "args": []}]})
            .to_string(),
    )
}

impl FakeVc {
    /// A fake with `n` VMs (and [`TEMPLATES`] templates).
    pub(crate) fn new(n: usize) -> Self {
        let mut vms: Vec<Bytes> = (0..n).map(|i| Bytes::from(vm_object(i, false))).collect();
        vms.extend((0..TEMPLATES).map(|k| Bytes::from(vm_object(k, true))));
        let tags = tags();
        let associations = (0..n)
            .map(|i| {
                let ids: Vec<&str> = vm_tags(i).iter().map(|&k| tags[k].0.as_str()).collect();
                let entry = json!({"object_id": {"type": "VirtualMachine", "id": vm_id(i)}, "tag_ids": ids});
                (vm_id(i), Bytes::from(entry.to_string()))
            })
            .collect();
        FakeVc {
            vms,
            small: small_inventory(),
            associations,
            tags,
            soap_sessions: Mutex::new(HashSet::new()),
            vapi_sessions: Mutex::new(HashSet::new()),
            views: Mutex::new(HashMap::new()),
            retrievals: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            routes: Mutex::new(BTreeMap::new()),
        }
    }

    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn count(&self, route: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *lock(&self.routes).entry(route.to_owned()).or_default() += 1;
    }

    /// Counters as JSON: `requests` and `routes` (operation → count).
    pub(crate) fn stats(&self) -> Value {
        json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "routes": lock(&self.routes).clone(),
        })
    }

    /// Zeroes the counters.
    pub(crate) fn reset_counters(&self) {
        self.requests.store(0, Ordering::Relaxed);
        lock(&self.routes).clear();
    }

    fn objects_of(&self, kind: &str) -> &[Bytes] {
        match kind {
            "VirtualMachine" => &self.vms,
            other => self.small.get(other).map_or(&[], Vec::as_slice),
        }
    }

    /// A page of `kind` from `start`, with a token when more follow.
    fn page(&self, method: &str, kind: &str, start: usize, page: usize) -> Response<Body> {
        let all = self.objects_of(kind);
        let end = (start + page).min(all.len());
        let items = &all[start.min(end)..end];
        let mut inner = BytesMut::with_capacity(items.iter().map(Bytes::len).sum::<usize>() + 128);
        if !items.is_empty() {
            inner.extend_from_slice(b"<returnval>");
            if end < all.len() {
                let token = format!("{}", self.next());
                inner.extend_from_slice(format!("<token>{token}</token>").as_bytes());
                lock(&self.retrievals).insert(
                    token,
                    Retrieval {
                        kind: kind.to_owned(),
                        next: end,
                        page,
                    },
                );
            }
            for o in items {
                inner.extend_from_slice(o);
            }
            inner.extend_from_slice(b"</returnval>");
        }
        soap_answer(method, &inner)
    }

    fn soap(&self, headers: &HeaderMap, body: &[u8]) -> Response<Body> {
        let call = match read_request(body) {
            Ok(c) => c,
            Err(e) => {
                self.count("SOAP (unreadable)");
                return soap_fault("InvalidRequest", &e, "");
            }
        };
        let m = call.method.as_str();
        match m {
            "RetrieveServiceContent" => {
                self.count("SOAP RetrieveServiceContent");
                return soap_answer(
                    m,
                    concat!(
                        r#"<returnval><rootFolder type="Folder">group-d1</rootFolder>"#,
                        r#"<propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>"#,
                        r#"<viewManager type="ViewManager">ViewManager</viewManager>"#,
                        "<about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 8.0.2 build-22385739</fullName>",
                        "<vendor>VMware, Inc.</vendor><version>8.0.2</version><patchLevel></patchLevel><build>22385739</build>",
                        "<localeVersion>INTL</localeVersion><localeBuild>000</localeBuild><osType>linux-x64</osType>",
                        "<productLineId>vpx</productLineId><apiType>VirtualCenter</apiType><apiVersion>8.0.2.0</apiVersion>",
                        "<instanceUuid>5c0f1ad5-6a3e-4a52-9d8b-1c0de2f5a611</instanceUuid>",
                        "<licenseProductName>VMware VirtualCenter Server</licenseProductName><licenseProductVersion>8.0</licenseProductVersion></about>",
                        r#"<setting type="OptionManager">VpxSettings</setting><userDirectory type="UserDirectory">UserDirectory</userDirectory>"#,
                        r#"<sessionManager type="SessionManager">SessionManager</sessionManager>"#,
                        r#"<authorizationManager type="AuthorizationManager">AuthorizationManager</authorizationManager>"#,
                        r#"<searchIndex type="SearchIndex">SearchIndex</searchIndex>"#,
                        r#"<extensionManager type="ExtensionManager">ExtensionManager</extensionManager>"#,
                        r#"<vStorageObjectManager type="VcenterVStorageObjectManager">VStorageObjectManager</vStorageObjectManager>"#,
                        "</returnval>"
                    )
                    .as_bytes(),
                );
            }
            "Login" => {
                self.count("SOAP Login");
                if call.user.as_deref() != Some(USER) || call.password.as_deref() != Some(PASSWORD)
                {
                    return soap_fault(
                        "InvalidLogin",
                        "Cannot complete login due to an incorrect user name or password.",
                        "",
                    );
                }
                let id = format!("52{:06}-5ea7-4b1d-8c3e-{:012x}", self.next(), self.next());
                lock(&self.soap_sessions).insert(id.clone());
                let mut r = soap_answer(
                    m,
                    format!(
                        "<returnval><key>{id}</key><userName>{USER}</userName><fullName>Administrator vsphere.local</fullName><loginTime>2024-05-01T04:00:00.000000Z</loginTime><lastActiveTime>2024-05-01T04:00:00.000000Z</lastActiveTime><locale>en</locale><messageLocale>en</messageLocale><extensionSession>false</extensionSession><ipAddress>127.0.0.1</ipAddress><userAgent></userAgent><callCount>0</callCount></returnval>"
                    )
                    .as_bytes(),
                );
                r.headers_mut().insert(
                    SET_COOKIE,
                    HeaderValue::from_str(&format!(
                        r#"vmware_soap_session="{id}"; Path=/; HttpOnly; Secure;"#
                    ))
                    .expect("ascii"),
                );
                return r;
            }
            _ => {}
        }
        let session = headers
            .get(COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| {
                h.split(';').find_map(|c| {
                    let (k, v) = c.trim().split_once('=')?;
                    (k == "vmware_soap_session").then(|| v.trim_matches('"').to_owned())
                })
            });
        if !session
            .as_ref()
            .is_some_and(|s| lock(&self.soap_sessions).contains(s))
        {
            self.count(&format!("SOAP {m} (not authenticated)"));
            return soap_fault(
                "NotAuthenticated",
                "The session is not authenticated.",
                r#"<object type="SessionManager">SessionManager</object><privilegeId>System.View</privilegeId>"#,
            );
        }
        match m {
            "CreateContainerView" => {
                let kind = call.types.first().cloned().unwrap_or_default();
                self.count(&format!("SOAP CreateContainerView({kind})"));
                let id = format!("session[52bench]{}", self.next());
                lock(&self.views).insert(id.clone(), kind);
                soap_answer(
                    m,
                    format!(r#"<returnval type="ContainerView">{id}</returnval>"#).as_bytes(),
                )
            }
            "DestroyView" => {
                self.count("SOAP DestroyView");
                if let Some((_, id)) = &call.obj {
                    lock(&self.views).remove(id);
                }
                soap_answer(m, b"")
            }
            "RetrievePropertiesEx" => {
                let view = match &call.obj {
                    Some((t, id)) if t == "ContainerView" => lock(&self.views).get(id).cloned(),
                    _ => None,
                };
                let Some(kind) = view else {
                    self.count("SOAP RetrievePropertiesEx(unknown view)");
                    let (t, id) = call.obj.clone().unwrap_or_default();
                    return soap_fault(
                        "ManagedObjectNotFound",
                        "The object has already been deleted or has not been completely created",
                        &format!(r#"<obj type="{t}">{id}</obj>"#),
                    );
                };
                let max = call
                    .max_objects
                    .map_or_else(|| "none".to_owned(), |m| m.to_string());
                self.count(&format!(
                    "SOAP RetrievePropertiesEx({kind}, {} paths, maxObjects {max})",
                    call.paths.len()
                ));
                let page = call.max_objects.unwrap_or(DEFAULT_PAGE).max(1);
                self.page(m, &kind, 0, page)
            }
            "ContinueRetrievePropertiesEx" => {
                let token = call.token.clone().unwrap_or_default();
                let Some(r) = lock(&self.retrievals).remove(&token) else {
                    self.count("SOAP ContinueRetrievePropertiesEx(unknown token)");
                    return soap_fault(
                        "InvalidArgument",
                        "A specified parameter was not correct: token",
                        "<invalidProperty>token</invalidProperty>",
                    );
                };
                self.count(&format!("SOAP ContinueRetrievePropertiesEx({})", r.kind));
                self.page(m, &r.kind, r.next, r.page)
            }
            "Logout" => {
                self.count("SOAP Logout");
                if let Some(s) = session {
                    lock(&self.soap_sessions).remove(&s);
                }
                soap_answer(m, b"")
            }
            other => {
                self.count(&format!("SOAP {other} (not in the fake)"));
                soap_fault(
                    "MethodNotFound",
                    &format!("Method {other} not found in the bench fake"),
                    "",
                )
            }
        }
    }

    fn vapi(&self, headers: &HeaderMap, route: &str, body: &[u8]) -> Response<Body> {
        if route == "POST /api/session" {
            self.count("vAPI POST /api/session");
            use base64::Engine as _;
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
            );
            let got = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
            if got != Some(want.as_str()) {
                return vapi_error(401, "UNAUTHENTICATED", "Authentication required.");
            }
            let id = format!("{:032x}", u128::from(self.next()) * 0x9E37_79B9_7F4A_7C15);
            lock(&self.vapi_sessions).insert(id.clone());
            return server::json(201, format!("\"{id}\""));
        }
        let authed = headers
            .get("vmware-api-session-id")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|s| lock(&self.vapi_sessions).contains(s));
        if !authed {
            self.count("vAPI (not authenticated)");
            return vapi_error(
                401,
                "UNAUTHENTICATED",
                "This method requires authentication.",
            );
        }
        const CATEGORY: &str = "GET /api/cis/tagging/category/";
        const TAG: &str = "GET /api/cis/tagging/tag/";
        match route {
            "GET /api/cis/tagging/category" => {
                self.count("vAPI GET /api/cis/tagging/category");
                server::json(200, json!([category_id(0), category_id(1)]).to_string())
            }
            r if r.starts_with(CATEGORY) => {
                self.count("vAPI GET /api/cis/tagging/category/{id}");
                let id = &r[CATEGORY.len()..];
                let name = match (0..2).find(|&k| category_id(k) == id) {
                    Some(0) => "ops",
                    Some(_) => TAG_CATEGORY,
                    None => return vapi_error(404, "NOT_FOUND", "category not found"),
                };
                server::json(
                    200,
                    json!({"id": id, "name": name, "description": "", "cardinality": "MULTIPLE",
                           "associable_types": ["VirtualMachine"], "used_by": []})
                    .to_string(),
                )
            }
            "POST /api/cis/tagging/tag?action=list-tags-for-category" => {
                self.count("vAPI POST /api/cis/tagging/tag?action=list-tags-for-category");
                let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let want = doc.get("category_id").and_then(Value::as_str).unwrap_or("");
                let ids: Vec<&str> = self
                    .tags
                    .iter()
                    .filter(|(_, cat, _)| category_id(*cat) == want)
                    .map(|(id, _, _)| id.as_str())
                    .collect();
                server::json(200, json!(ids).to_string())
            }
            r if r.starts_with(TAG) => {
                self.count("vAPI GET /api/cis/tagging/tag/{id}");
                let id = &r[TAG.len()..];
                match self.tags.iter().find(|(t, _, _)| t == id) {
                    Some((id, cat, name)) => server::json(
                        200,
                        json!({"id": id, "category_id": category_id(*cat), "name": name,
                               "description": "", "used_by": []})
                        .to_string(),
                    ),
                    None => vapi_error(404, "NOT_FOUND", "tag not found"),
                }
            }
            "POST /api/cis/tagging/tag-association?action=list-attached-tags-on-objects" => {
                self.count("vAPI POST /api/cis/tagging/tag-association?action=list-attached-tags-on-objects");
                let doc: Value = match serde_json::from_slice(body) {
                    Ok(d) => d,
                    Err(_) => return vapi_error(400, "INVALID_ARGUMENT", "not JSON"),
                };
                let mut out = BytesMut::with_capacity(16 * 1024);
                out.extend_from_slice(b"[");
                let mut first = true;
                for o in doc
                    .get("object_ids")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
                {
                    let id = o.get("id").and_then(Value::as_str).unwrap_or("");
                    if let Some(entry) = self.associations.get(id) {
                        if !first {
                            out.extend_from_slice(b",");
                        }
                        first = false;
                        out.extend_from_slice(entry);
                    }
                }
                out.extend_from_slice(b"]");
                server::json(200, out.freeze())
            }
            "DELETE /api/session" => {
                self.count("vAPI DELETE /api/session");
                server::empty(204)
            }
            other => {
                self.count(&format!("vAPI {other} (not in the fake)"));
                vapi_error(404, "NOT_FOUND", "not in the bench fake")
            }
        }
    }
}

impl Handler for FakeVc {
    fn handle(self: Arc<Self>, req: Request<Incoming>) -> Reply {
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            let m = req.method().clone();
            match (&m, path.as_str()) {
                (&Method::GET, "/_bench/stats") => {
                    return server::json(200, self.stats().to_string())
                }
                (&Method::POST, "/_bench/reset") => {
                    self.reset_counters();
                    return server::empty(204);
                }
                _ => {}
            }
            let route = match req.uri().query() {
                Some(q) => format!("{m} {path}?{q}"),
                None => format!("{m} {path}"),
            };
            let headers = req.headers().clone();
            let body = server::read_body(req).await;
            if path == "/sdk" && m == Method::POST {
                self.soap(&headers, &body)
            } else if path.starts_with("/api/") {
                self.vapi(&headers, &route, &body)
            } else {
                self.count("unknown");
                server::empty(404)
            }
        })
    }
}

/// Starts the fake on 127.0.0.1 with `n` VMs and `latency` per request.
pub(crate) async fn start(
    n: usize,
    latency: Duration,
) -> std::io::Result<(server::Running, Arc<FakeVc>)> {
    let fake = Arc::new(FakeVc::new(n));
    let running = server::serve(fake.clone(), 0, latency).await?;
    Ok((running, fake))
}

/// `e2e serve vsphere [--servers N] [--latency-ms MS]`: serves the fake, prints
/// `LISTEN <url>`, and stops when standard input closes.
pub(crate) fn serve_main(args: &[String]) -> Result<(), String> {
    let n: usize = crate::procs::flag(args, "--servers").unwrap_or(0);
    let latency = Duration::from_millis(crate::procs::flag(args, "--latency-ms").unwrap_or(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let (running, _fake) = start(n, latency).await.map_err(|e| e.to_string())?;
        println!("LISTEN {}", running.url());
        // Until the parent closes our standard input.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .map_err(|e| e.to_string())?;
        drop(running);
        Ok(())
    })
}
