//! Glance (image v2) at `/image`: images, JSON-patch updates, streamed upload and
//! download, staging, interoperable import (`glance-direct`, and `web-download`
//! from loopback URLs only), deactivation, import and store discovery.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};

use crate::digest::{Md5, Sha512};
use crate::http::{ApiError, ChunkBody, Resp, R};
use crate::service::{authenticate, App, Req};
use crate::util::{iso, now_secs};
use crate::world::{Pending, World};

/// Largest image kept in memory.
const MAX_IMAGE_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// Frame size of downloads.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

const DISK_FORMATS: [&str; 11] = [
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];
const CONTAINER_FORMATS: [&str; 8] = [
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];
const VISIBILITIES: [&str; 4] = ["public", "private", "shared", "community"];
const READ_ONLY: [&str; 13] = [
    "status",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "created_at",
    "updated_at",
    "self",
    "file",
    "schema",
    "direct_url",
    "stores",
];

/// Uploaded data with its digests.
#[derive(Debug, Clone)]
struct Data {
    chunks: Arc<Vec<Bytes>>,
    size: u64,
    md5: String,
    sha512: String,
}

#[derive(Debug, Clone)]
struct Image {
    id: String,
    name: Option<String>,
    status: &'static str,
    disk_format: Option<String>,
    container_format: Option<String>,
    visibility: String,
    min_disk: u64,
    min_ram: u64,
    protected: bool,
    os_hidden: bool,
    tags: Vec<String>,
    owner: String,
    created: i64,
    updated: i64,
    props: BTreeMap<String, String>,
    data: Option<Data>,
    staged: Option<Data>,
    /// glance-direct import in progress.
    importing: Option<Pending<()>>,
}

/// Glance's state.
#[derive(Debug, Default)]
pub(crate) struct GlanceState {
    images: BTreeMap<u64, Image>,
    ids: HashMap<String, u64>,
    next_seq: u64,
    /// The image seeded at start (used by seeded servers).
    pub(crate) default_image: Option<String>,
}

fn hash_all(chunks: Vec<Bytes>) -> Data {
    let mut md5 = Md5::new();
    let mut sha = Sha512::new();
    let mut size = 0u64;
    for c in &chunks {
        md5.update(c);
        sha.update(c);
        size += c.len() as u64;
    }
    Data {
        chunks: Arc::new(chunks),
        size,
        md5: md5.finish_hex(),
        sha512: sha.finish_hex(),
    }
}

pub(crate) fn seed(w: &mut World) {
    let id = w.rng.uuid();
    let now = now_secs();
    // A small deterministic "disk" so downloads of the seeded image work.
    let blob: Vec<u8> = (0..16_384u32).map(|i| (i % 251) as u8).collect();
    let img = Image {
        id: id.clone(),
        name: Some("cirros-0.6.2-x86_64-disk".into()),
        status: "active",
        disk_format: Some("qcow2".into()),
        container_format: Some("bare".into()),
        visibility: "public".into(),
        min_disk: 0,
        min_ram: 0,
        protected: false,
        os_hidden: false,
        tags: Vec::new(),
        owner: w.project_id.clone(),
        created: now - 86_400,
        updated: now - 86_400,
        props: BTreeMap::new(),
        data: Some(hash_all(vec![Bytes::from(blob)])),
        staged: None,
        importing: None,
    };
    w.glance.next_seq = 2;
    w.glance.ids.insert(id.clone(), 1);
    w.glance.images.insert(1, img);
    w.glance.default_image = Some(id);
}

/// Whether an image exists and is active (Nova, Cinder).
pub(crate) fn image_active(w: &World, id: &str) -> bool {
    w.glance
        .ids
        .get(id)
        .and_then(|s| w.glance.images.get(s))
        .is_some_and(|i| i.status == "active")
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No image found with ID {id}"))
}

fn image_seq(w: &mut World, id: &str) -> Result<u64, ApiError> {
    let seq = *w.glance.ids.get(id).ok_or_else(|| not_found(id))?;
    if let Some(img) = w.glance.images.get_mut(&seq) {
        if let Some(p) = img.importing.as_mut() {
            if p.check(true) {
                img.importing = None;
                if let Some(d) = img.staged.take() {
                    img.data = Some(d);
                }
                img.status = "active";
                img.props
                    .insert("os_glance_importing_to_stores".into(), String::new());
                img.updated = now_secs();
            }
        }
    }
    Ok(seq)
}

fn render(img: &Image) -> Value {
    let mut m = Map::new();
    for (k, v) in &img.props {
        m.insert(k.clone(), json!(v));
    }
    m.insert("id".into(), json!(img.id));
    m.insert("name".into(), json!(img.name));
    m.insert("status".into(), json!(img.status));
    m.insert("disk_format".into(), json!(img.disk_format));
    m.insert("container_format".into(), json!(img.container_format));
    m.insert("visibility".into(), json!(img.visibility));
    let d = img.data.as_ref();
    m.insert("size".into(), json!(d.map(|d| d.size)));
    m.insert(
        "virtual_size".into(),
        json!(d
            .filter(|_| img.disk_format.as_deref() == Some("raw"))
            .map(|d| d.size)),
    );
    m.insert("checksum".into(), json!(d.map(|d| d.md5.clone())));
    m.insert("os_hash_algo".into(), json!(d.map(|_| "sha512")));
    m.insert("os_hash_value".into(), json!(d.map(|d| d.sha512.clone())));
    m.insert("protected".into(), json!(img.protected));
    m.insert("min_ram".into(), json!(img.min_ram));
    m.insert("min_disk".into(), json!(img.min_disk));
    m.insert("owner".into(), json!(img.owner));
    m.insert("os_hidden".into(), json!(img.os_hidden));
    m.insert("tags".into(), json!(img.tags));
    m.insert("created_at".into(), json!(iso(img.created)));
    m.insert("updated_at".into(), json!(iso(img.updated)));
    m.insert("self".into(), json!(format!("/v2/images/{}", img.id)));
    m.insert("file".into(), json!(format!("/v2/images/{}/file", img.id)));
    m.insert("schema".into(), json!("/v2/schemas/image"));
    if d.is_some() {
        m.insert("stores".into(), json!("fs"));
    }
    Value::Object(m)
}

fn schema_error(msg: impl std::fmt::Display) -> ApiError {
    ApiError::bad(format!(
        "Provided object does not match schema 'image': {msg}"
    ))
}

fn read_only(attr: &str) -> ApiError {
    ApiError::new(403, format!("Attribute '{attr}' is read-only."))
}

/// Applies one attribute (create or patch). `creating` allows the `id`.
fn set_attr(img: &mut Image, key: &str, v: &Value) -> Result<(), ApiError> {
    let string_or_null = |v: &Value| -> Result<Option<String>, ApiError> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.len() <= 255 => Ok(Some(s.clone())),
            other => Err(schema_error(format!("{other} is not of type 'string'"))),
        }
    };
    match key {
        "name" => img.name = string_or_null(v)?,
        "disk_format" => {
            let f = string_or_null(v)?;
            if let Some(f) = &f {
                if !DISK_FORMATS.contains(&f.as_str()) {
                    return Err(schema_error(format!(
                        "'{f}' is not one of {DISK_FORMATS:?}"
                    )));
                }
            }
            img.disk_format = f;
        }
        "container_format" => {
            let f = string_or_null(v)?;
            if let Some(f) = &f {
                if !CONTAINER_FORMATS.contains(&f.as_str()) {
                    return Err(schema_error(format!(
                        "'{f}' is not one of {CONTAINER_FORMATS:?}"
                    )));
                }
            }
            img.container_format = f;
        }
        "owner" => {
            img.owner = string_or_null(v)?.unwrap_or_default();
        }
        "visibility" => match v.as_str() {
            Some(s) if VISIBILITIES.contains(&s) => img.visibility = s.to_owned(),
            _ => return Err(schema_error(format!("{v} is not one of {VISIBILITIES:?}"))),
        },
        "min_disk" | "min_ram" => {
            let n = v
                .as_u64()
                .ok_or_else(|| schema_error(format!("{v} is not of type 'integer'")))?;
            if key == "min_disk" {
                img.min_disk = n;
            } else {
                img.min_ram = n;
            }
        }
        "protected" | "os_hidden" => {
            let b = v
                .as_bool()
                .ok_or_else(|| schema_error(format!("{v} is not of type 'boolean'")))?;
            if key == "protected" {
                img.protected = b;
            } else {
                img.os_hidden = b;
            }
        }
        "tags" => {
            let list = v
                .as_array()
                .ok_or_else(|| schema_error(format!("{v} is not of type 'array'")))?;
            let mut tags: Vec<String> = Vec::new();
            for t in list {
                let t = t
                    .as_str()
                    .filter(|t| t.len() <= 255)
                    .ok_or_else(|| schema_error(format!("{t} is not of type 'string'")))?;
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.to_owned());
                }
            }
            img.tags = tags;
        }
        k if READ_ONLY.contains(&k) || k == "id" || k == "locations" => return Err(read_only(k)),
        k if k.starts_with("os_glance") => {
            return Err(ApiError::new(403, format!("Attribute '{k}' is reserved.")))
        }
        k => {
            let s = v
                .as_str()
                .ok_or_else(|| schema_error(format!("{v} is not of type 'string'")))?;
            if k.len() > 255 || s.len() > 65_535 {
                return Err(schema_error("property too long"));
            }
            img.props.insert(k.to_owned(), s.to_owned());
        }
    }
    Ok(())
}

fn create(app: &App, req: &Req) -> R {
    let body = req.json()?;
    let obj = body
        .as_object()
        .ok_or_else(|| schema_error(format!("{body} is not of type 'object'")))?;
    let mut w = app.world();
    let id = match obj.get("id") {
        None => w.rng.uuid(),
        Some(Value::String(s)) if s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4 => {
            if w.glance.ids.contains_key(s) {
                return Err(ApiError::conflict(format!(
                    "Image with identifier {s} already exists!"
                )));
            }
            s.to_ascii_lowercase()
        }
        Some(v) => return Err(schema_error(format!("{v} is not a 'uuid'"))),
    };
    let now = now_secs();
    let mut img = Image {
        id: id.clone(),
        name: None,
        status: "queued",
        disk_format: None,
        container_format: None,
        visibility: "shared".into(),
        min_disk: 0,
        min_ram: 0,
        protected: false,
        os_hidden: false,
        tags: Vec::new(),
        owner: w.project_id.clone(),
        created: now,
        updated: now,
        props: BTreeMap::new(),
        data: None,
        staged: None,
        importing: None,
    };
    for (k, v) in obj {
        if k == "id" {
            continue;
        }
        set_attr(&mut img, k, v)?;
    }
    let seq = w.glance.next_seq.max(1);
    w.glance.next_seq = seq + 1;
    let out = render(&img);
    w.glance.ids.insert(id.clone(), seq);
    w.glance.images.insert(seq, img);
    Ok(Resp::json(201, &out)
        .header("Location", &format!("{}/image/v2/images/{id}", app.base))
        .header(
            "OpenStack-image-import-methods",
            "glance-direct,web-download",
        )
        .header("OpenStack-image-store-ids", "fs"))
}

fn list(app: &App, req: &Req) -> R {
    let q = &req.query;
    let max = app.cfg.max_limit.max(1);
    let limit = match q.get("limit") {
        None => 25.min(max),
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| ApiError::bad("limit param must be an integer"))?
            .min(max),
    };
    // Sorting: `sort=key:dir,…` or `sort_key`/`sort_dir`; default created_at desc.
    let mut sort: Vec<(String, bool)> = Vec::new();
    if let Some(s) = q.get("sort") {
        for part in s.split(',') {
            let (k, d) = part.split_once(':').unwrap_or((part, "desc"));
            sort.push((k.trim().to_owned(), d.trim() != "asc"));
        }
    } else {
        let keys = q.all("sort_key");
        let dirs = q.all("sort_dir");
        for (i, k) in keys.iter().enumerate() {
            let d = dirs.get(i).or(dirs.last()).copied().unwrap_or("desc");
            sort.push(((*k).to_owned(), d != "asc"));
        }
    }
    for (k, _) in &sort {
        if !matches!(
            k.as_str(),
            "name"
                | "status"
                | "container_format"
                | "disk_format"
                | "size"
                | "id"
                | "created_at"
                | "updated_at"
                | "visibility"
                | "min_disk"
                | "min_ram"
        ) {
            return Err(ApiError::bad(format!("Invalid sort key: {k}. It should be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at.")));
        }
    }
    let name = q.get("name");
    let status = q.get("status");
    let visibility = q.get("visibility");
    let tags = q.all("tag");
    let hidden = q
        .get("os_hidden")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let disk_format = q.get("disk_format");
    let container_format = q.get("container_format");
    let mut w = app.world();
    let seqs: Vec<u64> = w.glance.images.keys().rev().copied().collect();
    let ids: Vec<String> = seqs.iter().map(|s| w.glance.images[s].id.clone()).collect();
    for id in &ids {
        let _ = image_seq(&mut w, id);
    }
    let mut all: Vec<&Image> = seqs
        .iter()
        .map(|s| &w.glance.images[s])
        .filter(|i| name.is_none_or(|n| i.name.as_deref() == Some(n)))
        .filter(|i| status.is_none_or(|s| i.status == s))
        .filter(|i| visibility.is_none_or(|v| v == "all" || i.visibility == v))
        .filter(|i| tags.iter().all(|t| i.tags.iter().any(|x| x == t)))
        .filter(|i| i.os_hidden == hidden)
        .filter(|i| disk_format.is_none_or(|f| i.disk_format.as_deref() == Some(f)))
        .filter(|i| container_format.is_none_or(|f| i.container_format.as_deref() == Some(f)))
        .collect();
    if !sort.is_empty() {
        let key = |i: &Image, k: &str| -> (u64, String) {
            match k {
                "name" => (0, i.name.clone().unwrap_or_default()),
                "status" => (0, i.status.to_owned()),
                "container_format" => (0, i.container_format.clone().unwrap_or_default()),
                "disk_format" => (0, i.disk_format.clone().unwrap_or_default()),
                "visibility" => (0, i.visibility.clone()),
                "size" => (i.data.as_ref().map(|d| d.size).unwrap_or(0), String::new()),
                "min_disk" => (i.min_disk, String::new()),
                "min_ram" => (i.min_ram, String::new()),
                "id" => (0, i.id.clone()),
                "updated_at" => (i.updated as u64, String::new()),
                _ => (i.created as u64, String::new()),
            }
        };
        // Stable sort keeps the default (newest first) order for ties.
        all.sort_by(|a, b| {
            for (k, desc) in &sort {
                let o = key(a, k).cmp(&key(b, k));
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let start = match q.get("marker") {
        Some(mk) => all
            .iter()
            .position(|i| i.id == mk)
            .map(|p| p + 1)
            .ok_or_else(|| {
                ApiError::bad(format!("Invalid marker. Image {mk} could not be found."))
            })?,
        None => 0,
    };
    let page: Vec<&Image> = all.iter().skip(start).take(limit).copied().collect();
    let mut body = Map::new();
    body.insert(
        "images".into(),
        Value::Array(page.iter().map(|i| render(i)).collect()),
    );
    let rest = q.without_marker();
    body.insert(
        "first".into(),
        json!(if rest.is_empty() {
            "/v2/images".to_owned()
        } else {
            format!("/v2/images?{rest}")
        }),
    );
    body.insert("schema".into(), json!("/v2/schemas/images"));
    if limit > 0 && page.len() == limit {
        if let Some(last) = page.last() {
            body.insert(
                "next".into(),
                json!(format!("/v2/images?{}", q.with_marker(&last.id))),
            );
        }
    }
    Ok(Resp::json(200, &Value::Object(body)))
}

fn patch(app: &App, req: &Req, id: &str) -> R {
    let ct = req.header("content-type").unwrap_or("");
    if !ct.starts_with("application/openstack-images-v2.1-json-patch")
        && !ct.starts_with("application/openstack-images-v2.0-json-patch")
    {
        return Err(ApiError::new(415, format!("Unsupported Content-Type {ct}")));
    }
    let body = req.json()?;
    let ops = body
        .as_array()
        .ok_or_else(|| ApiError::bad("Request body must be a JSON array of operation objects."))?;
    let mut w = app.world();
    let seq = image_seq(&mut w, id)?;
    let mut img = w.glance.images[&seq].clone();
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad("Unable to find 'path' in JSON Schema change"))?;
        let attr = path.trim_start_matches('/');
        if attr.is_empty() || attr.contains('/') {
            return Err(ApiError::bad(format!(
                "Invalid JSON pointer for this resource: '{path}'"
            )));
        }
        if (attr == "disk_format" || attr == "container_format") && img.status != "queued" {
            return Err(ApiError::new(
                403,
                format!("Attribute {attr} can be only replaced for a queued image."),
            ));
        }
        let is_base = matches!(
            attr,
            "name"
                | "disk_format"
                | "container_format"
                | "visibility"
                | "min_disk"
                | "min_ram"
                | "protected"
                | "os_hidden"
                | "tags"
        );
        match kind {
            "add" | "replace" => {
                let v = op.get("value").ok_or_else(|| ApiError::bad(format!("Operation objects must contain exactly one member named \"value\". ({kind})")))?;
                if kind == "replace" && !is_base && !READ_ONLY.contains(&attr) && !img.props.contains_key(attr) {
                    return Err(ApiError::conflict(format!("Property {attr} does not exist.")));
                }
                set_attr(&mut img, attr, v)?;
            }
            "remove" => {
                if is_base || READ_ONLY.contains(&attr) {
                    return Err(ApiError::new(403, format!("Attribute '{attr}' is read-only.")));
                }
                if img.props.remove(attr).is_none() {
                    return Err(ApiError::conflict(format!("Property {attr} does not exist.")));
                }
            }
            other => {
                return Err(ApiError::bad(format!(
                    "Operation objects must contain one member named \"add\", \"remove\", or \"replace\". ({other})"
                )))
            }
        }
    }
    img.updated = now_secs();
    let out = render(&img);
    w.glance.images.insert(seq, img);
    Ok(Resp::json(200, &out))
}

async fn upload(app: &Arc<App>, req: &mut Req, id: &str, stage: bool) -> R {
    let ct = req.header("content-type").unwrap_or("");
    if !ct.starts_with("application/octet-stream") {
        return Err(ApiError::new(
            415,
            format!("Content-Type must be application/octet-stream, not {ct}"),
        ));
    }
    let transitional = if stage { "uploading" } else { "saving" };
    {
        let mut w = app.world();
        let seq = image_seq(&mut w, id)?;
        let img = w.glance.images.get_mut(&seq).ok_or_else(|| not_found(id))?;
        if img.status != "queued" {
            return Err(ApiError::conflict(format!(
                "Image status transition from {} to {transitional} is not allowed",
                img.status
            )));
        }
        if !stage && (img.disk_format.is_none() || img.container_format.is_none()) {
            return Err(ApiError::bad(
                "Properties disk_format, container_format must be set prior to saving data.",
            ));
        }
        img.status = transitional;
        img.updated = now_secs();
    }
    let mut body = req.stream.take();
    let mut chunks = Vec::new();
    let mut md5 = Md5::new();
    let mut sha = Sha512::new();
    let mut size = 0u64;
    let mut failure: Option<ApiError> = None;
    if let Some(b) = body.as_mut() {
        while let Some(frame) = b.frame().await {
            match frame {
                Ok(f) => {
                    if let Ok(data) = f.into_data() {
                        size += data.len() as u64;
                        if size > MAX_IMAGE_BYTES {
                            failure = Some(ApiError::new(413, "Image exceeds the storage quota"));
                            break;
                        }
                        md5.update(&data);
                        sha.update(&data);
                        chunks.push(data);
                    }
                }
                Err(_) => {
                    failure = Some(ApiError::bad(
                        "Error in store configuration or the upload was interrupted.",
                    ));
                    break;
                }
            }
        }
    }
    let mut w = app.world();
    let Some(seq) = w.glance.ids.get(id).copied() else {
        return Err(ApiError::new(410, format!("Image {id} could not be found after upload. The image may have been deleted during the upload.")));
    };
    let img = w.glance.images.get_mut(&seq).ok_or_else(|| not_found(id))?;
    if let Some(e) = failure {
        img.status = "queued";
        return Err(e);
    }
    let data = Data {
        chunks: Arc::new(chunks),
        size,
        md5: md5.finish_hex(),
        sha512: sha.finish_hex(),
    };
    if stage {
        img.staged = Some(data);
        img.status = "uploading";
    } else {
        img.data = Some(data);
        img.status = "active";
    }
    img.updated = now_secs();
    Ok(Resp::empty(204))
}

fn download(app: &App, id: &str) -> R {
    let mut w = app.world();
    let seq = image_seq(&mut w, id)?;
    let img = &w.glance.images[&seq];
    if img.status == "deactivated" {
        return Err(ApiError::new(
            403,
            "The requested image has been deactivated. Image data download is forbidden.",
        ));
    }
    let Some(d) = img.data.clone() else {
        return Ok(Resp::empty(204));
    };
    drop(w);
    let mut frames = Vec::new();
    for c in d.chunks.iter() {
        let mut off = 0;
        while off < c.len() {
            let end = (off + DOWNLOAD_CHUNK).min(c.len());
            frames.push(c.slice(off..end));
            off = end;
        }
    }
    let mut r = Resp::empty(200)
        .header("Content-Type", "application/octet-stream")
        .header("Content-MD5", &d.md5);
    r.body = ChunkBody::from_chunks(frames);
    Ok(r)
}

/// Whether a web-download URI is allowed: plain http to the loopback interface only.
fn loopback_target(uri: &str) -> Option<(String, u16, String)> {
    let u = url::Url::parse(uri).ok()?;
    if u.scheme() != "http" {
        return None;
    }
    let host = match u.host()? {
        url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost") => "127.0.0.1".to_owned(),
        url::Host::Ipv4(a) if a.is_loopback() => a.to_string(),
        url::Host::Ipv6(a) if a.is_loopback() => format!("[{a}]"),
        _ => return None,
    };
    let port = u.port().unwrap_or(80);
    let mut path = u.path().to_owned();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    Some((host, port, path))
}

async fn fetch(host: &str, port: u16, path: &str) -> Result<Vec<Bytes>, String> {
    let stream = tokio::net::TcpStream::connect(format!("{host}:{port}"))
        .await
        .map_err(|e| e.to_string())?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake::<_, http_body_util::Empty<Bytes>>(io)
            .await
            .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let request = http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("Host", format!("{host}:{port}"))
        .header("User-Agent", "hybrid-fake-openstack web-download")
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        driver.abort();
        return Err(format!("HTTP {}", resp.status()));
    }
    let mut body = resp.into_body();
    let mut chunks = Vec::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(d) = frame.into_data() {
            size += d.len() as u64;
            if size > MAX_IMAGE_BYTES {
                return Err("image too large".into());
            }
            chunks.push(d);
        }
    }
    driver.abort();
    Ok(chunks)
}

fn import(app: &Arc<App>, req: &Req, id: &str) -> R {
    let body = req.json()?;
    let method = body
        .get("method")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("Import request requires a 'method' field."))?
        .to_owned();
    let mut w = app.world();
    let seq = image_seq(&mut w, id)?;
    let rule = w.volume;
    let img = w.glance.images.get_mut(&seq).ok_or_else(|| not_found(id))?;
    match method.as_str() {
        "glance-direct" => {
            if img.status != "uploading" || img.staged.is_none() {
                return Err(ApiError::conflict(
                    "Image needs to be staged before 'glance-direct' method can be used",
                ));
            }
            img.status = "importing";
            img.props
                .insert("os_glance_importing_to_stores".into(), "fs".into());
            img.props
                .insert("os_glance_failed_import".into(), String::new());
            img.importing = Some(Pending::new(rule, ()));
            Ok(Resp::empty(202))
        }
        "web-download" => {
            let uri = body
                .get("method")
                .and_then(|m| m.get("uri"))
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad("URI for web-download must be specified."))?;
            let (host, port, path) = loopback_target(uri).ok_or_else(|| {
                ApiError::bad(format!(
                    "URI for web-download does not pass filtering: {uri}"
                ))
            })?;
            if img.status != "queued" {
                return Err(ApiError::conflict(
                    "Image needs to be in queued state to use 'web-download' method",
                ));
            }
            img.status = "importing";
            img.props
                .insert("os_glance_importing_to_stores".into(), "fs".into());
            img.props
                .insert("os_glance_failed_import".into(), String::new());
            img.updated = now_secs();
            drop(w);
            let app2 = app.clone();
            let id2 = id.to_owned();
            tokio::spawn(async move {
                let result = fetch(&host, port, &path).await;
                let mut w = app2.world();
                let Some(seq) = w.glance.ids.get(&id2).copied() else {
                    return;
                };
                let Some(img) = w.glance.images.get_mut(&seq) else {
                    return;
                };
                img.props
                    .insert("os_glance_importing_to_stores".into(), String::new());
                img.updated = now_secs();
                match result {
                    Ok(chunks) => {
                        img.data = Some(hash_all(chunks));
                        img.status = "active";
                    }
                    Err(_) => {
                        img.status = "queued";
                        img.props
                            .insert("os_glance_failed_import".into(), "fs".into());
                    }
                }
            });
            Ok(Resp::empty(202))
        }
        other => Err(ApiError::bad(format!(
            "Import method {other} is not valid."
        ))),
    }
}

fn versions(app: &App) -> Value {
    let list: Vec<Value> = (0..=16)
        .rev()
        .map(|minor| {
            json!({
                "id": format!("v2.{minor}"),
                "status": if minor == 16 { "CURRENT" } else { "SUPPORTED" },
                "links": [{"rel": "self", "href": format!("{}/image/v2/", app.base)}],
            })
        })
        .collect();
    json!({ "versions": list })
}

pub(crate) async fn handle(app: &Arc<App>, req: &mut Req) -> R {
    let segs: Vec<String> = req.segs.clone();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match segs.as_slice() {
        [] if m == Method::GET => return Ok(Resp::json(300, &versions(app))),
        ["versions"] if m == Method::GET => return Ok(Resp::json(200, &versions(app))),
        ["v2", ..] => {}
        _ => return Err(ApiError::not_found("The resource could not be found.")),
    }
    authenticate(app, req)?;
    let not_allowed = || ApiError::new(405, "The method is not allowed for this resource.");
    match &segs[1..] {
        ["images"] => match m {
            Method::GET => list(app, req),
            Method::POST => create(app, req),
            _ => Err(not_allowed()),
        },
        ["images", id] => match m {
            Method::GET => {
                let mut w = app.world();
                let seq = image_seq(&mut w, id)?;
                Ok(Resp::json(200, &render(&w.glance.images[&seq])))
            }
            Method::PATCH => patch(app, req, id),
            Method::DELETE => {
                let mut w = app.world();
                let seq = image_seq(&mut w, id)?;
                if w.glance.images[&seq].protected {
                    return Err(ApiError::new(
                        403,
                        format!("Image {id} is protected and cannot be deleted."),
                    ));
                }
                w.glance.images.remove(&seq);
                w.glance.ids.remove(*id);
                Ok(Resp::empty(204))
            }
            _ => Err(not_allowed()),
        },
        ["images", id, "file"] => match m {
            Method::PUT => upload(app, req, id, false).await,
            Method::GET => download(app, id),
            _ => Err(not_allowed()),
        },
        ["images", id, "stage"] if m == Method::PUT => upload(app, req, id, true).await,
        ["images", id, "import"] if m == Method::POST => import(app, req, id),
        ["images", id, "actions", action] if m == Method::POST => {
            let mut w = app.world();
            let seq = image_seq(&mut w, id)?;
            let img = w.glance.images.get_mut(&seq).ok_or_else(|| not_found(id))?;
            match (*action, img.status) {
                ("deactivate", "active" | "deactivated") => img.status = "deactivated",
                ("reactivate", "active" | "deactivated") => img.status = "active",
                ("deactivate" | "reactivate", st) => {
                    return Err(ApiError::new(
                        403,
                        format!("Not allowed to {action} image in status '{st}'"),
                    ))
                }
                _ => return Err(ApiError::not_found("The resource could not be found.")),
            }
            img.updated = now_secs();
            Ok(Resp::empty(204))
        }
        ["images", id, "tags", tag] => {
            let mut w = app.world();
            let seq = image_seq(&mut w, id)?;
            let img = w.glance.images.get_mut(&seq).ok_or_else(|| not_found(id))?;
            match m {
                Method::PUT => {
                    if tag.len() > 255 {
                        return Err(ApiError::bad("Tag too long"));
                    }
                    if !img.tags.iter().any(|t| t == tag) {
                        img.tags.push((*tag).to_owned());
                    }
                    Ok(Resp::empty(204))
                }
                Method::DELETE => {
                    let before = img.tags.len();
                    img.tags.retain(|t| t != tag);
                    if before == img.tags.len() {
                        return Err(ApiError::not_found(format!("Tag {tag} not found")));
                    }
                    Ok(Resp::empty(204))
                }
                _ => Err(not_allowed()),
            }
        }
        ["info", "import"] if m == Method::GET => Ok(Resp::json(
            200,
            &json!({"import-methods": {"description": "Import methods available.", "type": "array", "value": ["glance-direct", "web-download"]}}),
        )),
        ["info", "stores"] if m == Method::GET => Ok(Resp::json(
            200,
            &json!({"stores": [{"id": "fs", "description": "Local filesystem store", "default": true}]}),
        )),
        _ => Err(ApiError::not_found("The resource could not be found.")),
    }
}
