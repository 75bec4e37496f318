//! Microsoft.Network: virtual networks and subnets, network interfaces, network
//! security groups and their rules, and public IP addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::arm::{self, bad_method, list_response, no_route, page_keys, props, s, Ctx};
use crate::http::{child_not_found, resource_not_found, ArmError, Resp, R};
use crate::ids::{key, ArmId, Key};
use crate::lro::{self, Family, Kind, Status, Target};
use crate::util::{fmt_ipv4, parse_ipv4, Cidr};
use crate::world::{
    IpConfig, Nic, Nsg, Pip, Prov, Ref, Rule, Subnet, VmNic, Vnet, World, SEED_VNET,
};

const VNET_TYPE: &str = "Microsoft.Network/virtualNetworks";
const NIC_TYPE: &str = "Microsoft.Network/networkInterfaces";
const NSG_TYPE: &str = "Microsoft.Network/networkSecurityGroups";
const PIP_TYPE: &str = "Microsoft.Network/publicIPAddresses";

/// Routes `.../providers/Microsoft.Network/...`.
pub(crate) fn route(ctx: &Ctx<'_>) -> R {
    let l = ctx.lrest.clone();
    let m = ctx.method().clone();
    let get = m == http::Method::GET;
    let by_rg = ctx.rg.is_some();
    match l.as_slice() {
        ["virtualnetworks"] if get => list_vnets(ctx, by_rg),
        ["networkinterfaces"] if get => list_nics(ctx, by_rg),
        ["networksecuritygroups"] if get => list_nsgs(ctx, by_rg),
        ["publicipaddresses"] if get => list_pips(ctx, by_rg),
        ["virtualnetworks" | "networkinterfaces" | "networksecuritygroups" | "publicipaddresses"] => {
            Err(bad_method(ctx.req))
        }
        ["virtualnetworks", _] if by_rg => vnet(ctx, &ctx.rest[1]),
        ["virtualnetworks", _, "subnets"] if by_rg && get => list_subnets(ctx, &ctx.rest[1]),
        ["virtualnetworks", _, "subnets", _] if by_rg => subnet(ctx, &ctx.rest[1], &ctx.rest[3]),
        ["networkinterfaces", _] if by_rg => nic(ctx, &ctx.rest[1]),
        ["networksecuritygroups", _] if by_rg => nsg(ctx, &ctx.rest[1]),
        ["networksecuritygroups", _, "securityrules"] if by_rg && get => {
            list_rules(ctx, &ctx.rest[1], false)
        }
        ["networksecuritygroups", _, "defaultsecurityrules"] if by_rg && get => {
            list_rules(ctx, &ctx.rest[1], true)
        }
        ["networksecuritygroups", _, "securityrules", _] if by_rg => {
            rule(ctx, &ctx.rest[1], &ctx.rest[3])
        }
        ["networksecuritygroups", _, "defaultsecurityrules", _] if by_rg && get => {
            default_rule(ctx, &ctx.rest[1], &ctx.rest[3])
        }
        ["publicipaddresses", _] if by_rg => pip(ctx, &ctx.rest[1]),
        ["locations", _, "operations", _] if !by_rg && get => {
            let mut w = ctx.app.world();
            lro::status_document(&mut w, &ctx.rest[3])
        }
        ["locations", _, "operationresults", _] if !by_rg && get => {
            let mut w = ctx.app.world();
            lro::location_result(&mut w, &ctx.rest[3], &ctx.req.url())
        }
        [t, ..]
            if !matches!(
                *t,
                "virtualnetworks"
                    | "networkinterfaces"
                    | "networksecuritygroups"
                    | "publicipaddresses"
                    | "locations"
            ) =>
        {
            Err(crate::compute::invalid_type(ctx, "Microsoft.Network"))
        }
        _ => Err(no_route(ctx.req)),
    }
}

fn etag(guid: &str) -> String {
    format!("W/\"{}\"", &guid[..guid.len().min(36)])
}

fn op_of(w: &World, t: &Target) -> Option<String> {
    match t {
        Target::Vnet(k) => w.vnets.get(k).and_then(|r| r.op.clone()),
        Target::Subnet(k, s) => w
            .vnets
            .get(k)
            .and_then(|v| v.subnets.get(s))
            .and_then(|r| r.op.clone()),
        Target::Nic(k) => w.nics.get(k).and_then(|r| r.op.clone()),
        Target::Nsg(k) => w.nsgs.get(k).and_then(|r| r.op.clone()),
        Target::Rule(k, s) => w
            .nsgs
            .get(k)
            .and_then(|v| v.rules.get(s))
            .and_then(|r| r.op.clone()),
        Target::Pip(k) => w.pips.get(k).and_then(|r| r.op.clone()),
        _ => None,
    }
}

fn settle(w: &mut World, t: &Target) {
    let op = op_of(w, t);
    lro::settle(w, op);
}

/// 409 `AnotherOperationInProgress` while the target runs an operation.
fn not_busy(w: &World, t: &Target, base: &str, api: &str) -> Result<(), ArmError> {
    let op = op_of(w, t);
    if lro::in_progress(w, op.as_ref()) {
        let id = op.unwrap_or_default();
        let url = lro::headers(w, &id, base, api, false)
            .into_iter()
            .find(|(k, _)| *k == "Azure-AsyncOperation")
            .map(|(_, v)| v)
            .unwrap_or_default();
        return Err(ArmError::conflict(
            "AnotherOperationInProgress",
            format!("Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: {url}."),
        ));
    }
    Ok(())
}

fn set_op(w: &mut World, t: &Target, id: Option<String>, prov: Prov) {
    macro_rules! set {
        ($r:expr) => {
            if let Some(r) = $r {
                r.op = id;
                r.prov = prov;
            }
        };
    }
    match t {
        Target::Vnet(k) => set!(w.vnets.get_mut(k)),
        Target::Subnet(k, s) => set!(w.vnets.get_mut(k).and_then(|v| v.subnets.get_mut(s))),
        Target::Nic(k) => set!(w.nics.get_mut(k)),
        Target::Nsg(k) => set!(w.nsgs.get_mut(k)),
        Target::Rule(k, s) => set!(w.nsgs.get_mut(k).and_then(|v| v.rules.get_mut(s))),
        Target::Pip(k) => set!(w.pips.get_mut(k)),
        _ => {}
    }
}

/// Starts a network operation on `t` (which must exist).
fn begin(w: &mut World, t: Target, kind: Kind, location: &str) -> String {
    let id = lro::begin(w, t.clone(), kind, Family::Network, location, None);
    let prov = if kind == Kind::Delete {
        Prov::Deleting
    } else {
        Prov::Updating
    };
    set_op(w, &t, Some(id.clone()), prov);
    id
}

/// A write's answer: `code` with the body and `Azure-AsyncOperation` (plus
/// `Location` for deletions).
fn accepted(ctx: &Ctx<'_>, w: &World, op: &str, code: u16, body: Option<Value>) -> R {
    let r = match body {
        Some(b) => Resp::json(code, &b),
        None => Resp::empty(code),
    };
    Ok(lro::with_headers(
        r,
        w,
        op,
        ctx.base(),
        ctx.api(),
        code == 202,
    ))
}

/// Completes a network operation.
pub(crate) fn finish(w: &mut World, t: &Target, op: &str, kind: Kind, status: Status) {
    if op_of(w, t).as_deref() != Some(op) {
        return;
    }
    let prov = match status {
        Status::Failed => Prov::Failed,
        Status::Canceled => Prov::Canceled,
        _ => Prov::Succeeded,
    };
    if kind != Kind::Delete || status != Status::Succeeded {
        set_op(w, t, None, prov);
        return;
    }
    match t {
        Target::Vnet(k) => {
            if let Some(v) = w.vnets.remove(k) {
                for sn in v.subnets.values() {
                    unlink_subnet_nsg(w, &v, sn);
                }
            }
        }
        Target::Subnet(k, s) => {
            let removed = w.vnets.get_mut(k).and_then(|v| v.subnets.remove(s));
            if let (Some(sn), Some(v)) = (removed, w.vnets.get(k).cloned()) {
                unlink_subnet_nsg(w, &v, &sn);
            }
        }
        Target::Nic(k) => remove_nic(w, k),
        Target::Nsg(k) => {
            w.nsgs.remove(k);
        }
        Target::Rule(k, s) => {
            if let Some(n) = w.nsgs.get_mut(k) {
                n.rules.remove(s);
            }
        }
        Target::Pip(k) => {
            w.pips.remove(k);
        }
        _ => {}
    }
}

fn subnet_id(w: &World, v: &Vnet, sn: &Subnet) -> String {
    format!("{}/subnets/{}", w.rid(&v.rg, VNET_TYPE, &v.name), sn.name)
}

fn unlink_subnet_nsg(w: &mut World, v: &Vnet, sn: &Subnet) {
    if let Some((nk, _)) = &sn.nsg {
        let id = subnet_id(w, v, sn).to_ascii_lowercase();
        if let Some(n) = w.nsgs.get_mut(nk) {
            n.subnets.remove(&id);
        }
    }
}

fn invalid_reference(id: &str, by: &str) -> ArmError {
    ArmError::bad(
        "InvalidResourceReference",
        format!("Resource {id} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."),
    )
}

/// Resolves an NSG reference.
fn nsg_ref(w: &World, id: &str, by: &str, location: &str) -> Result<Ref, ArmError> {
    let k = ArmId::parse(id)
        .filter(|p| p.is("microsoft.network", &["networksecuritygroups"]))
        .map(|p| p.key())
        .ok_or_else(|| invalid_reference(id, by))?;
    let n = w
        .nsgs
        .get(&k)
        .filter(|n| n.location == location)
        .ok_or_else(|| invalid_reference(id, by))?;
    Ok((k, w.rid(&n.rg, NSG_TYPE, &n.name)))
}

// ---------------------------------------------------------------- virtual networks

fn render_subnet(w: &World, v: &Vnet, sn: &Subnet) -> Value {
    let mut p = Map::new();
    p.insert("provisioningState".into(), json!(sn.prov.as_str()));
    p.insert("addressPrefix".into(), json!(sn.prefix.to_string()));
    if let Some((_, id)) = &sn.nsg {
        p.insert("networkSecurityGroup".into(), arm::id_ref(id));
    }
    if !sn.used.is_empty() {
        let users = subnet_users(w, v, sn, usize::MAX);
        p.insert(
            "ipConfigurations".into(),
            Value::Array(users.iter().map(|id| arm::id_ref(id)).collect()),
        );
    }
    p.insert("delegations".into(), json!([]));
    p.insert("privateEndpointNetworkPolicies".into(), json!("Disabled"));
    p.insert("privateLinkServiceNetworkPolicies".into(), json!("Enabled"));
    json!({
        "name": sn.name,
        "id": subnet_id(w, v, sn),
        "etag": etag(&v.guid),
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "properties": Value::Object(p),
    })
}

fn render_vnet(w: &World, v: &Vnet) -> Value {
    let p = json!({
        "provisioningState": v.prov.as_str(),
        "resourceGuid": v.guid,
        "addressSpace": {"addressPrefixes": v.prefixes.iter().map(Cidr::to_string).collect::<Vec<_>>()},
        "dhcpOptions": {"dnsServers": v.dns_servers},
        "subnets": v.subnets.values().map(|sn| render_subnet(w, v, sn)).collect::<Vec<_>>(),
        "virtualNetworkPeerings": [],
        "enableDdosProtection": false,
    });
    let mut m = arm::envelope(
        &v.name,
        w.rid(&v.rg, VNET_TYPE, &v.name),
        VNET_TYPE,
        &v.location,
        &v.tags,
        p,
    );
    m.insert("etag".into(), json!(etag(&v.guid)));
    Value::Object(m)
}

fn settle_vnet(w: &mut World, k: &Key) {
    settle(w, &Target::Vnet(k.clone()));
    let subs: Vec<String> = w
        .vnets
        .get(k)
        .map(|v| v.subnets.keys().cloned().collect())
        .unwrap_or_default();
    for s in subs {
        settle(w, &Target::Subnet(k.clone(), s));
    }
}

fn list_vnets(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let mut w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.vnets, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    for k in &keys {
        settle_vnet(&mut w, k);
    }
    let items = keys
        .iter()
        .filter_map(|k| w.vnets.get(k).map(|v| render_vnet(&w, v)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

fn parse_cidr(p: &str, by: &str) -> Result<Cidr, ArmError> {
    Cidr::parse(p).ok_or_else(|| {
        ArmError::bad(
            "InvalidAddressPrefixFormat",
            format!("Address prefix {p} of resource {by} is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24."),
        )
    })
}

/// The prefix of a subnet body (`addressPrefix` or the first of `addressPrefixes`).
fn subnet_prefix(p: &Map<String, Value>, id: &str) -> Result<Cidr, ArmError> {
    let raw = p
        .get("addressPrefix")
        .and_then(Value::as_str)
        .or_else(|| {
            p.get("addressPrefixes")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
        })
        .ok_or_else(|| {
            ArmError::bad(
                "SubnetMissingAddressPrefix",
                format!("Subnet {id} does not have an address prefix."),
            )
        })?;
    let c = parse_cidr(raw, id)?;
    if c.len > 29 {
        return Err(ArmError::bad(
            "InvalidSubnetPrefix",
            format!("Subnet {id} has an address prefix {c} that is too small; the smallest supported subnet is /29."),
        ));
    }
    Ok(c)
}

/// Checks a subnet's prefix against the VNet's address space and other subnets.
fn check_subnet_fits(
    vnet_name: &str,
    space: &[Cidr],
    name: &str,
    prefix: &Cidr,
    others: &[(String, Cidr)],
) -> Result<(), ArmError> {
    if !space.iter().any(|s| s.contains(prefix)) {
        return Err(ArmError::bad(
            "NetcfgSubnetRangeOutsideVnet",
            format!("Subnet '{name}' is not valid because its IP address range is outside the IP address range of virtual network '{vnet_name}'."),
        ));
    }
    if others
        .iter()
        .any(|(n, c)| !n.eq_ignore_ascii_case(name) && c.overlaps(prefix))
    {
        return Err(ArmError::bad(
            "NetcfgSubnetRangesOverlap",
            format!("Subnet '{name}' is not valid because its IP address range overlaps with that of an existing subnet in virtual network '{vnet_name}'."),
        ));
    }
    Ok(())
}

/// Ids of (at most `max`) IP configurations in a subnet (a scan of the NICs).
fn subnet_users(w: &World, v: &Vnet, sn: &Subnet, max: usize) -> Vec<String> {
    let vk = key(&v.rg, &v.name);
    let ls = sn.name.to_ascii_lowercase();
    let mut out = Vec::new();
    for n in w.nics.values() {
        for c in &n.ip_configs {
            if c.subnet.0 == vk && c.subnet.1 == ls {
                out.push(format!("{}/ipConfigurations/{}", nic_id(w, n), c.name));
                if out.len() >= max {
                    return out;
                }
            }
        }
    }
    out
}

fn in_use_subnet(w: &World, v: &Vnet, sn: &Subnet) -> ArmError {
    let user = subnet_users(w, v, sn, 1).pop().unwrap_or_default();
    ArmError::bad(
        "InUseSubnetCannotBeDeleted",
        format!("Subnet {} is in use by {user} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.", sn.name),
    )
}

fn new_subnet(name: &str, prefix: Cidr, nsg: Option<Ref>) -> Subnet {
    Subnet {
        name: name.to_owned(),
        prefix,
        nsg,
        used: BTreeSet::new(),
        next: prefix.net.wrapping_add(4),
        prov: Prov::Succeeded,
        op: None,
    }
}

fn vnet(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    let t = Target::Vnet(k.clone());
    match ctx.method().clone() {
        http::Method::GET => {
            settle_vnet(&mut w, &k);
            let v = w
                .vnets
                .get(&k)
                .ok_or_else(|| resource_not_found(VNET_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_vnet(&w, v)))
        }
        http::Method::PATCH => {
            let v = ctx.req.json()?;
            let tags = arm::tags(&v)?;
            let vn = w
                .vnets
                .get_mut(&k)
                .ok_or_else(|| resource_not_found(VNET_TYPE, name, ctx.rg()))?;
            if let Some(t) = tags {
                vn.tags = t;
            }
            let vn = vn.clone();
            Ok(Resp::json(200, &render_vnet(&w, &vn)))
        }
        http::Method::PUT => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let v = ctx.req.json()?;
            arm::check_name(name, 64)?;
            let location = arm::location(&w, &v, VNET_TYPE)?;
            let tags = arm::tags(&v)?;
            let p = props(&v);
            let id = w.rid(&rg, VNET_TYPE, name);
            let raw: Vec<&str> = p
                .get("addressSpace")
                .and_then(|a| a.get("addressPrefixes"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if raw.is_empty() {
                return Err(ArmError::bad(
                    "InvalidRequestFormat",
                    format!("Cannot parse the request: virtual network {id} must have an address space (properties.addressSpace.addressPrefixes)."),
                ));
            }
            let space = raw
                .iter()
                .map(|r| parse_cidr(r, &id))
                .collect::<Result<Vec<_>, _>>()?;
            for (i, a) in space.iter().enumerate() {
                if space[i + 1..].iter().any(|b| a.overlaps(b)) {
                    return Err(ArmError::bad(
                        "VnetAddressSpacesOverlap",
                        format!("Cannot create or update virtual network {id} since the address spaces overlap ({a})."),
                    ));
                }
            }
            let dns: Vec<String> = p
                .get("dhcpOptions")
                .and_then(|d| d.get("dnsServers"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            // The subnets as requested (a PUT replaces the whole list).
            let mut planned: Vec<(String, Cidr, Option<Ref>)> = Vec::new();
            for sn in p
                .get("subnets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let sname = sn
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ArmError::bad(
                            "InvalidRequestFormat",
                            "Cannot parse the request: every subnet needs a name.",
                        )
                    })?
                    .to_owned();
                arm::check_name(&sname, 80)?;
                if planned
                    .iter()
                    .any(|(n, _, _)| n.eq_ignore_ascii_case(&sname))
                {
                    return Err(ArmError::bad(
                        "DuplicateResourceName",
                        format!(
                            "Resource {id} has two child resources with the same name ({sname})."
                        ),
                    ));
                }
                let sp = props(&sn);
                let sid = format!("{id}/subnets/{sname}");
                let prefix = subnet_prefix(&sp, &sid)?;
                let nsg = match arm::ref_id(&sp, "networkSecurityGroup") {
                    Some(nid) => Some(nsg_ref(&w, nid, &sid, &location)?),
                    None => None,
                };
                planned.push((sname, prefix, nsg));
            }
            let all: Vec<(String, Cidr)> =
                planned.iter().map(|(n, c, _)| (n.clone(), *c)).collect();
            for (n, c, _) in &planned {
                check_subnet_fits(name, &space, n, c, &all)?;
            }
            let existing = w.vnets.get(&k).cloned();
            if let Some(e) = &existing {
                arm::same_location(&e.location, &location, &e.name, &e.rg)?;
                for (ln, sn) in &e.subnets {
                    match planned
                        .iter()
                        .find(|(n, _, _)| n.to_ascii_lowercase() == *ln)
                    {
                        None if !sn.used.is_empty() => return Err(in_use_subnet(&w, e, sn)),
                        Some((_, c, _)) if *c != sn.prefix && !sn.used.is_empty() => {
                            return Err(ArmError::bad(
                                "InUseSubnetCannotBeUpdated",
                                format!("Subnet {} is in use and cannot be updated.", sn.name),
                            ))
                        }
                        _ => {}
                    }
                }
            }
            // Apply: keep the allocations of surviving subnets.
            let mut subnets = BTreeMap::new();
            let vnet_shell = Vnet {
                name: name.to_owned(),
                rg: rg.clone(),
                location: location.clone(),
                prefixes: space.clone(),
                dns_servers: dns.clone(),
                subnets: BTreeMap::new(),
                guid: existing
                    .as_ref()
                    .map(|e| e.guid.clone())
                    .unwrap_or_else(|| w.rng.uuid()),
                tags: None,
                prov: Prov::Updating,
                op: None,
            };
            if let Some(e) = &existing {
                for sn in e.subnets.values() {
                    unlink_subnet_nsg(&mut w, e, sn);
                }
            }
            for (n, c, nsg) in planned {
                let ln = n.to_ascii_lowercase();
                let mut sn = match existing.as_ref().and_then(|e| e.subnets.get(&ln)) {
                    Some(old) if old.prefix == c => {
                        let mut s = old.clone();
                        s.name = n.clone();
                        s
                    }
                    _ => new_subnet(&n, c, None),
                };
                sn.nsg = nsg.clone();
                if let Some((nk, _)) = &nsg {
                    let sid = subnet_id(&w, &vnet_shell, &sn);
                    if let Some(g) = w.nsgs.get_mut(nk) {
                        g.subnets.insert(sid.to_ascii_lowercase(), sid);
                    }
                }
                subnets.insert(ln, sn);
            }
            let created = existing.is_none();
            let vn = Vnet {
                subnets,
                tags: tags.unwrap_or_default(),
                ..vnet_shell
            };
            w.vnets.insert(k.clone(), vn);
            let op = begin(
                &mut w,
                t,
                if created { Kind::Create } else { Kind::Update },
                &location,
            );
            let body = render_vnet(&w, &w.vnets[&k]);
            accepted(ctx, &w, &op, if created { 201 } else { 200 }, Some(body))
        }
        http::Method::DELETE => {
            let Some(v) = w.vnets.get(&k) else {
                return Ok(Resp::empty(204));
            };
            if let Some(sn) = v.subnets.values().find(|s| !s.used.is_empty()) {
                return Err(in_use_subnet(&w, v, sn));
            }
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let location = v.location.clone();
            let op = begin(&mut w, t, Kind::Delete, &location);
            accepted(ctx, &w, &op, 202, None)
        }
        _ => Err(bad_method(ctx.req)),
    }
}

fn vnet_missing(ctx: &Ctx<'_>, name: &str) -> ArmError {
    resource_not_found(VNET_TYPE, name, ctx.rg())
}

fn list_subnets(ctx: &Ctx<'_>, vnet_name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), vnet_name);
    settle_vnet(&mut w, &k);
    let v = w
        .vnets
        .get(&k)
        .ok_or_else(|| vnet_missing(ctx, vnet_name))?;
    arm::list_all(
        v.subnets
            .values()
            .map(|sn| render_subnet(&w, v, sn))
            .collect(),
    )
}

fn subnet(ctx: &Ctx<'_>, vnet_name: &str, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), vnet_name);
    let ln = name.to_ascii_lowercase();
    let t = Target::Subnet(k.clone(), ln.clone());
    let sid = format!("{}/subnets/{name}", w.rid(ctx.rg(), VNET_TYPE, vnet_name));
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &t);
            let v = w
                .vnets
                .get(&k)
                .ok_or_else(|| vnet_missing(ctx, vnet_name))?;
            let sn = v.subnets.get(&ln).ok_or_else(|| child_not_found(&sid))?;
            Ok(Resp::json(200, &render_subnet(&w, v, sn)))
        }
        http::Method::PUT => {
            arm::require_rg(&w, ctx.rg(), true)?;
            let v = w
                .vnets
                .get(&k)
                .cloned()
                .ok_or_else(|| vnet_missing(ctx, vnet_name))?;
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            arm::check_name(name, 80)?;
            let body = ctx.req.json()?;
            let p = props(&body);
            let prefix = subnet_prefix(&p, &sid)?;
            let others: Vec<(String, Cidr)> = v
                .subnets
                .values()
                .map(|s| (s.name.clone(), s.prefix))
                .collect();
            check_subnet_fits(&v.name, &v.prefixes, name, &prefix, &others)?;
            let nsg = match arm::ref_id(&p, "networkSecurityGroup") {
                Some(nid) => Some(nsg_ref(&w, nid, &sid, &v.location)?),
                None => None,
            };
            let existing = v.subnets.get(&ln).cloned();
            if let Some(e) = &existing {
                if e.prefix != prefix && !e.used.is_empty() {
                    return Err(ArmError::bad(
                        "InUseSubnetCannotBeUpdated",
                        format!("Subnet {} is in use and cannot be updated.", e.name),
                    ));
                }
                unlink_subnet_nsg(&mut w, &v, e);
            }
            let mut sn = match existing.clone() {
                Some(old) if old.prefix == prefix => old,
                _ => new_subnet(name, prefix, None),
            };
            sn.name = name.to_owned();
            sn.nsg = nsg.clone();
            if let Some((nk, _)) = &nsg {
                let real_id = subnet_id(&w, &v, &sn);
                if let Some(g) = w.nsgs.get_mut(nk) {
                    g.subnets.insert(real_id.to_ascii_lowercase(), real_id);
                }
            }
            if let Some(vn) = w.vnets.get_mut(&k) {
                vn.subnets.insert(ln.clone(), sn);
            }
            let op = begin(
                &mut w,
                t,
                if existing.is_some() {
                    Kind::Update
                } else {
                    Kind::Create
                },
                &v.location,
            );
            let vn = &w.vnets[&k];
            let body = render_subnet(&w, vn, &vn.subnets[&ln]);
            accepted(
                ctx,
                &w,
                &op,
                if existing.is_some() { 200 } else { 201 },
                Some(body),
            )
        }
        http::Method::DELETE => {
            let Some(v) = w.vnets.get(&k) else {
                return Err(vnet_missing(ctx, vnet_name));
            };
            let Some(sn) = v.subnets.get(&ln) else {
                return Ok(Resp::empty(204));
            };
            if !sn.used.is_empty() {
                return Err(in_use_subnet(&w, v, sn));
            }
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let location = v.location.clone();
            let op = begin(&mut w, t, Kind::Delete, &location);
            accepted(ctx, &w, &op, 202, None)
        }
        _ => Err(bad_method(ctx.req)),
    }
}

/// Allocates the next free address of a subnet (Azure reserves the first four and
/// the last).
fn alloc_ip(sn: &mut Subnet) -> Option<u32> {
    let first = sn.prefix.net.wrapping_add(4);
    let last = sn.prefix.net.wrapping_add((sn.prefix.size() - 2) as u32);
    if last < first {
        return None;
    }
    let span = u64::from(last - first) + 1;
    let mut ip = sn.next.clamp(first, last);
    for _ in 0..span {
        if !sn.used.contains(&ip) {
            sn.used.insert(ip);
            sn.next = if ip == last { first } else { ip + 1 };
            return Some(ip);
        }
        ip = if ip == last { first } else { ip + 1 };
    }
    None
}

// ---------------------------------------------------------------- network interfaces

fn nic_id(w: &World, n: &Nic) -> String {
    w.rid(&n.rg, NIC_TYPE, &n.name)
}

fn render_nic(w: &World, n: &Nic, expand_pip: bool) -> Value {
    let id = nic_id(w, n);
    let configs: Vec<Value> = n
        .ip_configs
        .iter()
        .map(|c| {
            let mut p = Map::new();
            p.insert("provisioningState".into(), json!("Succeeded"));
            p.insert("privateIPAddress".into(), json!(fmt_ipv4(c.ip)));
            p.insert(
                "privateIPAllocationMethod".into(),
                json!(if c.static_alloc { "Static" } else { "Dynamic" }),
            );
            p.insert("subnet".into(), arm::id_ref(&c.subnet.2));
            if let Some((pk, pid)) = &c.pip {
                let v = match (expand_pip, w.pips.get(pk)) {
                    (true, Some(pip)) => render_pip(w, pip),
                    _ => arm::id_ref(pid),
                };
                p.insert("publicIPAddress".into(), v);
            }
            p.insert("primary".into(), json!(c.primary));
            p.insert("privateIPAddressVersion".into(), json!("IPv4"));
            json!({
                "name": c.name,
                "id": format!("{id}/ipConfigurations/{}", c.name),
                "etag": etag(&n.guid),
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": Value::Object(p),
            })
        })
        .collect();
    let mut p = Map::new();
    p.insert("provisioningState".into(), json!(n.prov.as_str()));
    p.insert("resourceGuid".into(), json!(n.guid));
    p.insert("ipConfigurations".into(), Value::Array(configs));
    p.insert(
        "dnsSettings".into(),
        json!({"dnsServers": n.dns_servers, "appliedDnsServers": [], "internalDomainNameSuffix": format!("{}.ax.internal.cloudapp.net", &n.guid[..8])}),
    );
    if n.vm.is_some() {
        p.insert("macAddress".into(), json!(n.mac));
        p.insert("primary".into(), json!(true));
    }
    p.insert("enableAcceleratedNetworking".into(), json!(n.accelerated));
    p.insert("enableIPForwarding".into(), json!(n.ip_forwarding));
    p.insert("disableTcpStateTracking".into(), json!(false));
    if let Some((_, nsg)) = &n.nsg {
        p.insert("networkSecurityGroup".into(), arm::id_ref(nsg));
    }
    if let Some(vm) = &n.vm {
        p.insert("virtualMachine".into(), arm::id_ref(&w.vm_id(vm)));
    }
    p.insert("nicType".into(), json!("Standard"));
    p.insert("vnetEncryptionSupported".into(), json!(false));
    let mut m = arm::envelope(
        &n.name,
        id,
        NIC_TYPE,
        &n.location,
        &n.tags,
        Value::Object(p),
    );
    m.insert("etag".into(), json!(etag(&n.guid)));
    Value::Object(m)
}

fn expand_pip(ctx: &Ctx<'_>) -> bool {
    ctx.req
        .query
        .get("$expand")
        .is_some_and(|e| e.to_ascii_lowercase().contains("publicipaddress"))
}

fn list_nics(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let expand = expand_pip(ctx);
    let mut w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.nics, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    for k in &keys {
        settle(&mut w, &Target::Nic(k.clone()));
    }
    let items = keys
        .iter()
        .filter_map(|k| w.nics.get(k).map(|n| render_nic(&w, n, expand)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

/// One requested IP configuration, validated.
struct PlannedConfig {
    name: String,
    vnet: Key,
    subnet: String,
    subnet_id: String,
    /// A requested static address, or the address to keep.
    ip: Option<u32>,
    static_alloc: bool,
    pip: Option<Ref>,
    primary: bool,
}

fn plan_ip_configs(
    w: &World,
    nic_id: &str,
    location: &str,
    arr: &[Value],
    current: Option<&Nic>,
) -> Result<Vec<PlannedConfig>, ArmError> {
    if arr.is_empty() {
        return Err(ArmError::bad(
            "InvalidRequestFormat",
            format!("Cannot parse the request: network interface {nic_id} must have at least one IP configuration."),
        ));
    }
    let mut out: Vec<PlannedConfig> = Vec::new();
    for (i, c) in arr.iter().enumerate() {
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ArmError::bad(
                    "InvalidRequestFormat",
                    "Cannot parse the request: every IP configuration needs a name.",
                )
            })?
            .to_owned();
        if out.iter().any(|o| o.name.eq_ignore_ascii_case(&name)) {
            return Err(ArmError::bad(
                "DuplicateResourceName",
                format!("Resource {nic_id} has two child resources with the same name ({name})."),
            ));
        }
        let cid = format!("{nic_id}/ipConfigurations/{name}");
        let p = props(c);
        // A secondary configuration without a subnet shares the first one's, as in ARM
        // (every configuration of a NIC is in one virtual network).
        let (vk, ls, sid) = match arm::ref_id(&p, "subnet") {
            Some(sid) => {
                let parsed = ArmId::parse(sid)
                    .filter(|x| x.is("microsoft.network", &["virtualnetworks", "subnets"]))
                    .ok_or_else(|| invalid_reference(sid, &cid))?;
                (
                    parsed.key(),
                    parsed.name(1).to_ascii_lowercase(),
                    sid.to_owned(),
                )
            }
            None => match out.first() {
                Some(first) => (
                    first.vnet.clone(),
                    first.subnet.clone(),
                    first.subnet_id.clone(),
                ),
                None => {
                    return Err(ArmError::bad(
                        "SubnetIsRequiredForIpConfiguration",
                        format!("IP configuration {cid} must reference a subnet."),
                    ))
                }
            },
        };
        let v = w
            .vnets
            .get(&vk)
            .filter(|v| v.location == location)
            .ok_or_else(|| invalid_reference(&sid, &cid))?;
        let sn = v
            .subnets
            .get(&ls)
            .ok_or_else(|| invalid_reference(&sid, &cid))?;
        if out.first().is_some_and(|f| f.vnet != vk) {
            return Err(ArmError::bad(
                "IpConfigurationsOnSameNicCannotUseDifferentVnets",
                format!("IP configurations on network interface {nic_id} reference different virtual networks."),
            ));
        }
        let static_alloc = p
            .get("privateIPAllocationMethod")
            .and_then(Value::as_str)
            .is_some_and(|m| m.eq_ignore_ascii_case("Static"));
        let prior = current.and_then(|n| {
            n.ip_configs.iter().find(|x| {
                x.name.eq_ignore_ascii_case(&name) && x.subnet.0 == vk && x.subnet.1 == ls
            })
        });
        let ip = match p.get("privateIPAddress").and_then(Value::as_str) {
            Some(a) if static_alloc => {
                let ip = parse_ipv4(a).ok_or_else(|| {
                    ArmError::bad(
                        "PrivateIPAddressInvalid",
                        format!("Private IP address {a} of IP configuration {cid} is invalid."),
                    )
                })?;
                let c = Cidr { net: ip, len: 32 };
                if !sn.prefix.contains(&c) {
                    return Err(ArmError::bad(
                        "PrivateIPAddressNotInSubnet",
                        format!("IP configuration {cid} is referencing private IP address {a} which is not in subnet {}.", subnet_id(w, v, sn)),
                    ));
                }
                let first = sn.prefix.net + 4;
                let last = sn.prefix.net.wrapping_add((sn.prefix.size() - 1) as u32);
                if ip < first || ip >= last {
                    return Err(ArmError::bad(
                        "PrivateIPAddressIsReserved",
                        format!(
                            "Private IP address {a} is reserved by Azure in subnet {}.",
                            sn.prefix
                        ),
                    ));
                }
                let mine = prior.is_some_and(|x| x.ip == ip);
                if sn.used.contains(&ip) && !mine {
                    return Err(ArmError::bad(
                        "PrivateIPAddressInUse",
                        format!("IP configuration {cid} is using the private IP address {a} which is already allocated to another resource."),
                    ));
                }
                Some(ip)
            }
            _ => prior.map(|x| x.ip),
        };
        let pip = match arm::ref_id(&p, "publicIPAddress") {
            None => None,
            Some(pid) => {
                let pk = ArmId::parse(pid)
                    .filter(|x| x.is("microsoft.network", &["publicipaddresses"]))
                    .map(|x| x.key())
                    .ok_or_else(|| invalid_reference(pid, &cid))?;
                let pip = w
                    .pips
                    .get(&pk)
                    .filter(|x| x.location == location)
                    .ok_or_else(|| invalid_reference(pid, &cid))?;
                if let Some(owner) = &pip.ip_config {
                    if !owner.eq_ignore_ascii_case(&cid) {
                        return Err(ArmError::bad(
                            "PublicIPAddressInUse",
                            format!("Public IP address {} is already in use by IP configuration {owner}.", w.rid(&pip.rg, PIP_TYPE, &pip.name)),
                        ));
                    }
                }
                if out
                    .iter()
                    .any(|o| o.pip.as_ref().is_some_and(|(k, _)| *k == pk))
                {
                    return Err(ArmError::bad(
                        "PublicIPAddressInUse",
                        format!("Public IP address {pid} is referenced by more than one IP configuration of {nic_id}."),
                    ));
                }
                Some((pk, w.rid(&pip.rg, PIP_TYPE, &pip.name)))
            }
        };
        let primary = p.get("primary").and_then(Value::as_bool).unwrap_or(i == 0);
        out.push(PlannedConfig {
            name,
            vnet: vk,
            subnet: ls,
            subnet_id: subnet_id(w, v, sn),
            ip,
            static_alloc,
            pip,
            primary,
        });
    }
    if out.iter().filter(|c| c.primary).count() != 1 {
        return Err(ArmError::bad(
            "NetworkInterfaceMustHaveOnePrimaryIpConfiguration",
            format!("Network interface {nic_id} must have exactly one primary IP configuration."),
        ));
    }
    Ok(out)
}

/// Releases everything a NIC holds: addresses, public IP associations, NSG links.
fn release_nic(w: &mut World, n: &Nic) {
    let id = nic_id(w, n);
    for c in &n.ip_configs {
        if let Some(sn) = w
            .vnets
            .get_mut(&c.subnet.0)
            .and_then(|v| v.subnets.get_mut(&c.subnet.1))
        {
            sn.used.remove(&c.ip);
        }
        if let Some((pk, _)) = &c.pip {
            if let Some(p) = w.pips.get_mut(pk) {
                p.ip_config = None;
                if !p.static_alloc {
                    p.ip = None;
                }
            }
        }
    }
    if let Some((nk, _)) = &n.nsg {
        if let Some(g) = w.nsgs.get_mut(nk) {
            g.nics.remove(&id.to_ascii_lowercase());
        }
    }
}

/// Records what a NIC holds (the reverse of [`release_nic`]).
fn claim_nic(w: &mut World, n: &Nic) {
    let id = nic_id(w, n);
    for c in &n.ip_configs {
        let cid = format!("{id}/ipConfigurations/{}", c.name);
        if let Some(sn) = w
            .vnets
            .get_mut(&c.subnet.0)
            .and_then(|v| v.subnets.get_mut(&c.subnet.1))
        {
            sn.used.insert(c.ip);
        }
        if let Some((pk, _)) = &c.pip {
            let ip = match w.pips.get(pk) {
                Some(p) if p.ip.is_none() => Some(w.public_ip()),
                _ => None,
            };
            if let Some(p) = w.pips.get_mut(pk) {
                p.ip_config = Some(cid.clone());
                if ip.is_some() {
                    p.ip = ip;
                }
            }
        }
    }
    if let Some((nk, _)) = &n.nsg {
        if let Some(g) = w.nsgs.get_mut(nk) {
            g.nics.insert(id.to_ascii_lowercase(), id);
        }
    }
}

/// Removes a NIC and releases what it holds.
pub(crate) fn remove_nic(w: &mut World, k: &Key) {
    let Some(n) = w.nics.remove(k) else { return };
    release_nic(w, &n);
    if let Some(vk) = &n.vm {
        if let Some(vm) = w.vms.get_mut(vk) {
            vm.nics.retain(|x| x.key() != *k);
        }
    }
}

fn nic(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    let t = Target::Nic(k.clone());
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &t);
            let n = w
                .nics
                .get(&k)
                .ok_or_else(|| resource_not_found(NIC_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_nic(&w, n, expand_pip(ctx))))
        }
        http::Method::PATCH => {
            let v = ctx.req.json()?;
            let tags = arm::tags(&v)?;
            let n = w
                .nics
                .get_mut(&k)
                .ok_or_else(|| resource_not_found(NIC_TYPE, name, ctx.rg()))?;
            if let Some(t) = tags {
                n.tags = t;
            }
            let n = n.clone();
            Ok(Resp::json(200, &render_nic(&w, &n, false)))
        }
        http::Method::PUT => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let v = ctx.req.json()?;
            arm::check_name(name, 80)?;
            let location = arm::location(&w, &v, NIC_TYPE)?;
            let tags = arm::tags(&v)?;
            let p = props(&v);
            let id = w.rid(&rg, NIC_TYPE, name);
            let existing = w.nics.get(&k).cloned();
            if let Some(e) = &existing {
                arm::same_location(&e.location, &location, &e.name, &e.rg)?;
            }
            let arr = p
                .get("ipConfigurations")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let planned = plan_ip_configs(&w, &id, &location, &arr, existing.as_ref())?;
            let nsg = match arm::ref_id(&p, "networkSecurityGroup") {
                Some(nid) => Some(nsg_ref(&w, nid, &id, &location)?),
                None => None,
            };
            let dns: Vec<String> = p
                .get("dnsSettings")
                .and_then(|d| d.get("dnsServers"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            // Release the old holdings, then allocate the new ones.
            if let Some(e) = &existing {
                release_nic(&mut w, e);
            }
            let mut configs = Vec::new();
            for c in planned {
                let sn = w
                    .vnets
                    .get_mut(&c.vnet)
                    .and_then(|v| v.subnets.get_mut(&c.subnet));
                let Some(sn) = sn else { continue };
                let ip = match c.ip {
                    Some(ip) if !sn.used.contains(&ip) => {
                        sn.used.insert(ip);
                        Some(ip)
                    }
                    _ => alloc_ip(sn),
                };
                let Some(ip) = ip else {
                    let (sname, prefix) = (sn.name.clone(), sn.prefix);
                    // Put the old NIC back before failing.
                    if let Some(e) = &existing {
                        claim_nic(&mut w, e);
                    }
                    for done in &configs {
                        let done: &IpConfig = done;
                        if let Some(s) = w
                            .vnets
                            .get_mut(&done.subnet.0)
                            .and_then(|v| v.subnets.get_mut(&done.subnet.1))
                        {
                            s.used.remove(&done.ip);
                        }
                    }
                    return Err(ArmError::bad(
                        "SubnetIsFull",
                        format!("Subnet {sname} with address prefix {prefix} does not have enough capacity for 1 IP addresses."),
                    ));
                };
                configs.push(IpConfig {
                    name: c.name,
                    subnet: Arc::new((c.vnet, c.subnet, c.subnet_id)),
                    ip,
                    static_alloc: c.static_alloc,
                    pip: c.pip,
                    primary: c.primary,
                });
            }
            let created = existing.is_none();
            let n = Nic {
                name: name.to_owned(),
                rg,
                location: location.clone(),
                ip_configs: configs,
                nsg,
                vm: existing.as_ref().and_then(|e| e.vm.clone()),
                mac: existing
                    .as_ref()
                    .map(|e| e.mac.clone())
                    .unwrap_or_else(|| w.rng.mac()),
                accelerated: p
                    .get("enableAcceleratedNetworking")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                ip_forwarding: p
                    .get("enableIPForwarding")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                dns_servers: dns,
                guid: existing
                    .as_ref()
                    .map(|e| e.guid.clone())
                    .unwrap_or_else(|| w.rng.uuid()),
                tags: tags.unwrap_or(None),
                prov: Prov::Updating,
                op: None,
            };
            claim_nic(&mut w, &n);
            w.nics.insert(k.clone(), n);
            let op = begin(
                &mut w,
                t,
                if created { Kind::Create } else { Kind::Update },
                &location,
            );
            let body = render_nic(&w, &w.nics[&k], false);
            accepted(ctx, &w, &op, if created { 201 } else { 200 }, Some(body))
        }
        http::Method::DELETE => {
            let Some(n) = w.nics.get(&k) else {
                return Ok(Resp::empty(204));
            };
            if let Some(vm) = n.vm.as_ref().map(|k| w.vm_id(k)) {
                return Err(ArmError::bad(
                    "NicInUse",
                    format!("Network Interface {} is used by existing resource {vm}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.", nic_id(&w, n)),
                ));
            }
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let location = n.location.clone();
            let op = begin(&mut w, t, Kind::Delete, &location);
            accepted(ctx, &w, &op, 202, None)
        }
        _ => Err(bad_method(ctx.req)),
    }
}

// ---------------------------------------------------------------- security groups

/// Azure's six default rules: (name, description, source, destination, access,
/// priority, inbound).
const DEFAULT_RULES: &[(&str, &str, &str, &str, &str, u32, bool)] = &[
    (
        "AllowVnetInBound",
        "Allow inbound traffic from all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        true,
    ),
    (
        "AllowAzureLoadBalancerInBound",
        "Allow inbound traffic from azure load balancer",
        "AzureLoadBalancer",
        "*",
        "Allow",
        65001,
        true,
    ),
    (
        "DenyAllInBound",
        "Deny all inbound traffic",
        "*",
        "*",
        "Deny",
        65500,
        true,
    ),
    (
        "AllowVnetOutBound",
        "Allow outbound traffic from all VMs to all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        false,
    ),
    (
        "AllowInternetOutBound",
        "Allow outbound traffic from all VMs to Internet",
        "*",
        "Internet",
        "Allow",
        65001,
        false,
    ),
    (
        "DenyAllOutBound",
        "Deny all outbound traffic",
        "*",
        "*",
        "Deny",
        65500,
        false,
    ),
];

fn default_rule_json(
    nsg_id: &str,
    etag_v: &str,
    r: &(&str, &str, &str, &str, &str, u32, bool),
) -> Value {
    json!({
        "name": r.0,
        "id": format!("{nsg_id}/defaultSecurityRules/{}", r.0),
        "etag": etag_v,
        "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
        "properties": {
            "provisioningState": "Succeeded",
            "description": r.1,
            "protocol": "*",
            "sourcePortRange": "*",
            "destinationPortRange": "*",
            "sourceAddressPrefix": r.2,
            "destinationAddressPrefix": r.3,
            "access": r.4,
            "priority": r.5,
            "direction": if r.6 { "Inbound" } else { "Outbound" },
            "sourcePortRanges": [],
            "destinationPortRanges": [],
            "sourceAddressPrefixes": [],
            "destinationAddressPrefixes": [],
        }
    })
}

fn nsg_id(w: &World, n: &Nsg) -> String {
    w.rid(&n.rg, NSG_TYPE, &n.name)
}

fn rule_json(w: &World, n: &Nsg, r: &Rule) -> Value {
    let mut p = r.props.clone();
    p.insert("provisioningState".into(), json!(r.prov.as_str()));
    json!({
        "name": r.name,
        "id": format!("{}/securityRules/{}", nsg_id(w, n), r.name),
        "etag": etag(&n.guid),
        "type": "Microsoft.Network/networkSecurityGroups/securityRules",
        "properties": Value::Object(p),
    })
}

fn render_nsg(w: &World, n: &Nsg) -> Value {
    let id = nsg_id(w, n);
    let et = etag(&n.guid);
    let mut p = Map::new();
    p.insert("provisioningState".into(), json!(n.prov.as_str()));
    p.insert("resourceGuid".into(), json!(n.guid));
    p.insert(
        "securityRules".into(),
        Value::Array(n.rules.values().map(|r| rule_json(w, n, r)).collect()),
    );
    p.insert(
        "defaultSecurityRules".into(),
        Value::Array(
            DEFAULT_RULES
                .iter()
                .map(|r| default_rule_json(&id, &et, r))
                .collect(),
        ),
    );
    if !n.nics.is_empty() {
        p.insert(
            "networkInterfaces".into(),
            Value::Array(n.nics.values().map(|i| arm::id_ref(i)).collect()),
        );
    }
    if !n.subnets.is_empty() {
        p.insert(
            "subnets".into(),
            Value::Array(n.subnets.values().map(|i| arm::id_ref(i)).collect()),
        );
    }
    let mut m = arm::envelope(
        &n.name,
        id,
        NSG_TYPE,
        &n.location,
        &n.tags,
        Value::Object(p),
    );
    m.insert("etag".into(), json!(et));
    Value::Object(m)
}

fn settle_nsg(w: &mut World, k: &Key) {
    settle(w, &Target::Nsg(k.clone()));
    let rules: Vec<String> = w
        .nsgs
        .get(k)
        .map(|n| n.rules.keys().cloned().collect())
        .unwrap_or_default();
    for r in rules {
        settle(w, &Target::Rule(k.clone(), r));
    }
}

fn list_nsgs(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let mut w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.nsgs, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    for k in &keys {
        settle_nsg(&mut w, k);
    }
    let items = keys
        .iter()
        .filter_map(|k| w.nsgs.get(k).map(|n| render_nsg(&w, n)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

fn check_ports(v: &str, target: &str) -> Result<(), ArmError> {
    let bad = || {
        ArmError::bad(
            "SecurityRuleInvalidPortRange",
            format!("Security rule has invalid Port range. Value provided: {v}. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535. ({target})"),
        )
    };
    if v == "*" {
        return Ok(());
    }
    let parse = |p: &str| p.trim().parse::<u32>().ok().filter(|n| *n <= 65_535);
    match v.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse(a).ok_or_else(bad)?, parse(b).ok_or_else(bad)?);
            if a > b {
                return Err(bad());
            }
        }
        None => {
            parse(v).ok_or_else(bad)?;
        }
    }
    Ok(())
}

/// Validates a rule's `properties`: the normalised properties, priority, direction.
fn parse_rule(
    name: &str,
    p: &Map<String, Value>,
) -> Result<(Map<String, Value>, u32, bool), ArmError> {
    let need = |k: &str| {
        p.get(k).and_then(Value::as_str).ok_or_else(|| {
            ArmError::bad(
                "SecurityRuleParameterMissing",
                format!("Security rule {name} is missing the required property '{k}'."),
            )
        })
    };
    let protocol = crate::compute::pick(Some(need("protocol")?), &["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"], "*", "protocol")
        .map_err(|_| ArmError::bad("SecurityRuleInvalidProtocol", format!("Security rule {name} has an invalid protocol '{}'. Allowed values are Tcp, Udp, Icmp, Esp, Ah, *.", p.get("protocol").and_then(Value::as_str).unwrap_or(""))))?;
    let access = crate::compute::pick(Some(need("access")?), &["Allow", "Deny"], "Allow", "access")
        .map_err(|_| ArmError::bad("SecurityRuleInvalidAccess", format!("Security rule {name} has an invalid access value; allowed values are Allow and Deny.")))?;
    let direction = crate::compute::pick(Some(need("direction")?), &["Inbound", "Outbound"], "Inbound", "direction")
        .map_err(|_| ArmError::bad("SecurityRuleInvalidDirection", format!("Security rule {name} has an invalid direction; allowed values are Inbound and Outbound.")))?;
    let priority = p.get("priority").and_then(Value::as_u64).ok_or_else(|| {
        ArmError::bad(
            "SecurityRuleParameterMissing",
            format!("Security rule {name} is missing the required property 'priority'."),
        )
    })?;
    if !(100..=4096).contains(&priority) {
        return Err(ArmError::bad(
            "SecurityRuleInvalidPriority",
            format!("Security rule has invalid Priority. Value provided: {priority} Allowed range 100-4096."),
        ));
    }
    let mut out = Map::new();
    out.insert("protocol".into(), json!(protocol));
    out.insert("access".into(), json!(access));
    out.insert("direction".into(), json!(direction));
    out.insert("priority".into(), json!(priority));
    if let Some(d) = p.get("description").and_then(Value::as_str) {
        out.insert("description".into(), json!(d));
    }
    for (single, plural) in [
        ("sourcePortRange", "sourcePortRanges"),
        ("destinationPortRange", "destinationPortRanges"),
    ] {
        let one = p.get(single).and_then(Value::as_str);
        let many: Vec<String> = p
            .get(plural)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if one.is_none() && many.is_empty() {
            return Err(ArmError::bad(
                "SecurityRuleParameterMissing",
                format!("Security rule {name} must specify {single} or {plural}."),
            ));
        }
        if let Some(o) = one {
            check_ports(o, single)?;
            out.insert(single.into(), json!(o));
        }
        for m in &many {
            check_ports(m, plural)?;
        }
        out.insert(plural.into(), json!(many));
    }
    for (single, plural) in [
        ("sourceAddressPrefix", "sourceAddressPrefixes"),
        ("destinationAddressPrefix", "destinationAddressPrefixes"),
    ] {
        let one = p
            .get(single)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let many: Vec<String> = p
            .get(plural)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if one.is_none() && many.is_empty() {
            return Err(ArmError::bad(
                "SecurityRuleParameterMissing",
                format!("Security rule {name} must specify {single} or {plural}."),
            ));
        }
        for a in one
            .iter()
            .map(|s| s.to_string())
            .chain(many.iter().cloned())
        {
            let looks_ip = a.bytes().next().is_some_and(|b| b.is_ascii_digit());
            if looks_ip && parse_ipv4(&a).is_none() && Cidr::parse(&a).is_none() {
                return Err(ArmError::bad(
                    "SecurityRuleInvalidAddressPrefix",
                    format!("Security rule {name} has invalid Address prefix. Value provided: {a}"),
                ));
            }
        }
        if let Some(o) = one {
            out.insert(single.into(), json!(o));
        }
        out.insert(plural.into(), json!(many));
    }
    Ok((out, priority as u32, direction == "Inbound"))
}

fn rule_conflict(rules: &[(String, u32, bool)]) -> Result<(), ArmError> {
    for (i, a) in rules.iter().enumerate() {
        if let Some(b) = rules[i + 1..].iter().find(|b| b.1 == a.1 && b.2 == a.2) {
            return Err(ArmError::bad(
                "SecurityRuleConflict",
                format!("Security rule {} conflicts with rule {}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.", b.0, a.0),
            ));
        }
    }
    Ok(())
}

fn nsg(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    let t = Target::Nsg(k.clone());
    match ctx.method().clone() {
        http::Method::GET => {
            settle_nsg(&mut w, &k);
            let n = w
                .nsgs
                .get(&k)
                .ok_or_else(|| resource_not_found(NSG_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_nsg(&w, n)))
        }
        http::Method::PATCH => {
            let v = ctx.req.json()?;
            let tags = arm::tags(&v)?;
            let n = w
                .nsgs
                .get_mut(&k)
                .ok_or_else(|| resource_not_found(NSG_TYPE, name, ctx.rg()))?;
            if let Some(t) = tags {
                n.tags = t;
            }
            let n = n.clone();
            Ok(Resp::json(200, &render_nsg(&w, &n)))
        }
        http::Method::PUT => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let v = ctx.req.json()?;
            arm::check_name(name, 80)?;
            let location = arm::location(&w, &v, NSG_TYPE)?;
            let tags = arm::tags(&v)?;
            let p = props(&v);
            let mut rules = BTreeMap::new();
            for r in p
                .get("securityRules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let rname = r
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ArmError::bad(
                            "InvalidRequestFormat",
                            "Cannot parse the request: every security rule needs a name.",
                        )
                    })?
                    .to_owned();
                arm::check_name(&rname, 80)?;
                let (rp, priority, inbound) = parse_rule(&rname, &props(&r))?;
                if rules
                    .insert(
                        rname.to_ascii_lowercase(),
                        Rule {
                            name: rname.clone(),
                            props: rp,
                            priority,
                            inbound,
                            prov: Prov::Succeeded,
                            op: None,
                        },
                    )
                    .is_some()
                {
                    return Err(ArmError::bad(
                        "DuplicateResourceName",
                        format!(
                            "Network security group {name} has two security rules named {rname}."
                        ),
                    ));
                }
            }
            let list: Vec<(String, u32, bool)> = rules
                .values()
                .map(|r| (r.name.clone(), r.priority, r.inbound))
                .collect();
            rule_conflict(&list)?;
            let existing = w.nsgs.get(&k).cloned();
            if let Some(e) = &existing {
                arm::same_location(&e.location, &location, &e.name, &e.rg)?;
            }
            let created = existing.is_none();
            let n = Nsg {
                name: name.to_owned(),
                rg,
                location: location.clone(),
                rules,
                nics: existing
                    .as_ref()
                    .map(|e| e.nics.clone())
                    .unwrap_or_default(),
                subnets: existing
                    .as_ref()
                    .map(|e| e.subnets.clone())
                    .unwrap_or_default(),
                guid: existing
                    .as_ref()
                    .map(|e| e.guid.clone())
                    .unwrap_or_else(|| w.rng.uuid()),
                tags: tags.unwrap_or(None),
                prov: Prov::Updating,
                op: None,
            };
            w.nsgs.insert(k.clone(), n);
            let op = begin(
                &mut w,
                t,
                if created { Kind::Create } else { Kind::Update },
                &location,
            );
            let body = render_nsg(&w, &w.nsgs[&k]);
            accepted(ctx, &w, &op, if created { 201 } else { 200 }, Some(body))
        }
        http::Method::DELETE => {
            let Some(n) = w.nsgs.get(&k) else {
                return Ok(Resp::empty(204));
            };
            if !n.nics.is_empty() || !n.subnets.is_empty() {
                let users: Vec<&str> = n
                    .nics
                    .values()
                    .chain(n.subnets.values())
                    .map(String::as_str)
                    .collect();
                return Err(ArmError::bad(
                    "InUseNetworkSecurityGroupCannotBeDeleted",
                    format!("Network security group {} cannot be deleted because it is in use by the following resources: {}. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg.", nsg_id(&w, n), users.join(", ")),
                ));
            }
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let location = n.location.clone();
            let op = begin(&mut w, t, Kind::Delete, &location);
            accepted(ctx, &w, &op, 202, None)
        }
        _ => Err(bad_method(ctx.req)),
    }
}

fn nsg_missing(ctx: &Ctx<'_>, name: &str) -> ArmError {
    resource_not_found(NSG_TYPE, name, ctx.rg())
}

fn list_rules(ctx: &Ctx<'_>, nsg_name: &str, defaults: bool) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), nsg_name);
    settle_nsg(&mut w, &k);
    let n = w.nsgs.get(&k).ok_or_else(|| nsg_missing(ctx, nsg_name))?;
    if defaults {
        let id = nsg_id(&w, n);
        let et = etag(&n.guid);
        return arm::list_all(
            DEFAULT_RULES
                .iter()
                .map(|r| default_rule_json(&id, &et, r))
                .collect(),
        );
    }
    arm::list_all(n.rules.values().map(|r| rule_json(&w, n, r)).collect())
}

fn default_rule(ctx: &Ctx<'_>, nsg_name: &str, name: &str) -> R {
    let w = ctx.app.world();
    let n = w
        .nsgs
        .get(&key(ctx.rg(), nsg_name))
        .ok_or_else(|| nsg_missing(ctx, nsg_name))?;
    let id = nsg_id(&w, n);
    let r = DEFAULT_RULES
        .iter()
        .find(|r| r.0.eq_ignore_ascii_case(name))
        .ok_or_else(|| child_not_found(&format!("{id}/defaultSecurityRules/{name}")))?;
    Ok(Resp::json(200, &default_rule_json(&id, &etag(&n.guid), r)))
}

fn rule(ctx: &Ctx<'_>, nsg_name: &str, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), nsg_name);
    let ln = name.to_ascii_lowercase();
    let t = Target::Rule(k.clone(), ln.clone());
    let rid = format!(
        "{}/securityRules/{name}",
        w.rid(ctx.rg(), NSG_TYPE, nsg_name)
    );
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &t);
            let n = w.nsgs.get(&k).ok_or_else(|| nsg_missing(ctx, nsg_name))?;
            let r = n.rules.get(&ln).ok_or_else(|| child_not_found(&rid))?;
            Ok(Resp::json(200, &rule_json(&w, n, r)))
        }
        http::Method::PUT => {
            arm::require_rg(&w, ctx.rg(), true)?;
            let n = w
                .nsgs
                .get(&k)
                .cloned()
                .ok_or_else(|| nsg_missing(ctx, nsg_name))?;
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            arm::check_name(name, 80)?;
            let body = ctx.req.json()?;
            let (rp, priority, inbound) = parse_rule(name, &props(&body))?;
            let mut list: Vec<(String, u32, bool)> = n
                .rules
                .iter()
                .filter(|(l, _)| **l != ln)
                .map(|(_, r)| (r.name.clone(), r.priority, r.inbound))
                .collect();
            list.push((name.to_owned(), priority, inbound));
            rule_conflict(&list)?;
            let created = !n.rules.contains_key(&ln);
            if let Some(g) = w.nsgs.get_mut(&k) {
                g.rules.insert(
                    ln.clone(),
                    Rule {
                        name: name.to_owned(),
                        props: rp,
                        priority,
                        inbound,
                        prov: Prov::Updating,
                        op: None,
                    },
                );
            }
            let op = begin(
                &mut w,
                t,
                if created { Kind::Create } else { Kind::Update },
                &n.location,
            );
            let g = &w.nsgs[&k];
            let body = rule_json(&w, g, &g.rules[&ln]);
            accepted(ctx, &w, &op, if created { 201 } else { 200 }, Some(body))
        }
        http::Method::DELETE => {
            let n = w.nsgs.get(&k).ok_or_else(|| nsg_missing(ctx, nsg_name))?;
            if !n.rules.contains_key(&ln) {
                return Ok(Resp::empty(204));
            }
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let location = n.location.clone();
            let op = begin(&mut w, t, Kind::Delete, &location);
            accepted(ctx, &w, &op, 202, None)
        }
        _ => Err(bad_method(ctx.req)),
    }
}

// ---------------------------------------------------------------- public IPs

fn render_pip(w: &World, p: &Pip) -> Value {
    let mut pr = Map::new();
    pr.insert("provisioningState".into(), json!(p.prov.as_str()));
    pr.insert("resourceGuid".into(), json!(p.guid));
    pr.insert("publicIPAddressVersion".into(), json!("IPv4"));
    pr.insert(
        "publicIPAllocationMethod".into(),
        json!(if p.static_alloc { "Static" } else { "Dynamic" }),
    );
    pr.insert("idleTimeoutInMinutes".into(), json!(p.idle_minutes));
    if let Some(ip) = p.ip {
        pr.insert("ipAddress".into(), json!(fmt_ipv4(ip)));
    }
    if let Some(c) = &p.ip_config {
        pr.insert("ipConfiguration".into(), arm::id_ref(c));
    }
    if let Some(l) = &p.dns_label {
        pr.insert(
            "dnsSettings".into(),
            json!({"domainNameLabel": l, "fqdn": format!("{l}.{}.cloudapp.azure.com", p.location)}),
        );
    }
    pr.insert("ipTags".into(), json!([]));
    let mut m = arm::envelope(
        &p.name,
        w.rid(&p.rg, PIP_TYPE, &p.name),
        PIP_TYPE,
        &p.location,
        &p.tags,
        Value::Object(pr),
    );
    m.insert("etag".into(), json!(etag(&p.guid)));
    m.insert("sku".into(), json!({"name": p.sku, "tier": p.tier}));
    if !p.zones.is_empty() {
        m.insert("zones".into(), json!(p.zones));
    }
    Value::Object(m)
}

fn list_pips(ctx: &Ctx<'_>, by_rg: bool) -> R {
    let mut w = ctx.app.world();
    let limit = w.page_size;
    let (keys, more) = page_keys(&w.pips, by_rg.then(|| ctx.rg()), ctx.req, limit)?;
    for k in &keys {
        settle(&mut w, &Target::Pip(k.clone()));
    }
    let items = keys
        .iter()
        .filter_map(|k| w.pips.get(k).map(|p| render_pip(&w, p)))
        .collect();
    Ok(list_response(
        ctx.req,
        items,
        more.then(|| keys.last()).flatten(),
    ))
}

fn pip(ctx: &Ctx<'_>, name: &str) -> R {
    let mut w = ctx.app.world();
    let k = key(ctx.rg(), name);
    let t = Target::Pip(k.clone());
    match ctx.method().clone() {
        http::Method::GET => {
            settle(&mut w, &t);
            let p = w
                .pips
                .get(&k)
                .ok_or_else(|| resource_not_found(PIP_TYPE, name, ctx.rg()))?;
            Ok(Resp::json(200, &render_pip(&w, p)))
        }
        http::Method::PATCH => {
            let v = ctx.req.json()?;
            let tags = arm::tags(&v)?;
            let p = w
                .pips
                .get_mut(&k)
                .ok_or_else(|| resource_not_found(PIP_TYPE, name, ctx.rg()))?;
            if let Some(t) = tags {
                p.tags = t;
            }
            let p = p.clone();
            Ok(Resp::json(200, &render_pip(&w, &p)))
        }
        http::Method::PUT => {
            let rg = arm::require_rg(&w, ctx.rg(), true)?;
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let v = ctx.req.json()?;
            arm::check_name(name, 80)?;
            let location = arm::location(&w, &v, PIP_TYPE)?;
            let tags = arm::tags(&v)?;
            let zones = arm::zones(&v)?;
            let p = props(&v);
            let existing = w.pips.get(&k).cloned();
            if let Some(e) = &existing {
                arm::same_location(&e.location, &location, &e.name, &e.rg)?;
            }
            let sku = crate::compute::pick(
                s(&v, "/sku/name"),
                &["Basic", "Standard"],
                "Basic",
                "sku.name",
            )?;
            let tier = crate::compute::pick(
                s(&v, "/sku/tier"),
                &["Regional", "Global"],
                "Regional",
                "sku.tier",
            )?;
            if let Some(ver) = p.get("publicIPAddressVersion").and_then(Value::as_str) {
                if !ver.eq_ignore_ascii_case("IPv4") {
                    return Err(ArmError::bad(
                        "PublicIPAddressVersionNotSupported",
                        format!("Public IP address version '{ver}' is not supported by this fake (IPv4 only)."),
                    ));
                }
            }
            let default_alloc = if sku == "Standard" {
                "Static"
            } else {
                "Dynamic"
            };
            let alloc = crate::compute::pick(
                p.get("publicIPAllocationMethod").and_then(Value::as_str),
                &["Static", "Dynamic"],
                default_alloc,
                "publicIPAllocationMethod",
            )?;
            if sku == "Standard" && alloc == "Dynamic" {
                return Err(ArmError::bad(
                    "StandardSkuPublicIPAddressesMustBeStatic",
                    format!(
                        "Standard sku publicIp {} must be allocated statically.",
                        w.rid(&rg, PIP_TYPE, name)
                    ),
                ));
            }
            let idle = p
                .get("idleTimeoutInMinutes")
                .and_then(Value::as_u64)
                .unwrap_or(4);
            if !(4..=30).contains(&idle) {
                return Err(ArmError::bad(
                    "PublicIPIdleTimeoutIsOutOfRange",
                    format!("The idle timeout {idle} of public IP address {name} is out of range (4-30 minutes)."),
                ));
            }
            let dns_label =
                s(&Value::Object(p.clone()), "/dnsSettings/domainNameLabel").map(str::to_owned);
            let static_alloc = alloc == "Static";
            let associated = existing.as_ref().and_then(|e| e.ip_config.clone());
            let ip = match (&existing, static_alloc) {
                (Some(e), _) if e.ip.is_some() && (static_alloc || associated.is_some()) => e.ip,
                (_, true) => Some(w.public_ip()),
                (_, false) if associated.is_some() => Some(w.public_ip()),
                _ => None,
            };
            let created = existing.is_none();
            let pip = Pip {
                name: name.to_owned(),
                rg,
                location: location.clone(),
                sku: sku.to_owned(),
                tier: tier.to_owned(),
                static_alloc,
                ip,
                idle_minutes: idle,
                dns_label,
                ip_config: associated,
                zones,
                guid: existing
                    .as_ref()
                    .map(|e| e.guid.clone())
                    .unwrap_or_else(|| w.rng.uuid()),
                tags: tags.unwrap_or(None),
                prov: Prov::Updating,
                op: None,
            };
            w.pips.insert(k.clone(), pip);
            let op = begin(
                &mut w,
                t,
                if created { Kind::Create } else { Kind::Update },
                &location,
            );
            let body = render_pip(&w, &w.pips[&k]);
            accepted(ctx, &w, &op, if created { 201 } else { 200 }, Some(body))
        }
        http::Method::DELETE => {
            let Some(p) = w.pips.get(&k) else {
                return Ok(Resp::empty(204));
            };
            if let Some(c) = &p.ip_config {
                return Err(ArmError::bad(
                    "PublicIPAddressCannotBeDeleted",
                    format!("Public IP address {} can not be deleted since it is still allocated to resource {c}. In order to delete the public IP, disassociate/detach the Public IP address from the resource. To learn how to do this, see aka.ms/deletepublicip.", w.rid(&p.rg, PIP_TYPE, &p.name)),
                ));
            }
            not_busy(&w, &t, ctx.base(), ctx.api())?;
            let location = p.location.clone();
            let op = begin(&mut w, t, Kind::Delete, &location);
            accepted(ctx, &w, &op, 202, None)
        }
        _ => Err(bad_method(ctx.req)),
    }
}

// ---------------------------------------------------------------- seeding, purging

/// Seeds the virtual network `hybrid-vnet` (10.0.0.0/8) with the subnet `default`,
/// large enough for `servers` NICs.
pub(crate) fn seed_vnet(w: &mut World, rg: &str, servers: usize) {
    let space = Cidr {
        net: 10 << 24,
        len: 8,
    };
    let prefix = if servers <= 65_000 {
        Cidr {
            net: 10 << 24,
            len: 16,
        }
    } else {
        Cidr {
            net: (10 << 24) | (128 << 16),
            len: 9,
        }
    };
    let mut subnets = BTreeMap::new();
    subnets.insert("default".to_owned(), new_subnet("default", prefix, None));
    let v = Vnet {
        name: SEED_VNET.into(),
        rg: rg.to_owned(),
        location: w.location.clone(),
        prefixes: vec![space],
        dns_servers: Vec::new(),
        subnets,
        guid: w.rng.uuid(),
        tags: None,
        prov: Prov::Succeeded,
        op: None,
    };
    w.vnets.insert(key(rg, SEED_VNET), v);
}

/// Creates a NIC in the seeded subnet for a pre-populated VM.
/// The seeded subnet, as NICs reference it (shared by every pre-populated NIC).
pub(crate) fn seed_subnet_ref(w: &World, rg: &str) -> Arc<(Key, String, String)> {
    Arc::new((
        key(rg, SEED_VNET),
        "default".into(),
        format!("{}/subnets/default", w.rid(rg, VNET_TYPE, SEED_VNET)),
    ))
}

/// Creates a NIC in the seeded subnet for a pre-populated VM.
pub(crate) fn seed_nic(
    w: &mut World,
    rg: &str,
    name: &str,
    vm: Key,
    subnet: &Arc<(Key, String, String)>,
) -> VmNic {
    let ip = w
        .vnets
        .get_mut(&subnet.0)
        .and_then(|v| v.subnets.get_mut(&subnet.1))
        .and_then(alloc_ip)
        .unwrap_or(0);
    let mac = w.rng.mac();
    let guid = w.rng.uuid();
    let n = Nic {
        name: name.to_owned(),
        rg: rg.to_owned(),
        location: w.location.clone(),
        ip_configs: vec![IpConfig {
            name: "ipconfig1".into(),
            subnet: subnet.clone(),
            ip,
            static_alloc: false,
            pip: None,
            primary: true,
        }],
        nsg: None,
        vm: Some(vm),
        mac,
        accelerated: false,
        ip_forwarding: false,
        dns_servers: Vec::new(),
        guid,
        tags: None,
        prov: Prov::Succeeded,
        op: None,
    };
    w.nics.insert(key(rg, name), n);
    VmNic {
        rg: rg.to_owned(),
        name: name.to_owned(),
        primary: true,
        delete_option: "Delete",
    }
}

/// Removes every network resource of a resource group (for its deletion).
pub(crate) fn purge_rg(w: &mut World, lrg: &str) {
    fn keys<T>(m: &BTreeMap<Key, T>, lrg: &str) -> Vec<Key> {
        m.range((lrg.to_owned(), String::new())..)
            .take_while(|(k, _)| k.0 == lrg)
            .map(|(k, _)| k.clone())
            .collect()
    }
    for k in keys(&w.nics, lrg) {
        remove_nic(w, &k);
    }
    for k in keys(&w.pips, lrg) {
        if let Some(p) = w.pips.remove(&k) {
            if p.ip_config.is_some() {
                for n in w.nics.values_mut() {
                    for ic in &mut n.ip_configs {
                        if ic.pip.as_ref().is_some_and(|(pk, _)| *pk == k) {
                            ic.pip = None;
                        }
                    }
                }
            }
        }
    }
    for k in keys(&w.nsgs, lrg) {
        w.nsgs.remove(&k);
        for n in w.nics.values_mut() {
            if n.nsg.as_ref().is_some_and(|(nk, _)| *nk == k) {
                n.nsg = None;
            }
        }
        for v in w.vnets.values_mut() {
            for sn in v.subnets.values_mut() {
                if sn.nsg.as_ref().is_some_and(|(nk, _)| *nk == k) {
                    sn.nsg = None;
                }
            }
        }
    }
    for k in keys(&w.vnets, lrg) {
        w.vnets.remove(&k);
    }
}
