//! Microsoft.Resources: subscriptions, locations, resource providers and resource
//! groups; and the top-level ARM router.

use serde_json::{json, Value};

use crate::arm::{self, bad_method, list_response, no_route, page_keys, Ctx};
use crate::http::{ArmError, Resp, R};
use crate::ids::ArmId;
use crate::lro::{self, Family, Kind, Status, Target};
use crate::service::{App, Req};
use crate::world::{location_display, normalize_location, Prov, Rg, Tags, World};

/// Resource types each namespace serves, with the api-versions the provider
/// document lists (any well-formed api-version is accepted).
const COMPUTE_TYPES: &[(&str, &[&str])] = &[
    (
        "virtualMachines",
        &["2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01"],
    ),
    (
        "locations/vmSizes",
        &["2024-11-01", "2024-07-01", "2024-03-01"],
    ),
    (
        "locations/operations",
        &["2024-11-01", "2024-07-01", "2024-03-01"],
    ),
    ("locations/DiskOperations", &["2024-03-02", "2023-10-02"]),
    ("disks", &["2024-03-02", "2023-10-02", "2023-04-02"]),
    ("snapshots", &["2024-03-02", "2023-10-02", "2023-04-02"]),
    ("images", &["2024-11-01", "2024-07-01", "2024-03-01"]),
    ("galleries", &["2024-03-03", "2023-07-03", "2022-03-03"]),
    (
        "galleries/images",
        &["2024-03-03", "2023-07-03", "2022-03-03"],
    ),
    (
        "galleries/images/versions",
        &["2024-03-03", "2023-07-03", "2022-03-03"],
    ),
    ("sshPublicKeys", &["2024-11-01", "2024-07-01", "2024-03-01"]),
];
const NETWORK_TYPES: &[(&str, &[&str])] = &[
    (
        "virtualNetworks",
        &["2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01"],
    ),
    (
        "networkInterfaces",
        &["2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01"],
    ),
    (
        "networkSecurityGroups",
        &["2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01"],
    ),
    (
        "publicIPAddresses",
        &["2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01"],
    ),
    ("locations/operations", &["2024-05-01", "2024-03-01"]),
    ("locations/operationResults", &["2024-05-01", "2024-03-01"]),
];

/// Routes an authenticated ARM request with a valid `api-version`.
pub(crate) fn route(app: &App, req: &Req) -> R {
    let l: Vec<&str> = req.lsegs.iter().map(String::as_str).collect();
    if l.len() > 6 && l.ends_with(&["providers", "microsoft.resources", "tags", "default"]) {
        return tags_at_scope(app, req, &req.segs[..req.segs.len() - 4]);
    }
    match l.as_slice() {
        ["subscriptions"] => {
            only_get(req)?;
            let w = app.world();
            Ok(Resp::json(
                200,
                &json!({"value": [subscription_json(&w)], "count": {"type": "Total", "value": 1}}),
            ))
        }
        ["subscriptions", sub, rest @ ..] => {
            if !sub.eq_ignore_ascii_case(&app.cfg.subscription) {
                return Err(ArmError::new(
                    404,
                    "SubscriptionNotFound",
                    format!("The subscription '{}' could not be found.", req.segs[1]),
                ));
            }
            route_subscription(app, req, rest)
        }
        _ => Err(no_route(req)),
    }
}

fn only_get(req: &Req) -> Result<(), ArmError> {
    if req.method == http::Method::GET {
        Ok(())
    } else {
        Err(bad_method(req))
    }
}

fn subscription_json(w: &World) -> Value {
    json!({
        "id": format!("/subscriptions/{}", w.sub),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": w.sub,
        "tenantId": w.tenant,
        "displayName": "hybrid fake subscription",
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

fn route_subscription(app: &App, req: &Req, rest: &[&str]) -> R {
    match rest {
        [] => {
            only_get(req)?;
            Ok(Resp::json(200, &subscription_json(&app.world())))
        }
        ["locations"] => {
            only_get(req)?;
            let w = app.world();
            let items = w
                .locations
                .iter()
                .map(|l| {
                    let d = location_display(l);
                    json!({
                        "id": format!("/subscriptions/{}/locations/{l}", w.sub),
                        "name": l,
                        "type": "Region",
                        "displayName": d,
                        "regionalDisplayName": d,
                        "metadata": {"regionType": "Physical", "regionCategory": "Recommended"}
                    })
                })
                .collect();
            arm::list_all(items)
        }
        ["providers"] => {
            only_get(req)?;
            let w = app.world();
            arm::list_all(vec![
                provider_json(&w, "Microsoft.Compute", COMPUTE_TYPES),
                provider_json(&w, "Microsoft.Network", NETWORK_TYPES),
                provider_json(
                    &w,
                    "Microsoft.Resources",
                    &[("resourceGroups", &["2024-03-01", "2022-09-01"])],
                ),
            ])
        }
        ["providers", ns] => {
            only_get(req)?;
            let w = app.world();
            match *ns {
                "microsoft.compute" => Ok(Resp::json(
                    200,
                    &provider_json(&w, "Microsoft.Compute", COMPUTE_TYPES),
                )),
                "microsoft.network" => Ok(Resp::json(
                    200,
                    &provider_json(&w, "Microsoft.Network", NETWORK_TYPES),
                )),
                _ => Err(unregistered(&req.segs[3])),
            }
        }
        ["providers", ns, ..] => {
            let ctx = Ctx {
                app,
                req,
                rg: None,
                rest: &req.segs[4..],
                lrest: rest[2..].to_vec(),
            };
            provider(&ctx, ns, &req.segs[3])
        }
        ["operationresults", id] => {
            only_get(req)?;
            let mut w = app.world();
            lro::location_result(&mut w, id, &req.url())
        }
        ["resourcegroups"] => {
            only_get(req)?;
            list_rgs(app, req)
        }
        ["resourcegroups", _] => resource_group(app, req, &req.segs[3]),
        ["resourcegroups", _, "providers", ns, _, ..] => {
            let rg = &req.segs[3];
            arm::require_rg(&app.world(), rg, false)?;
            let ctx = Ctx {
                app,
                req,
                rg: Some(rg),
                rest: &req.segs[6..],
                lrest: rest[4..].to_vec(),
            };
            provider(&ctx, ns, &req.segs[5])
        }
        _ => Err(no_route(req)),
    }
}

/// The tags of the resource (or resource group) a scope names; `Err` if it does
/// not exist or cannot carry tags.
fn tags_slot<'a>(w: &'a mut World, scope: &[String]) -> Result<&'a mut Tags, ArmError> {
    let l: Vec<String> = scope.iter().map(|s| s.to_ascii_lowercase()).collect();
    if l.len() == 4 && l[2] == "resourcegroups" {
        let name = &scope[3];
        return w
            .rgs
            .get_mut(&l[3])
            .map(|g| &mut g.tags)
            .ok_or_else(|| rg_missing(name));
    }
    let path = format!("/{}", scope.join("/"));
    let id = ArmId::parse(&path).ok_or_else(|| {
        ArmError::bad(
            "InvalidRequestUri",
            format!("The scope '{path}' is not a valid resource scope for tags."),
        )
    })?;
    arm::require_rg(w, &id.resource_group, false)?;
    let k = id.key();
    let ty = id
        .parts
        .iter()
        .map(|(t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join("/");
    let missing = |t: &str| {
        crate::http::resource_not_found(t, id.name(id.parts.len() - 1), &id.resource_group)
    };
    let slot = match (id.namespace.as_str(), ty.as_str()) {
        ("microsoft.compute", "virtualmachines") => w.vms.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.compute", "disks") => w.disks.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.compute", "snapshots") => w.snapshots.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.compute", "images") => w.images.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.compute", "sshpublickeys") => w.ssh_keys.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.network", "virtualnetworks") => w.vnets.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.network", "networkinterfaces") => w.nics.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.network", "networksecuritygroups") => w.nsgs.get_mut(&k).map(|r| &mut r.tags),
        ("microsoft.network", "publicipaddresses") => w.pips.get_mut(&k).map(|r| &mut r.tags),
        _ => {
            return Err(ArmError::bad(
                "InvalidResourceType",
                format!(
                    "The resource type '{}/{ty}' does not support tags in this fake.",
                    id.namespace
                ),
            ))
        }
    };
    let type_path = format!("{}/{}", id.namespace, ty);
    slot.ok_or_else(|| missing(&type_path))
}

fn tags_json(scope: &[String], tags: &Tags) -> Value {
    json!({
        "id": format!("/{}/providers/Microsoft.Resources/tags/default", scope.join("/")),
        "name": "default",
        "type": "Microsoft.Resources/tags",
        "properties": {"tags": tags.clone().unwrap_or_default()},
    })
}

/// `{scope}/providers/Microsoft.Resources/tags/default`: Tags_GetAtScope (GET),
/// Tags_CreateOrUpdateAtScope (PUT, replaces all), Tags_UpdateAtScope (PATCH with
/// `operation` `Merge`, `Replace` or `Delete`) and Tags_DeleteAtScope (DELETE).
fn tags_at_scope(app: &App, req: &Req, scope: &[String]) -> R {
    let new_tags = match req.method {
        http::Method::PUT | http::Method::PATCH => {
            let v = req.json()?;
            let props = v.get("properties").cloned().unwrap_or_else(|| json!({}));
            let tags = arm::tags(&props)?.flatten().unwrap_or_default();
            let op = if req.method == http::Method::PUT {
                "Replace".to_owned()
            } else {
                v.get("operation")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ArmError::bad(
                            "InvalidRequestContent",
                            "The request content was invalid and could not be deserialized: 'Required property 'operation' not found in JSON.'",
                        )
                    })?
                    .to_owned()
            };
            Some((op, tags))
        }
        http::Method::GET | http::Method::DELETE => None,
        _ => return Err(bad_method(req)),
    };
    let mut w = app.world();
    let slot = tags_slot(&mut w, scope)?;
    match (&req.method, new_tags) {
        (&http::Method::GET, _) => {}
        (&http::Method::DELETE, _) => *slot = None,
        (_, Some((op, tags))) => {
            let mut cur = slot.clone().unwrap_or_default();
            match op.to_ascii_lowercase().as_str() {
                "replace" => cur = tags,
                "merge" => cur.extend(tags),
                "delete" => {
                    for (k, v) in &tags {
                        let matches = cur.get(k).is_some_and(|c| v.as_str() == Some("") || c == v);
                        if matches {
                            cur.remove(k);
                        }
                    }
                }
                other => {
                    return Err(ArmError::bad(
                        "InvalidTagOperation",
                        format!("The tag operation '{other}' is invalid. Allowed operations are Merge, Replace and Delete."),
                    ))
                }
            }
            *slot = Some(cur);
        }
        _ => {}
    }
    let body = tags_json(scope, slot);
    Ok(Resp::json(200, &body))
}

fn unregistered(ns: &str) -> ArmError {
    ArmError::conflict(
        "MissingSubscriptionRegistration",
        format!("The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how to register subscriptions."),
    )
}

fn provider(ctx: &Ctx<'_>, lower_ns: &str, ns: &str) -> R {
    match lower_ns {
        "microsoft.compute" => match ctx.lrest.first().copied() {
            Some("disks" | "snapshots" | "images" | "galleries" | "sshpublickeys") => {
                crate::storage::route(ctx)
            }
            _ => crate::compute::route(ctx),
        },
        "microsoft.network" => crate::network::route(ctx),
        _ => Err(unregistered(ns)),
    }
}

fn provider_json(w: &World, ns: &str, types: &[(&str, &[&str])]) -> Value {
    let locations: Vec<String> = w.locations.iter().map(|l| location_display(l)).collect();
    json!({
        "id": format!("/subscriptions/{}/providers/{ns}", w.sub),
        "namespace": ns,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types.iter().map(|(t, v)| json!({
            "resourceType": t,
            "locations": locations,
            "apiVersions": v,
        })).collect::<Vec<_>>(),
    })
}

fn rg_json(w: &World, g: &Rg) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(
        "id".into(),
        json!(format!(
            "/subscriptions/{}/resourceGroups/{}",
            w.sub, g.name
        )),
    );
    m.insert("name".into(), json!(g.name));
    m.insert("type".into(), json!("Microsoft.Resources/resourceGroups"));
    m.insert("location".into(), json!(g.location));
    if let Some(t) = &g.tags {
        m.insert("tags".into(), Value::Object(t.clone()));
    }
    m.insert(
        "properties".into(),
        json!({"provisioningState": g.prov.as_str()}),
    );
    Value::Object(m)
}

fn list_rgs(app: &App, req: &Req) -> R {
    let mut w = app.world();
    let limit = match req.query.get("$top") {
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ArmError::bad(
                    "InvalidTopParameter",
                    format!("The value '{t}' of the $top parameter is invalid."),
                )
            })?
            .min(w.page_size),
        None => w.page_size,
    };
    // Resource groups are keyed by name alone; page over (name, "") keys.
    let keyed: std::collections::BTreeMap<(String, String), ()> = w
        .rgs
        .keys()
        .map(|k| ((k.clone(), String::new()), ()))
        .collect();
    let (keys, more) = page_keys(&keyed, None, req, limit)?;
    for k in &keys {
        let op = w.rgs.get(&k.0).and_then(|g| g.op.clone());
        lro::settle(&mut w, op);
    }
    let items = keys
        .iter()
        .filter_map(|k| w.rgs.get(&k.0).map(|g| rg_json(&w, g)))
        .collect();
    Ok(list_response(
        req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

fn check_rg_name(name: &str) -> Result<(), ArmError> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'));
    if ok {
        Ok(())
    } else {
        Err(ArmError::bad(
            "InvalidResourceGroup",
            format!("The provided resource group name '{name}' has these invalid characters: the name can only include alphanumeric, underscore, parentheses, hyphen, period (except at end), and Unicode characters that match the allowed characters."),
        ))
    }
}

fn resource_group(app: &App, req: &Req, name: &str) -> R {
    let lname = name.to_ascii_lowercase();
    let mut w = app.world();
    if let Some(op) = w.rgs.get(&lname).and_then(|g| g.op.clone()) {
        if req.method == http::Method::GET || req.method == http::Method::HEAD {
            lro::settle(&mut w, Some(op));
        }
    }
    match req.method {
        http::Method::GET => {
            let g = w.rgs.get(&lname).ok_or_else(|| rg_missing(name))?;
            Ok(Resp::json(200, &rg_json(&w, g)))
        }
        http::Method::HEAD => Ok(Resp::empty(if w.rgs.contains_key(&lname) {
            204
        } else {
            404
        })),
        http::Method::PUT => {
            check_rg_name(name)?;
            let v = req.json()?;
            let loc = arm::location(&w, &v, "Microsoft.Resources/resourceGroups")?;
            let tags = arm::tags(&v)?;
            if let Some(g) = w.rgs.get_mut(&lname) {
                if g.prov == Prov::Deleting {
                    return Err(ArmError::conflict(
                        "ResourceGroupBeingDeleted",
                        format!("The resource group '{}' is in deprovisioning state and cannot perform this operation.", g.name),
                    ));
                }
                if g.location != loc {
                    return Err(ArmError::conflict(
                        "InvalidResourceGroupLocation",
                        format!("Invalid resource group location '{loc}'. The Resource group already exists in location '{}'.", g.location),
                    ));
                }
                g.tags = tags.unwrap_or(None);
                let g = g.clone();
                return Ok(Resp::json(200, &rg_json(&w, &g)));
            }
            let g = Rg {
                name: name.to_owned(),
                location: loc,
                tags: tags.unwrap_or(None),
                prov: Prov::Succeeded,
                op: None,
            };
            let body = rg_json(&w, &g);
            w.rgs.insert(lname, g);
            Ok(Resp::json(201, &body))
        }
        http::Method::PATCH => {
            let v = req.json()?;
            let tags = arm::tags(&v)?;
            if let Some(l) = v.get("location").and_then(Value::as_str) {
                let g = w.rgs.get(&lname).ok_or_else(|| rg_missing(name))?;
                if normalize_location(l) != g.location {
                    return Err(ArmError::bad(
                        "InvalidRequestContent",
                        "The location of a resource group cannot be changed.",
                    ));
                }
            }
            let g = w.rgs.get_mut(&lname).ok_or_else(|| rg_missing(name))?;
            if let Some(t) = tags {
                g.tags = t;
            }
            let g = g.clone();
            Ok(Resp::json(200, &rg_json(&w, &g)))
        }
        http::Method::DELETE => {
            let g = w.rgs.get(&lname).ok_or_else(|| rg_missing(name))?;
            let op = match &g.op {
                Some(id) if lro::in_progress(&w, Some(id)) => id.clone(),
                _ => {
                    let loc = g.location.clone();
                    let id = lro::begin(
                        &mut w,
                        Target::Rg(lname.clone()),
                        Kind::Delete,
                        Family::Resources,
                        &loc,
                        None,
                    );
                    if let Some(g) = w.rgs.get_mut(&lname) {
                        g.prov = Prov::Deleting;
                        g.op = Some(id.clone());
                    }
                    id
                }
            };
            Ok(lro::with_headers(
                Resp::empty(202),
                &w,
                &op,
                &req.base,
                req.api_version(),
                true,
            ))
        }
        _ => Err(bad_method(req)),
    }
}

fn rg_missing(name: &str) -> ArmError {
    ArmError::new(
        404,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

/// Completes a resource group deletion: everything in it goes.
pub(crate) fn finish_rg(w: &mut World, lname: &str, op: &str, kind: Kind, status: Status) {
    let Some(g) = w.rgs.get_mut(lname) else {
        return;
    };
    if g.op.as_deref() != Some(op) {
        return;
    }
    g.op = None;
    if kind != Kind::Delete || status != Status::Succeeded {
        g.prov = Prov::Succeeded;
        return;
    }
    crate::compute::purge_rg(w, lname);
    crate::network::purge_rg(w, lname);
    crate::storage::purge_rg(w, lname);
    w.rgs.remove(lname);
}
