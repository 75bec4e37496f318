//! The vSphere baseline: what a competent hand-written client does with reqwest and
//! quick-xml's event reader against the same vCenter, making the same requests as
//! hybrid-vsphere, in the same order, with the same caching:
//!
//! - connect: `RetrieveServiceContent`, `Login` (the session cookie kept by hand, as
//!   hybrid does), the datacenter through a ContainerView (destroyed after), then a
//!   ContainerView and a paged `RetrievePropertiesEx` for each kind hybrid discovers
//!   (resource pools, datastores, networks, distributed switches, clusters), then the
//!   vAPI session (`POST /api/session`);
//! - listing: a ContainerView of VMs (made once per session), `RetrievePropertiesEx`
//!   with `maxObjects`, then `ContinueRetrievePropertiesEx` with each token; per page
//!   the page's server tags in one `list-attached-tags-on-objects` call, the tag
//!   category found once (categories listed and read in order until it is found) and
//!   the category's tag names read when an unknown tag id shows up.
//!
//! Each VM's properties are decoded from the body bytes into an owned struct (the
//! same properties hybrid reads: name, template flag, CPUs, memory, guest id, creation
//! date, power state, guest NICs with their addresses, resource pool, datastores).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use bytes::Bytes;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use serde::Deserialize;
use serde_json::json;

/// Properties read for a VM (hybrid-vsphere's `VM_PATHS`).
pub(crate) const VM_PATHS: &[&str] = &[
    "name",
    "config.template",
    "config.hardware.numCPU",
    "config.hardware.memoryMB",
    "config.guestId",
    "config.createDate",
    "runtime.powerState",
    "guest.net",
    "resourcePool",
    "datastore",
];

/// Object types and the paths read of each, as `RetrievePropertiesEx` takes them.
type Specs<'a> = &'a [(&'a str, &'a [&'a str])];

/// What discovery reads, per view type: `(view type, specs)`, in hybrid-vsphere's order.
const DISCOVERY: &[(&str, Specs<'static>)] = &[
    (
        "ResourcePool",
        &[("ResourcePool", &["name", "owner", "parent"])],
    ),
    (
        "Datastore",
        &[("Datastore", &["name", "summary.accessible"])],
    ),
    (
        "Network",
        &[
            ("Network", &["name"]),
            (
                "DistributedVirtualPortgroup",
                &[
                    "key",
                    "config.defaultPortConfig",
                    "config.logicalSwitchUuid",
                    "config.backingType",
                    "config.distributedVirtualSwitch",
                    "config.uplink",
                    "tag",
                ],
            ),
            (
                "OpaqueNetwork",
                &["summary.opaqueNetworkType", "summary.opaqueNetworkId"],
            ),
        ],
    ),
    (
        "DistributedVirtualSwitch",
        &[(
            "DistributedVirtualSwitch",
            &["name", "uuid", "config.uplinkPortgroup"],
        )],
    ),
    (
        "ClusterComputeResource",
        &[(
            "ClusterComputeResource",
            &["name", "host", "configurationEx", "resourcePool"],
        )],
    ),
];

/// The size catalogue (hybrid-vsphere's default flavors): `(vCPUs, MiB, id)`.
const FLAVORS: &[(u32, u64, &str)] = &[
    (1, 2048, "vm-1cpu-2gb"),
    (2, 4096, "vm-2cpu-4gb"),
    (4, 16384, "vm-4cpu-16gb"),
    (16, 262_144, "vm-16cpu-256gb"),
];

const HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
    r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#
);
const TAIL: &str = "</soapenv:Body></soapenv:Envelope>";

/// A guest NIC.
#[derive(Debug, Default, Clone)]
pub(crate) struct RawNic {
    pub(crate) network: String,
    pub(crate) ips: Vec<String>,
}

/// A VM's properties.
#[derive(Debug, Default, Clone)]
#[allow(dead_code)] // decoded as a real client would; not every field is read
pub(crate) struct RawVm {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) template: bool,
    pub(crate) cpus: Option<u32>,
    pub(crate) mem: Option<u64>,
    pub(crate) guest_id: Option<String>,
    pub(crate) created: Option<String>,
    pub(crate) power: Option<String>,
    pub(crate) nics: Vec<RawNic>,
    pub(crate) pool: Option<String>,
    pub(crate) datastores: Vec<String>,
}

impl RawVm {
    /// The state as hybrid's core names it.
    pub(crate) fn status(&self) -> &str {
        match self.power.as_deref() {
            Some("poweredOn") => "ACTIVE",
            Some("poweredOff") => "SHUTOFF",
            Some("suspended") => "SUSPENDED",
            Some(other) => other,
            None => "unknown",
        }
    }

    /// The flavor id of its size, or `""`.
    pub(crate) fn flavor(&self) -> &'static str {
        match (self.cpus, self.mem) {
            (Some(c), Some(m)) => FLAVORS
                .iter()
                .find(|f| f.0 == c && f.1 == m)
                .map_or("", |f| f.2),
            _ => "",
        }
    }

    /// Its first non-empty address.
    pub(crate) fn first_address(&self) -> &str {
        self.nics
            .iter()
            .flat_map(|n| n.ips.iter())
            .map(|a| a.trim())
            .find(|a| !a.is_empty())
            .unwrap_or("")
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tag {
    Returnval,
    Objects,
    Obj,
    PropSet,
    Name,
    Val,
    Nic,
    Network,
    Ip,
    Mor,
    Token,
    FaultString,
    Other,
}

fn tag_of(name: &[u8]) -> Tag {
    match name {
        b"returnval" => Tag::Returnval,
        b"objects" => Tag::Objects,
        b"obj" => Tag::Obj,
        b"propSet" => Tag::PropSet,
        b"name" => Tag::Name,
        b"val" => Tag::Val,
        b"GuestNicInfo" => Tag::Nic,
        b"network" => Tag::Network,
        b"ipAddress" => Tag::Ip,
        b"ManagedObjectReference" => Tag::Mor,
        b"token" => Tag::Token,
        b"faultstring" => Tag::FaultString,
        _ => Tag::Other,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Prop {
    Name,
    Template,
    Cpus,
    Mem,
    GuestId,
    Created,
    Power,
    GuestNet,
    Pool,
    Datastore,
    Other,
}

fn prop_of(name: &str) -> Prop {
    match name {
        "name" => Prop::Name,
        "config.template" => Prop::Template,
        "config.hardware.numCPU" => Prop::Cpus,
        "config.hardware.memoryMB" => Prop::Mem,
        "config.guestId" => Prop::GuestId,
        "config.createDate" => Prop::Created,
        "runtime.powerState" => Prop::Power,
        "guest.net" => Prop::GuestNet,
        "resourcePool" => Prop::Pool,
        "datastore" => Prop::Datastore,
        _ => Prop::Other,
    }
}

/// One page of VMs and the token of the next, decoded from a `RetrievePropertiesEx`
/// or `ContinueRetrievePropertiesEx` answer.
#[derive(Default)]
struct VmPage {
    vms: Vec<RawVm>,
    token: Option<String>,
    vm: RawVm,
    nic: RawNic,
    prop: Option<Prop>,
}

impl VmPage {
    fn end(&mut self, t: Tag, parent: Option<Tag>, text: &mut String) -> Result<(), String> {
        match (t, parent) {
            (Tag::Obj, Some(Tag::Objects)) => self.vm.id = std::mem::take(text),
            (Tag::Name, Some(Tag::PropSet)) => self.prop = Some(prop_of(text)),
            (Tag::Val, Some(Tag::PropSet)) => {
                let v = std::mem::take(text);
                match self.prop {
                    Some(Prop::Name) => self.vm.name = v,
                    Some(Prop::Template) => self.vm.template = v.trim() == "true",
                    Some(Prop::Cpus) => {
                        self.vm.cpus = Some(v.trim().parse().map_err(|e| format!("numCPU: {e}"))?)
                    }
                    Some(Prop::Mem) => {
                        self.vm.mem = Some(v.trim().parse().map_err(|e| format!("memoryMB: {e}"))?)
                    }
                    Some(Prop::GuestId) => self.vm.guest_id = Some(v),
                    Some(Prop::Created) => self.vm.created = Some(v),
                    Some(Prop::Power) => self.vm.power = Some(v),
                    Some(Prop::Pool) => self.vm.pool = Some(v.trim().to_owned()),
                    _ => {}
                }
            }
            (Tag::Network, Some(Tag::Nic)) => self.nic.network = std::mem::take(text),
            (Tag::Ip, Some(Tag::Nic)) => self.nic.ips.push(std::mem::take(text)),
            (Tag::Nic, Some(Tag::Val)) if self.prop == Some(Prop::GuestNet) => {
                self.vm.nics.push(std::mem::take(&mut self.nic));
            }
            (Tag::Mor, Some(Tag::Val)) if self.prop == Some(Prop::Datastore) => {
                self.vm.datastores.push(text.trim().to_owned());
            }
            (Tag::Objects, _) => self.vms.push(std::mem::take(&mut self.vm)),
            (Tag::Token, Some(Tag::Returnval)) => {
                let t = text.trim();
                if !t.is_empty() {
                    self.token = Some(t.to_owned());
                }
            }
            _ => {}
        }
        text.clear();
        Ok(())
    }
}

/// Decodes a page of VMs.
fn parse_vm_page(body: &[u8]) -> Result<(Vec<RawVm>, Option<String>), String> {
    let mut r = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Tag> = Vec::with_capacity(16);
    let mut text = String::new();
    let mut page = VmPage::default();
    loop {
        match r.read_event().map_err(err)? {
            Event::Start(e) => {
                let t = tag_of(e.local_name().as_ref());
                match t {
                    Tag::Objects => page.vm = RawVm::default(),
                    Tag::PropSet => page.prop = None,
                    Tag::Nic => page.nic = RawNic::default(),
                    _ => {}
                }
                stack.push(t);
                text.clear();
            }
            Event::Empty(e) => {
                text.clear();
                let t = tag_of(e.local_name().as_ref());
                page.end(t, stack.last().copied(), &mut text)?;
            }
            Event::Text(x) => text.push_str(&x.unescape().map_err(err)?),
            Event::End(_) => {
                let t = stack.pop().unwrap_or(Tag::Other);
                page.end(t, stack.last().copied(), &mut text)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((page.vms, page.token))
}

/// An object of any kind: its id and its simple properties' texts.
#[derive(Debug, Default)]
struct Object {
    id: String,
    props: Vec<(String, String)>,
}

/// Decodes a page of objects of any kind (discovery).
fn parse_objects(body: &[u8]) -> Result<(Vec<Object>, Option<String>), String> {
    let mut r = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Tag> = Vec::with_capacity(16);
    let mut text = String::new();
    let (mut out, mut token) = (Vec::new(), None);
    let (mut obj, mut name) = (Object::default(), String::new());
    loop {
        let (t, parent) = match r.read_event().map_err(err)? {
            Event::Start(e) => {
                stack.push(tag_of(e.local_name().as_ref()));
                text.clear();
                continue;
            }
            Event::Text(x) => {
                text.push_str(&x.unescape().map_err(err)?);
                continue;
            }
            Event::Empty(e) => {
                text.clear();
                (tag_of(e.local_name().as_ref()), stack.last().copied())
            }
            Event::End(_) => {
                let t = stack.pop().unwrap_or(Tag::Other);
                (t, stack.last().copied())
            }
            Event::Eof => break,
            _ => continue,
        };
        match (t, parent) {
            (Tag::Obj, Some(Tag::Objects)) => obj.id = std::mem::take(&mut text),
            (Tag::Name, Some(Tag::PropSet)) => name = std::mem::take(&mut text),
            (Tag::Val, Some(Tag::PropSet)) => obj
                .props
                .push((std::mem::take(&mut name), std::mem::take(&mut text))),
            (Tag::Objects, _) => out.push(std::mem::take(&mut obj)),
            (Tag::Token, Some(Tag::Returnval)) => {
                token = Some(text.trim().to_owned()).filter(|t| !t.is_empty())
            }
            _ => {}
        }
        text.clear();
    }
    Ok((out, token))
}

/// The first text of each element named in `names` (local names), anywhere.
fn first_texts(body: &[u8], names: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut r = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut out = HashMap::new();
    loop {
        match r.read_event().map_err(err)? {
            Event::Start(e) => {
                stack.push(e.local_name().as_ref().to_vec());
                text.clear();
            }
            Event::Text(x) => text.push_str(&x.unescape().map_err(err)?),
            Event::End(_) => {
                let name = String::from_utf8_lossy(&stack.pop().unwrap_or_default()).into_owned();
                if names.contains(&name.as_str()) && !out.contains_key(&name) {
                    out.insert(name, std::mem::take(&mut text));
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn envelope(method: &str, inner: &str) -> String {
    format!(r#"{HEAD}<{method} xmlns="urn:vim25">{inner}</{method}>{TAIL}"#)
}

fn mor(element: &str, kind: &str, id: &str) -> String {
    format!(r#"<{element} type="{kind}">{}</{element}>"#, escape(id))
}

#[derive(Deserialize)]
struct ObjectToTags {
    object_id: DynamicId,
    #[serde(default)]
    tag_ids: Vec<String>,
}

#[derive(Deserialize)]
struct DynamicId {
    id: String,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    name: String,
}

#[derive(Default)]
struct TagCache {
    category: Option<String>,
    names: HashMap<String, String>,
    foreign: HashSet<String>,
}

/// A logged-in raw vCenter client.
pub(crate) struct RawVc {
    http: reqwest::Client,
    sdk: String,
    base: String,
    version: String,
    cookie: String,
    vapi_session: String,
    pc: String,
    view_manager: String,
    datacenter: String,
    page: u32,
    vm_view: Mutex<Option<String>>,
    tags: Mutex<TagCache>,
}

impl RawVc {
    /// Sends one SOAP call and returns the answer's body; a fault is an error.
    async fn soap(&self, method: &str, inner: &str) -> Result<Bytes, String> {
        send_soap(
            &self.http,
            &self.sdk,
            &self.version,
            Some(&self.cookie),
            method,
            inner,
        )
        .await
        .map(|(b, _)| b)
    }

    /// Connects as hybrid-vsphere does (see the module documentation); `page` is the
    /// `maxObjects` of every paged read.
    pub(crate) async fn connect(
        url: &str,
        user: &str,
        password: &str,
        page: u32,
    ) -> Result<RawVc, String> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .build()
            .map_err(err)?;
        let sdk = format!("{url}/sdk");
        let (sc, _) = send_soap(
            &http,
            &sdk,
            "6.5",
            None,
            "RetrieveServiceContent",
            r#"<_this type="ServiceInstance">ServiceInstance</_this>"#,
        )
        .await?;
        let sc = first_texts(
            &sc,
            &[
                "rootFolder",
                "propertyCollector",
                "viewManager",
                "sessionManager",
                "apiType",
                "apiVersion",
            ],
        )?;
        let get = |k: &str| {
            sc.get(k)
                .cloned()
                .ok_or_else(|| format!("ServiceContent has no {k}"))
        };
        if get("apiType")? != "VirtualCenter" {
            return Err("not a vCenter".into());
        }
        let version = get("apiVersion")?;
        let login = format!(
            "{}<userName>{}</userName><password>{}</password>",
            mor("_this", "SessionManager", &get("sessionManager")?),
            escape(user),
            escape(password)
        );
        let (_, cookie) = send_soap(&http, &sdk, &version, None, "Login", &login).await?;
        let cookie = cookie.ok_or("Login set no vmware_soap_session cookie")?;
        let mut vc = RawVc {
            http,
            sdk,
            base: url.to_owned(),
            version,
            cookie: format!("vmware_soap_session={cookie}"),
            vapi_session: String::new(),
            pc: get("propertyCollector")?,
            view_manager: get("viewManager")?,
            datacenter: String::new(),
            page,
            vm_view: Mutex::new(None),
            tags: Mutex::new(TagCache::default()),
        };
        // The datacenter, through a view destroyed after.
        let root = get("rootFolder")?;
        let view = vc.create_view("Folder", &root, "Datacenter").await?;
        let dc_specs: Specs<'_> = &[("Datacenter", &["name", "vmFolder", "networkFolder"])];
        let body = vc
            .soap("RetrievePropertiesEx", &vc.rpex(&view, dc_specs, None))
            .await?;
        let (dcs, _) = parse_objects(&body)?;
        let dc = dcs.first().ok_or("the vCenter has no datacenter")?;
        if !dc.props.iter().any(|(k, _)| k == "vmFolder") {
            return Err("the datacenter has no vmFolder".into());
        }
        vc.datacenter = dc.id.clone();
        vc.soap("DestroyView", &mor("_this", "ContainerView", &view))
            .await?;
        // The kinds discovery reads (placement defaults, NSX, switches, clusters).
        for (kind, specs) in DISCOVERY {
            let view = vc.create_view("Datacenter", &vc.datacenter, kind).await?;
            let mut body = vc
                .soap(
                    "RetrievePropertiesEx",
                    &vc.rpex(&view, specs, Some(vc.page)),
                )
                .await?;
            loop {
                let (objs, token) = parse_objects(&body)?;
                std::hint::black_box(objs);
                match token {
                    Some(t) => body = vc.continue_rpex(&t).await?,
                    None => break,
                }
            }
        }
        vc.vapi_session = vc.vapi_login(user, password).await?;
        Ok(vc)
    }

    async fn create_view(
        &self,
        container_kind: &str,
        container: &str,
        kind: &str,
    ) -> Result<String, String> {
        let inner = format!(
            "{}{}<type>{kind}</type><recursive>true</recursive>",
            mor("_this", "ViewManager", &self.view_manager),
            mor("container", container_kind, container),
        );
        let body = self.soap("CreateContainerView", &inner).await?;
        first_texts(&body, &["returnval"])?
            .remove("returnval")
            .ok_or_else(|| "CreateContainerView returned no view".into())
    }

    fn rpex(&self, view: &str, specs: Specs<'_>, max: Option<u32>) -> String {
        let mut s = mor("_this", "PropertyCollector", &self.pc);
        s.push_str("<specSet>");
        for (kind, paths) in specs {
            s.push_str("<propSet><type>");
            s.push_str(kind);
            s.push_str("</type>");
            for p in *paths {
                s.push_str("<pathSet>");
                s.push_str(p);
                s.push_str("</pathSet>");
            }
            s.push_str("</propSet>");
        }
        s.push_str("<objectSet>");
        s.push_str(&mor("obj", "ContainerView", view));
        s.push_str(concat!(
            "<skip>true</skip>",
            r#"<selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip></selectSet>"#,
            "</objectSet></specSet><options>"
        ));
        if let Some(m) = max {
            s.push_str(&format!("<maxObjects>{m}</maxObjects>"));
        }
        s.push_str("</options>");
        s
    }

    async fn continue_rpex(&self, token: &str) -> Result<Bytes, String> {
        let inner = format!(
            "{}<token>{}</token>",
            mor("_this", "PropertyCollector", &self.pc),
            escape(token)
        );
        self.soap("ContinueRetrievePropertiesEx", &inner).await
    }

    async fn vapi_login(&self, user: &str, password: &str) -> Result<String, String> {
        let r = self
            .http
            .post(format!("{}/api/session", self.base))
            .basic_auth(user, Some(password))
            .header("vmware-use-header-authn", "true")
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        serde_json::from_slice(&r.bytes().await.map_err(err)?).map_err(err)
    }

    async fn vapi<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, String> {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("vmware-api-session-id", &self.vapi_session)
            .header("Accept", "application/json");
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?;
        serde_json::from_slice(&r.bytes().await.map_err(err)?).map_err(err)
    }

    /// The id of the server-tag category `category`, found once.
    async fn category(&self, category: &str) -> Result<Option<String>, String> {
        if let Some(c) = &self.tags.lock().map_err(err)?.category {
            return Ok(Some(c.clone()));
        }
        let ids: Vec<String> = self
            .vapi(reqwest::Method::GET, "/api/cis/tagging/category", None)
            .await?;
        for id in ids {
            let c: Named = self
                .vapi(
                    reqwest::Method::GET,
                    &format!("/api/cis/tagging/category/{id}"),
                    None,
                )
                .await?;
            if c.name == category {
                self.tags.lock().map_err(err)?.category = Some(c.id.clone());
                return Ok(Some(c.id));
            }
        }
        Ok(None)
    }

    /// Re-reads the names of the category's tags (only the unknown ones one by one).
    async fn refresh_tag_names(&self, category: &str) -> Result<(), String> {
        let ids: Vec<String> = self
            .vapi(
                reqwest::Method::POST,
                "/api/cis/tagging/tag?action=list-tags-for-category",
                Some(json!({ "category_id": category })),
            )
            .await?;
        let known = self.tags.lock().map_err(err)?.names.clone();
        let mut names = HashMap::new();
        for id in ids {
            if let Some(n) = known.get(&id) {
                names.insert(id, n.clone());
                continue;
            }
            let t: Named = self
                .vapi(
                    reqwest::Method::GET,
                    &format!("/api/cis/tagging/tag/{id}"),
                    None,
                )
                .await?;
            names.insert(t.id, t.name);
        }
        let mut cache = self.tags.lock().map_err(err)?;
        cache.names = names;
        cache.foreign.clear();
        Ok(())
    }

    /// The server tags (names in `category`, sorted) of VMs `ids`, in one call.
    async fn server_tags(
        &self,
        category: &str,
        ids: &[&str],
    ) -> Result<HashMap<String, Vec<String>>, String> {
        let Some(cat) = self.category(category).await? else {
            return Ok(HashMap::new());
        };
        let objects: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| json!({"type": "VirtualMachine", "id": id}))
            .collect();
        let attached: Vec<ObjectToTags> = self
            .vapi(
                reqwest::Method::POST,
                "/api/cis/tagging/tag-association?action=list-attached-tags-on-objects",
                Some(json!({ "object_ids": objects })),
            )
            .await?;
        let unknown = {
            let c = self.tags.lock().map_err(err)?;
            attached
                .iter()
                .flat_map(|a| &a.tag_ids)
                .any(|t| !c.names.contains_key(t) && !c.foreign.contains(t))
        };
        if unknown {
            self.refresh_tag_names(&cat).await?;
        }
        let mut c = self.tags.lock().map_err(err)?;
        let mut out = HashMap::with_capacity(attached.len());
        for a in attached {
            let mut names = Vec::with_capacity(a.tag_ids.len());
            for t in a.tag_ids {
                match c.names.get(&t) {
                    Some(n) => names.push(n.clone()),
                    None => {
                        c.foreign.insert(t);
                    }
                }
            }
            names.sort();
            names.dedup();
            out.insert(a.object_id.id, names);
        }
        Ok(out)
    }

    /// Every VM that is not a template, page by page, each handed to `each` with its
    /// server tags (in `category`) as soon as its page is read. Returns the count.
    pub(crate) async fn list_servers(
        &self,
        category: &str,
        mut each: impl FnMut(&RawVm, &[String]),
    ) -> Result<usize, String> {
        let view = self.vm_view.lock().map_err(err)?.clone();
        let view = match view {
            Some(v) => v,
            None => {
                let v = self
                    .create_view("Datacenter", &self.datacenter, "VirtualMachine")
                    .await?;
                *self.vm_view.lock().map_err(err)? = Some(v.clone());
                v
            }
        };
        let specs: Specs<'_> = &[("VirtualMachine", VM_PATHS)];
        let mut body = self
            .soap(
                "RetrievePropertiesEx",
                &self.rpex(&view, specs, Some(self.page)),
            )
            .await?;
        let mut n = 0;
        loop {
            let (vms, token) = parse_vm_page(&body)?;
            let servers: Vec<&RawVm> = vms.iter().filter(|v| !v.template).collect();
            let mut tags = if servers.is_empty() {
                HashMap::new()
            } else {
                let ids: Vec<&str> = servers.iter().map(|v| v.id.as_str()).collect();
                self.server_tags(category, &ids).await?
            };
            for v in servers {
                let t = tags.remove(&v.id).unwrap_or_default();
                each(v, &t);
                n += 1;
            }
            match token {
                Some(t) => body = self.continue_rpex(&t).await?,
                None => return Ok(n),
            }
        }
    }
}

/// One SOAP call: the body, and the session cookie the answer set (its value).
async fn send_soap(
    http: &reqwest::Client,
    sdk: &str,
    version: &str,
    cookie: Option<&str>,
    method: &str,
    inner: &str,
) -> Result<(Bytes, Option<String>), String> {
    let mut rb = http
        .post(sdk)
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", format!("urn:vim25/{version}"))
        .body(envelope(method, inner));
    if let Some(c) = cookie {
        rb = rb.header("Cookie", c);
    }
    let resp = rb.send().await.map_err(err)?;
    let status = resp.status();
    let set = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| {
            let (k, v) = h.split(';').next()?.split_once('=')?;
            (k.trim() == "vmware_soap_session").then(|| v.trim().to_owned())
        });
    let body = resp.bytes().await.map_err(err)?;
    if !status.is_success() {
        let fault = first_texts(&body, &["faultstring"])
            .ok()
            .and_then(|mut m| m.remove("faultstring"))
            .unwrap_or_default();
        return Err(format!("{method}: HTTP {status}: {fault}"));
    }
    Ok((body, set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vm_page_decodes_every_property_and_the_token() {
        let body = br#"<Envelope><Body><RetrievePropertiesExResponse><returnval><token>7</token>
          <objects><obj type="VirtualMachine">vm-1</obj>
            <propSet><name>config.hardware.numCPU</name><val>2</val></propSet>
            <propSet><name>config.hardware.memoryMB</name><val>4096</val></propSet>
            <propSet><name>config.template</name><val>false</val></propSet>
            <propSet><name>datastore</name><val><ManagedObjectReference type="Datastore">ds-1</ManagedObjectReference></val></propSet>
            <propSet><name>guest.net</name><val><GuestNicInfo><network>VM Network</network><ipAddress>10.0.0.1</ipAddress>
              <ipConfig><ipAddress><ipAddress>10.9.9.9</ipAddress></ipAddress></ipConfig></GuestNicInfo></val></propSet>
            <propSet><name>name</name><val>a &amp; b</val></propSet>
            <propSet><name>resourcePool</name><val type="ResourcePool">resgroup-9</val></propSet>
            <propSet><name>runtime.powerState</name><val>poweredOn</val></propSet>
          </objects>
          <objects><obj type="VirtualMachine">vm-2</obj><propSet><name>guest.net</name><val/></propSet>
            <propSet><name>runtime.powerState</name><val>poweredOff</val></propSet></objects>
        </returnval></RetrievePropertiesExResponse></Body></Envelope>"#;
        let (vms, token) = parse_vm_page(body).unwrap();
        assert_eq!(token.as_deref(), Some("7"));
        assert_eq!(vms.len(), 2);
        let v = &vms[0];
        assert_eq!((v.id.as_str(), v.name.as_str()), ("vm-1", "a & b"));
        assert_eq!((v.cpus, v.mem, v.template), (Some(2), Some(4096), false));
        assert_eq!(v.flavor(), "vm-2cpu-4gb");
        assert_eq!(v.status(), "ACTIVE");
        assert_eq!(v.nics.len(), 1);
        assert_eq!(
            v.nics[0].ips,
            vec!["10.0.0.1".to_owned()],
            "ipConfig is not a NIC address"
        );
        assert_eq!(v.first_address(), "10.0.0.1");
        assert_eq!(v.datastores, vec!["ds-1".to_owned()]);
        assert_eq!(v.pool.as_deref(), Some("resgroup-9"));
        assert_eq!(
            (vms[1].status(), vms[1].first_address(), vms[1].flavor()),
            ("SHUTOFF", "", "")
        );
        assert!(parse_vm_page(b"<objects><obj>vm-3</obj><propSet><name>config.hardware.numCPU</name><val>two</val></propSet></objects>").is_err());
    }
}
