//! Nova (compute v2.1) at `/compute`: servers and their actions, tags, metadata and
//! volume attachments; flavors; key pairs; hypervisors; availability zones.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use http::Method;
use serde_json::{json, Map, Value};

use crate::config::{Config, FlavorSpec};
use crate::http::{member, ApiError, Resp, R};
use crate::service::{authenticate, App, Req};
use crate::util::{base64_decode, base64_encode, iso, iso_micro, now_secs, Query};
use crate::world::{Pending, World};
use crate::{cinder, digest, glance, neutron};

/// A microversion.
pub(crate) type Mv = (u32, u32);

const MIN_MV: Mv = (2, 1);

/// Parses `X.Y`.
pub(crate) fn parse_mv(s: &str) -> Option<Mv> {
    let (a, b) = s.trim().split_once('.')?;
    if a.is_empty() || b.is_empty() || !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The microversion a request asks for: `OpenStack-API-Version: <service> X.Y`, then
/// the legacy header, else the minimum.
pub(crate) fn negotiate(
    req: &Req,
    service: &str,
    legacy: Option<&str>,
    min: Mv,
    max: Mv,
) -> Result<Mv, ApiError> {
    let mut asked: Option<String> = None;
    if let Some(h) = req.header("openstack-api-version") {
        for part in h.split(',') {
            let mut it = part.split_whitespace();
            if it.next().is_some_and(|s| s.eq_ignore_ascii_case(service)) {
                asked = it.next().map(str::to_owned);
            }
        }
    }
    if asked.is_none() {
        if let Some(l) = legacy {
            asked = req.header(l).map(str::to_owned);
        }
    }
    let Some(asked) = asked else { return Ok(min) };
    if asked.eq_ignore_ascii_case("latest") {
        return Ok(max);
    }
    let v = parse_mv(&asked).ok_or_else(|| {
        ApiError::bad(format!(
            "API Version String {asked} is of invalid format. Must be of format MajorNum.MinorNum."
        ))
    })?;
    if v < min || v > max {
        return Err(ApiError::new(
            406,
            format!(
                "Version {}.{} is not supported by the API. Minimum is {}.{} and maximum is {}.{}.",
                v.0, v.1, min.0, min.1, max.0, max.1
            ),
        ));
    }
    Ok(v)
}

/// A key pair.
#[derive(Debug, Clone)]
struct Keypair {
    id: u64,
    name: String,
    public_key: String,
    fingerprint: String,
    kind: String,
    created: i64,
}

/// A volume attached to a server.
#[derive(Debug, Clone)]
pub(crate) struct ServerVolume {
    pub(crate) volume_id: String,
    pub(crate) device: String,
    pub(crate) tag: Option<String>,
    pub(crate) delete_on_termination: bool,
    pub(crate) attachment_id: String,
    pub(crate) bdm_uuid: String,
}

/// Where a server's transition leads.
#[derive(Debug, Clone)]
enum Next {
    Active,
    Shutoff,
    VerifyResize(Arc<FlavorSpec>),
    Reverted,
    Error(String),
    Gone,
}

/// A server.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    pub(crate) id: String,
    seq: u64,
    name: String,
    status: &'static str,
    vm_state: &'static str,
    power_state: u8,
    task_state: Option<&'static str>,
    pending: Option<Pending<Next>>,
    flavor: Arc<FlavorSpec>,
    old_flavor: Option<Arc<FlavorSpec>>,
    image_id: Option<String>,
    created: i64,
    updated: i64,
    launched: Option<i64>,
    metadata: BTreeMap<String, String>,
    tags: Vec<String>,
    key_name: Option<String>,
    security_groups: Vec<String>,
    /// Neutron ports: (id, created by Nova).
    pub(crate) ports: Vec<(String, bool)>,
    pub(crate) volumes: Vec<ServerVolume>,
    availability_zone: String,
    user_data: Option<String>,
    description: Option<String>,
    disk_config: String,
    fault: Option<String>,
    reservation_id: String,
    launch_index: u32,
}

/// Nova's state.
#[derive(Debug)]
pub(crate) struct NovaState {
    pub(crate) servers: BTreeMap<u64, Server>,
    pub(crate) ids: HashMap<String, u64>,
    flavors: BTreeMap<String, Arc<FlavorSpec>>,
    keypairs: BTreeMap<String, Keypair>,
    next_seq: u64,
    next_keypair: u64,
    pub(crate) fail_builds: u32,
    /// Ids of servers that are gone (markers may still name them, as in Nova).
    tombstones: HashMap<String, u64>,
    /// vCPUs, MiB and GiB used by all servers (kept up to date, for hypervisors).
    used: [i64; 3],
    max_limit: usize,
    hypervisor_type: String,
    vmware: bool,
}

impl NovaState {
    pub(crate) fn new(cfg: &Config) -> NovaState {
        NovaState {
            servers: BTreeMap::new(),
            ids: HashMap::new(),
            flavors: cfg
                .flavors
                .iter()
                .map(|f| (f.id.clone(), Arc::new(f.clone())))
                .collect(),
            keypairs: BTreeMap::new(),
            next_seq: 1,
            next_keypair: 1,
            fail_builds: 0,
            tombstones: HashMap::new(),
            used: [0; 3],
            max_limit: cfg.max_limit.max(1),
            hypervisor_type: cfg.hypervisor_type.clone(),
            vmware: cfg.is_vmware(),
        }
    }

    fn account(&mut self, f: &FlavorSpec, sign: i64) {
        self.used[0] += sign * i64::from(f.vcpus);
        self.used[1] += sign * f.ram_mb as i64;
        self.used[2] += sign * f.disk_gb as i64;
    }

    fn host(&self) -> &'static str {
        if self.vmware {
            "vcenter-compute"
        } else {
            "compute-0"
        }
    }

    fn hypervisor_hostname(&self) -> &'static str {
        if self.vmware {
            "domain-c8.6a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
        } else {
            "compute-0"
        }
    }
}

/// Creates `n` ACTIVE servers quickly (for list benchmarks).
pub(crate) fn seed_servers(w: &mut World, n: usize) {
    let Some(flavor) = w.nova.flavors.values().next().cloned() else {
        return;
    };
    let image = w.glance.default_image.clone();
    let now = now_secs();
    let az = "nova".to_owned();
    for i in 0..n {
        let seq = w.nova.next_seq;
        w.nova.next_seq += 1;
        let id = w.rng.uuid();
        let created = now - (n - i) as i64;
        let s = Server {
            id: id.clone(),
            seq,
            name: format!("server-{:05}", i + 1),
            status: "ACTIVE",
            vm_state: "active",
            power_state: 1,
            task_state: None,
            pending: None,
            flavor: flavor.clone(),
            old_flavor: None,
            image_id: image.clone(),
            created,
            updated: created,
            launched: Some(created),
            metadata: BTreeMap::new(),
            tags: Vec::new(),
            key_name: None,
            security_groups: vec!["default".into()],
            ports: Vec::new(),
            volumes: Vec::new(),
            availability_zone: az.clone(),
            user_data: None,
            description: None,
            disk_config: "MANUAL".into(),
            fault: None,
            reservation_id: format!("r-{:08x}", seq),
            launch_index: 0,
        };
        w.nova.ids.insert(id, seq);
        w.nova.account(&flavor, 1);
        w.nova.servers.insert(seq, s);
    }
}

struct Ctx<'a> {
    base: &'a str,
    mv: Mv,
    req: &'a Req,
}

impl Ctx<'_> {
    fn at_least(&self, major: u32, minor: u32) -> bool {
        self.mv >= (major, minor)
    }
}

fn not_found_server(id: &str) -> ApiError {
    ApiError::not_found(format!("Instance {id} could not be found."))
}

fn bad_input(field: &str, value: &Value, why: &str) -> ApiError {
    ApiError::bad(format!(
        "Invalid input for field/attribute {field}. Value: {value}. {why}"
    ))
}

fn parse_limit(q: &Query, max: usize) -> Result<usize, ApiError> {
    match q.get("limit") {
        None => Ok(max),
        Some(l) => {
            let n: usize = l.parse().map_err(|_| {
                ApiError::bad(format!(
                    "Invalid input for query parameters limit. Value: {l}. '{l}' does not match '^[0-9]*$'"
                ))
            })?;
            Ok(n.min(max))
        }
    }
}

/// Applies a server's transition if it is due. Returns false if the server is gone.
fn settle(w: &mut World, seq: u64, observe: bool) -> bool {
    let Some(s) = w.nova.servers.get_mut(&seq) else {
        return false;
    };
    let Some(p) = s.pending.as_mut() else {
        return true;
    };
    if !p.check(observe) {
        return true;
    }
    let next = p.next.clone();
    s.pending = None;
    s.task_state = None;
    s.updated = now_secs();
    let mut flavor_change: Option<(Arc<FlavorSpec>, Arc<FlavorSpec>)> = None;
    match next {
        Next::Active => {
            s.status = "ACTIVE";
            s.vm_state = "active";
            s.power_state = 1;
            if s.launched.is_none() {
                s.launched = Some(s.updated);
            }
        }
        Next::Shutoff => {
            s.status = "SHUTOFF";
            s.vm_state = "stopped";
            s.power_state = 4;
        }
        Next::VerifyResize(f) => {
            s.status = "VERIFY_RESIZE";
            s.vm_state = "resized";
            let old = std::mem::replace(&mut s.flavor, f.clone());
            flavor_change = Some((old.clone(), f));
            s.old_flavor = Some(old);
        }
        Next::Reverted => {
            s.status = "ACTIVE";
            s.vm_state = "active";
            s.power_state = 1;
            if let Some(old) = s.old_flavor.take() {
                flavor_change = Some((s.flavor.clone(), old.clone()));
                s.flavor = old;
            }
        }
        Next::Error(msg) => {
            s.status = "ERROR";
            s.vm_state = "error";
            s.power_state = 0;
            s.fault = Some(msg);
        }
        Next::Gone => {
            let id = s.id.clone();
            if let Some(gone) = w.nova.servers.remove(&seq) {
                w.nova.account(&gone.flavor, -1);
            }
            w.nova.ids.remove(&id);
            w.nova.tombstones.insert(id, seq);
            return false;
        }
    }
    if let Some((old, new)) = flavor_change {
        w.nova.account(&old, -1);
        w.nova.account(&new, 1);
    }
    true
}

/// The server with this id after applying due transitions, or 404.
fn server_seq(w: &mut World, id: &str, observe: bool) -> Result<u64, ApiError> {
    let seq = *w.nova.ids.get(id).ok_or_else(|| not_found_server(id))?;
    if settle(w, seq, observe) {
        Ok(seq)
    } else {
        Err(not_found_server(id))
    }
}

fn srv(w: &mut World, seq: u64) -> &mut Server {
    w.nova
        .servers
        .get_mut(&seq)
        .unwrap_or_else(|| unreachable!("server {seq} was just checked"))
}

fn link_pair(base: &str, kind: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": format!("{base}/compute/v2.1/{kind}/{id}")},
        {"rel": "bookmark", "href": format!("{base}/compute/{kind}/{id}")}
    ])
}

fn flavor_embedded(c: &Ctx<'_>, f: &FlavorSpec) -> Value {
    if c.at_least(2, 47) {
        json!({
            "vcpus": f.vcpus,
            "ram": f.ram_mb,
            "disk": f.disk_gb,
            "ephemeral": f.ephemeral_gb,
            "swap": f.swap_mb,
            "original_name": f.name,
            "extra_specs": f.extra_specs,
        })
    } else {
        json!({
            "id": f.id,
            "links": [{"rel": "bookmark", "href": format!("{}/compute/flavors/{}", c.base, f.id)}]
        })
    }
}

const PROGRESS_STATUSES: [&str; 6] = [
    "ACTIVE",
    "BUILD",
    "REBUILD",
    "RESIZE",
    "VERIFY_RESIZE",
    "MIGRATING",
];

fn render_server(w: &World, s: &Server, c: &Ctx<'_>, detail: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("name".into(), json!(s.name));
    m.insert("links".into(), link_pair(c.base, "servers", &s.id));
    if !detail {
        return Value::Object(m);
    }
    m.insert("status".into(), json!(s.status));
    m.insert("tenant_id".into(), json!(w.project_id));
    m.insert("user_id".into(), json!(w.user_id));
    m.insert("metadata".into(), json!(s.metadata));
    m.insert("hostId".into(), json!(w.host_id));
    m.insert(
        "image".into(),
        match &s.image_id {
            Some(i) => json!({
                "id": i,
                "links": [{"rel": "bookmark", "href": format!("{}/compute/images/{i}", c.base)}]
            }),
            None => json!(""),
        },
    );
    m.insert("flavor".into(), flavor_embedded(c, &s.flavor));
    m.insert("created".into(), json!(iso(s.created)));
    m.insert("updated".into(), json!(iso(s.updated)));
    m.insert("addresses".into(), neutron::server_addresses(w, &s.ports));
    m.insert("accessIPv4".into(), json!(""));
    m.insert("accessIPv6".into(), json!(""));
    m.insert("OS-DCF:diskConfig".into(), json!(s.disk_config));
    if PROGRESS_STATUSES.contains(&s.status) {
        m.insert("progress".into(), json!(0));
    }
    m.insert(
        "OS-EXT-AZ:availability_zone".into(),
        json!(s.availability_zone),
    );
    m.insert("config_drive".into(), json!(""));
    m.insert("key_name".into(), json!(s.key_name));
    m.insert(
        "OS-SRV-USG:launched_at".into(),
        json!(s.launched.map(iso_micro)),
    );
    m.insert("OS-SRV-USG:terminated_at".into(), Value::Null);
    let placed = s.status != "BUILD" || s.launched.is_some();
    m.insert(
        "OS-EXT-SRV-ATTR:host".into(),
        if placed {
            json!(w.nova.host())
        } else {
            Value::Null
        },
    );
    m.insert(
        "OS-EXT-SRV-ATTR:instance_name".into(),
        json!(format!("instance-{:08x}", s.seq)),
    );
    m.insert(
        "OS-EXT-SRV-ATTR:hypervisor_hostname".into(),
        if placed {
            json!(w.nova.hypervisor_hostname())
        } else {
            Value::Null
        },
    );
    if c.at_least(2, 3) {
        m.insert(
            "OS-EXT-SRV-ATTR:reservation_id".into(),
            json!(s.reservation_id),
        );
        m.insert("OS-EXT-SRV-ATTR:launch_index".into(), json!(s.launch_index));
        m.insert("OS-EXT-SRV-ATTR:hostname".into(), json!(hostname(&s.name)));
        m.insert("OS-EXT-SRV-ATTR:kernel_id".into(), json!(""));
        m.insert("OS-EXT-SRV-ATTR:ramdisk_id".into(), json!(""));
        m.insert("OS-EXT-SRV-ATTR:root_device_name".into(), json!("/dev/vda"));
        m.insert("OS-EXT-SRV-ATTR:user_data".into(), json!(s.user_data));
    }
    m.insert("OS-EXT-STS:task_state".into(), json!(s.task_state));
    m.insert("OS-EXT-STS:vm_state".into(), json!(s.vm_state));
    m.insert("OS-EXT-STS:power_state".into(), json!(s.power_state));
    let vols: Vec<Value> = s
        .volumes
        .iter()
        .map(|v| {
            if c.at_least(2, 3) {
                json!({"id": v.volume_id, "delete_on_termination": v.delete_on_termination})
            } else {
                json!({"id": v.volume_id})
            }
        })
        .collect();
    m.insert(
        "os-extended-volumes:volumes_attached".into(),
        Value::Array(vols),
    );
    if c.at_least(2, 9) {
        m.insert("locked".into(), json!(false));
    }
    if c.at_least(2, 73) {
        m.insert("locked_reason".into(), Value::Null);
    }
    if c.at_least(2, 19) {
        m.insert("description".into(), json!(s.description));
    }
    if c.at_least(2, 26) {
        m.insert("tags".into(), json!(s.tags));
    }
    if c.at_least(2, 63) {
        m.insert("trusted_image_certificates".into(), Value::Null);
    }
    if c.at_least(2, 16) {
        m.insert("host_status".into(), json!(if placed { "UP" } else { "" }));
    }
    if c.at_least(2, 96) {
        m.insert("pinned_availability_zone".into(), Value::Null);
    }
    // Nova reads security groups from the server's Neutron ports: none without ports.
    if !s.security_groups.is_empty() && !s.ports.is_empty() {
        let sgs: Vec<Value> = s
            .security_groups
            .iter()
            .map(|n| json!({ "name": n }))
            .collect();
        m.insert("security_groups".into(), Value::Array(sgs));
    }
    if let Some(f) = &s.fault {
        m.insert(
            "fault".into(),
            json!({"code": 500, "created": iso(s.updated), "message": f}),
        );
    }
    Value::Object(m)
}

fn hostname(name: &str) -> String {
    let h: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let h = h.trim_matches('-').to_owned();
    if h.is_empty() {
        "server".into()
    } else {
        h.chars().take(63).collect()
    }
}

const VALID_STATUSES: [&str; 20] = [
    "ACTIVE",
    "BUILD",
    "DELETED",
    "ERROR",
    "HARD_REBOOT",
    "MIGRATING",
    "PASSWORD",
    "PAUSED",
    "REBOOT",
    "REBUILD",
    "RESCUE",
    "RESIZE",
    "REVERT_RESIZE",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "SHUTOFF",
    "SOFT_DELETED",
    "SUSPENDED",
    "UNKNOWN",
    "VERIFY_RESIZE",
];

fn split_tags(v: Option<&str>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

struct ServerFilter {
    name: Option<regex::Regex>,
    name_sub: Option<String>,
    statuses: Vec<String>,
    tags: Vec<String>,
    tags_any: Vec<String>,
    not_tags: Vec<String>,
    not_tags_any: Vec<String>,
    flavor: Option<String>,
    image: Option<String>,
}

impl ServerFilter {
    fn matches(&self, s: &Server) -> bool {
        if let Some(re) = &self.name {
            if !re.is_match(&s.name) {
                return false;
            }
        } else if let Some(sub) = &self.name_sub {
            if !s.name.contains(sub.as_str()) {
                return false;
            }
        }
        if !self.statuses.is_empty() && !self.statuses.iter().any(|st| st == s.status) {
            return false;
        }
        let has = |t: &String| s.tags.contains(t);
        if !self.tags.is_empty() && !self.tags.iter().all(has) {
            return false;
        }
        if !self.tags_any.is_empty() && !self.tags_any.iter().any(has) {
            return false;
        }
        if !self.not_tags.is_empty() && self.not_tags.iter().all(has) {
            return false;
        }
        if !self.not_tags_any.is_empty() && self.not_tags_any.iter().any(has) {
            return false;
        }
        if let Some(f) = &self.flavor {
            if &s.flavor.id != f {
                return false;
            }
        }
        if let Some(i) = &self.image {
            if s.image_id.as_ref() != Some(i) {
                return false;
            }
        }
        true
    }
}

fn list_servers(app: &App, c: &Ctx<'_>, detail: bool) -> R {
    let q = &c.req.query;
    let mut w = app.world();
    let limit = parse_limit(q, w.nova.max_limit)?;
    let statuses: Vec<String> = q
        .all("status")
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    if statuses
        .iter()
        .any(|s| !VALID_STATUSES.contains(&s.as_str()))
    {
        if c.at_least(2, 38) {
            return Err(ApiError::bad("Invalid status value"));
        }
        return Ok(Resp::json(200, &json!({"servers": []})));
    }
    let name = q.get("name").map(str::to_owned);
    let filter = ServerFilter {
        name: name.as_deref().and_then(|n| {
            regex::RegexBuilder::new(n)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .ok()
        }),
        name_sub: name,
        statuses,
        tags: split_tags(q.get("tags")),
        tags_any: split_tags(q.get("tags-any")),
        not_tags: split_tags(q.get("not-tags")),
        not_tags_any: split_tags(q.get("not-tags-any")),
        flavor: q.get("flavor").map(str::to_owned),
        image: q.get("image").map(str::to_owned),
    };
    // Newest first: descending sequence numbers.
    let mut cursor = match q.get("marker") {
        Some(mk) => match w.nova.ids.get(mk).or_else(|| w.nova.tombstones.get(mk)) {
            Some(seq) => *seq,
            None => return Err(ApiError::bad(format!("marker [{mk}] not found"))),
        },
        None => u64::MAX,
    };
    let mut page: Vec<u64> = Vec::with_capacity(limit.min(1024));
    while page.len() < limit {
        let want = (limit - page.len()).clamp(64, 4096);
        let batch: Vec<u64> = w
            .nova
            .servers
            .range(..cursor)
            .rev()
            .take(want)
            .map(|(k, _)| *k)
            .collect();
        if batch.is_empty() {
            break;
        }
        for seq in batch {
            cursor = seq;
            // Every server the scan reaches counts as read (a poll), so
            // transitions progress for clients that wait through filtered lists.
            if !settle(&mut w, seq, true) {
                continue;
            }
            if filter.matches(&w.nova.servers[&seq]) {
                page.push(seq);
                if page.len() == limit {
                    break;
                }
            }
        }
    }
    let items: Vec<Value> = page
        .iter()
        .map(|seq| render_server(&w, &w.nova.servers[seq], c, detail))
        .collect();
    drop(w);
    let mut body = Map::new();
    let last_id = items
        .last()
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    body.insert("servers".into(), Value::Array(items));
    if let (true, Some(last)) = (limit > 0 && page.len() == limit, last_id) {
        let path = if detail { "servers/detail" } else { "servers" };
        body.insert(
            "servers_links".into(),
            json!([{"rel": "next", "href": format!("{}/compute/v2.1/{path}?{}", c.base, q.with_marker(&last))}]),
        );
    }
    Ok(Resp::json(200, &Value::Object(body)))
}

fn get_server(app: &App, c: &Ctx<'_>, id: &str) -> R {
    let mut w = app.world();
    let seq = server_seq(&mut w, id, true)?;
    let v = render_server(&w, &w.nova.servers[&seq], c, true);
    Ok(Resp::json(200, &json!({ "server": v })))
}

fn string_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    required: bool,
    max: usize,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None => Err(bad_input(
            "server",
            &Value::Object(obj.clone()),
            &format!("'{key}' is a required property"),
        )),
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => {
            Ok(Some(s.as_str()))
        }
        Some(v) => Err(bad_input(key, v, "is not valid")),
    }
}

fn metadata_map(v: Option<&Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    let Some(v) = v else { return Ok(out) };
    let obj = v
        .as_object()
        .ok_or_else(|| bad_input("metadata", v, "is not of type 'object'"))?;
    for (k, val) in obj {
        let s = val
            .as_str()
            .ok_or_else(|| bad_input(&format!("metadata/{k}"), val, "is not of type 'string'"))?;
        if k.is_empty() || k.len() > 255 || s.len() > 255 {
            return Err(bad_input(
                "metadata",
                v,
                "Metadata keys and values must be 1 to 255 characters long",
            ));
        }
        out.insert(k.clone(), s.to_owned());
    }
    if out.len() > 128 {
        return Err(ApiError::new(403, "Quota exceeded for metadata_items: Requested 129, but already used 0 of 128 metadata_items"));
    }
    Ok(out)
}

fn validate_tag(t: &Value) -> Result<String, ApiError> {
    match t.as_str() {
        Some(s) if !s.is_empty() && s.len() <= 60 && !s.contains('/') && !s.contains(',') => {
            Ok(s.to_owned())
        }
        _ => Err(bad_input(
            "tags",
            t,
            "Tags must be 1 to 60 characters without '/' or ','",
        )),
    }
}

fn ref_id(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let s = s.trim_end_matches('/');
    Some(s.rsplit('/').next().unwrap_or(s).to_owned())
}

enum NetReq {
    Network(String, Option<String>),
    Port(String),
}

fn create_server(app: &App, c: &Ctx<'_>) -> R {
    let body = c.req.json()?;
    let s = member(&body, "server")?;
    let name = string_field(s, "name", true, 255)?
        .unwrap_or_default()
        .to_owned();
    let flavor_ref = s.get("flavorRef").ok_or_else(|| {
        bad_input(
            "server",
            &Value::Object(s.clone()),
            "'flavorRef' is a required property",
        )
    })?;
    let flavor_id =
        ref_id(flavor_ref).ok_or_else(|| bad_input("flavorRef", flavor_ref, "is not valid"))?;
    if s.contains_key("tags") && !c.at_least(2, 52) {
        return Err(bad_input(
            "server",
            &Value::Object(s.clone()),
            "Additional properties are not allowed ('tags' was unexpected)",
        ));
    }
    if s.contains_key("description") && !c.at_least(2, 19) {
        return Err(bad_input(
            "server",
            &Value::Object(s.clone()),
            "Additional properties are not allowed ('description' was unexpected)",
        ));
    }
    let tags: Vec<String> = match s.get("tags") {
        None => Vec::new(),
        Some(Value::Array(a)) if a.len() <= 50 => {
            a.iter().map(validate_tag).collect::<Result<_, _>>()?
        }
        Some(v) => {
            return Err(bad_input(
                "tags",
                v,
                "is not a valid list of at most 50 tags",
            ))
        }
    };
    let metadata = metadata_map(s.get("metadata"))?;
    let description = match s.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) if d.len() <= 255 => Some(d.clone()),
        Some(v) => return Err(bad_input("description", v, "is not valid")),
    };
    let user_data = match s.get("user_data") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) if base64_decode(u.trim()).is_some() => Some(u.clone()),
        Some(v) => return Err(bad_input("user_data", v, "is not a 'base64'")),
    };
    let disk_config = match s.get("OS-DCF:diskConfig").and_then(Value::as_str) {
        None => "MANUAL".to_owned(),
        Some(d @ ("AUTO" | "MANUAL")) => d.to_owned(),
        Some(d) => {
            return Err(bad_input(
                "OS-DCF:diskConfig",
                &json!(d),
                "is not one of ['AUTO', 'MANUAL']",
            ))
        }
    };
    let count = match s.get("max_count").or_else(|| s.get("min_count")) {
        None => 1,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| bad_input("max_count", v, "must be an integer between 1 and 100"))?
            as usize,
    };
    let networks: Option<Vec<NetReq>> = match s.get("networks") {
        None => {
            if c.at_least(2, 37) {
                return Err(bad_input(
                    "server",
                    &Value::Object(s.clone()),
                    "'networks' is a required property",
                ));
            }
            None
        }
        Some(Value::String(x)) if x == "auto" && c.at_least(2, 37) => None,
        Some(Value::String(x)) if x == "none" && c.at_least(2, 37) => Some(Vec::new()),
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for n in list {
                if let Some(p) = n.get("port").and_then(Value::as_str) {
                    out.push(NetReq::Port(p.to_owned()));
                } else if let Some(u) = n.get("uuid").and_then(Value::as_str) {
                    out.push(NetReq::Network(
                        u.to_owned(),
                        n.get("fixed_ip").and_then(Value::as_str).map(str::to_owned),
                    ));
                } else {
                    return Err(bad_input("networks", n, "needs 'uuid' or 'port'"));
                }
            }
            Some(out)
        }
        Some(v) => return Err(bad_input("networks", v, "is not valid")),
    };
    let sg_names: Vec<String> = match s.get("security_groups") {
        None => vec!["default".into()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|g| {
                g.get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| bad_input("security_groups", g, "'name' is a required property"))
            })
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(bad_input("security_groups", v, "is not of type 'array'")),
    };
    let key_name = string_field(s, "key_name", false, 255)?.map(str::to_owned);
    let az = match s.get("availability_zone").and_then(Value::as_str) {
        None => "nova".to_owned(),
        Some(z) if z == "nova" || z.starts_with("nova:") => "nova".to_owned(),
        Some(z) => {
            return Err(ApiError::bad(format!(
                "The requested availability zone is not available: {z}"
            )))
        }
    };
    let admin_pass = s
        .get("adminPass")
        .and_then(Value::as_str)
        .map(str::to_owned);

    let mut w = app.world();
    let flavor = w
        .nova
        .flavors
        .get(&flavor_id)
        .cloned()
        .ok_or_else(|| ApiError::bad(format!("Flavor {flavor_id} could not be found.")))?;
    // Boot source: image, or a volume in block_device_mapping_v2.
    let mut boot_volume: Option<(String, bool)> = None;
    let mut image_id = match s.get("imageRef") {
        None | Some(Value::Null) => None,
        Some(Value::String(x)) if x.is_empty() => None,
        Some(v) => Some(ref_id(v).ok_or_else(|| bad_input("imageRef", v, "is not valid"))?),
    };
    if let Some(Value::Array(bdms)) = s.get("block_device_mapping_v2") {
        for b in bdms {
            let src = b.get("source_type").and_then(Value::as_str).unwrap_or("");
            let dst = b
                .get("destination_type")
                .and_then(Value::as_str)
                .unwrap_or("local");
            let uuid = b.get("uuid").and_then(Value::as_str).map(str::to_owned);
            let boot_index = b.get("boot_index").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
            });
            match (src, dst, uuid) {
                ("volume", "volume", Some(u)) if boot_index == Some(0) => {
                    let dot = b.get("delete_on_termination").and_then(Value::as_bool).unwrap_or(false);
                    boot_volume = Some((u, dot));
                }
                ("image", "local", Some(u)) if boot_index == Some(0) => image_id = Some(u),
                ("blank", _, _) | ("volume", "volume", Some(_)) => {}
                _ => {
                    return Err(ApiError::bad(
                        "Block Device Mapping is Invalid: this fake supports volume->volume and image->local mappings only.",
                    ))
                }
            }
        }
    }
    if let Some(i) = &image_id {
        if !glance::image_active(&w, i) {
            return Err(ApiError::bad(format!("Image {i} could not be found.")));
        }
    } else if boot_volume.is_none() {
        return Err(ApiError::bad(
            "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.",
        ));
    }
    if let Some((v, _)) = &boot_volume {
        if count > 1 {
            return Err(ApiError::bad(
                "Cannot boot several servers from one volume.",
            ));
        }
        cinder::check_attachable(&mut w, v)?;
    }
    if let Some(k) = &key_name {
        if !w.nova.keypairs.contains_key(k) {
            return Err(ApiError::bad("Invalid key_name provided."));
        }
    }
    let has_sg = neutron::security_groups_enabled(&w);
    let mut sg_resolved = Vec::new();
    for g in &sg_names {
        if has_sg {
            let n = neutron::find_security_group(&w, g).ok_or_else(|| {
                ApiError::bad(format!(
                    "Unable to find security_group with name or id '{g}'"
                ))
            })?;
            sg_resolved.push(n);
        }
    }
    let networks = match networks {
        Some(n) => n,
        None => neutron::auto_network(&w)
            .map(|n| vec![NetReq::Network(n, None)])
            .unwrap_or_default(),
    };
    // Validate network requests before creating anything.
    for n in &networks {
        match n {
            NetReq::Network(net, _) => neutron::check_bootable_network(&w, net)?,
            NetReq::Port(p) => neutron::check_free_port(&w, p)?,
        }
    }
    if count > 1 && networks.iter().any(|n| matches!(n, NetReq::Port(_))) {
        return Err(ApiError::bad(
            "Unable to launch multiple instances with a single configured port ID.",
        ));
    }
    let now = now_secs();
    let reservation = format!("r-{}", w.rng.alnum(8).to_ascii_lowercase());
    let mut first: Option<(String, String)> = None;
    for idx in 0..count {
        let seq = w.nova.next_seq;
        w.nova.next_seq += 1;
        let id = w.rng.uuid();
        let mut ports = Vec::new();
        for n in &networks {
            match n {
                NetReq::Network(net, ip) => {
                    let p = neutron::create_compute_port(
                        &mut w,
                        net,
                        &id,
                        ip.as_deref(),
                        &sg_resolved,
                    )?;
                    ports.push((p, true));
                }
                NetReq::Port(p) => {
                    neutron::bind_port(&mut w, p, &id)?;
                    ports.push((p.clone(), false));
                }
            }
        }
        let mut volumes = Vec::new();
        if let Some((v, dot)) = &boot_volume {
            let att = w.rng.uuid();
            cinder::attach(&mut w, v, &id, "/dev/vda", &att);
            volumes.push(ServerVolume {
                volume_id: v.clone(),
                device: "/dev/vda".into(),
                tag: None,
                delete_on_termination: *dot,
                attachment_id: att,
                bdm_uuid: w.rng.uuid(),
            });
        }
        let fail = if w.nova.fail_builds > 0 {
            w.nova.fail_builds -= 1;
            true
        } else {
            false
        };
        let next = if fail {
            Next::Error("No valid host was found. There are not enough hosts available.".into())
        } else {
            Next::Active
        };
        let server_name = if count > 1 {
            format!("{name}-{}", idx + 1)
        } else {
            name.clone()
        };
        let server = Server {
            id: id.clone(),
            seq,
            name: server_name,
            status: "BUILD",
            vm_state: "building",
            power_state: 0,
            task_state: Some("spawning"),
            pending: Some(Pending::new(w.server_build, next)),
            flavor: flavor.clone(),
            old_flavor: None,
            image_id: image_id.clone(),
            created: now,
            updated: now,
            launched: None,
            metadata: metadata.clone(),
            tags: {
                let mut t = tags.clone();
                t.dedup();
                t
            },
            key_name: key_name.clone(),
            security_groups: if has_sg {
                sg_resolved.clone()
            } else {
                Vec::new()
            },
            ports,
            volumes,
            availability_zone: az.clone(),
            user_data: user_data.clone(),
            description: description.clone(),
            disk_config: disk_config.clone(),
            fault: None,
            reservation_id: reservation.clone(),
            launch_index: idx as u32,
        };
        w.nova.ids.insert(id.clone(), seq);
        w.nova.account(&flavor, 1);
        w.nova.servers.insert(seq, server);
        settle(&mut w, seq, false);
        if first.is_none() {
            let pass = admin_pass.clone().unwrap_or_else(|| w.rng.alnum(12));
            first = Some((id, pass));
        }
    }
    drop(w);
    let (id, pass) = first.unwrap_or_default();
    let mut out = json!({
        "id": id,
        "links": link_pair(c.base, "servers", &id),
        "adminPass": pass,
        "OS-DCF:diskConfig": disk_config,
    });
    if has_sg {
        let sgs: Vec<Value> = sg_names.iter().map(|n| json!({ "name": n })).collect();
        out["security_groups"] = Value::Array(sgs);
    }
    Ok(Resp::json(202, &json!({ "server": out }))
        .header("Location", &format!("{}/compute/v2.1/servers/{id}", c.base)))
}

fn update_server(app: &App, c: &Ctx<'_>, id: &str) -> R {
    let body = c.req.json()?;
    let s = member(&body, "server")?;
    let mut w = app.world();
    let seq = server_seq(&mut w, id, false)?;
    if let Some(n) = s.get("name") {
        let n = n
            .as_str()
            .filter(|x| !x.trim().is_empty() && x.len() <= 255)
            .ok_or_else(|| bad_input("name", n, "is not valid"))?;
        srv(&mut w, seq).name = n.to_owned();
    }
    if let Some(d) = s.get("description") {
        if !c.at_least(2, 19) {
            return Err(bad_input(
                "server",
                &Value::Object(s.clone()),
                "Additional properties are not allowed ('description' was unexpected)",
            ));
        }
        srv(&mut w, seq).description = d.as_str().map(str::to_owned);
    }
    srv(&mut w, seq).updated = now_secs();
    let v = render_server(&w, &w.nova.servers[&seq], c, true);
    Ok(Resp::json(200, &json!({ "server": v })))
}

fn delete_server(app: &App, id: &str) -> R {
    let mut w = app.world();
    let seq = server_seq(&mut w, id, false)?;
    if w.nova.servers[&seq].task_state == Some("deleting") {
        return Ok(Resp::empty(204));
    }
    // Ports and volumes are released at once, as nova-compute does while the server
    // is still listed as deleting.
    let (ports, volumes) = {
        let s = srv(&mut w, seq);
        (std::mem::take(&mut s.ports), std::mem::take(&mut s.volumes))
    };
    neutron::release_server_ports(&mut w, &ports);
    for v in volumes {
        cinder::detach_now(&mut w, &v.volume_id, id, v.delete_on_termination);
    }
    let rule = w.server_delete;
    let s = srv(&mut w, seq);
    s.task_state = Some("deleting");
    s.pending = Some(Pending::new(rule, Next::Gone));
    settle(&mut w, seq, false);
    Ok(Resp::empty(204))
}

fn state_conflict(action: &str, id: &str, attr: &str, state: &str) -> ApiError {
    ApiError::conflict(format!(
        "Cannot '{action}' instance {id} while it is in {attr} {state}"
    ))
}

fn server_action(app: &App, c: &Ctx<'_>, id: &str) -> R {
    let body = c.req.json()?;
    let obj = body
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| ApiError::bad("Malformed request body"))?;
    let (action, arg) = obj
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_default();
    let mut w = app.world();
    let seq = server_seq(&mut w, id, false)?;
    let (vm_state, task_state) = {
        let s = &w.nova.servers[&seq];
        (s.vm_state, s.task_state)
    };
    const KNOWN: [&str; 6] = [
        "os-start",
        "os-stop",
        "reboot",
        "resize",
        "confirmResize",
        "revertResize",
    ];
    if let (Some(t), true) = (task_state, KNOWN.contains(&action.as_str())) {
        return Err(state_conflict(&action, id, "task_state", t));
    }
    let rule = w.server_action;
    let set = |w: &mut World, status: &'static str, task: &'static str, next: Next| {
        let s = srv(w, seq);
        s.status = status;
        s.task_state = Some(task);
        s.updated = now_secs();
        s.pending = Some(Pending::new(rule, next));
        settle(w, seq, false);
    };
    match action.as_str() {
        "os-start" => {
            if vm_state != "stopped" {
                return Err(state_conflict("start", id, "vm_state", vm_state));
            }
            set(&mut w, "SHUTOFF", "powering-on", Next::Active);
            Ok(Resp::empty(202))
        }
        "os-stop" => {
            if vm_state != "active" && vm_state != "error" {
                return Err(state_conflict("stop", id, "vm_state", vm_state));
            }
            set(&mut w, "ACTIVE", "powering-off", Next::Shutoff);
            Ok(Resp::empty(202))
        }
        "reboot" => {
            let kind = arg.get("type").and_then(Value::as_str).unwrap_or("");
            match kind.to_ascii_uppercase().as_str() {
                "SOFT" => {
                    if vm_state != "active" {
                        return Err(state_conflict("reboot", id, "vm_state", vm_state));
                    }
                    set(&mut w, "REBOOT", "reboot_started", Next::Active);
                }
                "HARD" => {
                    if !matches!(
                        vm_state,
                        "active" | "stopped" | "error" | "paused" | "suspended"
                    ) {
                        return Err(state_conflict("reboot", id, "vm_state", vm_state));
                    }
                    set(&mut w, "HARD_REBOOT", "reboot_started_hard", Next::Active);
                }
                _ => {
                    return Err(bad_input(
                        "reboot/type",
                        &json!(kind),
                        "is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']",
                    ))
                }
            }
            Ok(Resp::empty(202))
        }
        "resize" => {
            let fref = arg
                .get("flavorRef")
                .and_then(ref_id)
                .ok_or_else(|| bad_input("resize", &arg, "'flavorRef' is a required property"))?;
            let flavor = w
                .nova
                .flavors
                .get(&fref)
                .cloned()
                .ok_or_else(|| ApiError::bad(format!("Flavor {fref} could not be found.")))?;
            if vm_state != "active" && vm_state != "stopped" {
                return Err(state_conflict("resize", id, "vm_state", vm_state));
            }
            if w.nova.servers[&seq].flavor.id == flavor.id {
                return Err(ApiError::bad(
                    "When resizing, instances must change flavor!",
                ));
            }
            set(
                &mut w,
                "RESIZE",
                "resize_migrating",
                Next::VerifyResize(flavor),
            );
            Ok(Resp::empty(202))
        }
        "confirmResize" => {
            if vm_state != "resized" {
                return Err(state_conflict("confirmResize", id, "vm_state", vm_state));
            }
            let s = srv(&mut w, seq);
            s.status = "ACTIVE";
            s.vm_state = "active";
            s.power_state = 1;
            s.old_flavor = None;
            s.updated = now_secs();
            Ok(Resp::empty(204))
        }
        "revertResize" => {
            if vm_state != "resized" {
                return Err(state_conflict("revertResize", id, "vm_state", vm_state));
            }
            set(&mut w, "REVERT_RESIZE", "resize_reverting", Next::Reverted);
            Ok(Resp::empty(202))
        }
        other => Err(ApiError::bad(format!("There is no such action: {other}"))),
    }
}

fn tags_of(w: &World, seq: u64) -> Value {
    json!({"tags": w.nova.servers[&seq].tags})
}

fn server_tags(app: &App, c: &Ctx<'_>, id: &str, tag: Option<&str>) -> R {
    if !c.at_least(2, 26) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let mut w = app.world();
    let seq = server_seq(&mut w, id, false)?;
    let m = &c.req.method;
    match (tag, m.clone()) {
        (None, Method::GET) => Ok(Resp::json(200, &tags_of(&w, seq))),
        (None, Method::PUT) => {
            let body = c.req.json()?;
            let list = body
                .get("tags")
                .and_then(Value::as_array)
                .ok_or_else(|| bad_input("tags", &body, "'tags' is a required property"))?;
            if list.len() > 50 {
                return Err(bad_input("tags", &body, "is too long"));
            }
            let mut tags: Vec<String> = list.iter().map(validate_tag).collect::<Result<_, _>>()?;
            tags.dedup();
            srv(&mut w, seq).tags = tags;
            Ok(Resp::json(200, &tags_of(&w, seq)))
        }
        (None, Method::DELETE) => {
            srv(&mut w, seq).tags.clear();
            Ok(Resp::empty(204))
        }
        (Some(t), Method::GET) => {
            if w.nova.servers[&seq].tags.iter().any(|x| x == t) {
                Ok(Resp::empty(204))
            } else {
                Err(ApiError::not_found(format!("Tag {t} could not be found.")))
            }
        }
        (Some(t), Method::PUT) => {
            let t = validate_tag(&json!(t))?;
            let s = srv(&mut w, seq);
            if s.tags.contains(&t) {
                return Ok(Resp::empty(204));
            }
            if s.tags.len() >= 50 {
                return Err(ApiError::bad(
                    "The number of tags exceeded the per-server limit 50",
                ));
            }
            s.tags.push(t.clone());
            Ok(Resp::empty(201).header(
                "Location",
                &format!("{}/compute/v2.1/servers/{id}/tags/{t}", c.base),
            ))
        }
        (Some(t), Method::DELETE) => {
            let s = srv(&mut w, seq);
            let before = s.tags.len();
            s.tags.retain(|x| x != t);
            if s.tags.len() == before {
                return Err(ApiError::not_found(format!("Tag {t} could not be found.")));
            }
            Ok(Resp::empty(204))
        }
        _ => Err(method_not_allowed()),
    }
}

fn server_metadata(app: &App, c: &Ctx<'_>, id: &str, key: Option<&str>) -> R {
    let mut w = app.world();
    let seq = server_seq(&mut w, id, false)?;
    let m = c.req.method.clone();
    match (key, m) {
        (None, Method::GET) => Ok(Resp::json(
            200,
            &json!({"metadata": w.nova.servers[&seq].metadata}),
        )),
        (None, Method::POST) | (None, Method::PUT) => {
            let body = c.req.json()?;
            let md = metadata_map(Some(body.get("metadata").ok_or_else(|| {
                bad_input("metadata", &body, "'metadata' is a required property")
            })?))?;
            let s = srv(&mut w, seq);
            if c.req.method == Method::PUT {
                s.metadata = md;
            } else {
                s.metadata.extend(md);
                if s.metadata.len() > 128 {
                    return Err(ApiError::new(403, "Quota exceeded for metadata_items"));
                }
            }
            Ok(Resp::json(200, &json!({"metadata": s.metadata})))
        }
        (Some(k), Method::GET) => {
            let v = w.nova.servers[&seq]
                .metadata
                .get(k)
                .ok_or_else(|| ApiError::not_found("Metadata item was not found"))?;
            Ok(Resp::json(200, &json!({"meta": { k: v }})))
        }
        (Some(k), Method::PUT) => {
            let body = c.req.json()?;
            let meta = body
                .get("meta")
                .and_then(Value::as_object)
                .ok_or_else(|| bad_input("meta", &body, "'meta' is a required property"))?;
            if meta.len() != 1 {
                return Err(ApiError::bad("Request body contains too many items"));
            }
            let (mk, mv) = meta
                .iter()
                .next()
                .map(|(a, b)| (a.clone(), b.clone()))
                .unwrap_or_default();
            if mk != k {
                return Err(ApiError::bad("Request body and URI mismatch"));
            }
            let v = mv
                .as_str()
                .filter(|x| x.len() <= 255)
                .ok_or_else(|| bad_input("meta", &mv, "is not valid"))?;
            srv(&mut w, seq).metadata.insert(mk.clone(), v.to_owned());
            Ok(Resp::json(200, &json!({"meta": { mk: v }})))
        }
        (Some(k), Method::DELETE) => {
            if srv(&mut w, seq).metadata.remove(k).is_none() {
                return Err(ApiError::not_found("Metadata item was not found"));
            }
            Ok(Resp::empty(204))
        }
        _ => Err(method_not_allowed()),
    }
}

fn attachment_json(c: &Ctx<'_>, server_id: &str, v: &ServerVolume, create: bool) -> Value {
    let mut m = Map::new();
    m.insert("device".into(), json!(v.device));
    if create || !c.at_least(2, 89) {
        m.insert("id".into(), json!(v.volume_id));
    }
    m.insert("serverId".into(), json!(server_id));
    m.insert("volumeId".into(), json!(v.volume_id));
    if c.at_least(2, 70) {
        m.insert("tag".into(), json!(v.tag));
    }
    if c.at_least(2, 79) {
        m.insert(
            "delete_on_termination".into(),
            json!(v.delete_on_termination),
        );
    }
    if c.at_least(2, 89) && !create {
        m.insert("attachment_id".into(), json!(v.attachment_id));
        m.insert("bdm_uuid".into(), json!(v.bdm_uuid));
    }
    Value::Object(m)
}

fn volume_attachments(app: &App, c: &Ctx<'_>, id: &str, volume: Option<&str>) -> R {
    let mut w = app.world();
    let seq = server_seq(&mut w, id, false)?;
    match (volume, c.req.method.clone()) {
        (None, Method::GET) => {
            let list: Vec<Value> = w.nova.servers[&seq]
                .volumes
                .iter()
                .map(|v| attachment_json(c, id, v, false))
                .collect();
            Ok(Resp::json(200, &json!({"volumeAttachments": list})))
        }
        (None, Method::POST) => {
            let body = c.req.json()?;
            let a = member(&body, "volumeAttachment")?;
            let vol = a
                .get("volumeId")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    bad_input(
                        "volumeAttachment",
                        &body,
                        "'volumeId' is a required property",
                    )
                })?
                .to_owned();
            if a.contains_key("tag") && !c.at_least(2, 49) {
                return Err(bad_input(
                    "volumeAttachment",
                    &body,
                    "Additional properties are not allowed ('tag' was unexpected)",
                ));
            }
            if a.contains_key("delete_on_termination") && !c.at_least(2, 79) {
                return Err(bad_input("volumeAttachment", &body, "Additional properties are not allowed ('delete_on_termination' was unexpected)"));
            }
            let (vm_state, task) = {
                let s = &w.nova.servers[&seq];
                (s.vm_state, s.task_state)
            };
            if let Some(t) = task {
                return Err(state_conflict("attach_volume", id, "task_state", t));
            }
            if !matches!(vm_state, "active" | "stopped" | "paused" | "resized") {
                return Err(state_conflict("attach_volume", id, "vm_state", vm_state));
            }
            if w.nova.servers[&seq]
                .volumes
                .iter()
                .any(|v| v.volume_id == vol)
            {
                return Err(ApiError::bad(format!(
                    "Invalid volume: volume {vol} is already attached to instance {id}"
                )));
            }
            cinder::check_attachable(&mut w, &vol)?;
            let used: Vec<String> = w.nova.servers[&seq]
                .volumes
                .iter()
                .map(|v| v.device.clone())
                .collect();
            let device = (b'b'..=b'z')
                .map(|l| format!("/dev/vd{}", l as char))
                .find(|d| !used.contains(d))
                .ok_or_else(|| ApiError::bad("No free disk device names for prefix 'vd'"))?;
            let att = w.rng.uuid();
            let bdm = w.rng.uuid();
            cinder::attach(&mut w, &vol, id, &device, &att);
            let sv = ServerVolume {
                volume_id: vol,
                device,
                tag: a.get("tag").and_then(Value::as_str).map(str::to_owned),
                delete_on_termination: a
                    .get("delete_on_termination")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                attachment_id: att,
                bdm_uuid: bdm,
            };
            let out = attachment_json(c, id, &sv, true);
            srv(&mut w, seq).volumes.push(sv);
            Ok(Resp::json(200, &json!({"volumeAttachment": out})))
        }
        (Some(v), Method::GET) => {
            let sv = w.nova.servers[&seq]
                .volumes
                .iter()
                .find(|x| x.volume_id == v)
                .ok_or_else(|| {
                    ApiError::not_found(format!("Volume {v} is not attached to the instance {id}"))
                })?;
            Ok(Resp::json(
                200,
                &json!({"volumeAttachment": attachment_json(c, id, sv, false)}),
            ))
        }
        (Some(v), Method::DELETE) => {
            let pos = w.nova.servers[&seq]
                .volumes
                .iter()
                .position(|x| x.volume_id == v)
                .ok_or_else(|| ApiError::not_found(format!("volume_id not found: {v}")))?;
            if w.nova.servers[&seq].volumes[pos].device == "/dev/vda" {
                return Err(ApiError::bad("Cannot detach a root device volume"));
            }
            if let Some(t) = w.nova.servers[&seq].task_state {
                return Err(state_conflict("detach_volume", id, "task_state", t));
            }
            srv(&mut w, seq).volumes.remove(pos);
            cinder::detach(&mut w, v, id);
            Ok(Resp::empty(202))
        }
        _ => Err(method_not_allowed()),
    }
}

fn flavor_json(c: &Ctx<'_>, f: &FlavorSpec, detail: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.id));
    m.insert("name".into(), json!(f.name));
    m.insert("links".into(), link_pair(c.base, "flavors", &f.id));
    if c.at_least(2, 55) {
        m.insert("description".into(), Value::Null);
    }
    if !detail {
        return Value::Object(m);
    }
    m.insert("ram".into(), json!(f.ram_mb));
    m.insert("disk".into(), json!(f.disk_gb));
    m.insert(
        "swap".into(),
        if f.swap_mb == 0 && !c.at_least(2, 75) {
            json!("")
        } else {
            json!(f.swap_mb)
        },
    );
    m.insert("OS-FLV-EXT-DATA:ephemeral".into(), json!(f.ephemeral_gb));
    m.insert("OS-FLV-DISABLED:disabled".into(), json!(false));
    m.insert("vcpus".into(), json!(f.vcpus));
    m.insert("os-flavor-access:is_public".into(), json!(true));
    m.insert("rxtx_factor".into(), json!(1.0));
    if c.at_least(2, 61) {
        m.insert("extra_specs".into(), json!(f.extra_specs));
    }
    Value::Object(m)
}

fn list_flavors(app: &App, c: &Ctx<'_>, detail: bool) -> R {
    let q = &c.req.query;
    let w = app.world();
    let limit = parse_limit(q, w.nova.max_limit)?;
    let min_ram: u64 = q.get("minRam").and_then(|v| v.parse().ok()).unwrap_or(0);
    let min_disk: u64 = q.get("minDisk").and_then(|v| v.parse().ok()).unwrap_or(0);
    let start = match q.get("marker") {
        Some(mk) if !w.nova.flavors.contains_key(mk) => {
            return Err(ApiError::bad(format!("marker [{mk}] not found")))
        }
        Some(mk) => std::ops::Bound::Excluded(mk.to_owned()),
        None => std::ops::Bound::Unbounded,
    };
    let page: Vec<Value> = w
        .nova
        .flavors
        .range((start, std::ops::Bound::Unbounded))
        .map(|(_, f)| f)
        .filter(|f| f.ram_mb >= min_ram && f.disk_gb >= min_disk)
        .take(limit)
        .map(|f| flavor_json(c, f, detail))
        .collect();
    let mut body = Map::new();
    let full = limit > 0 && page.len() == limit;
    let last = page
        .last()
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    body.insert("flavors".into(), Value::Array(page));
    if let (true, Some(last)) = (full, last) {
        let path = if detail { "flavors/detail" } else { "flavors" };
        body.insert(
            "flavors_links".into(),
            json!([{"rel": "next", "href": format!("{}/compute/v2.1/{path}?{}", c.base, q.with_marker(&last))}]),
        );
    }
    Ok(Resp::json(200, &Value::Object(body)))
}

fn keypair_json(c: &Ctx<'_>, k: &Keypair, user_id: &str, full: bool) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(k.name));
    m.insert("public_key".into(), json!(k.public_key));
    m.insert("fingerprint".into(), json!(k.fingerprint));
    if c.at_least(2, 2) {
        m.insert("type".into(), json!(k.kind));
    }
    if full {
        m.insert("user_id".into(), json!(user_id));
        m.insert("created_at".into(), json!(iso_micro(k.created)));
        m.insert("deleted".into(), json!(false));
        m.insert("deleted_at".into(), Value::Null);
        m.insert("updated_at".into(), Value::Null);
        m.insert("id".into(), json!(k.id));
    }
    Value::Object(m)
}

fn fingerprint(blob: &[u8]) -> String {
    let h = digest::md5_hex(blob);
    h.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

fn ssh_string(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

fn keypairs(app: &App, c: &Ctx<'_>, name: Option<&str>) -> R {
    let mut w = app.world();
    let user_id = w.user_id.clone();
    match (name, c.req.method.clone()) {
        (None, Method::GET) => {
            let q = &c.req.query;
            let paged = c.at_least(2, 35);
            let limit = if paged {
                parse_limit(q, w.nova.max_limit)?
            } else {
                usize::MAX
            };
            let start = match q.get("marker").filter(|_| paged) {
                Some(mk) if !w.nova.keypairs.contains_key(mk) => {
                    return Err(ApiError::bad(format!("marker [{mk}] not found")))
                }
                Some(mk) => std::ops::Bound::Excluded(mk.to_owned()),
                None => std::ops::Bound::Unbounded,
            };
            let page: Vec<&Keypair> = w
                .nova
                .keypairs
                .range((start, std::ops::Bound::Unbounded))
                .map(|(_, k)| k)
                .take(limit)
                .collect();
            let mut body = Map::new();
            let last = page.last().map(|k| k.name.clone());
            let full = paged && q.get("limit").is_some() && page.len() == limit && limit > 0;
            body.insert(
                "keypairs".into(),
                Value::Array(
                    page.iter()
                        .map(|k| json!({"keypair": keypair_json(c, k, &user_id, false)}))
                        .collect(),
                ),
            );
            if let (true, Some(last)) = (full, last) {
                body.insert(
                    "keypairs_links".into(),
                    json!([{"rel": "next", "href": format!("{}/compute/v2.1/os-keypairs?{}", c.base, q.with_marker(&last))}]),
                );
            }
            Ok(Resp::json(200, &Value::Object(body)))
        }
        (None, Method::POST) => {
            let body = c.req.json()?;
            let k = member(&body, "keypair")?;
            let kname = k
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty() && n.len() <= 255)
                .ok_or_else(|| {
                    bad_input(
                        "keypair",
                        &body,
                        "'name' is a required property of 1 to 255 characters",
                    )
                })?
                .to_owned();
            let kind = match k.get("type") {
                None => "ssh".to_owned(),
                Some(t) if c.at_least(2, 2) && (t == "ssh" || t == "x509") => {
                    t.as_str().unwrap_or("ssh").to_owned()
                }
                Some(t) => return Err(bad_input("type", t, "is not one of ['ssh', 'x509']")),
            };
            if w.nova.keypairs.contains_key(&kname) {
                return Err(ApiError::conflict(format!(
                    "Key pair '{kname}' already exists."
                )));
            }
            let mut private = None;
            let (public_key, fp) = match k.get("public_key").and_then(Value::as_str) {
                Some(pk) => {
                    let fp = if kind == "x509" {
                        fingerprint(pk.as_bytes())
                    } else {
                        let mut parts = pk.split_whitespace();
                        let algo = parts.next().unwrap_or("");
                        let blob = parts.next().and_then(base64_decode);
                        match (algo, blob) {
                            (
                                "ssh-rsa"
                                | "ssh-dss"
                                | "ssh-ed25519"
                                | "ecdsa-sha2-nistp256"
                                | "ecdsa-sha2-nistp384"
                                | "ecdsa-sha2-nistp521",
                                Some(b),
                            ) if !b.is_empty() => fingerprint(&b),
                            _ => {
                                return Err(ApiError::bad(
                                    "Keypair data is invalid: failed to generate fingerprint",
                                ))
                            }
                        }
                    };
                    (pk.to_owned(), fp)
                }
                None => {
                    if c.at_least(2, 92) {
                        return Err(bad_input(
                            "keypair",
                            &body,
                            "'public_key' is a required property",
                        ));
                    }
                    let mut blob = Vec::new();
                    ssh_string(&mut blob, b"ssh-rsa");
                    ssh_string(&mut blob, &[1, 0, 1]);
                    let mut n = vec![0u8];
                    n.extend(w.rng.bytes(256));
                    n[1] |= 0x80;
                    ssh_string(&mut blob, &n);
                    let pk = format!("ssh-rsa {} Generated-by-Nova\n", base64_encode(&blob));
                    let body64 = base64_encode(&w.rng.bytes(1190));
                    let lines: Vec<String> = body64
                        .as_bytes()
                        .chunks(64)
                        .map(|l| String::from_utf8_lossy(l).into_owned())
                        .collect();
                    private = Some(format!(
                        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
                        lines.join("\n")
                    ));
                    (pk, fingerprint(&blob))
                }
            };
            let kp = Keypair {
                id: w.nova.next_keypair,
                name: kname.clone(),
                public_key,
                fingerprint: fp,
                kind,
                created: now_secs(),
            };
            w.nova.next_keypair += 1;
            let mut out = keypair_json(c, &kp, &user_id, false);
            out["user_id"] = json!(user_id);
            if let Some(p) = private {
                out["private_key"] = json!(p);
            }
            w.nova.keypairs.insert(kname, kp);
            Ok(Resp::json(
                if c.at_least(2, 2) { 201 } else { 200 },
                &json!({"keypair": out}),
            ))
        }
        (Some(n), Method::GET) => {
            let k = w.nova.keypairs.get(n).ok_or_else(|| {
                ApiError::not_found(format!("Keypair {n} not found for user {user_id}"))
            })?;
            Ok(Resp::json(
                200,
                &json!({"keypair": keypair_json(c, k, &user_id, true)}),
            ))
        }
        (Some(n), Method::DELETE) => {
            w.nova.keypairs.remove(n).ok_or_else(|| {
                ApiError::not_found(format!("Keypair {n} not found for user {user_id}"))
            })?;
            Ok(Resp::empty(if c.at_least(2, 2) { 204 } else { 202 }))
        }
        _ => Err(method_not_allowed()),
    }
}

fn hypervisor_json(w: &World, c: &Ctx<'_>, detail: bool) -> Value {
    let nova = &w.nova;
    let new_ids = c.at_least(2, 53);
    let id = if new_ids {
        json!("1b7b8dcc-d081-4752-ad07-1cece9c9a79e")
    } else {
        json!(1)
    };
    let mut m = Map::new();
    m.insert("id".into(), id);
    m.insert(
        "hypervisor_hostname".into(),
        json!(nova.hypervisor_hostname()),
    );
    m.insert("state".into(), json!("up"));
    m.insert("status".into(), json!("enabled"));
    if !detail {
        return Value::Object(m);
    }
    m.insert("hypervisor_type".into(), json!(nova.hypervisor_type));
    m.insert(
        "hypervisor_version".into(),
        json!(if nova.vmware { 7_000_003 } else { 6_002_000 }),
    );
    m.insert("host_ip".into(), json!("127.0.0.1"));
    m.insert(
        "service".into(),
        json!({
            "host": nova.host(),
            "id": if new_ids { json!("02b55e25-7a0f-4659-8ee0-d2252ad7fc4c") } else { json!(6) },
            "disabled_reason": null,
        }),
    );
    let running = nova.servers.len();
    if c.at_least(2, 88) {
        m.insert(
            "uptime".into(),
            json!(" 08:32:11 up 93 days, 18:25, 12 users,  load average: 0.20, 0.12, 0.14"),
        );
    } else {
        let [used_vcpus, used_ram, used_disk] = nova.used.map(|x| x.max(0) as u64);
        let (vcpus, ram, disk) = (1024u64, 4_194_304u64, 102_400u64);
        m.insert("vcpus".into(), json!(vcpus));
        m.insert("memory_mb".into(), json!(ram));
        m.insert("local_gb".into(), json!(disk));
        m.insert("vcpus_used".into(), json!(used_vcpus));
        m.insert("memory_mb_used".into(), json!(used_ram));
        m.insert("local_gb_used".into(), json!(used_disk));
        m.insert("free_ram_mb".into(), json!(ram as i64 - used_ram as i64));
        m.insert("free_disk_gb".into(), json!(disk as i64 - used_disk as i64));
        m.insert("current_workload".into(), json!(0));
        m.insert("running_vms".into(), json!(running));
        m.insert(
            "disk_available_least".into(),
            json!(disk as i64 - used_disk as i64),
        );
        m.insert(
            "cpu_info".into(),
            if nova.vmware {
                json!({"model": ["Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"], "vendor": ["Intel"], "topology": {"cores": 40, "threads": 80, "sockets": 2}})
            } else {
                json!({"arch": "x86_64", "model": "Nehalem", "vendor": "Intel", "features": ["pge", "clflush"], "topology": {"cores": 1, "threads": 1, "sockets": 4}})
            },
        );
    }
    Value::Object(m)
}

fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        "The method specified is not allowed for this resource.",
    )
}

fn versions(base: &str, max: Mv) -> Value {
    json!({"versions": [
        {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
         "links": [{"rel": "self", "href": format!("{base}/compute/v2/")}]},
        version_doc(base, max),
    ]})
}

fn version_doc(base: &str, max: Mv) -> Value {
    json!({
        "id": "v2.1",
        "status": "CURRENT",
        "version": format!("{}.{}", max.0, max.1),
        "min_version": "2.1",
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": format!("{base}/compute/v2.1/")},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]
    })
}

pub(crate) fn handle(app: &App, req: &Req) -> R {
    let segs = req.seg_refs();
    let max = app.cfg.nova_max;
    match segs.as_slice() {
        [] if req.method == Method::GET => return Ok(Resp::json(200, &versions(&app.base, max))),
        ["v2.1"] if req.method == Method::GET => {
            return Ok(Resp::json(
                200,
                &json!({"version": version_doc(&app.base, max)}),
            ))
        }
        ["v2.1", ..] => {}
        _ => return Err(ApiError::not_found("The resource could not be found.")),
    }
    let token = authenticate(app, req)?;
    let mv = negotiate(
        req,
        "compute",
        Some("x-openstack-nova-api-version"),
        MIN_MV,
        max,
    )?;
    let mv_s = format!("{}.{}", mv.0, mv.1);
    let c = Ctx {
        base: &app.base,
        mv,
        req,
    };
    let mut rest: &[&str] = &segs[1..];
    if let (Some(first), Some(p)) = (rest.first(), &token.project) {
        if *first == p.id {
            rest = &rest[1..];
        }
    }
    let add = |r: Resp| {
        r.header("OpenStack-API-Version", &format!("compute {mv_s}"))
            .header("X-OpenStack-Nova-API-Version", &mv_s)
            .header(
                "Vary",
                "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
            )
    };
    let result = route(app, &c, rest);
    match result {
        Ok(r) => Ok(add(r)),
        Err(e) => Err(e
            .with_header("OpenStack-API-Version", &format!("compute {mv_s}"))
            .with_header("X-OpenStack-Nova-API-Version", &mv_s)),
    }
}

fn route(app: &App, c: &Ctx<'_>, rest: &[&str]) -> R {
    let m = c.req.method.clone();
    let get = m == Method::GET;
    match rest {
        ["servers"] => match m {
            Method::GET => list_servers(app, c, false),
            Method::POST => create_server(app, c),
            _ => Err(method_not_allowed()),
        },
        ["servers", "detail"] if get => list_servers(app, c, true),
        ["servers", id] => match m {
            Method::GET => get_server(app, c, id),
            Method::PUT => update_server(app, c, id),
            Method::DELETE => delete_server(app, id),
            _ => Err(method_not_allowed()),
        },
        ["servers", id, "action"] if m == Method::POST => server_action(app, c, id),
        ["servers", id, "tags"] => server_tags(app, c, id, None),
        ["servers", id, "tags", tag] => server_tags(app, c, id, Some(tag)),
        ["servers", id, "metadata"] => server_metadata(app, c, id, None),
        ["servers", id, "metadata", key] => server_metadata(app, c, id, Some(key)),
        ["servers", id, "os-volume_attachments"] => volume_attachments(app, c, id, None),
        ["servers", id, "os-volume_attachments", vol] => volume_attachments(app, c, id, Some(vol)),
        ["servers", id, "ips"] if get => {
            let mut w = app.world();
            let seq = server_seq(&mut w, id, false)?;
            let addrs = neutron::server_addresses(&w, &w.nova.servers[&seq].ports);
            Ok(Resp::json(200, &json!({ "addresses": addrs })))
        }
        ["flavors"] if get => list_flavors(app, c, false),
        ["flavors", "detail"] if get => list_flavors(app, c, true),
        ["flavors", id] if get => {
            let w = app.world();
            let f =
                w.nova.flavors.get(*id).ok_or_else(|| {
                    ApiError::not_found(format!("Flavor {id} could not be found."))
                })?;
            Ok(Resp::json(200, &json!({"flavor": flavor_json(c, f, true)})))
        }
        ["flavors", id, "os-extra_specs"] if get => {
            let w = app.world();
            let f =
                w.nova.flavors.get(*id).ok_or_else(|| {
                    ApiError::not_found(format!("Flavor {id} could not be found."))
                })?;
            Ok(Resp::json(200, &json!({"extra_specs": f.extra_specs})))
        }
        ["os-keypairs"] => keypairs(app, c, None),
        ["os-keypairs", name] => keypairs(app, c, Some(name)),
        ["os-hypervisors"] if get => {
            let w = app.world();
            Ok(Resp::json(
                200,
                &json!({"hypervisors": [hypervisor_json(&w, c, false)]}),
            ))
        }
        ["os-hypervisors", "detail"] if get => {
            let w = app.world();
            Ok(Resp::json(
                200,
                &json!({"hypervisors": [hypervisor_json(&w, c, true)]}),
            ))
        }
        ["os-hypervisors", id] if get => {
            let w = app.world();
            let h = hypervisor_json(&w, c, true);
            if h["id"].to_string().trim_matches('"') != *id {
                return Err(ApiError::not_found(format!(
                    "Hypervisor with ID '{id}' could not be found."
                )));
            }
            Ok(Resp::json(200, &json!({ "hypervisor": h })))
        }
        ["os-availability-zone"] if get => Ok(Resp::json(
            200,
            &json!({"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": true}, "hosts": null}]}),
        )),
        ["limits"] if get => Ok(Resp::json(
            200,
            &json!({"limits": {"rate": [], "absolute": {
                "maxTotalCores": -1, "maxTotalInstances": -1, "maxTotalRAMSize": -1,
                "maxServerMeta": 128, "maxImageMeta": 128, "maxPersonality": 5,
                "maxPersonalitySize": 10240, "maxTotalKeypairs": 100, "maxServerGroups": 10,
                "maxServerGroupMembers": 10, "maxTotalFloatingIps": -1, "maxSecurityGroups": -1,
                "maxSecurityGroupRules": -1, "totalRAMUsed": 0, "totalCoresUsed": 0,
                "totalInstancesUsed": 0, "totalFloatingIpsUsed": 0, "totalSecurityGroupsUsed": 0,
                "totalServerGroupsUsed": 0}}}),
        )),
        _ => Err(ApiError::not_found("The resource could not be found.")),
    }
}

/// Number of servers currently stored (including ones being deleted).
pub(crate) fn server_count(w: &World) -> usize {
    w.nova.servers.len()
}
