//! Cinder (block storage v3) at `/volume`: volumes and their actions, snapshots,
//! volume types, availability zones.

use std::collections::{BTreeMap, HashMap};

use http::Method;
use serde_json::{json, Map, Value};

use crate::http::{member, ApiError, Resp, R};
use crate::nova::{negotiate, Mv};
use crate::service::{authenticate, App, Req};
use crate::util::{iso_micro, now_secs, Query};
use crate::world::{Pending, World};

const MIN_MV: Mv = (3, 0);
const DEFAULT_TYPE_ID: &str = "68482047-d091-46d6-8eac-6fc62784dbc3";
const SERVICE_UUID: &str = "e0f45fd0-2734-49c0-a2a6-75be3460cbe4";

#[derive(Debug, Clone)]
enum VolNext {
    Available,
    InUse,
    Gone,
    Extended(u64, &'static str),
    Detached(String),
}

#[derive(Debug, Clone)]
struct VolAttachment {
    server_id: String,
    attachment_id: String,
    device: String,
    attached_at: i64,
}

#[derive(Debug, Clone)]
struct Volume {
    id: String,
    name: Option<String>,
    description: Option<String>,
    size: u64,
    status: &'static str,
    pending: Option<Pending<VolNext>>,
    volume_type: String,
    created: i64,
    updated: i64,
    metadata: BTreeMap<String, String>,
    bootable: bool,
    snapshot_id: Option<String>,
    source_volid: Option<String>,
    image_id: Option<String>,
    attachments: Vec<VolAttachment>,
}

#[derive(Debug, Clone)]
struct Snapshot {
    id: String,
    volume_id: String,
    name: Option<String>,
    description: Option<String>,
    size: u64,
    status: &'static str,
    pending: Option<Pending<bool>>,
    created: i64,
    updated: Option<i64>,
    metadata: BTreeMap<String, String>,
}

/// Cinder's state.
#[derive(Debug, Default)]
pub(crate) struct CinderState {
    volumes: BTreeMap<u64, Volume>,
    ids: HashMap<String, u64>,
    snapshots: BTreeMap<u64, Snapshot>,
    snap_ids: HashMap<String, u64>,
    next_seq: u64,
}

pub(crate) fn seed(w: &mut World) {
    w.cinder.next_seq = 1;
}

fn vol_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Volume {id} could not be found."))
}

fn snap_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Snapshot {id} could not be found."))
}

/// Applies a due transition; false if the volume is gone.
fn settle(w: &mut World, seq: u64, observe: bool) -> bool {
    let Some(v) = w.cinder.volumes.get_mut(&seq) else {
        return false;
    };
    let Some(p) = v.pending.as_mut() else {
        return true;
    };
    if !p.check(observe) {
        return true;
    }
    let next = p.next.clone();
    v.pending = None;
    v.updated = now_secs();
    match next {
        VolNext::Available => v.status = "available",
        VolNext::InUse => v.status = "in-use",
        VolNext::Extended(size, status) => {
            v.size = size;
            v.status = status;
        }
        VolNext::Detached(server) => {
            v.attachments.retain(|a| a.server_id != server);
            v.status = if v.attachments.is_empty() {
                "available"
            } else {
                "in-use"
            };
        }
        VolNext::Gone => {
            let id = v.id.clone();
            w.cinder.volumes.remove(&seq);
            w.cinder.ids.remove(&id);
            return false;
        }
    }
    true
}

fn settle_snap(w: &mut World, seq: u64, observe: bool) -> bool {
    let Some(s) = w.cinder.snapshots.get_mut(&seq) else {
        return false;
    };
    let Some(p) = s.pending.as_mut() else {
        return true;
    };
    if !p.check(observe) {
        return true;
    }
    let gone = p.next;
    s.pending = None;
    s.updated = Some(now_secs());
    if gone {
        let id = s.id.clone();
        w.cinder.snapshots.remove(&seq);
        w.cinder.snap_ids.remove(&id);
        return false;
    }
    s.status = "available";
    true
}

fn vol_seq(w: &mut World, id: &str, observe: bool) -> Result<u64, ApiError> {
    let seq = *w.cinder.ids.get(id).ok_or_else(|| vol_not_found(id))?;
    if settle(w, seq, observe) {
        Ok(seq)
    } else {
        Err(vol_not_found(id))
    }
}

fn vol(w: &mut World, seq: u64) -> &mut Volume {
    w.cinder
        .volumes
        .get_mut(&seq)
        .unwrap_or_else(|| unreachable!("volume {seq} was just checked"))
}

struct Ctx<'a> {
    base: &'a str,
    project: &'a str,
    mv: Mv,
    req: &'a Req,
}

impl Ctx<'_> {
    fn at_least(&self, minor: u32) -> bool {
        self.mv >= (3, minor)
    }

    fn links(&self, kind: &str, id: &str) -> Value {
        json!([
            {"rel": "self", "href": format!("{}/volume/v3/{}/{kind}/{id}", self.base, self.project)},
            {"rel": "bookmark", "href": format!("{}/volume/{}/{kind}/{id}", self.base, self.project)}
        ])
    }
}

fn render_volume(w: &World, v: &Volume, c: &Ctx<'_>, detail: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(v.id));
    m.insert("name".into(), json!(v.name));
    m.insert("links".into(), c.links("volumes", &v.id));
    if !detail {
        return Value::Object(m);
    }
    m.insert("status".into(), json!(v.status));
    m.insert("size".into(), json!(v.size));
    m.insert("availability_zone".into(), json!("nova"));
    m.insert("created_at".into(), json!(iso_micro(v.created)));
    m.insert("updated_at".into(), json!(iso_micro(v.updated)));
    m.insert("description".into(), json!(v.description));
    m.insert("volume_type".into(), json!(v.volume_type));
    m.insert("snapshot_id".into(), json!(v.snapshot_id));
    m.insert("source_volid".into(), json!(v.source_volid));
    m.insert("metadata".into(), json!(v.metadata));
    m.insert("user_id".into(), json!(w.user_id));
    m.insert(
        "bootable".into(),
        json!(if v.bootable { "true" } else { "false" }),
    );
    m.insert("encrypted".into(), json!(false));
    m.insert("replication_status".into(), Value::Null);
    m.insert("consistencygroup_id".into(), Value::Null);
    m.insert("multiattach".into(), json!(false));
    let atts: Vec<Value> = v
        .attachments
        .iter()
        .map(|a| {
            json!({
                "server_id": a.server_id,
                "attachment_id": a.attachment_id,
                "attached_at": iso_micro(a.attached_at),
                "host_name": null,
                "volume_id": v.id,
                "device": a.device,
                "id": v.id,
            })
        })
        .collect();
    m.insert("attachments".into(), Value::Array(atts));
    m.insert("migration_status".into(), Value::Null);
    m.insert("os-vol-tenant-attr:tenant_id".into(), json!(w.project_id));
    m.insert("os-vol-mig-status-attr:migstat".into(), Value::Null);
    m.insert("os-vol-mig-status-attr:name_id".into(), Value::Null);
    m.insert("os-vol-host-attr:host".into(), json!("fake-host@lvm#lvm"));
    if let Some(img) = &v.image_id {
        m.insert(
            "volume_image_metadata".into(),
            json!({"image_id": img, "container_format": "bare", "disk_format": "raw"}),
        );
    }
    if c.at_least(13) {
        m.insert("group_id".into(), Value::Null);
    }
    if c.at_least(21) {
        m.insert("provider_id".into(), Value::Null);
    }
    if c.at_least(48) {
        m.insert("shared_targets".into(), json!(false));
        m.insert("service_uuid".into(), json!(SERVICE_UUID));
    }
    if c.at_least(61) {
        m.insert("cluster_name".into(), Value::Null);
    }
    if c.at_least(63) {
        m.insert("volume_type_id".into(), json!(DEFAULT_TYPE_ID));
    }
    if c.at_least(65) {
        m.insert("consumes_quota".into(), json!(true));
    }
    Value::Object(m)
}

fn render_snapshot(w: &World, s: &Snapshot, c: &Ctx<'_>, detail: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("created_at".into(), json!(iso_micro(s.created)));
    m.insert("updated_at".into(), json!(s.updated.map(iso_micro)));
    m.insert("name".into(), json!(s.name));
    m.insert("description".into(), json!(s.description));
    m.insert("volume_id".into(), json!(s.volume_id));
    m.insert("status".into(), json!(s.status));
    m.insert("size".into(), json!(s.size));
    m.insert("metadata".into(), json!(s.metadata));
    if detail {
        m.insert(
            "os-extended-snapshot-attributes:progress".into(),
            json!(if s.status == "available" {
                "100%"
            } else {
                "0%"
            }),
        );
        m.insert(
            "os-extended-snapshot-attributes:project_id".into(),
            json!(w.project_id),
        );
    }
    if c.at_least(14) {
        m.insert("group_snapshot_id".into(), Value::Null);
    }
    if c.at_least(41) {
        m.insert("user_id".into(), json!(w.user_id));
    }
    if c.at_least(65) {
        m.insert("consumes_quota".into(), json!(true));
    }
    Value::Object(m)
}

fn parse_limit(q: &Query, max: usize) -> Result<usize, ApiError> {
    match q.get("limit") {
        None => Ok(max),
        Some(l) => l.parse::<usize>().map(|n| n.min(max)).map_err(|_| {
            ApiError::bad(format!(
                "Invalid input received: limit must be an integer 0 or greater and not '{l}'"
            ))
        }),
    }
}

fn metadata(v: Option<&Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    match v {
        None | Some(Value::Null) => Ok(out),
        Some(Value::Object(o)) => {
            for (k, val) in o {
                let s = val.as_str().ok_or_else(|| {
                    ApiError::bad("Invalid input received: Metadata values must be strings.")
                })?;
                out.insert(k.clone(), s.to_owned());
            }
            Ok(out)
        }
        Some(_) => Err(ApiError::bad(
            "Invalid input received: Metadata must be an object.",
        )),
    }
}

fn opt_str(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn create_volume(app: &App, c: &Ctx<'_>) -> R {
    let body = c.req.json()?;
    let v = member(&body, "volume")?;
    let size_v = v.get("size");
    let size = size_v.and_then(|s| {
        s.as_u64()
            .or_else(|| s.as_str().and_then(|x| x.parse().ok()))
    });
    let mut w = app.world();
    let snapshot_id = opt_str(v, "snapshot_id");
    let source_volid = opt_str(v, "source_volid");
    let image_id = opt_str(v, "imageRef");
    let mut min_size = 1;
    if let Some(sid) = &snapshot_id {
        let seq = *w
            .cinder
            .snap_ids
            .get(sid)
            .ok_or_else(|| snap_not_found(sid))?;
        min_size = w.cinder.snapshots[&seq].size;
    }
    if let Some(src) = &source_volid {
        let seq = vol_seq(&mut w, src, false)?;
        min_size = w.cinder.volumes[&seq].size;
    }
    if let Some(img) = &image_id {
        if !crate::glance::image_active(&w, img) {
            return Err(ApiError::bad(format!("Invalid image identifier or unable to access requested image. (Image {img} could not be found.)")));
        }
    }
    let size =
        match (size, size_v) {
            (Some(s), _) if s >= 1 => s,
            (None, None) if snapshot_id.is_some() || source_volid.is_some() => min_size,
            _ => {
                return Err(ApiError::bad(format!(
                "Invalid input received: Volume size '{}' must be an integer and greater than 0",
                size_v.map(|v| v.to_string()).unwrap_or_else(|| "None".into())
            )))
            }
        };
    if size < min_size {
        return Err(ApiError::bad(format!(
            "Invalid input received: Volume size '{size}'GB cannot be smaller than the snapshot or source volume size '{min_size}'GB."
        )));
    }
    let vtype = match opt_str(v, "volume_type") {
        None => "__DEFAULT__".to_owned(),
        Some(t) if t == "__DEFAULT__" || t == DEFAULT_TYPE_ID => "__DEFAULT__".to_owned(),
        Some(t) => {
            return Err(ApiError::not_found(format!(
                "Volume type with name {t} could not be found."
            )))
        }
    };
    if let Some(az) = opt_str(v, "availability_zone") {
        if az != "nova" {
            return Err(ApiError::bad(format!(
                "Invalid input received: Availability zone '{az}' is invalid."
            )));
        }
    }
    let md = metadata(v.get("metadata"))?;
    let seq = w.cinder.next_seq.max(1);
    w.cinder.next_seq = seq + 1;
    let id = w.rng.uuid();
    let now = now_secs();
    let rule = w.volume;
    let volume = Volume {
        id: id.clone(),
        name: opt_str(v, "name"),
        description: opt_str(v, "description"),
        size,
        status: "creating",
        pending: Some(Pending::new(rule, VolNext::Available)),
        volume_type: vtype,
        created: now,
        updated: now,
        metadata: md,
        bootable: image_id.is_some(),
        snapshot_id,
        source_volid,
        image_id,
        attachments: Vec::new(),
    };
    w.cinder.ids.insert(id.clone(), seq);
    w.cinder.volumes.insert(seq, volume);
    settle(&mut w, seq, false);
    let out = render_volume(&w, &w.cinder.volumes[&seq], c, true);
    Ok(Resp::json(202, &json!({ "volume": out })))
}

fn list_volumes(app: &App, c: &Ctx<'_>, detail: bool) -> R {
    let q = &c.req.query;
    let mut w = app.world();
    let limit = parse_limit(q, app.cfg.max_limit.max(1))?;
    let name = q.get("name").map(str::to_owned);
    let status = q.get("status").map(str::to_owned);
    let mut cursor = match q.get("marker") {
        Some(mk) => *w
            .cinder
            .ids
            .get(mk)
            .ok_or_else(|| ApiError::not_found(format!("Marker {mk} could not be found.")))?,
        None => u64::MAX,
    };
    let mut page = Vec::new();
    while page.len() < limit {
        let batch: Vec<u64> = w
            .cinder
            .volumes
            .range(..cursor)
            .rev()
            .take((limit - page.len()).clamp(64, 4096))
            .map(|(k, _)| *k)
            .collect();
        if batch.is_empty() {
            break;
        }
        for seq in batch {
            cursor = seq;
            if !settle(&mut w, seq, true) {
                continue;
            }
            let v = &w.cinder.volumes[&seq];
            if name
                .as_deref()
                .is_some_and(|n| v.name.as_deref() != Some(n))
            {
                continue;
            }
            if status.as_deref().is_some_and(|s| v.status != s) {
                continue;
            }
            page.push(seq);
            if page.len() == limit {
                break;
            }
        }
    }
    let items: Vec<Value> = page
        .iter()
        .map(|s| render_volume(&w, &w.cinder.volumes[s], c, detail))
        .collect();
    let mut body = Map::new();
    let last = page.last().map(|s| w.cinder.volumes[s].id.clone());
    body.insert("volumes".into(), Value::Array(items));
    if let (true, Some(last)) = (limit > 0 && page.len() == limit, last) {
        let path = if detail { "volumes/detail" } else { "volumes" };
        body.insert(
            "volumes_links".into(),
            json!([{"rel": "next", "href": format!("{}/volume/v3/{}/{path}?{}", c.base, c.project, q.with_marker(&last))}]),
        );
    }
    Ok(Resp::json(200, &Value::Object(body)))
}

const DELETE_INVALID: &str = "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.";

fn volume_one(app: &App, c: &Ctx<'_>, id: &str) -> R {
    let mut w = app.world();
    match c.req.method.clone() {
        Method::GET => {
            let seq = vol_seq(&mut w, id, true)?;
            Ok(Resp::json(
                200,
                &json!({"volume": render_volume(&w, &w.cinder.volumes[&seq], c, true)}),
            ))
        }
        Method::PUT => {
            let body = c.req.json()?;
            let u = member(&body, "volume")?;
            let seq = vol_seq(&mut w, id, false)?;
            let md = if u.contains_key("metadata") {
                Some(metadata(u.get("metadata"))?)
            } else {
                None
            };
            let v = vol(&mut w, seq);
            if u.contains_key("name") {
                v.name = opt_str(u, "name");
            }
            if u.contains_key("description") {
                v.description = opt_str(u, "description");
            }
            if let Some(md) = md {
                v.metadata = md;
            }
            v.updated = now_secs();
            Ok(Resp::json(
                200,
                &json!({"volume": render_volume(&w, &w.cinder.volumes[&seq], c, true)}),
            ))
        }
        Method::DELETE => {
            let seq = vol_seq(&mut w, id, false)?;
            let cascade = c
                .req
                .query
                .get("cascade")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let v = &w.cinder.volumes[&seq];
            if !matches!(
                v.status,
                "available" | "error" | "error_restoring" | "error_extending"
            ) || !v.attachments.is_empty()
            {
                return Err(ApiError::bad(DELETE_INVALID));
            }
            let snaps: Vec<u64> = w
                .cinder
                .snapshots
                .iter()
                .filter(|(_, s)| s.volume_id == id)
                .map(|(k, _)| *k)
                .collect();
            if !snaps.is_empty() && !cascade {
                return Err(ApiError::bad(DELETE_INVALID));
            }
            for s in snaps {
                if let Some(sn) = w.cinder.snapshots.remove(&s) {
                    w.cinder.snap_ids.remove(&sn.id);
                }
            }
            let rule = w.volume;
            let v = vol(&mut w, seq);
            v.status = "deleting";
            v.pending = Some(Pending::new(rule, VolNext::Gone));
            settle(&mut w, seq, false);
            Ok(Resp::empty(202))
        }
        _ => Err(ApiError::new(
            405,
            "The method specified is not allowed for this resource.",
        )),
    }
}

fn volume_action(app: &App, c: &Ctx<'_>, id: &str) -> R {
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
    let seq = vol_seq(&mut w, id, false)?;
    match action.as_str() {
        "os-extend" => {
            let new = arg
                .get("new_size")
                .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|x| x.parse().ok())))
                .ok_or_else(|| ApiError::bad("Invalid input for field/attribute new_size. 'new_size' is a required property"))?;
            let (status, size) = {
                let v = &w.cinder.volumes[&seq];
                (v.status, v.size)
            };
            let allowed = status == "available" || (status == "in-use" && c.at_least(42));
            if !allowed {
                return Err(ApiError::bad(
                    "Invalid volume: Volume should have status of available (or in-use from 3.42)",
                ));
            }
            if new <= size {
                return Err(ApiError::bad(format!(
                    "Invalid input received: New size for extend must be greater than current size. (current: {size}, extended: {new})."
                )));
            }
            let rule = w.volume;
            let v = vol(&mut w, seq);
            v.status = "extending";
            v.pending = Some(Pending::new(rule, VolNext::Extended(new, status)));
            settle(&mut w, seq, false);
            Ok(Resp::empty(202))
        }
        "os-reset_status" => {
            let st = arg.get("status").and_then(Value::as_str).unwrap_or("");
            let st: &'static str = match st {
                "available" => "available",
                "in-use" => "in-use",
                "error" => "error",
                "error_deleting" => "error_deleting",
                "creating" => "creating",
                other => {
                    return Err(ApiError::bad(format!(
                        "Invalid input received: Volume status {other} is not valid."
                    )))
                }
            };
            let v = vol(&mut w, seq);
            v.status = st;
            v.pending = None;
            Ok(Resp::empty(202))
        }
        "os-set_bootable" => {
            let b = arg
                .get("bootable")
                .map(|b| {
                    b.as_bool().unwrap_or_else(|| {
                        b.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
                    })
                })
                .unwrap_or(false);
            vol(&mut w, seq).bootable = b;
            Ok(Resp::empty(200))
        }
        other => Err(ApiError::bad(format!("There is no such action: {other}"))),
    }
}

fn snapshots(app: &App, c: &Ctx<'_>, id: Option<&str>, detail: bool) -> R {
    let mut w = app.world();
    match (id, c.req.method.clone()) {
        (None, Method::GET) => {
            let q = &c.req.query;
            let limit = parse_limit(q, app.cfg.max_limit.max(1))?;
            let mut cursor = match q.get("marker") {
                Some(mk) => *w.cinder.snap_ids.get(mk).ok_or_else(|| {
                    ApiError::not_found(format!("Marker {mk} could not be found."))
                })?,
                None => u64::MAX,
            };
            let vol_filter = q.get("volume_id").map(str::to_owned);
            let mut page = Vec::new();
            loop {
                let batch: Vec<u64> = w
                    .cinder
                    .snapshots
                    .range(..cursor)
                    .rev()
                    .take(256)
                    .map(|(k, _)| *k)
                    .collect();
                if batch.is_empty() || page.len() >= limit {
                    break;
                }
                for seq in batch {
                    cursor = seq;
                    if !settle_snap(&mut w, seq, true) {
                        continue;
                    }
                    if vol_filter
                        .as_deref()
                        .is_some_and(|v| w.cinder.snapshots[&seq].volume_id != v)
                    {
                        continue;
                    }
                    page.push(seq);
                    if page.len() == limit {
                        break;
                    }
                }
            }
            let items: Vec<Value> = page
                .iter()
                .map(|s| render_snapshot(&w, &w.cinder.snapshots[s], c, detail))
                .collect();
            let last = page.last().map(|s| w.cinder.snapshots[s].id.clone());
            let mut body = Map::new();
            body.insert("snapshots".into(), Value::Array(items));
            if let (true, Some(last)) = (limit > 0 && page.len() == limit, last) {
                let path = if detail {
                    "snapshots/detail"
                } else {
                    "snapshots"
                };
                body.insert(
                    "snapshots_links".into(),
                    json!([{"rel": "next", "href": format!("{}/volume/v3/{}/{path}?{}", c.base, c.project, q.with_marker(&last))}]),
                );
            }
            Ok(Resp::json(200, &Value::Object(body)))
        }
        (None, Method::POST) => {
            let body = c.req.json()?;
            let s = member(&body, "snapshot")?;
            let vid = opt_str(s, "volume_id").ok_or_else(|| ApiError::bad("Invalid input for field/attribute snapshot. 'volume_id' is a required property"))?;
            let force = s.get("force").is_some_and(|f| {
                f.as_bool()
                    .unwrap_or_else(|| f.as_str().is_some_and(|x| x.eq_ignore_ascii_case("true")))
            });
            let vseq = vol_seq(&mut w, &vid, false)?;
            let (status, size) = {
                let v = &w.cinder.volumes[&vseq];
                (v.status, v.size)
            };
            if !(status == "available" || (status == "in-use" && force)) {
                return Err(ApiError::bad(format!(
                    "Invalid volume: Volume {vid} status must be available, but current status is: {status}."
                )));
            }
            let md = metadata(s.get("metadata"))?;
            let seq = w.cinder.next_seq.max(1);
            w.cinder.next_seq = seq + 1;
            let id = w.rng.uuid();
            let rule = w.volume;
            let snap = Snapshot {
                id: id.clone(),
                volume_id: vid,
                name: opt_str(s, "name"),
                description: opt_str(s, "description"),
                size,
                status: "creating",
                pending: Some(Pending::new(rule, false)),
                created: now_secs(),
                updated: None,
                metadata: md,
            };
            w.cinder.snap_ids.insert(id, seq);
            w.cinder.snapshots.insert(seq, snap);
            settle_snap(&mut w, seq, false);
            let out = render_snapshot(&w, &w.cinder.snapshots[&seq], c, true);
            Ok(Resp::json(202, &json!({ "snapshot": out })))
        }
        (Some(sid), m) => {
            let seq = *w
                .cinder
                .snap_ids
                .get(sid)
                .ok_or_else(|| snap_not_found(sid))?;
            if !settle_snap(&mut w, seq, m == Method::GET) {
                return Err(snap_not_found(sid));
            }
            match m {
                Method::GET => Ok(Resp::json(
                    200,
                    &json!({"snapshot": render_snapshot(&w, &w.cinder.snapshots[&seq], c, true)}),
                )),
                Method::PUT => {
                    let body = c.req.json()?;
                    let u = member(&body, "snapshot")?;
                    let s = w
                        .cinder
                        .snapshots
                        .get_mut(&seq)
                        .ok_or_else(|| snap_not_found(sid))?;
                    if u.contains_key("name") {
                        s.name = opt_str(u, "name");
                    }
                    if u.contains_key("description") {
                        s.description = opt_str(u, "description");
                    }
                    s.updated = Some(now_secs());
                    Ok(Resp::json(
                        200,
                        &json!({"snapshot": render_snapshot(&w, &w.cinder.snapshots[&seq], c, true)}),
                    ))
                }
                Method::DELETE => {
                    let rule = w.volume;
                    let s = w
                        .cinder
                        .snapshots
                        .get_mut(&seq)
                        .ok_or_else(|| snap_not_found(sid))?;
                    if !matches!(s.status, "available" | "error") {
                        return Err(ApiError::bad("Invalid snapshot: Volume Snapshot status must be available or error or error_restoring or error_extending or error_managing and must not be part of a group."));
                    }
                    s.status = "deleting";
                    s.pending = Some(Pending::new(rule, true));
                    settle_snap(&mut w, seq, false);
                    Ok(Resp::empty(202))
                }
                _ => Err(ApiError::new(
                    405,
                    "The method specified is not allowed for this resource.",
                )),
            }
        }
        _ => Err(ApiError::new(
            405,
            "The method specified is not allowed for this resource.",
        )),
    }
}

fn volume_type_json() -> Value {
    json!({
        "id": DEFAULT_TYPE_ID,
        "name": "__DEFAULT__",
        "is_public": true,
        "description": "Default Volume Type",
        "extra_specs": {},
        "qos_specs_id": null,
        "os-volume-type-access:is_public": true,
    })
}

fn versions(app: &App) -> Value {
    let max = app.cfg.cinder_max;
    json!({"versions": [{
        "id": "v3.0",
        "status": "CURRENT",
        "version": format!("{}.{}", max.0, max.1),
        "min_version": "3.0",
        "updated": "2022-08-31T00:00:00Z",
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": format!("{}/volume/v3/", app.base)}
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}]
    }]})
}

pub(crate) fn handle(app: &App, req: &Req) -> R {
    let segs = req.seg_refs();
    match segs.as_slice() {
        [] if req.method == Method::GET => return Ok(Resp::json(300, &versions(app))),
        ["v3"] if req.method == Method::GET => return Ok(Resp::json(200, &versions(app))),
        ["v3", ..] => {}
        _ => return Err(ApiError::not_found("The resource could not be found.")),
    }
    let token = authenticate(app, req)?;
    let project = token
        .project
        .as_ref()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let mv = negotiate(req, "volume", None, MIN_MV, app.cfg.cinder_max)?;
    let mv_s = format!("volume {}.{}", mv.0, mv.1);
    let mut rest: &[&str] = &segs[1..];
    const TOP: [&str; 5] = [
        "volumes",
        "snapshots",
        "types",
        "os-availability-zone",
        "limits",
    ];
    match rest.first() {
        Some(first) if TOP.contains(first) && mv >= (3, 67) => {}
        Some(first) if *first == project => rest = &rest[1..],
        Some(first) if TOP.contains(first) => {
            return Err(ApiError::not_found("The resource could not be found."))
        }
        Some(_) => return Err(ApiError::bad("Malformed request url")),
        None => return Err(ApiError::not_found("The resource could not be found.")),
    }
    let c = Ctx {
        base: &app.base,
        project: &project,
        mv,
        req,
    };
    let get = req.method == Method::GET;
    let result = match rest {
        ["volumes"] => match req.method {
            Method::GET => list_volumes(app, &c, false),
            Method::POST => create_volume(app, &c),
            _ => Err(ApiError::new(
                405,
                "The method specified is not allowed for this resource.",
            )),
        },
        ["volumes", "detail"] if get => list_volumes(app, &c, true),
        ["volumes", id] => volume_one(app, &c, id),
        ["volumes", id, "action"] if req.method == Method::POST => volume_action(app, &c, id),
        ["snapshots"] => snapshots(app, &c, None, false),
        ["snapshots", "detail"] if get => snapshots(app, &c, None, true),
        ["snapshots", id] => snapshots(app, &c, Some(id), true),
        ["types"] if get => Ok(Resp::json(
            200,
            &json!({"volume_types": [volume_type_json()]}),
        )),
        ["types", "default"] if get => {
            Ok(Resp::json(200, &json!({"volume_type": volume_type_json()})))
        }
        ["types", id] if get => {
            if *id == DEFAULT_TYPE_ID || *id == "__DEFAULT__" {
                Ok(Resp::json(200, &json!({"volume_type": volume_type_json()})))
            } else {
                Err(ApiError::not_found(format!(
                    "Volume type {id} could not be found."
                )))
            }
        }
        ["os-availability-zone"] if get => Ok(Resp::json(
            200,
            &json!({"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": true}}]}),
        )),
        _ => Err(ApiError::not_found("The resource could not be found.")),
    };
    match result {
        Ok(r) => Ok(r
            .header("OpenStack-API-Version", &mv_s)
            .header("Vary", "OpenStack-API-Version")),
        Err(e) => Err(e.with_header("OpenStack-API-Version", &mv_s)),
    }
}

// ---- helpers for Nova -------------------------------------------------------

/// Checks that a volume can be attached (Nova's 404 / 400).
pub(crate) fn check_attachable(w: &mut World, id: &str) -> Result<(), ApiError> {
    let seq = vol_seq(w, id, false)?;
    let v = &w.cinder.volumes[&seq];
    if v.status != "available" {
        return Err(ApiError::bad(format!(
            "Invalid volume: volume '{id}' status must be 'available'. Currently in '{}'",
            v.status
        )));
    }
    Ok(())
}

/// Marks a volume attached to a server (attaching, then in-use).
pub(crate) fn attach(w: &mut World, id: &str, server: &str, device: &str, attachment_id: &str) {
    let Some(seq) = w.cinder.ids.get(id).copied() else {
        return;
    };
    let rule = w.volume;
    let v = vol(w, seq);
    v.attachments.push(VolAttachment {
        server_id: server.to_owned(),
        attachment_id: attachment_id.to_owned(),
        device: device.to_owned(),
        attached_at: now_secs(),
    });
    v.status = "attaching";
    v.pending = Some(Pending::new(rule, VolNext::InUse));
    settle(w, seq, false);
}

/// Starts detaching a volume from a server (detaching, then available).
pub(crate) fn detach(w: &mut World, id: &str, server: &str) {
    let Some(seq) = w.cinder.ids.get(id).copied() else {
        return;
    };
    let rule = w.volume;
    let v = vol(w, seq);
    v.status = "detaching";
    v.pending = Some(Pending::new(rule, VolNext::Detached(server.to_owned())));
    settle(w, seq, false);
}

/// Detaches a volume at once (server deletion), deleting it if asked.
pub(crate) fn detach_now(w: &mut World, id: &str, server: &str, delete: bool) {
    let Some(seq) = w.cinder.ids.get(id).copied() else {
        return;
    };
    let v = vol(w, seq);
    v.attachments.retain(|a| a.server_id != server);
    v.pending = None;
    v.status = if v.attachments.is_empty() {
        "available"
    } else {
        "in-use"
    };
    v.updated = now_secs();
    if delete && v.attachments.is_empty() {
        let vid = v.id.clone();
        w.cinder.volumes.remove(&seq);
        w.cinder.ids.remove(&vid);
    }
}
