//! Microsoft.Compute storage and image resources: managed disks, snapshots, managed
//! images, Azure Compute Gallery images and versions, and SSH public keys.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::arm::{self, bad_method, list_response, no_route, page_keys, props, s, Ctx};
use crate::compute::{pick, STORAGE_TYPES};
use crate::http::{resource_not_found, ArmError, Resp, R};
use crate::ids::{key, ArmId, Key};
use crate::lro::{self, Family, Kind, Status, Target};
use crate::util::{arm_time, base64_encode, iso_z};
use crate::world::{
    location_display, Disk, Gallery, GalleryImage, GalleryVersion, Image, Power, Prov, Snapshot,
    SshKey, World, SEED_GALLERY, SEED_GALLERY_IMAGE, SEED_IMAGE,
};

const DISK_TYPE: &str = "Microsoft.Compute/disks";
const SNAPSHOT_TYPE: &str = "Microsoft.Compute/snapshots";
const IMAGE_TYPE: &str = "Microsoft.Compute/images";
const GALLERY_TYPE: &str = "Microsoft.Compute/galleries";
const SSH_TYPE: &str = "Microsoft.Compute/sshPublicKeys";

/// Routes disks, snapshots, images, galleries and SSH keys.
pub(crate) fn route(ctx: &Ctx<'_>) -> R {
    let l = ctx.lrest.clone();
    let m = ctx.method().clone();
    let get = m == http::Method::GET;
    let by_rg = ctx.rg.is_some();
    match l.as_slice() {
        ["disks"] if get => list_disks(ctx, by_rg),
        ["snapshots"] if get => list_snapshots(ctx, by_rg),
        ["images"] if get => list_images(ctx, by_rg),
        ["galleries"] if get => list_galleries(ctx, by_rg),
        ["sshpublickeys"] if get => list_ssh(ctx, by_rg),
        ["disks", _] if by_rg => disk(ctx, &ctx.rest[1]),
        ["snapshots", _] if by_rg => snapshot(ctx, &ctx.rest[1]),
        ["images", _] if by_rg => image(ctx, &ctx.rest[1]),
        ["sshpublickeys", _] if by_rg => ssh_key(ctx, &ctx.rest[1]),
        ["sshpublickeys", _, "generatekeypair"] if by_rg && m == http::Method::POST => {
            generate_key_pair(ctx, &ctx.rest[1])
        }
        ["galleries", ..] if by_rg => gallery(ctx, &l[1..]),
        ["disks" | "snapshots" | "images" | "galleries" | "sshpublickeys"] => {
            Err(bad_method(ctx.req))
        }
        _ => Err(no_route(ctx.req)),
    }
}

fn sku_tier(sku: &str) -> &'static str {
    if sku.starts_with("Premium") {
        "Premium"
    } else {
        "Standard"
    }
}

fn disk_state(w: &World, d: &Disk) -> &'static str {
    match &d.managed_by {
        None => "Unattached",
        Some(k) => match w.vms.get(k).map(|v| v.power) {
            Some(Power::Deallocated) => "Reserved",
            _ => "Attached",
        },
    }
}

fn render_disk(w: &World, d: &Disk) -> Value {
    let mut p = Map::new();
    if let Some(t) = d.os_type {
        p.insert("osType".into(), json!(t));
    }
    if let Some(h) = d.hyperv {
        p.insert("hyperVGeneration".into(), json!(h));
    }
    p.insert("creationData".into(), (*d.creation).clone());
    p.insert("diskSizeGB".into(), json!(d.size_gb));
    p.insert("diskSizeBytes".into(), json!(d.size_gb << 30));
    p.insert("uniqueId".into(), json!(d.unique_id));
    p.insert(
        "encryption".into(),
        json!({"type": "EncryptionAtRestWithPlatformKey"}),
    );
    p.insert("networkAccessPolicy".into(), json!("AllowAll"));
    p.insert("publicNetworkAccess".into(), json!("Enabled"));
    p.insert("timeCreated".into(), json!(arm_time(d.created)));
    p.insert("provisioningState".into(), json!(d.prov.as_str()));
    p.insert("diskState".into(), json!(disk_state(w, d)));
    let id = w.rid(&d.rg, DISK_TYPE, &d.name);
    let mut m = arm::envelope(
        &d.name,
        id,
        DISK_TYPE,
        &d.location,
        &d.tags,
        Value::Object(p),
    );
    if let Some(vm) = &d.managed_by {
        m.insert("managedBy".into(), json!(w.vm_id(vm)));
    }
    m.insert(
        "sku".into(),
        json!({"name": d.sku, "tier": sku_tier(d.sku)}),
    );
    if !d.zones.is_empty() {
        m.insert("zones".into(), json!(d.zones));
    }
    Value::Object(m)
}

fn render_snapshot(w: &World, s: &Snapshot) -> Value {
    let mut p = Map::new();
    if let Some(t) = s.os_type {
        p.insert("osType".into(), json!(t));
    }
    if let Some(h) = s.hyperv {
        p.insert("hyperVGeneration".into(), json!(h));
    }
    p.insert("creationData".into(), s.creation.clone());
    p.insert("diskSizeGB".into(), json!(s.size_gb));
    p.insert("diskSizeBytes".into(), json!(s.size_gb << 30));
    p.insert("uniqueId".into(), json!(s.unique_id));
    p.insert("incremental".into(), json!(s.incremental));
    p.insert(
        "encryption".into(),
        json!({"type": "EncryptionAtRestWithPlatformKey"}),
    );
    p.insert("timeCreated".into(), json!(arm_time(s.created)));
    p.insert("provisioningState".into(), json!(s.prov.as_str()));
    p.insert("diskState".into(), json!("Unattached"));
    let id = w.rid(&s.rg, SNAPSHOT_TYPE, &s.name);
    let mut m = arm::envelope(
        &s.name,
        id,
        SNAPSHOT_TYPE,
        &s.location,
        &s.tags,
        Value::Object(p),
    );
    m.insert("sku".into(), json!({"name": s.sku, "tier": "Standard"}));
    Value::Object(m)
}

fn render_image(w: &World, i: &Image) -> Value {
    let mut os = Map::new();
    os.insert("osType".into(), json!(i.os_type));
    os.insert("osState".into(), json!(i.os_state));
    os.insert("diskSizeGB".into(), json!(i.size_gb));
    os.insert("caching".into(), json!("ReadWrite"));
    os.insert("storageAccountType".into(), json!(i.storage));
    if let Some((kind, id)) = &i.os_source {
        os.insert((*kind).into(), json!({ "id": id }));
    }
    let mut p = Map::new();
    p.insert(
        "storageProfile".into(),
        json!({"osDisk": Value::Object(os), "dataDisks": [], "zoneResilient": false}),
    );
    if let Some(vm) = &i.source_vm {
        p.insert("sourceVirtualMachine".into(), json!({ "id": vm }));
    }
    p.insert("provisioningState".into(), json!(i.prov.as_str()));
    p.insert("hyperVGeneration".into(), json!(i.hyperv));
    let id = w.rid(&i.rg, IMAGE_TYPE, &i.name);
    Value::Object(arm::envelope(
        &i.name,
        id,
        IMAGE_TYPE,
        &i.location,
        &i.tags,
        Value::Object(p),
    ))
}

/// The rendered resource an operation worked on (for DiskRP's operation output).
pub(crate) fn render_target(w: &World, t: &Target) -> Option<Value> {
    match t {
        Target::Disk(k) => w.disks.get(k).map(|d| render_disk(w, d)),
        Target::Snapshot(k) => w.snapshots.get(k).map(|s| render_snapshot(w, s)),
        Target::Image(k) => w.images.get(k).map(|i| render_image(w, i)),
        _ => None,
    }
}

/// Observes the operation of a disk, snapshot or image.
fn settle(w: &mut World, t: &Target) {
    let op = match t {
        Target::Disk(k) => w.disks.get(k).and_then(|d| d.op.clone()),
        Target::Snapshot(k) => w.snapshots.get(k).and_then(|d| d.op.clone()),
        Target::Image(k) => w.images.get(k).and_then(|d| d.op.clone()),
        _ => None,
    };
    lro::settle(w, op);
}

fn prov_of(status: Status) -> Prov {
    match status {
        Status::Failed => Prov::Failed,
        Status::Canceled => Prov::Canceled,
        _ => Prov::Succeeded,
    }
}

/// Completes an operation on a disk, snapshot or image.
pub(crate) fn finish(w: &mut World, t: &Target, op: &str, kind: Kind, status: Status) {
    macro_rules! done {
        ($map:ident, $k:expr) => {{
            let Some(r) = w.$map.get_mut($k) else { return };
            if r.op.as_deref() != Some(op) {
                return;
            }
            r.op = None;
            if kind == Kind::Delete && status == Status::Succeeded {
                w.$map.remove($k);
            } else {
                r.prov = prov_of(status);
            }
        }};
    }
    match t {
        Target::Disk(k) => done!(disks, k),
        Target::Snapshot(k) => done!(snapshots, k),
        Target::Image(k) => done!(images, k),
        _ => {}
    }
}

/// Starts a DiskRP or image operation, replacing a running one.
fn begin(w: &mut World, t: Target, kind: Kind, family: Family, location: &str) -> String {
    let old = match &t {
        Target::Disk(k) => w.disks.get(k).and_then(|d| d.op.clone()),
        Target::Snapshot(k) => w.snapshots.get(k).and_then(|d| d.op.clone()),
        Target::Image(k) => w.images.get(k).and_then(|d| d.op.clone()),
        _ => None,
    };
    if let Some(o) = old {
        lro::preempt(w, &o);
    }
    let id = lro::begin(w, t.clone(), kind, family, location, None);
    let prov = match kind {
        Kind::Delete => Prov::Deleting,
        Kind::Create if family == Family::Compute => Prov::Creating,
        _ => Prov::Updating,
    };
    match &t {
        Target::Disk(k) => {
            if let Some(d) = w.disks.get_mut(k) {
                d.op = Some(id.clone());
                d.prov = prov;
            }
        }
        Target::Snapshot(k) => {
            if let Some(d) = w.snapshots.get_mut(k) {
                d.op = Some(id.clone());
                d.prov = prov;
            }
        }
        Target::Image(k) => {
            if let Some(d) = w.images.get_mut(k) {
                d.op = Some(id.clone());
                d.prov = prov;
            }
        }
        _ => {}
    }
    id
}

macro_rules! paged_list {
    ($fn_name:ident, $map:ident, $target:ident, $render:ident) => {
        fn $fn_name(ctx: &Ctx<'_>, by_rg: bool) -> R {
            let mut w = ctx.app.world();
            let limit = w.page_size;
            let (keys, more) = page_keys(&w.$map, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
            for k in &keys {
                settle(&mut w, &Target::$target(k.clone()));
            }
            let items = keys
                .iter()
                .filter_map(|k| w.$map.get(k).map(|r| $render(&w, r)))
                .collect();
            Ok(list_response(
                ctx.req,
                items,
                more.then(|| keys.last()).flatten(),
            ))
        }
    };
}

paged_list!(list_disks, disks, Disk, render_disk);
paged_list!(list_snapshots, snapshots, Snapshot, render_snapshot);
paged_list!(list_images, images, Image, render_image);

fn size_field(v: Option<&Value>, target: &str) -> Result<Option<u64>, ArmError> {
    match v {
        None => Ok(None),
        Some(n) => n
            .as_u64()
            .filter(|n| (1..=32_767).contains(n))
            .map(Some)
            .ok_or_else(|| {
                ArmError::invalid(
                    target,
                    format!("The value '{n}' of parameter '{target}' is out of range. The value must be between 1 and 32767."),
                )
            }),
    }
}

/// What a `Copy` source (disk or snapshot) provides: size, OS type, Hyper-V
/// generation, unique id.
type CopySource = (u64, Option<&'static str>, Option<&'static str>, String);

/// The disk or snapshot a `Copy` names.
fn copy_source(w: &World, id: &str) -> Result<CopySource, ArmError> {
    let parsed = ArmId::parse(id).ok_or_else(|| {
        ArmError::invalid(
            "sourceResourceId",
            format!("The value '{id}' of parameter 'sourceResourceId' is not a valid resource id."),
        )
    })?;
    let not_found = || ArmError::new(404, "NotFound", format!("Resource {id} not found."));
    if parsed.is("microsoft.compute", &["disks"]) {
        let d = w.disks.get(&parsed.key()).ok_or_else(not_found)?;
        return Ok((d.size_gb, d.os_type, d.hyperv, d.unique_id.clone()));
    }
    if parsed.is("microsoft.compute", &["snapshots"]) {
        let s = w.snapshots.get(&parsed.key()).ok_or_else(not_found)?;
        return Ok((s.size_gb, s.os_type, s.hyperv, s.unique_id.clone()));
    }
    Err(ArmError::invalid(
        "sourceResourceId",
        format!("The resource '{id}' is neither a disk nor a snapshot."),
    ))
}

fn disk(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &Target::Disk(k.clone()));
            let d = w
                .disks
                .get(&k)
                .ok_or_else(|| resource_not_found(DISK_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_disk(&w, d)))
        }
        http::Method::PUT | http::Method::PATCH => {
            let patch = ctx.method() == http::Method::PATCH;
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            let v = ctx.req.json()?;
            if w.disks.contains_key(&k) {
                return update_disk(ctx, &mut w, &k, &v, patch);
            }
            if patch {
                return Err(resource_not_found(DISK_TYPE, name, &rg));
            }
            arm::check_name(name, 80)?;
            let location = arm::location(&w, &v, DISK_TYPE)?;
            let tags = arm::tags(&v)?.unwrap_or(None);
            let zones = arm::zones(&v)?;
            let p = props(&v);
            let sku = pick(
                s(&v, "/sku/name"),
                STORAGE_TYPES,
                "Standard_LRS",
                "sku.name",
            )?;
            let cd = p.get("creationData").cloned().unwrap_or(Value::Null);
            let option = s(&cd, "/createOption").ok_or_else(|| {
                ArmError::invalid(
                    "creationData.createOption",
                    "Required parameter 'creationData.createOption' is missing (null).",
                )
            })?;
            let size = size_field(p.get("diskSizeGB"), "diskSizeGB")?;
            let mut os_type = match p.get("osType").and_then(Value::as_str) {
                Some(t) => Some(pick(Some(t), &["Linux", "Windows"], "Linux", "osType")?),
                None => None,
            };
            let mut hyperv = match p.get("hyperVGeneration").and_then(Value::as_str) {
                Some(h) => Some(pick(Some(h), &["V1", "V2"], "V1", "hyperVGeneration")?),
                None => None,
            };
            let (size_gb, creation) = match option.to_ascii_lowercase().as_str() {
                "empty" => {
                    let size = size.ok_or_else(|| {
                        ArmError::invalid("diskSizeGB", "Required parameter 'diskSizeGB' is missing (null).")
                    })?;
                    (size, json!({"createOption": "Empty"}))
                }
                "copy" => {
                    let src = s(&cd, "/sourceResourceId").ok_or_else(|| {
                        ArmError::invalid("sourceResourceId", "Required parameter 'sourceResourceId' is missing (null).")
                    })?;
                    let (src_size, src_os, src_hv, uid) = copy_source(&w, src)?;
                    let size = size.unwrap_or(src_size);
                    if size < src_size {
                        return Err(ArmError::invalid(
                            "diskSizeGB",
                            format!("The specified disk size {size} GB is smaller than the size of the source ({src_size} GB)."),
                        ));
                    }
                    os_type = os_type.or(src_os);
                    hyperv = hyperv.or(src_hv);
                    (size, json!({"createOption": "Copy", "sourceResourceId": src, "sourceUniqueId": uid}))
                }
                "fromimage" => {
                    let (id, field) = match (s(&cd, "/galleryImageReference/id"), s(&cd, "/imageReference/id")) {
                        (Some(g), _) => (g, "galleryImageReference"),
                        (None, Some(i)) => (i, "imageReference"),
                        (None, None) => {
                            return Err(ArmError::invalid(
                                "imageReference",
                                "Required parameter 'imageReference' is missing (null).",
                            ))
                        }
                    };
                    let (img_size, img_os, img_hv) = image_source(&w, id, &location)?;
                    let size = size.unwrap_or(img_size).max(img_size);
                    os_type = os_type.or(Some(img_os));
                    hyperv = hyperv.or(Some(img_hv));
                    (size, json!({"createOption": "FromImage", field: {"id": id}}))
                }
                _ => {
                    return Err(ArmError::invalid(
                        "creationData.createOption",
                        format!("The value '{option}' of parameter 'creationData.createOption' is not supported by this fake (Empty, Copy, FromImage)."),
                    ))
                }
            };
            let d = Disk {
                name: name.to_owned(),
                rg: rg.clone(),
                location: location.clone(),
                sku,
                size_gb,
                creation: std::sync::Arc::new(creation),
                os_type,
                hyperv,
                managed_by: None,
                unique_id: w.rng.uuid(),
                created: w.now(),
                tags,
                zones,
                prov: Prov::Updating,
                op: None,
            };
            w.disks.insert(k.clone(), d);
            let op = begin(
                &mut w,
                Target::Disk(k.clone()),
                Kind::Create,
                Family::Disk,
                &location,
            );
            let body = render_disk(&w, &w.disks[&k]);
            Ok(lro::with_headers(
                Resp::json(202, &body),
                &w,
                &op,
                ctx.base(),
                ctx.api(),
                true,
            ))
        }
        http::Method::DELETE => {
            let Some(d) = w.disks.get(&k) else {
                return Ok(Resp::empty(204));
            };
            if let Some(vm) = d.managed_by.as_ref().map(|k| w.vm_id(k)) {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("Disk {} is attached to VM {vm}.", d.name),
                ));
            }
            let location = d.location.clone();
            let op = begin(
                &mut w,
                Target::Disk(k),
                Kind::Delete,
                Family::Disk,
                &location,
            );
            Ok(lro::with_headers(
                Resp::empty(202),
                &w,
                &op,
                ctx.base(),
                ctx.api(),
                true,
            ))
        }
        _ => Err(bad_method(ctx.req)),
    }
}

/// An image a disk is created from: (size, os type, Hyper-V generation).
fn image_source(
    w: &World,
    id: &str,
    location: &str,
) -> Result<(u64, &'static str, &'static str), ArmError> {
    let not_found = || {
        ArmError::new(
            404,
            "NotFound",
            format!("The image '{id}' cannot be found in '{location}' region."),
        )
    };
    if let Some(p) = ArmId::parse(id) {
        if p.is("microsoft.compute", &["galleries", "images", "versions"])
            || p.is("microsoft.compute", &["galleries", "images"])
        {
            let g = w.galleries.get(&p.key()).ok_or_else(not_found)?;
            let def = g
                .images
                .get(&p.name(1).to_ascii_lowercase())
                .ok_or_else(not_found)?;
            let v = if p.parts.len() == 3 {
                def.versions
                    .get(&p.name(2).to_ascii_lowercase())
                    .filter(|v| v.regions.iter().any(|r| r == location))
            } else {
                latest_version(def, location)
            };
            let v = v.ok_or_else(not_found)?;
            return Ok((v.size_gb, def.os_type, def.hyperv));
        }
        if p.is("microsoft.compute", &["images"]) {
            let i = w.images.get(&p.key()).ok_or_else(not_found)?;
            return Ok((i.size_gb, i.os_type, i.hyperv));
        }
        return Err(not_found());
    }
    // A platform image version id: /Subscriptions/{s}/Providers/Microsoft.Compute/
    // Locations/{l}/Publishers/{p}/ArtifactTypes/VMImage/Offers/{o}/Skus/{s}/Versions/{v}.
    let segs: Vec<String> = id
        .trim_matches('/')
        .split('/')
        .map(str::to_ascii_lowercase)
        .collect();
    let platform = segs.len() == 16
        && segs[2] == "providers"
        && segs[6] == "publishers"
        && segs[8] == "artifacttypes"
        && segs[10] == "offers"
        && segs[12] == "skus"
        && segs[14] == "versions";
    if !platform {
        return Err(not_found());
    }
    let windows = segs[7].contains("windows");
    Ok((
        if windows { 127 } else { 30 },
        if windows { "Windows" } else { "Linux" },
        if segs[13].contains("gen2") {
            "V2"
        } else {
            "V1"
        },
    ))
}

fn update_disk(ctx: &Ctx<'_>, w: &mut World, k: &Key, v: &Value, patch: bool) -> R {
    let d = w.disks[k].clone();
    if !patch {
        let l = arm::location(w, v, DISK_TYPE)?;
        arm::same_location(&d.location, &l, &d.name, &d.rg)?;
    }
    let tags = arm::tags(v)?;
    let p = props(v);
    let running_vm = d
        .managed_by
        .as_ref()
        .filter(|vk| {
            w.vms
                .get(*vk)
                .is_some_and(|vm| vm.power != Power::Deallocated)
        })
        .map(|vk| w.vm_id(vk));
    let mut size_gb = d.size_gb;
    if let Some(n) = size_field(p.get("diskSizeGB"), "diskSizeGB")? {
        if n < d.size_gb {
            return Err(ArmError::invalid(
                "diskSizeGB",
                format!("Disk size reduction is not supported: the disk has {} GB, {n} GB was requested.", d.size_gb),
            ));
        }
        if n != d.size_gb {
            if let Some(vm) = &running_vm {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("Disk {} is attached to running VM {vm}. Resizing it is allowed only when the VM is deallocated.", d.name),
                ));
            }
        }
        size_gb = n;
    }
    let mut sku = d.sku;
    if let Some(n) = s(v, "/sku/name") {
        let n = pick(Some(n), STORAGE_TYPES, "Standard_LRS", "sku.name")?;
        if n != d.sku {
            if let Some(vm) = &running_vm {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("Disk {} is attached to running VM {vm}. Changing its SKU is allowed only when the VM is deallocated.", d.name),
                ));
            }
        }
        sku = n;
    }
    let location = d.location.clone();
    let op = begin(
        w,
        Target::Disk(k.clone()),
        Kind::Update,
        Family::Disk,
        &location,
    );
    if let Some(m) = w.disks.get_mut(k) {
        m.size_gb = size_gb;
        m.sku = sku;
        match tags {
            Some(t) => m.tags = t,
            None if !patch => m.tags = None,
            None => {}
        }
    }
    // The VM's view of the disk follows.
    if let Some(vk) = &d.managed_by {
        if let Some(vm) = w.vms.get_mut(vk) {
            for vd in std::iter::once(&mut vm.os_disk).chain(vm.data_disks.iter_mut()) {
                if &vd.key() == k {
                    vd.size_gb = size_gb;
                    vd.storage = sku;
                }
            }
        }
    }
    let body = render_disk(w, &w.disks[k]);
    Ok(lro::with_headers(
        Resp::json(202, &body),
        w,
        &op,
        ctx.base(),
        ctx.api(),
        true,
    ))
}

fn snapshot(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &Target::Snapshot(k.clone()));
            let s = w
                .snapshots
                .get(&k)
                .ok_or_else(|| resource_not_found(SNAPSHOT_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_snapshot(&w, s)))
        }
        http::Method::PUT | http::Method::PATCH => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            let v = ctx.req.json()?;
            if w.snapshots.contains_key(&k) {
                // Only tags can change on a snapshot.
                let tags = arm::tags(&v)?;
                let location = w.snapshots[&k].location.clone();
                let op = begin(
                    &mut w,
                    Target::Snapshot(k.clone()),
                    Kind::Update,
                    Family::Disk,
                    &location,
                );
                if let (Some(s), Some(t)) = (w.snapshots.get_mut(&k), tags) {
                    s.tags = t;
                }
                let body = render_snapshot(&w, &w.snapshots[&k]);
                return Ok(lro::with_headers(
                    Resp::json(202, &body),
                    &w,
                    &op,
                    ctx.base(),
                    ctx.api(),
                    true,
                ));
            }
            if ctx.method() == http::Method::PATCH {
                return Err(resource_not_found(SNAPSHOT_TYPE, name, &rg));
            }
            arm::check_name(name, 80)?;
            let location = arm::location(&w, &v, SNAPSHOT_TYPE)?;
            let tags = arm::tags(&v)?.unwrap_or(None);
            let p = props(&v);
            let sku = pick(
                s(&v, "/sku/name"),
                &["Standard_LRS", "Premium_LRS", "Standard_ZRS"],
                "Standard_LRS",
                "sku.name",
            )?;
            let cd = p.get("creationData").cloned().unwrap_or(Value::Null);
            let option = s(&cd, "/createOption").unwrap_or("");
            if !option.eq_ignore_ascii_case("Copy") {
                return Err(ArmError::invalid(
                    "creationData.createOption",
                    format!("The value '{option}' of parameter 'creationData.createOption' is not supported for snapshots by this fake (Copy)."),
                ));
            }
            let src = s(&cd, "/sourceResourceId").ok_or_else(|| {
                ArmError::invalid(
                    "sourceResourceId",
                    "Required parameter 'sourceResourceId' is missing (null).",
                )
            })?;
            let (size, os_type, hyperv, uid) = copy_source(&w, src)?;
            let snap = Snapshot {
                name: name.to_owned(),
                rg,
                location: location.clone(),
                sku: sku.to_owned(),
                size_gb: size,
                creation: json!({"createOption": "Copy", "sourceResourceId": src, "sourceUniqueId": uid}),
                os_type,
                hyperv,
                incremental: p
                    .get("incremental")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                unique_id: w.rng.uuid(),
                created: w.now(),
                tags,
                prov: Prov::Updating,
                op: None,
            };
            w.snapshots.insert(k.clone(), snap);
            let op = begin(
                &mut w,
                Target::Snapshot(k.clone()),
                Kind::Create,
                Family::Disk,
                &location,
            );
            let body = render_snapshot(&w, &w.snapshots[&k]);
            Ok(lro::with_headers(
                Resp::json(202, &body),
                &w,
                &op,
                ctx.base(),
                ctx.api(),
                true,
            ))
        }
        http::Method::DELETE => {
            let Some(s) = w.snapshots.get(&k) else {
                return Ok(Resp::empty(204));
            };
            let location = s.location.clone();
            let op = begin(
                &mut w,
                Target::Snapshot(k),
                Kind::Delete,
                Family::Disk,
                &location,
            );
            Ok(lro::with_headers(
                Resp::empty(202),
                &w,
                &op,
                ctx.base(),
                ctx.api(),
                true,
            ))
        }
        _ => Err(bad_method(ctx.req)),
    }
}

fn image(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &Target::Image(k.clone()));
            let i = w
                .images
                .get(&k)
                .ok_or_else(|| resource_not_found(IMAGE_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_image(&w, i)))
        }
        http::Method::PUT => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            let v = ctx.req.json()?;
            if let Some(existing) = w.images.get(&k) {
                // An image's source cannot change; only tags can.
                let tags = arm::tags(&v)?;
                let location = existing.location.clone();
                let op = begin(
                    &mut w,
                    Target::Image(k.clone()),
                    Kind::Update,
                    Family::Compute,
                    &location,
                );
                if let Some(i) = w.images.get_mut(&k) {
                    i.tags = tags.unwrap_or(None);
                }
                let body = render_image(&w, &w.images[&k]);
                return Ok(lro::with_headers(
                    Resp::json(200, &body),
                    &w,
                    &op,
                    ctx.base(),
                    ctx.api(),
                    false,
                ));
            }
            arm::check_name(name, 80)?;
            let location = arm::location(&w, &v, IMAGE_TYPE)?;
            let tags = arm::tags(&v)?.unwrap_or(None);
            let p = props(&v);
            let hv = pick(
                p.get("hyperVGeneration").and_then(Value::as_str),
                &["V1", "V2"],
                "V1",
                "hyperVGeneration",
            )?;
            let img = if let Some(vm_id) = arm::ref_id(&p, "sourceVirtualMachine") {
                let vk = ArmId::parse(vm_id)
                    .filter(|i| i.is("microsoft.compute", &["virtualmachines"]))
                    .map(|i| i.key())
                    .ok_or_else(|| {
                        ArmError::invalid(
                            "sourceVirtualMachine.id",
                            format!("The value '{vm_id}' is not a valid virtual machine id."),
                        )
                    })?;
                let vm = w.vms.get(&vk).ok_or_else(|| {
                    ArmError::new(404, "NotFound", format!("Resource {vm_id} not found."))
                })?;
                if matches!(vm.power, Power::Running | Power::Starting) {
                    return Err(ArmError::conflict(
                        "OperationNotAllowed",
                        format!("Operation 'Create Image' is not allowed on VM '{}' since the VM is running. Please stop or deallocate the VM first.", vm.name),
                    ));
                }
                Image {
                    name: name.to_owned(),
                    rg: rg.clone(),
                    location: location.clone(),
                    os_type: vm.os_type,
                    os_state: "Generalized".into(),
                    size_gb: vm.os_disk.size_gb,
                    os_source: Some((
                        "managedDisk",
                        w.rid(&vm.os_disk.rg, DISK_TYPE, &vm.os_disk.name),
                    )),
                    source_vm: Some(w.rid(&vm.rg, "Microsoft.Compute/virtualMachines", &vm.name)),
                    hyperv: vm.hyperv,
                    storage: vm.os_disk.storage.to_owned(),
                    tags,
                    prov: Prov::Creating,
                    op: None,
                }
            } else {
                let os = p
                    .get("storageProfile")
                    .and_then(|sp| sp.get("osDisk"))
                    .cloned()
                    .ok_or_else(|| {
                        ArmError::invalid(
                            "storageProfile.osDisk",
                            "Required parameter 'storageProfile.osDisk' is missing (null).",
                        )
                    })?;
                let os_type = pick(
                    s(&os, "/osType"),
                    &["Linux", "Windows"],
                    "Linux",
                    "osDisk.osType",
                )?;
                let os_state = pick(
                    s(&os, "/osState"),
                    &["Generalized", "Specialized"],
                    "Generalized",
                    "osDisk.osState",
                )?;
                let (kind, id) = match (s(&os, "/snapshot/id"), s(&os, "/managedDisk/id")) {
                    (Some(id), _) => ("snapshot", id),
                    (None, Some(id)) => ("managedDisk", id),
                    _ => {
                        return Err(ArmError::invalid(
                            "osDisk",
                            "One of 'osDisk.snapshot', 'osDisk.managedDisk' or 'osDisk.blobUri' is required; blobUri is not supported by this fake.",
                        ))
                    }
                };
                let (size, _, _, _) = copy_source(&w, id)?;
                Image {
                    name: name.to_owned(),
                    rg: rg.clone(),
                    location: location.clone(),
                    os_type,
                    os_state: os_state.to_owned(),
                    size_gb: os
                        .get("diskSizeGB")
                        .and_then(Value::as_u64)
                        .unwrap_or(size)
                        .max(size),
                    os_source: Some((kind, id.to_owned())),
                    source_vm: None,
                    hyperv: hv,
                    storage: pick(
                        s(&os, "/storageAccountType"),
                        STORAGE_TYPES,
                        "Standard_LRS",
                        "osDisk.storageAccountType",
                    )?
                    .to_owned(),
                    tags,
                    prov: Prov::Creating,
                    op: None,
                }
            };
            w.images.insert(k.clone(), img);
            let op = begin(
                &mut w,
                Target::Image(k.clone()),
                Kind::Create,
                Family::Compute,
                &location,
            );
            let body = render_image(&w, &w.images[&k]);
            Ok(lro::with_headers(
                Resp::json(201, &body),
                &w,
                &op,
                ctx.base(),
                ctx.api(),
                false,
            ))
        }
        http::Method::DELETE => {
            let Some(i) = w.images.get(&k) else {
                return Ok(Resp::empty(204));
            };
            let location = i.location.clone();
            let op = begin(
                &mut w,
                Target::Image(k),
                Kind::Delete,
                Family::Compute,
                &location,
            );
            Ok(lro::with_headers(
                Resp::empty(202),
                &w,
                &op,
                ctx.base(),
                ctx.api(),
                true,
            ))
        }
        _ => Err(bad_method(ctx.req)),
    }
}

fn semver(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The newest version of a gallery image replicated to `location` (and not excluded
/// from `latest`).
pub(crate) fn latest_version<'a>(
    def: &'a GalleryImage,
    location: &str,
) -> Option<&'a GalleryVersion> {
    def.versions
        .values()
        .filter(|v| !v.exclude_from_latest && v.regions.iter().any(|r| r == location))
        .max_by_key(|v| semver(&v.name))
}

fn gallery_json(w: &World, g: &Gallery) -> Value {
    json!({
        "name": g.name,
        "id": w.rid(&g.rg, GALLERY_TYPE, &g.name),
        "type": GALLERY_TYPE,
        "location": g.location,
        "properties": {
            "description": g.description,
            "identifier": {"uniqueName": g.unique_name},
            "provisioningState": "Succeeded",
        }
    })
}

fn gallery_image_json(w: &World, g: &Gallery, i: &GalleryImage) -> Value {
    json!({
        "name": i.name,
        "id": format!("{}/images/{}", w.rid(&g.rg, GALLERY_TYPE, &g.name), i.name),
        "type": "Microsoft.Compute/galleries/images",
        "location": i.location,
        "properties": {
            "description": i.description,
            "osType": i.os_type,
            "osState": i.os_state,
            "hyperVGeneration": i.hyperv,
            "architecture": "x64",
            "identifier": {"publisher": i.publisher, "offer": i.offer, "sku": i.sku},
            "recommended": {"vCPUs": {"min": 1, "max": 16}, "memory": {"min": 1, "max": 32}},
            "provisioningState": "Succeeded",
        }
    })
}

fn gallery_version_json(w: &World, g: &Gallery, i: &GalleryImage, v: &GalleryVersion) -> Value {
    let mut storage = Map::new();
    if let Some(src) = &v.source_id {
        storage.insert("source".into(), json!({ "id": src }));
    }
    storage.insert(
        "osDiskImage".into(),
        json!({"sizeInGB": v.size_gb, "hostCaching": "ReadWrite"}),
    );
    storage.insert("dataDiskImages".into(), json!([]));
    json!({
        "name": v.name,
        "id": format!("{}/images/{}/versions/{}", w.rid(&g.rg, GALLERY_TYPE, &g.name), i.name, v.name),
        "type": "Microsoft.Compute/galleries/images/versions",
        "location": v.location,
        "properties": {
            "publishingProfile": {
                "targetRegions": v.regions.iter().map(|r| json!({
                    "name": location_display(r),
                    "regionalReplicaCount": 1,
                    "storageAccountType": "Standard_LRS",
                    "excludeFromLatest": v.exclude_from_latest,
                })).collect::<Vec<_>>(),
                "replicaCount": 1,
                "excludeFromLatest": v.exclude_from_latest,
                "publishedDate": iso_z(v.published),
                "storageAccountType": "Standard_LRS",
            },
            "storageProfile": Value::Object(storage),
            "safetyProfile": {"allowDeletionOfReplicatedLocations": false, "reportedForPolicyViolation": false},
            "provisioningState": "Succeeded",
        }
    })
}

fn list_galleries(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.galleries, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    let items = keys
        .iter()
        .filter_map(|k| w.galleries.get(k).map(|g| gallery_json(&w, g)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

/// `galleries/{g}[/images[/{i}[/versions[/{v}]]]]` (read only).
fn gallery(ctx: &Ctx<'_>, l: &[&str]) -> R {
    if ctx.method() != http::Method::GET {
        return Err(ArmError::new(
            405,
            "MethodNotAllowed",
            "Galleries are read-only in this fake: only GET is supported.",
        ));
    }
    let w = ctx.app.world();
    let gname = &ctx.rest[1];
    let gid = w.rid(ctx.rg(), GALLERY_TYPE, gname);
    let g = w
        .galleries
        .get(&key(ctx.rg(), gname))
        .ok_or_else(|| resource_not_found(GALLERY_TYPE, gname, ctx.rg()))?;
    let find_image = |n: &str| {
        g.images.get(&n.to_ascii_lowercase()).ok_or_else(|| {
            ArmError::new(
                404,
                "ResourceNotFound",
                format!("The Resource 'Microsoft.Compute/galleries/{gname}/images/{n}' under resource group '{}' was not found.", ctx.rg()),
            )
        })
    };
    match l {
        [_] => Ok(Resp::json(200, &gallery_json(&w, g))),
        [_, "images"] => arm::list_all(
            g.images
                .values()
                .map(|i| gallery_image_json(&w, g, i))
                .collect(),
        ),
        [_, "images", _] => {
            let i = find_image(&ctx.rest[3])?;
            Ok(Resp::json(200, &gallery_image_json(&w, g, i)))
        }
        [_, "images", _, "versions"] => {
            let i = find_image(&ctx.rest[3])?;
            arm::list_all(
                i.versions
                    .values()
                    .map(|v| gallery_version_json(&w, g, i, v))
                    .collect(),
            )
        }
        [_, "images", _, "versions", _] => {
            let i = find_image(&ctx.rest[3])?;
            let vname = &ctx.rest[5];
            let v = i.versions.get(&vname.to_ascii_lowercase()).ok_or_else(|| {
                ArmError::new(
                    404,
                    "ResourceNotFound",
                    format!(
                        "The Resource '{gid}/images/{}/versions/{vname}' was not found.",
                        i.name
                    ),
                )
            })?;
            Ok(Resp::json(200, &gallery_version_json(&w, g, i, v)))
        }
        _ => Err(no_route(ctx.req)),
    }
}

fn ssh_json(w: &World, k: &SshKey) -> Value {
    let mut p = Map::new();
    if let Some(pk) = &k.public_key {
        p.insert("publicKey".into(), json!(pk));
    }
    Value::Object(arm::envelope(
        &k.name,
        w.rid(&k.rg, SSH_TYPE, &k.name),
        SSH_TYPE,
        &k.location,
        &k.tags,
        Value::Object(p),
    ))
}

fn list_ssh(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.ssh_keys, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    let items = keys
        .iter()
        .filter_map(|k| w.ssh_keys.get(k).map(|s| ssh_json(&w, s)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

fn check_public_key(pk: &str) -> Result<(), ArmError> {
    let ok = ["ssh-rsa ", "ssh-ed25519 "]
        .iter()
        .any(|p| pk.starts_with(p))
        && pk
            .split_whitespace()
            .nth(1)
            .is_some_and(|b| crate::util::base64_decode(b).is_some());
    if ok {
        Ok(())
    } else {
        Err(ArmError::invalid(
            "publicKey",
            "The value of parameter publicKey is invalid. It must be an OpenSSH 'ssh-rsa' or 'ssh-ed25519' public key.",
        ))
    }
}

fn ssh_key(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    match ctx.method().clone() {
        http::Method::GET => {
            let s = w
                .ssh_keys
                .get(&k)
                .ok_or_else(|| resource_not_found(SSH_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &ssh_json(&w, s)))
        }
        http::Method::PUT | http::Method::PATCH => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            let v = ctx.req.json()?;
            let tags = arm::tags(&v)?;
            let pk = s(&v, "/properties/publicKey").map(str::to_owned);
            if let Some(pk) = &pk {
                check_public_key(pk)?;
            }
            if let Some(existing) = w.ssh_keys.get_mut(&k) {
                if let Some(t) = tags {
                    existing.tags = t;
                }
                if pk.is_some() {
                    existing.public_key = pk;
                }
                let e = existing.clone();
                return Ok(Resp::json(200, &ssh_json(&w, &e)));
            }
            if ctx.method() == http::Method::PATCH {
                return Err(resource_not_found(SSH_TYPE, name, &rg));
            }
            arm::check_name(name, 128)?;
            let location = arm::location(&w, &v, SSH_TYPE)?;
            let key_res = SshKey {
                name: name.to_owned(),
                rg,
                location,
                public_key: pk,
                tags: tags.unwrap_or(None),
            };
            let body = ssh_json(&w, &key_res);
            w.ssh_keys.insert(k, key_res);
            Ok(Resp::json(201, &body))
        }
        http::Method::DELETE => match w.ssh_keys.remove(&k) {
            Some(_) => Ok(Resp::empty(200)),
            None => Ok(Resp::empty(204)),
        },
        _ => Err(bad_method(ctx.req)),
    }
}

fn ssh_blob(kind: &str, body: &[u8]) -> String {
    let mut blob = Vec::new();
    for part in [kind.as_bytes(), body] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    base64_encode(&blob)
}

fn generate_key_pair(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    if !w.ssh_keys.contains_key(&k) {
        return Err(resource_not_found(SSH_TYPE, name, ctx.rg()));
    }
    let modulus = w.rng.bytes(256);
    let public = format!(
        "ssh-rsa {} generated-by-azure",
        ssh_blob("ssh-rsa", &modulus)
    );
    let secret = w.rng.bytes(1190);
    let b64 = base64_encode(&secret);
    let mut private = String::from("-----BEGIN RSA PRIVATE KEY-----\r\n");
    for chunk in b64.as_bytes().chunks(64) {
        private.push_str(&String::from_utf8_lossy(chunk));
        private.push_str("\r\n");
    }
    private.push_str("-----END RSA PRIVATE KEY-----\r\n");
    let id = w.rid(ctx.rg(), SSH_TYPE, name);
    if let Some(s) = w.ssh_keys.get_mut(&k) {
        s.public_key = Some(public.clone());
    }
    Ok(Resp::json(
        200,
        &json!({"privateKey": private, "publicKey": public, "id": id}),
    ))
}

/// Removes every storage resource of a resource group (for its deletion).
pub(crate) fn purge_rg(w: &mut World, lrg: &str) {
    fn keys<T>(m: &BTreeMap<Key, T>, lrg: &str) -> Vec<Key> {
        m.range((lrg.to_owned(), String::new())..)
            .take_while(|(k, _)| k.0 == lrg)
            .map(|(k, _)| k.clone())
            .collect()
    }
    for k in keys(&w.disks, lrg) {
        if let Some(d) = w.disks.remove(&k) {
            if let Some(vk) = d.managed_by {
                if let Some(vm) = w.vms.get_mut(&vk) {
                    vm.data_disks.retain(|x| x.key() != k);
                }
            }
        }
    }
    for k in keys(&w.snapshots, lrg) {
        w.snapshots.remove(&k);
    }
    for k in keys(&w.images, lrg) {
        w.images.remove(&k);
    }
    for k in keys(&w.galleries, lrg) {
        w.galleries.remove(&k);
    }
    for k in keys(&w.ssh_keys, lrg) {
        w.ssh_keys.remove(&k);
    }
}

/// Seeds a managed image and a gallery with an Ubuntu image definition (versions
/// 1.0.0 and 1.1.0, replicated to every location) in `rg`.
pub(crate) fn seed_images(w: &mut World, rg: &str) {
    let location = w.location.clone();
    let now = w.now();
    w.images.insert(
        key(rg, SEED_IMAGE),
        Image {
            name: SEED_IMAGE.into(),
            rg: rg.to_owned(),
            location: location.clone(),
            os_type: "Linux",
            os_state: "Generalized".into(),
            size_gb: 30,
            os_source: None,
            source_vm: None,
            hyperv: "V2",
            storage: "Standard_LRS".into(),
            tags: None,
            prov: Prov::Succeeded,
            op: None,
        },
    );
    let regions = w.locations.clone();
    let mut versions = BTreeMap::new();
    for (i, v) in ["1.0.0", "1.1.0"].iter().enumerate() {
        versions.insert(
            (*v).to_owned(),
            GalleryVersion {
                name: (*v).to_owned(),
                location: location.clone(),
                regions: regions.clone(),
                published: now - 86_400 * (30 - 10 * i as i64),
                size_gb: 30,
                source_id: Some(w.rid(rg, IMAGE_TYPE, SEED_IMAGE)),
                exclude_from_latest: false,
            },
        );
    }
    let mut images = BTreeMap::new();
    images.insert(
        SEED_GALLERY_IMAGE.to_ascii_lowercase(),
        GalleryImage {
            name: SEED_GALLERY_IMAGE.into(),
            location: location.clone(),
            os_type: "Linux",
            os_state: "Generalized",
            publisher: "hybrid".into(),
            offer: "ubuntu".into(),
            sku: "22_04-lts-gen2".into(),
            hyperv: "V2",
            description: "Ubuntu 22.04 LTS (Gen2), replicated to every location of the fake".into(),
            versions,
        },
    );
    let unique = format!("{}-{}", w.sub, SEED_GALLERY.to_ascii_uppercase());
    w.galleries.insert(
        key(rg, SEED_GALLERY),
        Gallery {
            name: SEED_GALLERY.into(),
            rg: rg.to_owned(),
            location,
            description: "Images for hybrid's tests".into(),
            unique_name: unique,
            images,
        },
    );
}
