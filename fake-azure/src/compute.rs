//! Microsoft.Compute virtual machines, VM sizes and compute operation URLs.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::arm::{self, bad_method, list_response, no_route, page_keys, props, s, Ctx};
use crate::http::{resource_not_found, ArmError, Resp, R};
use crate::ids::{key, ArmId, Key};
use crate::lro::{self, Action, Family, Kind, Status, Target};
use crate::util::{arm_time, base64_decode};
use crate::world::{Disk, OsProfile, Power, Prov, Vm, VmDisk, VmNic, World};

const VM_TYPE: &str = "Microsoft.Compute/virtualMachines";

/// Storage account types a managed disk may use.
pub(crate) const STORAGE_TYPES: &[&str] = &[
    "Standard_LRS",
    "Premium_LRS",
    "StandardSSD_LRS",
    "UltraSSD_LRS",
    "Premium_ZRS",
    "StandardSSD_ZRS",
    "PremiumV2_LRS",
];
const CACHING: &[&str] = &["None", "ReadOnly", "ReadWrite"];
const DELETE_OPTIONS: &[&str] = &["Delete", "Detach"];

/// Canonical spelling of `value` among `allowed` (case-insensitive), or 400
/// `InvalidParameter` naming `target`.
pub(crate) fn pick(
    value: Option<&str>,
    allowed: &[&'static str],
    default: &'static str,
    target: &str,
) -> Result<&'static str, ArmError> {
    match value {
        None => Ok(default),
        Some(v) => allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v))
            .copied()
            .ok_or_else(|| {
                ArmError::invalid(
                    target,
                    format!(
                        "The value '{v}' of parameter '{target}' is invalid. Allowed values are {}.",
                        allowed.join(", ")
                    ),
                )
            }),
    }
}

fn missing(param: &str) -> ArmError {
    ArmError::invalid(
        param,
        format!("Required parameter '{param}' is missing (null)."),
    )
}

/// Routes `.../providers/Microsoft.Compute/...` requests other than storage types.
pub(crate) fn route(ctx: &Ctx<'_>) -> R {
    let l = ctx.lrest.as_slice();
    let m = ctx.method().clone();
    match (ctx.rg.is_some(), l) {
        (true, ["virtualmachines"]) if m == http::Method::GET => list_vms(ctx, true),
        (true, ["virtualmachines", _]) => {
            let name = &ctx.rest[1];
            match m {
                http::Method::GET => get_vm(ctx, name),
                http::Method::PUT => put_vm(ctx, name, false),
                http::Method::PATCH => put_vm(ctx, name, true),
                http::Method::DELETE => delete_vm(ctx, name),
                _ => Err(bad_method(ctx.req)),
            }
        }
        (true, ["virtualmachines", _, "instanceview"]) if m == http::Method::GET => {
            let mut w = ctx.app.world();
            let k = key(ctx.rg(), &ctx.rest[1]);
            settle_vm(&mut w, &k);
            let vm = w.vms.get(&k).ok_or_else(|| vm_missing(ctx, &ctx.rest[1]))?;
            Ok(Resp::json(200, &instance_view(&w, vm)))
        }
        (true, ["virtualmachines", _, "vmsizes"]) if m == http::Method::GET => {
            let w = ctx.app.world();
            let k = key(ctx.rg(), &ctx.rest[1]);
            if !w.vms.contains_key(&k) {
                return Err(vm_missing(ctx, &ctx.rest[1]));
            }
            arm::list_all(w.sizes.iter().map(size_json).collect())
        }
        (true, ["virtualmachines", _, action]) if m == http::Method::POST => {
            let a = match *action {
                "start" => Action::Start,
                "poweroff" => Action::PowerOff,
                "restart" => Action::Restart,
                "deallocate" => Action::Deallocate,
                _ => return Err(no_route(ctx.req)),
            };
            vm_action(ctx, &ctx.rest[1], a)
        }
        (false, ["virtualmachines"]) if m == http::Method::GET => list_vms(ctx, false),
        (false, ["locations", loc, "virtualmachines"]) if m == http::Method::GET => {
            list_vms_in(ctx, loc)
        }
        (false, ["locations", loc, "vmsizes"]) if m == http::Method::GET => {
            let w = ctx.app.world();
            check_location(&w, loc)?;
            arm::list_all(w.sizes.iter().map(size_json).collect())
        }
        (false, ["locations", _, "operations" | "diskoperations", _]) if m == http::Method::GET => {
            let id = ctx.rest[3].as_str();
            let mut w = ctx.app.world();
            if ctx
                .req
                .query
                .get("monitor")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                lro::location_result(&mut w, id, &ctx.req.url())
            } else {
                lro::status_document(&mut w, id)
            }
        }
        (_, [t, ..])
            if !matches!(
                *t,
                "virtualmachines"
                    | "locations"
                    | "disks"
                    | "snapshots"
                    | "images"
                    | "galleries"
                    | "sshpublickeys"
            ) =>
        {
            Err(invalid_type(ctx, "Microsoft.Compute"))
        }
        (_, []) => Err(no_route(ctx.req)),
        _ => Err(no_route(ctx.req)),
    }
}

/// 404 `InvalidResourceType` for an unknown type in a known namespace.
pub(crate) fn invalid_type(ctx: &Ctx<'_>, ns: &str) -> ArmError {
    ArmError::new(
        404,
        "InvalidResourceType",
        format!(
            "The resource type '{}' could not be found in the namespace '{ns}' for api version '{}'.",
            ctx.rest.first().map(String::as_str).unwrap_or(""),
            ctx.api()
        ),
    )
}

fn check_location(w: &World, loc: &str) -> Result<(), ArmError> {
    if w.locations.iter().any(|l| l == loc) {
        Ok(())
    } else {
        Err(ArmError::new(
            404,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{loc}' and the resource type of this request. The supported locations are '{}'.",
                w.locations.join(", ")
            ),
        ))
    }
}

fn size_json(s: &crate::config::VmSize) -> Value {
    json!({
        "name": s.name,
        "numberOfCores": s.cores,
        "osDiskSizeInMB": 1_047_552,
        "resourceDiskSizeInMB": s.resource_disk_mb,
        "memoryInMB": s.memory_mb,
        "maxDataDiskCount": s.max_data_disks,
    })
}

fn vm_missing(ctx: &Ctx<'_>, name: &str) -> ArmError {
    resource_not_found(VM_TYPE, name, ctx.rg())
}

/// Observes the VM's running operation, if any.
pub(crate) fn settle_vm(w: &mut World, k: &Key) {
    let op = w.vms.get(k).and_then(|v| v.op.clone());
    lro::settle(w, op);
}

fn status_entry(code: String, display: &str, level: &str, time: Option<i64>) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), Value::String(code));
    m.insert("level".into(), json!(level));
    m.insert("displayStatus".into(), json!(display));
    if let Some(t) = time {
        m.insert("time".into(), json!(arm_time(t)));
    }
    Value::Object(m)
}

fn prov_status(vm: &Vm) -> Value {
    let (code, display, level) = match vm.prov {
        Prov::Creating => ("creating", "Creating", "Info"),
        Prov::Updating => ("updating", "Updating", "Info"),
        Prov::Deleting => ("deleting", "Deleting", "Info"),
        Prov::Succeeded => ("succeeded", "Provisioning succeeded", "Info"),
        Prov::Failed => ("failed", "Provisioning failed", "Error"),
        Prov::Canceled => ("canceled", "Provisioning canceled", "Warning"),
    };
    status_entry(
        format!("ProvisioningState/{code}"),
        display,
        level,
        Some(vm.created),
    )
}

/// The VM's instance view (`GET .../instanceView`, `$expand=instanceView`).
pub(crate) fn instance_view(w: &World, vm: &Vm) -> Value {
    let (pcode, pdisplay) = vm.power.status();
    let mut m = Map::new();
    if let Some(cn) = &vm.computer_name {
        m.insert("computerName".into(), json!(cn));
    }
    m.insert("osName".into(), json!(&*vm.os_name));
    m.insert("hyperVGeneration".into(), json!(vm.hyperv));
    if vm.power == Power::Running {
        m.insert(
            "vmAgent".into(),
            json!({
                "vmAgentVersion": "2.10.0.8",
                "statuses": [status_entry("ProvisioningState/succeeded".into(), "Ready", "Info", Some(w.now()))
                    .as_object().cloned().map(|mut o| { o.insert("message".into(), json!("Guest Agent is running")); Value::Object(o) }).unwrap_or(Value::Null)],
                "extensionHandlers": [],
            }),
        );
    }
    let disks: Vec<Value> = std::iter::once(&vm.os_disk)
        .chain(vm.data_disks.iter())
        .map(|d| {
            json!({
                "name": d.name,
                "statuses": [status_entry("ProvisioningState/succeeded".into(), "Provisioning succeeded", "Info", Some(vm.created))],
            })
        })
        .collect();
    m.insert("disks".into(), Value::Array(disks));
    m.insert(
        "statuses".into(),
        json!([
            prov_status(vm),
            status_entry(format!("PowerState/{pcode}"), pdisplay, "Info", None),
        ]),
    );
    Value::Object(m)
}

/// Renders a VM as ARM does.
pub(crate) fn render_vm(
    w: &World,
    vm: &Vm,
    with_instance_view: bool,
    with_user_data: bool,
) -> Value {
    serde_json::to_value(crate::vm_doc::vm_doc(
        w,
        vm,
        with_instance_view,
        with_user_data,
    ))
    .unwrap_or(Value::Null)
}

fn expand(ctx: &Ctx<'_>) -> (bool, bool) {
    let e = ctx
        .req
        .query
        .get("$expand")
        .unwrap_or("")
        .to_ascii_lowercase();
    let status_only = ctx
        .req
        .query
        .get("statusOnly")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    (
        status_only || e.split(',').any(|x| x.trim() == "instanceview"),
        e.split(',').any(|x| x.trim() == "userdata"),
    )
}

fn list_vms(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let (iv, ud) = expand(ctx);
    let mut w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.vms, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    for k in &keys {
        settle_vm(&mut w, k);
    }
    let items: Vec<_> = keys
        .iter()
        .filter_map(|k| w.vms.get(k).map(|vm| crate::vm_doc::vm_doc(&w, vm, iv, ud)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

/// `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/virtualMachines`.
fn list_vms_in(ctx: &Ctx<'_>, location: &str) -> R {
    let (iv, ud) = expand(ctx);
    let mut w = ctx.app.world();
    check_location(&w, location)?;
    let limit = w.page_size;
    let (keys, more) = arm::page_keys_where(&w.vms, ctx.req, limit, |vm| vm.location == location)?;
    for k in &keys {
        settle_vm(&mut w, k);
    }
    let items: Vec<_> = keys
        .iter()
        .filter_map(|k| w.vms.get(k).map(|vm| crate::vm_doc::vm_doc(&w, vm, iv, ud)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

fn get_vm(ctx: &Ctx<'_>, name: &str) -> R {
    let (iv, ud) = expand(ctx);
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    settle_vm(&mut w, &k);
    let vm = w.vms.get(&k).ok_or_else(|| vm_missing(ctx, name))?;
    Ok(Resp::json_of(200, &crate::vm_doc::vm_doc(&w, vm, iv, ud)))
}

/// What the image reference resolves to.
struct ImageInfo {
    rendered: Value,
    os_type: &'static str,
    os_name: String,
    size_gb: u64,
    hyperv: &'static str,
}

fn parse_image(w: &World, r: &Value, location: &str) -> Result<ImageInfo, ArmError> {
    let obj = r
        .as_object()
        .ok_or_else(|| missing("storageProfile.imageReference"))?;
    if let Some(id) = obj.get("id").and_then(Value::as_str) {
        let bad = || {
            ArmError::invalid(
                "imageReference.id",
                format!("The value '{id}' of parameter 'imageReference.id' is not a valid image resource id."),
            )
        };
        let parsed = ArmId::parse(id).ok_or_else(bad)?;
        if parsed.is("microsoft.compute", &["images"]) {
            let img = w
                .images
                .get(&parsed.key())
                .filter(|i| i.location == location);
            let img = img.ok_or_else(|| {
                ArmError::new(
                    404,
                    "NotFound",
                    format!("The Image '{id}' cannot be found in '{location}' region."),
                )
            })?;
            return Ok(ImageInfo {
                rendered: json!({ "id": id }),
                os_type: img.os_type,
                os_name: if img.os_type == "Windows" {
                    "Windows".into()
                } else {
                    "Linux".into()
                },
                size_gb: img.size_gb,
                hyperv: img.hyperv,
            });
        }
        let gallery = parsed.is("microsoft.compute", &["galleries", "images"])
            || parsed.is("microsoft.compute", &["galleries", "images", "versions"]);
        if !gallery {
            return Err(bad());
        }
        let not_found = || {
            ArmError::new(
                404,
                "GalleryImageNotFound",
                format!("The gallery image {id} is not available in {location} region. Please contact image owner to replicate to this region, or change your requested region."),
            )
        };
        let g = w.galleries.get(&parsed.key()).ok_or_else(not_found)?;
        let def = g
            .images
            .get(&parsed.name(1).to_ascii_lowercase())
            .ok_or_else(not_found)?;
        let version = if parsed.parts.len() == 3 {
            def.versions
                .get(&parsed.name(2).to_ascii_lowercase())
                .filter(|v| v.regions.iter().any(|r| r == location))
        } else {
            crate::storage::latest_version(def, location)
        };
        let version = version.ok_or_else(not_found)?;
        return Ok(ImageInfo {
            rendered: json!({ "id": id }),
            os_type: def.os_type,
            os_name: def.offer.to_ascii_lowercase(),
            size_gb: version.size_gb,
            hyperv: def.hyperv,
        });
    }
    if obj.contains_key("sharedGalleryImageId") || obj.contains_key("communityGalleryImageId") {
        return Err(ArmError::invalid(
            "imageReference",
            "Shared and community gallery images are not available in this subscription.",
        ));
    }
    let field = |f: &str| {
        obj.get(f)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(&format!("imageReference.{f}")))
    };
    let (publisher, offer, sku, version) = (
        field("publisher")?,
        field("offer")?,
        field("sku")?,
        field("version")?,
    );
    let version_ok = version.eq_ignore_ascii_case("latest")
        || (version.split('.').count() == 3
            && version
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
    if !version_ok {
        return Err(ArmError::invalid(
            "imageReference.version",
            format!("The value '{version}' of parameter 'imageReference.version' is invalid. It must be 'latest' or a version 'major.minor.build'."),
        ));
    }
    let windows = publisher.to_ascii_lowercase().contains("windows")
        || offer.to_ascii_lowercase().contains("windows");
    let lo = offer.to_ascii_lowercase();
    let os_name = if windows {
        "Windows Server".to_owned()
    } else if lo.contains("ubuntu") {
        "ubuntu".to_owned()
    } else if lo.contains("debian") {
        "debian".to_owned()
    } else if lo.contains("rhel") {
        "redhat".to_owned()
    } else {
        lo.clone()
    };
    Ok(ImageInfo {
        rendered: json!({"publisher": publisher, "offer": offer, "sku": sku, "version": version}),
        os_type: if windows { "Windows" } else { "Linux" },
        os_name,
        size_gb: if windows { 127 } else { 30 },
        hyperv: if sku.to_ascii_lowercase().contains("gen2") {
            "V2"
        } else {
            "V1"
        },
    })
}

fn same_image(a: &Value, b: &Value) -> bool {
    let f = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    ["id", "publisher", "offer", "sku", "version"]
        .iter()
        .all(|k| f(a, k) == f(b, k))
}

/// Validates a base64 `customData` or `userData` (at most 87 380 characters).
fn base64_field(v: Option<&Value>, target: &str) -> Result<Option<String>, ArmError> {
    let Some(v) = v else { return Ok(None) };
    let bad = || {
        ArmError::invalid(
            target,
            format!("{target} must be in Base64 encoding and with a maximum length of 87380 characters."),
        )
    };
    let s = v.as_str().ok_or_else(bad)?;
    if s.len() > 87_380 || base64_decode(s).is_none() {
        return Err(bad());
    }
    Ok(Some(s.to_owned()))
}

const RESERVED_USERS: &[&str] = &[
    "administrator",
    "admin",
    "user",
    "user1",
    "test",
    "user2",
    "test1",
    "user3",
    "admin1",
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin2",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test2",
    "test3",
    "user4",
    "user5",
];

/// Parses `osProfile` for a new VM: (computer name, profile, custom data).
fn parse_os_profile(
    p: &Map<String, Value>,
    vm_name: &str,
    windows: bool,
) -> Result<(String, OsProfile, Option<String>), ArmError> {
    let os = p
        .get("osProfile")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("osProfile"))?;
    let cn = os
        .get("computerName")
        .and_then(Value::as_str)
        .unwrap_or(vm_name)
        .to_owned();
    let max = if windows { 15 } else { 64 };
    if cn.is_empty() || cn.len() > max {
        return Err(ArmError::invalid(
            "osProfile.computerName",
            format!(
                "The supplied computer name '{cn}' must be between 1 and {max} characters long."
            ),
        ));
    }
    let user = os
        .get("adminUsername")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| missing("adminUsername"))?;
    if RESERVED_USERS.contains(&user.to_ascii_lowercase().as_str()) {
        return Err(ArmError::invalid(
            "adminUsername",
            "The Admin Username specified is not allowed.",
        ));
    }
    let has_password = os
        .get("adminPassword")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.is_empty());
    let custom = base64_field(os.get("customData"), "customData")?;
    let mut profile = OsProfile {
        admin_username: user.to_owned(),
        linux: !windows,
        disable_password: false,
        ssh_keys: Vec::new(),
        provision_agent: true,
    };
    if windows {
        if !has_password {
            return Err(missing("adminPassword"));
        }
        if let Some(b) = os
            .get("windowsConfiguration")
            .and_then(|c| c.get("provisionVMAgent"))
            .and_then(Value::as_bool)
        {
            profile.provision_agent = b;
        }
        return Ok((cn, profile, custom));
    }
    let lc = os.get("linuxConfiguration");
    profile.disable_password = lc
        .and_then(|l| l.get("disablePasswordAuthentication"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(b) = lc
        .and_then(|l| l.get("provisionVMAgent"))
        .and_then(Value::as_bool)
    {
        profile.provision_agent = b;
    }
    let keys = lc
        .and_then(|l| l.pointer("/ssh/publicKeys"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let want_path = format!("/home/{user}/.ssh/authorized_keys");
    for k in &keys {
        let data = k.get("keyData").and_then(Value::as_str).unwrap_or("");
        let path = k.get("path").and_then(Value::as_str).unwrap_or(&want_path);
        if path != want_path {
            return Err(ArmError::invalid(
                "linuxConfiguration.ssh.publicKeys.path",
                format!("The destination path for SSH public keys is currently limited to its default value {want_path} due to a known issue in Linux provisioning agent."),
            ));
        }
        let known = [
            "ssh-rsa ",
            "ssh-ed25519 ",
            "ecdsa-sha2-nistp256 ",
            "ecdsa-sha2-nistp384 ",
            "ecdsa-sha2-nistp521 ",
        ];
        if !known.iter().any(|p| data.starts_with(p)) || data.split_whitespace().count() < 2 {
            return Err(ArmError::invalid(
                "linuxConfiguration.ssh.publicKeys.keyData",
                "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.",
            ));
        }
        profile.ssh_keys.push((path.to_owned(), data.to_owned()));
    }
    if profile.disable_password && profile.ssh_keys.is_empty() {
        return Err(ArmError::invalid(
            "linuxConfiguration",
            "Authentication using either SSH or by user name and password must be enabled in Linux profile.",
        ));
    }
    if !profile.disable_password && !has_password {
        return Err(missing("adminPassword"));
    }
    Ok((cn, profile, custom))
}

fn find_size<'a>(w: &'a World, name: &str) -> Result<&'a crate::config::VmSize, ArmError> {
    w.sizes
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            ArmError::invalid(
                "vmSize",
                format!(
                    "The value {name} provided for the VM size is not valid. The valid sizes in the current region are: {}. Find out more on the available VM sizes in each region at https://aka.ms/azure-regions.",
                    w.sizes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(",")
                ),
            )
        })
}

fn default_storage(size: &str) -> &'static str {
    // Premium-capable sizes carry an "s" in their family part (B1s, D2s_v3, DS1_v2).
    let family = size.split('_').nth(1).unwrap_or("");
    let premium = family.ends_with('s')
        || family.to_ascii_uppercase().starts_with("DS")
        || family.to_ascii_uppercase().starts_with("ES");
    if premium {
        "Premium_LRS"
    } else {
        "Standard_LRS"
    }
}

/// A data disk to create with the VM (`createOption: Empty`).
struct NewDisk {
    disk: VmDisk,
}

/// Validates `storageProfile.dataDisks` against the VM's current disks: the new
/// list, and the disks to create.
#[allow(clippy::too_many_arguments)]
fn plan_data_disks(
    w: &World,
    vm_key: &Key,
    vm_name: &str,
    vm_rg: &str,
    location: &str,
    os_disk: &Key,
    arr: &[Value],
    max: u32,
    current: &[VmDisk],
) -> Result<(Vec<VmDisk>, Vec<NewDisk>), ArmError> {
    let mut out: Vec<VmDisk> = Vec::new();
    let mut new = Vec::new();
    for d in arr {
        if d.get("toBeDetached").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let lun = d
            .get("lun")
            .and_then(Value::as_u64)
            .ok_or_else(|| missing("dataDisks.lun"))?;
        if lun > 63 {
            return Err(ArmError::invalid(
                "dataDisks.lun",
                format!("The value {lun} of parameter 'dataDisks.lun' is out of range. The value must be between 0 and 63."),
            ));
        }
        let lun = lun as u32;
        if out.iter().any(|o| o.lun == Some(lun)) {
            return Err(ArmError::invalid(
                "dataDisks",
                format!("A disk at LUN {lun} already exists."),
            ));
        }
        let create = d
            .get("createOption")
            .and_then(Value::as_str)
            .unwrap_or("Attach");
        let caching = pick(s(d, "/caching"), CACHING, "None", "dataDisks.caching")?;
        let delete_option = pick(
            s(d, "/deleteOption"),
            DELETE_OPTIONS,
            "Detach",
            "dataDisks.deleteOption",
        )?;
        let disk_id = s(d, "/managedDisk/id");
        // An existing disk: named by id, or by name among this VM's current disks.
        let existing: Option<Key> = match disk_id {
            Some(id) => {
                let parsed = ArmId::parse(id)
                    .filter(|p| p.is("microsoft.compute", &["disks"]))
                    .ok_or_else(|| {
                        ArmError::invalid(
                            "dataDisks.managedDisk.id",
                            format!("The value '{id}' of parameter 'managedDisk.id' is not a valid disk resource id."),
                        )
                    })?;
                Some(parsed.key())
            }
            None => d
                .get("name")
                .and_then(Value::as_str)
                .and_then(|n| current.iter().find(|c| c.name.eq_ignore_ascii_case(n)))
                .map(VmDisk::key),
        };
        match existing {
            Some(k) => {
                let disk = w.disks.get(&k).ok_or_else(|| {
                    let id = disk_id.map(str::to_owned).unwrap_or_else(|| k.1.clone());
                    ArmError::new(404, "NotFound", format!("Disk {id} not found."))
                })?;
                if &k == os_disk {
                    return Err(ArmError::conflict(
                        "ConflictingUserInput",
                        format!("Disk '{}' is the OS disk of this VM and cannot also be attached as a data disk.", disk.name),
                    ));
                }
                if let Some(owner) = &disk.managed_by {
                    if owner != vm_key {
                        let owner_id = w.vm_id(owner);
                        return Err(ArmError::conflict(
                            "ConflictingUserInput",
                            format!("Disk '{}' cannot be attached as the disk is already owned by VM '{owner_id}'.", w.rid(&disk.rg, "Microsoft.Compute/disks", &disk.name)),
                        ));
                    }
                }
                if disk.location != location {
                    return Err(ArmError::invalid(
                        "dataDisks.managedDisk.id",
                        format!(
                            "Disk '{}' is in location '{}', the virtual machine in '{location}'.",
                            disk.name, disk.location
                        ),
                    ));
                }
                if out.iter().any(|o| o.key() == k) {
                    return Err(ArmError::invalid(
                        "dataDisks",
                        format!("Disk '{}' is listed more than once.", disk.name),
                    ));
                }
                let prior = current.iter().find(|c| c.key() == k);
                out.push(VmDisk {
                    lun: Some(lun),
                    name: disk.name.clone(),
                    rg: disk.rg.clone(),
                    caching,
                    storage: disk.sku,
                    size_gb: disk.size_gb,
                    create_option: prior.map(|p| p.create_option).unwrap_or("Attach"),
                    delete_option,
                });
            }
            None if create.eq_ignore_ascii_case("Empty") => {
                let size = d
                    .get("diskSizeGB")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| missing("dataDisks.diskSizeGB"))?;
                if size == 0 || size > 32_767 {
                    return Err(ArmError::invalid(
                        "dataDisks.diskSizeGB",
                        format!(
                            "The value {size} of parameter 'diskSizeGB' is out of range (1-32767)."
                        ),
                    ));
                }
                let name = d
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{vm_name}_DataDisk_{lun}"));
                arm::check_name(&name, 80)?;
                if w.disks.contains_key(&key(vm_rg, &name))
                    || new
                        .iter()
                        .any(|n: &NewDisk| n.disk.name.eq_ignore_ascii_case(&name))
                {
                    return Err(ArmError::conflict(
                        "ConflictingUserInput",
                        format!("Disk {name} already exists in resource group {}. Only CreateOption.Attach is supported.", vm_rg.to_ascii_uppercase()),
                    ));
                }
                let storage = pick(
                    s(d, "/managedDisk/storageAccountType"),
                    STORAGE_TYPES,
                    "Standard_LRS",
                    "dataDisks.managedDisk.storageAccountType",
                )?;
                let disk = VmDisk {
                    lun: Some(lun),
                    name,
                    rg: vm_rg.to_owned(),
                    caching,
                    storage,
                    size_gb: size,
                    create_option: "Empty",
                    delete_option,
                };
                out.push(disk.clone());
                new.push(NewDisk { disk });
            }
            None if create.eq_ignore_ascii_case("Attach") => {
                return Err(missing("dataDisks.managedDisk.id"));
            }
            None => {
                return Err(ArmError::invalid(
                    "dataDisks.createOption",
                    format!("The value '{create}' of parameter 'dataDisks.createOption' is not supported for data disks of this VM; use 'Empty' or 'Attach'."),
                ));
            }
        }
    }
    if out.len() as u32 > max {
        return Err(ArmError::conflict(
            "OperationNotAllowed",
            format!("The maximum number of data disks allowed to be attached to a VM of this size is {max}."),
        ));
    }
    Ok((out, new))
}

/// Validates `networkProfile.networkInterfaces`.
fn plan_nics(
    w: &World,
    vm_key: &Key,
    vm_name: &str,
    location: &str,
    arr: &[Value],
) -> Result<Vec<VmNic>, ArmError> {
    if arr.is_empty() {
        return Err(ArmError::invalid(
            "networkProfile.networkInterfaces",
            format!("Virtual machine {vm_name} must have at least one network interface."),
        ));
    }
    let mut out: Vec<VmNic> = Vec::new();
    let mut primaries = 0;
    for n in arr {
        let id = n
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("networkInterfaces.id"))?;
        let parsed = ArmId::parse(id)
            .filter(|p| p.is("microsoft.network", &["networkinterfaces"]))
            .ok_or_else(|| {
                ArmError::invalid(
                    "networkInterfaces.id",
                    format!("The value '{id}' of parameter 'networkInterfaces.id' is not a valid network interface resource id."),
                )
            })?;
        let k = parsed.key();
        let nic = w
            .nics
            .get(&k)
            .ok_or_else(|| ArmError::new(404, "NotFound", format!("Resource {id} not found.")))?;
        if let Some(owner) = &nic.vm {
            if owner != vm_key {
                let owner_id = w.vm_id(owner);
                return Err(ArmError::bad(
                    "NicInUse",
                    format!("Network Interface {} is used by existing resource {owner_id}. In order to use it with this VM, it must be dissociated from that resource first.", w.rid(&nic.rg, "Microsoft.Network/networkInterfaces", &nic.name)),
                ));
            }
        }
        if nic.location != location {
            return Err(ArmError::invalid(
                "networkInterfaces.id",
                format!("Network interface {id} is in location '{}', the virtual machine in '{location}'. They must be in the same location.", nic.location),
            ));
        }
        if out.iter().any(|o| o.key() == k) {
            return Err(ArmError::invalid(
                "networkInterfaces",
                format!("Network interface {id} is listed more than once."),
            ));
        }
        let primary = n
            .pointer("/properties/primary")
            .and_then(Value::as_bool)
            .unwrap_or(arr.len() == 1);
        if primary {
            primaries += 1;
        }
        out.push(VmNic {
            rg: nic.rg.clone(),
            name: nic.name.clone(),
            primary,
            delete_option: pick(
                s(n, "/properties/deleteOption"),
                DELETE_OPTIONS,
                "Detach",
                "networkInterfaces.deleteOption",
            )?,
        });
    }
    if primaries != 1 {
        return Err(ArmError::invalid(
            "networkProfile.networkInterfaces",
            format!(
                "Virtual machine {vm_name} must have one network interface set as the primary."
            ),
        ));
    }
    Ok(out)
}

/// Starts an operation on a VM, preempting a running one (compute's behaviour).
fn begin_vm_op(w: &mut World, k: &Key, kind: Kind, prev: Option<Power>) -> String {
    if let Some(old) = w.vms.get(k).and_then(|v| v.op.clone()) {
        if lro::in_progress(w, Some(&old)) {
            if let Some(p) = w.ops.get(&old).and_then(|o| o.prev_power) {
                if let Some(vm) = w.vms.get_mut(k) {
                    vm.power = p;
                }
            }
            lro::preempt(w, &old);
        }
    }
    let location = w.vms.get(k).map(|v| v.location.clone()).unwrap_or_default();
    let prev = prev.or_else(|| w.vms.get(k).map(|v| v.power));
    let id = lro::begin(
        w,
        Target::Vm(k.clone()),
        kind,
        Family::Compute,
        &location,
        prev,
    );
    if let Some(vm) = w.vms.get_mut(k) {
        vm.op = Some(id.clone());
    }
    id
}

fn deleting(w: &World, vm: &Vm) -> bool {
    vm.op
        .as_ref()
        .and_then(|id| w.ops.get(id))
        .is_some_and(|o| o.kind == Kind::Delete && o.status == Status::InProgress)
}

fn marked_for_deletion(op: &str, name: &str) -> ArmError {
    ArmError::conflict(
        "OperationNotAllowed",
        format!("Operation '{op}' is not allowed on VM '{name}' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete)."),
    )
}

fn attach_disks(w: &mut World, vm_key: &Key, list: &[VmDisk]) {
    for d in list {
        if let Some(disk) = w.disks.get_mut(&d.key()) {
            disk.managed_by = Some(vm_key.clone());
        }
    }
}

fn create_disks(w: &mut World, location: &str, new: Vec<NewDisk>, zones: &[String]) {
    for n in new {
        let d = n.disk;
        let unique_id = w.rng.uuid();
        let now = w.now();
        w.disks.insert(
            d.key(),
            Disk {
                name: d.name.clone(),
                rg: d.rg.clone(),
                location: location.to_owned(),
                sku: d.storage,
                size_gb: d.size_gb,
                creation: Arc::new(json!({"createOption": "Empty"})),
                os_type: None,
                hyperv: None,
                managed_by: None,
                unique_id,
                created: now,
                tags: None,
                zones: zones.to_vec(),
                prov: Prov::Succeeded,
                op: None,
            },
        );
    }
}

fn put_vm(ctx: &Ctx<'_>, name: &str, patch: bool) -> R {
    let mut w = ctx.app.world();
    let rg = arm::require_rg(&w, ctx.rg(), true)?;
    let k = key(&rg, name);
    let v = ctx.req.json()?;
    if w.vms.contains_key(&k) {
        return update_vm(ctx, &mut w, &k, &v, patch);
    }
    if patch {
        return Err(resource_not_found(VM_TYPE, name, &rg));
    }
    arm::check_name(name, 64)?;
    let location = arm::location(&w, &v, VM_TYPE)?;
    let tags = arm::tags(&v)?.unwrap_or(None);
    let zones = arm::zones(&v)?;
    let p = props(&v);
    let size_name = p
        .get("hardwareProfile")
        .and_then(|h| h.get("vmSize"))
        .and_then(Value::as_str)
        .ok_or_else(|| missing("hardwareProfile.vmSize"))?;
    let size = find_size(&w, size_name)?.clone();
    let sp = p
        .get("storageProfile")
        .cloned()
        .ok_or_else(|| missing("storageProfile"))?;
    let os_disk_v = sp.get("osDisk").cloned().unwrap_or_else(|| json!({}));
    let create_option = s(&os_disk_v, "/createOption").unwrap_or("FromImage");
    let caching = pick(
        s(&os_disk_v, "/caching"),
        CACHING,
        "ReadWrite",
        "osDisk.caching",
    )?;
    let delete_option = pick(
        s(&os_disk_v, "/deleteOption"),
        DELETE_OPTIONS,
        "Detach",
        "osDisk.deleteOption",
    )?;
    // The OS disk: a new one from the image, or an existing one attached.
    let (image, os_disk, attach_os, computer, profile, custom) = if create_option
        .eq_ignore_ascii_case("Attach")
    {
        if p.contains_key("osProfile") {
            return Err(ArmError::invalid(
                "osProfile",
                "Parameter 'osProfile' is not allowed when the OS disk is attached (createOption Attach).",
            ));
        }
        let id =
            s(&os_disk_v, "/managedDisk/id").ok_or_else(|| missing("osDisk.managedDisk.id"))?;
        let dk = ArmId::parse(id)
            .filter(|i| i.is("microsoft.compute", &["disks"]))
            .map(|i| i.key())
            .ok_or_else(|| {
                ArmError::invalid(
                    "osDisk.managedDisk.id",
                    format!("The value '{id}' is not a valid disk resource id."),
                )
            })?;
        let disk = w
            .disks
            .get(&dk)
            .ok_or_else(|| ArmError::new(404, "NotFound", format!("Disk {id} not found.")))?;
        if let Some(owner) = disk.managed_by.as_ref().map(|o| w.vm_id(o)) {
            return Err(ArmError::conflict(
                "ConflictingUserInput",
                format!(
                    "Disk '{id}' cannot be attached as the disk is already owned by VM '{owner}'."
                ),
            ));
        }
        let os_type = disk.os_type.ok_or_else(|| {
            ArmError::invalid("osDisk.osType", "The OS disk to attach has no osType; specify a disk created from an image or snapshot of an OS disk.")
        })?;
        let info = ImageInfo {
            rendered: Value::Null,
            os_type,
            os_name: if os_type == "Windows" {
                "Windows".into()
            } else {
                "Linux".into()
            },
            size_gb: disk.size_gb,
            hyperv: disk.hyperv.unwrap_or("V1"),
        };
        let vd = VmDisk {
            lun: None,
            name: disk.name.clone(),
            rg: disk.rg.clone(),
            caching,
            storage: disk.sku,
            size_gb: disk.size_gb,
            create_option: "Attach",
            delete_option,
        };
        (info, vd, true, None, None, None)
    } else if create_option.eq_ignore_ascii_case("FromImage") {
        let image = parse_image(
            &w,
            sp.get("imageReference").unwrap_or(&Value::Null),
            &location,
        )?;
        let disk_name = s(&os_disk_v, "/name")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{name}_OsDisk_1_{}", w.rng.hex(32)));
        arm::check_name(&disk_name, 80)?;
        if w.disks.contains_key(&key(&rg, &disk_name)) {
            return Err(ArmError::conflict(
                "ConflictingUserInput",
                format!("Disk {disk_name} already exists in resource group {}. Only CreateOption.Attach is supported.", rg.to_ascii_uppercase()),
            ));
        }
        let size_gb = match os_disk_v.get("diskSizeGB") {
            None => image.size_gb,
            Some(n) => {
                let n = n.as_u64().filter(|n| *n <= 4095).ok_or_else(|| {
                    ArmError::invalid(
                        "osDisk.diskSizeGB",
                        "The value of parameter 'osDisk.diskSizeGB' is out of range (1-4095).",
                    )
                })?;
                if n < image.size_gb {
                    return Err(ArmError::invalid(
                        "osDisk.diskSizeGB",
                        format!("The specified disk size {n} GB is smaller than the size of the corresponding disk in the VM image: {} GB. This is not allowed. Please choose equal or greater size or do not specify an explicit size.", image.size_gb),
                    ));
                }
                n
            }
        };
        let storage = pick(
            s(&os_disk_v, "/managedDisk/storageAccountType"),
            STORAGE_TYPES,
            default_storage(&size.name),
            "osDisk.managedDisk.storageAccountType",
        )?;
        let (cn, profile, custom) = parse_os_profile(&p, name, image.os_type == "Windows")?;
        let vd = VmDisk {
            lun: None,
            name: disk_name,
            rg: rg.clone(),
            caching,
            storage,
            size_gb,
            create_option: "FromImage",
            delete_option,
        };
        (image, vd, false, Some(cn), Some(Arc::new(profile)), custom)
    } else {
        return Err(ArmError::invalid(
            "osDisk.createOption",
            format!("The value '{create_option}' of parameter 'osDisk.createOption' is invalid. Allowed values are FromImage, Attach."),
        ));
    };
    let user_data = base64_field(p.get("userData"), "userData")?;
    let data_arr = sp
        .get("dataDisks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (data_disks, new_disks) = plan_data_disks(
        &w,
        &k,
        name,
        &rg,
        &location,
        &os_disk.key(),
        &data_arr,
        size.max_data_disks,
        &[],
    )?;
    let nic_arr = p
        .get("networkProfile")
        .and_then(|n| n.get("networkInterfaces"))
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| missing("networkProfile"))?;
    let nics = plan_nics(&w, &k, name, &location, &nic_arr)?;

    // Everything is valid: create the OS disk, data disks, and attach.
    if !attach_os {
        let unique_id = w.rng.uuid();
        let now = w.now();
        w.disks.insert(
            os_disk.key(),
            Disk {
                name: os_disk.name.clone(),
                rg: rg.clone(),
                location: location.clone(),
                sku: os_disk.storage,
                size_gb: os_disk.size_gb,
                creation: Arc::new(
                    json!({"createOption": "FromImage", "imageReference": image.rendered.clone()}),
                ),
                os_type: Some(image.os_type),
                hyperv: Some(image.hyperv),
                managed_by: None,
                unique_id,
                created: now,
                tags: None,
                zones: zones.clone(),
                prov: Prov::Succeeded,
                op: None,
            },
        );
    }
    create_disks(&mut w, &location, new_disks, &zones);
    attach_disks(&mut w, &k, std::slice::from_ref(&os_disk));
    attach_disks(&mut w, &k, &data_disks);
    for n in &nics {
        if let Some(nic) = w.nics.get_mut(&n.key()) {
            nic.vm = Some(k.clone());
        }
    }
    let vm = Vm {
        name: name.to_owned(),
        rg: rg.clone(),
        location,
        vm_id: w.rng.uuid(),
        size: size.name.clone(),
        tags,
        zones,
        image: Arc::new(image.rendered),
        os_type: image.os_type,
        os_name: Arc::from(image.os_name.as_str()),
        os_disk,
        data_disks,
        computer_name: computer,
        os_profile: profile,
        custom_data: custom,
        user_data,
        nics,
        prov: Prov::Creating,
        power: Power::Starting,
        op: None,
        created: w.now(),
        hyperv: image.hyperv,
    };
    w.vms.insert(k.clone(), vm);
    let op = begin_vm_op(&mut w, &k, Kind::Create, Some(Power::Stopped));
    let body = render_vm(&w, &w.vms[&k], false, false);
    Ok(lro::with_headers(
        Resp::json(201, &body),
        &w,
        &op,
        ctx.base(),
        ctx.api(),
        false,
    ))
}

fn update_vm(ctx: &Ctx<'_>, w: &mut World, k: &Key, v: &Value, patch: bool) -> R {
    let vm = w.vms[k].clone();
    if deleting(w, &vm) {
        return Err(marked_for_deletion("Update", &vm.name));
    }
    let changed = |what: &str| {
        ArmError::conflict(
            "PropertyChangeNotAllowed",
            format!("Changing property '{what}' is not allowed."),
        )
    };
    if patch {
        if let Some(l) = v.get("location").and_then(Value::as_str) {
            arm::same_location(
                &vm.location,
                &crate::world::normalize_location(l),
                &vm.name,
                &vm.rg,
            )?;
        }
    } else {
        let l = arm::location(w, v, VM_TYPE)?;
        arm::same_location(&vm.location, &l, &vm.name, &vm.rg)?;
    }
    let tags = arm::tags(v)?;
    let p = props(v);
    let mut size = w
        .sizes
        .iter()
        .find(|s| s.name == vm.size)
        .cloned()
        .unwrap_or_else(|| crate::config::VmSize::new(vm.size.clone(), 1, 1024, 64, 0));
    if let Some(sz) = p
        .get("hardwareProfile")
        .and_then(|h| h.get("vmSize"))
        .and_then(Value::as_str)
    {
        size = find_size(w, sz)?.clone();
    }
    let sp = p.get("storageProfile").cloned().unwrap_or(Value::Null);
    if let Some(img) = sp.get("imageReference") {
        if !same_image(img, &vm.image) {
            return Err(changed("imageReference"));
        }
    }
    if let Some(n) = s(&sp, "/osDisk/name") {
        if !n.eq_ignore_ascii_case(&vm.os_disk.name) {
            return Err(changed("osDisk.name"));
        }
    }
    let mut os_disk = vm.os_disk.clone();
    if let Some(c) = s(&sp, "/osDisk/caching") {
        os_disk.caching = pick(Some(c), CACHING, "ReadWrite", "osDisk.caching")?;
    }
    if let Some(d) = s(&sp, "/osDisk/deleteOption") {
        os_disk.delete_option = pick(Some(d), DELETE_OPTIONS, "Detach", "osDisk.deleteOption")?;
    }
    if let Some(os) = p.get("osProfile") {
        if let Some(cn) = os.get("computerName").and_then(Value::as_str) {
            if vm.computer_name.as_deref() != Some(cn) {
                return Err(changed("osProfile.computerName"));
            }
        }
        if let Some(u) = os.get("adminUsername").and_then(Value::as_str) {
            if vm.os_profile.as_ref().map(|o| o.admin_username.as_str()) != Some(u) {
                return Err(changed("osProfile.adminUsername"));
            }
        }
        if let Some(c) = os.get("customData").and_then(Value::as_str) {
            if vm.custom_data.as_deref() != Some(c) {
                return Err(changed("customData"));
            }
        }
    }
    let (data_disks, new_disks) = match sp.get("dataDisks").and_then(Value::as_array) {
        Some(arr) => plan_data_disks(
            w,
            k,
            &vm.name,
            &vm.rg,
            &vm.location,
            &vm.os_disk.key(),
            arr,
            size.max_data_disks,
            &vm.data_disks,
        )?,
        None => {
            if vm.data_disks.len() as u32 > size.max_data_disks {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("The maximum number of data disks allowed to be attached to a VM of this size is {}.", size.max_data_disks),
                ));
            }
            (vm.data_disks.clone(), Vec::new())
        }
    };
    let nics = match p
        .get("networkProfile")
        .and_then(|n| n.get("networkInterfaces"))
        .and_then(Value::as_array)
    {
        Some(arr) => {
            let planned = plan_nics(w, k, &vm.name, &vm.location, arr)?;
            let mut a: Vec<Key> = planned.iter().map(VmNic::key).collect();
            let mut b: Vec<Key> = vm.nics.iter().map(VmNic::key).collect();
            a.sort();
            b.sort();
            if a != b && vm.power != Power::Deallocated {
                return Err(ArmError::conflict(
                    "OperationNotAllowed",
                    format!("Network interfaces of VM '{}' can only be added or removed while the VM is deallocated.", vm.name),
                ));
            }
            planned
        }
        None => vm.nics.clone(),
    };
    let user_data = match p.get("userData") {
        Some(_) => base64_field(p.get("userData"), "userData")?,
        None => vm.user_data.clone(),
    };

    // Apply.
    for old in &vm.data_disks {
        if !data_disks.iter().any(|d| d.key() == old.key()) {
            if let Some(disk) = w.disks.get_mut(&old.key()) {
                disk.managed_by = None;
            }
        }
    }
    create_disks(w, &vm.location, new_disks, &vm.zones);
    attach_disks(w, k, &data_disks);
    for old in &vm.nics {
        if !nics.iter().any(|n| n.key() == old.key()) {
            if let Some(nic) = w.nics.get_mut(&old.key()) {
                nic.vm = None;
            }
        }
    }
    for n in &nics {
        if let Some(nic) = w.nics.get_mut(&n.key()) {
            nic.vm = Some(k.clone());
        }
    }
    // A PUT while the VM is still being created carries the creation on: the running
    // creation is preempted and the new operation finishes it (a client that sent
    // its create PUT again, its first answer lost, gets one running VM).
    let creating = w
        .vms
        .get(k)
        .and_then(|v| v.op.as_ref())
        .and_then(|id| w.ops.get(id))
        .is_some_and(|o| o.kind == Kind::Create && o.status == Status::InProgress);
    let op = if creating {
        begin_vm_op(w, k, Kind::Create, Some(Power::Stopped))
    } else {
        begin_vm_op(w, k, Kind::Update, None)
    };
    if let Some(m) = w.vms.get_mut(k) {
        m.size = size.name.clone();
        m.os_disk = os_disk;
        m.data_disks = data_disks;
        m.nics = nics;
        m.user_data = user_data;
        match tags {
            Some(t) => m.tags = t,
            None if !patch => m.tags = None,
            None => {}
        }
        m.prov = if creating {
            Prov::Creating
        } else {
            Prov::Updating
        };
    }
    let body = render_vm(w, &w.vms[k], false, false);
    Ok(lro::with_headers(
        Resp::json(200, &body),
        w,
        &op,
        ctx.base(),
        ctx.api(),
        false,
    ))
}

fn vm_action(ctx: &Ctx<'_>, name: &str, a: Action) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    let vm = w.vms.get(&k).ok_or_else(|| vm_missing(ctx, name))?.clone();
    let op_name = match a {
        Action::Start => "start",
        Action::PowerOff => "powerOff",
        Action::Restart => "restart",
        Action::Deallocate => "deallocate",
    };
    if deleting(&w, &vm) {
        return Err(marked_for_deletion(op_name, name));
    }
    // The power state the action starts from (an action in progress is undone first).
    let from = vm
        .op
        .as_ref()
        .and_then(|id| w.ops.get(id))
        .filter(|o| o.status == Status::InProgress)
        .and_then(|o| o.prev_power)
        .filter(|_| {
            matches!(
                vm.power,
                Power::Starting | Power::Stopping | Power::Deallocating
            )
        })
        .unwrap_or(vm.power);
    match (a, from) {
        (Action::PowerOff, Power::Deallocated | Power::Deallocating) => {
            return Err(ArmError::conflict(
                "OperationNotAllowed",
                format!("Operation 'powerOff' is not allowed on VM '{name}' since the VM is deallocated or marked to be deallocated."),
            ))
        }
        (Action::Restart, Power::Stopped | Power::Stopping | Power::Deallocated | Power::Deallocating) => {
            return Err(ArmError::conflict(
                "OperationNotAllowed",
                format!("Operation 'restart' is not allowed on VM '{name}' since the VM is not running. Please start the VM first."),
            ))
        }
        _ => {}
    }
    let op = begin_vm_op(&mut w, &k, Kind::Action(a), Some(from));
    if let Some(m) = w.vms.get_mut(&k) {
        m.power = match a {
            Action::Start | Action::Restart => Power::Starting,
            Action::PowerOff => Power::Stopping,
            Action::Deallocate => Power::Deallocating,
        };
        m.prov = Prov::Updating;
    }
    Ok(lro::with_headers(
        Resp::empty(202),
        &w,
        &op,
        ctx.base(),
        ctx.api(),
        true,
    ))
}

fn delete_vm(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    let Some(vm) = w.vms.get(&k) else {
        return Ok(Resp::empty(204));
    };
    let op = if deleting(&w, vm) {
        vm.op.clone().unwrap_or_default()
    } else {
        let id = begin_vm_op(&mut w, &k, Kind::Delete, None);
        if let Some(m) = w.vms.get_mut(&k) {
            m.prov = Prov::Deleting;
        }
        id
    };
    Ok(lro::with_headers(
        Resp::empty(202),
        &w,
        &op,
        ctx.base(),
        ctx.api(),
        true,
    ))
}

/// Completes a VM operation.
pub(crate) fn finish_vm(
    w: &mut World,
    k: &Key,
    op: &str,
    kind: Kind,
    status: Status,
    prev: Option<Power>,
) {
    let Some(vm) = w.vms.get_mut(k) else { return };
    if vm.op.as_deref() != Some(op) {
        return;
    }
    vm.op = None;
    let failed = match status {
        Status::Failed => Some(Prov::Failed),
        Status::Canceled => Some(Prov::Canceled),
        _ => None,
    };
    match (kind, failed) {
        (Kind::Delete, None) => remove_vm(w, k, true),
        (Kind::Create, None) => {
            vm.prov = Prov::Succeeded;
            vm.power = Power::Running;
        }
        (Kind::Create, Some(p)) => {
            vm.prov = p;
            vm.power = Power::Stopped;
        }
        (Kind::Action(a), None) => {
            vm.prov = Prov::Succeeded;
            vm.power = match a {
                Action::Start | Action::Restart => Power::Running,
                Action::PowerOff => Power::Stopped,
                Action::Deallocate => Power::Deallocated,
            };
        }
        (Kind::Action(_), Some(p)) => {
            vm.prov = p;
            if let Some(pp) = prev {
                vm.power = pp;
            }
        }
        (_, None) => vm.prov = Prov::Succeeded,
        (_, Some(p)) => vm.prov = p,
    }
}

/// Removes a VM. With `cascade`, disks and NICs whose `deleteOption` is `Delete` are
/// deleted too; everything else is detached.
pub(crate) fn remove_vm(w: &mut World, k: &Key, cascade: bool) {
    let Some(vm) = w.vms.remove(k) else { return };
    for d in std::iter::once(&vm.os_disk).chain(vm.data_disks.iter()) {
        if cascade && d.delete_option == "Delete" {
            w.disks.remove(&d.key());
        } else if let Some(disk) = w.disks.get_mut(&d.key()) {
            disk.managed_by = None;
        }
    }
    for n in &vm.nics {
        if cascade && n.delete_option == "Delete" {
            crate::network::remove_nic(w, &n.key());
        } else if let Some(nic) = w.nics.get_mut(&n.key()) {
            nic.vm = None;
        }
    }
}

/// Removes every VM of a resource group (for its deletion).
pub(crate) fn purge_rg(w: &mut World, lrg: &str) {
    let keys: Vec<Key> = w
        .vms
        .range((lrg.to_owned(), String::new())..)
        .take_while(|(k, _)| k.0 == lrg)
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        remove_vm(w, &k, false);
    }
}

/// Pre-populates `n` running VMs `vm-00001`… in `rg`, each with a NIC in the seeded
/// subnet and an OS disk (both deleted with the VM).
pub(crate) fn seed_vms(w: &mut World, rg: &str, n: usize) {
    if n == 0 {
        return;
    }
    let Some(size) = w.sizes.first().cloned() else {
        return;
    };
    let image = Arc::new(json!({
        "publisher": "Canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts-gen2",
        "version": "latest",
    }));
    let profile = Arc::new(OsProfile {
        admin_username: "azureuser".into(),
        linux: true,
        disable_password: true,
        ssh_keys: vec![(
            "/home/azureuser/.ssh/authorized_keys".into(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlicmlkLWZha2UtYXp1cmUtc2VlZGVkLWtleQ hybrid@fake".into(),
        )],
        provision_agent: true,
    });
    let os_name: Arc<str> = Arc::from("ubuntu");
    let creation =
        Arc::new(json!({"createOption": "FromImage", "imageReference": (*image).clone()}));
    let location = w.location.clone();
    let storage = default_storage(&size.name);
    let now = w.now();
    let width = n.to_string().len().max(5);
    let subnet = crate::network::seed_subnet_ref(w, rg);
    for i in 1..=n {
        let name = format!("vm-{i:0width$}");
        let k = key(rg, &name);
        let nic = crate::network::seed_nic(w, rg, &format!("{name}-nic"), k.clone(), &subnet);
        let created = now - (n - i) as i64;
        let os_disk = VmDisk {
            lun: None,
            name: format!("{name}_OsDisk_1"),
            rg: rg.to_owned(),
            caching: "ReadWrite",
            storage,
            size_gb: 30,
            create_option: "FromImage",
            delete_option: "Delete",
        };
        let unique_id = w.rng.uuid();
        w.disks.insert(
            os_disk.key(),
            Disk {
                name: os_disk.name.clone(),
                rg: rg.to_owned(),
                location: location.clone(),
                sku: storage,
                size_gb: 30,
                creation: creation.clone(),
                os_type: Some("Linux"),
                hyperv: Some("V2"),
                managed_by: Some(k.clone()),
                unique_id,
                created,
                tags: None,
                zones: Vec::new(),
                prov: Prov::Succeeded,
                op: None,
            },
        );
        let vm = Vm {
            computer_name: Some(name.clone()),
            name,
            rg: rg.to_owned(),
            location: location.clone(),
            vm_id: w.rng.uuid(),
            size: size.name.clone(),
            tags: None,
            zones: Vec::new(),
            image: image.clone(),
            os_type: "Linux",
            os_name: os_name.clone(),
            os_disk,
            data_disks: Vec::new(),
            os_profile: Some(profile.clone()),
            custom_data: None,
            user_data: None,
            nics: vec![nic],
            prov: Prov::Succeeded,
            power: Power::Running,
            op: None,
            created,
            hyperv: "V2",
        };
        w.vms.insert(k, vm);
    }
}
