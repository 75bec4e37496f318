//! Request bodies, built from the core's portable specs. Each is checked against the
//! official request sample of its call (`tests/requests.rs`).

use base64::Engine as _;
use hybrid_core::model::{
    CreateFloatingIp, CreateImage, CreateKeyPair, CreateNetwork, CreatePort, CreateRouter,
    CreateSecurityGroup, CreateSecurityGroupRule, CreateServer, CreateSnapshot, CreateSubnet,
    CreateVolume, Direction, FlavorId, IpVersion, Metadata, NetworkAttachment, NetworkKind, PortId,
    RebootKind, RuleRemote, SubnetId, VolumeId,
};
use serde_json::{json, Map, Value};

use crate::capabilities::Microversion;

fn put_opt(m: &mut Map<String, Value>, k: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v.into());
    }
}

/// `POST /servers`. From microversion 2.37 Nova needs `networks`: an empty list
/// becomes `"none"` (no network), as asked. Tags are part of the body from 2.52 only;
/// below that the caller must set them after creation (`PUT /servers/{id}/tags`, 2.26+).
pub fn create_server(spec: &CreateServer, microversion: Microversion) -> Value {
    let mut s = Map::new();
    s.insert("name".into(), json!(spec.name));
    s.insert("flavorRef".into(), json!(spec.flavor.as_str()));
    put_opt(&mut s, "imageRef", spec.image.as_ref().map(|i| i.as_str()));
    if let Some(v) = &spec.boot_volume {
        s.insert(
            "block_device_mapping_v2".into(),
            json!([{
                "boot_index": 0,
                "uuid": v.as_str(),
                "source_type": "volume",
                "destination_type": "volume",
                "delete_on_termination": false
            }]),
        );
    }
    put_opt(
        &mut s,
        "availability_zone",
        spec.availability_zone.as_deref(),
    );
    put_opt(&mut s, "key_name", spec.key_name.as_deref());
    if let Some(u) = &spec.user_data {
        s.insert(
            "user_data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(u.as_bytes())),
        );
    }
    if !spec.metadata.is_empty() {
        s.insert("metadata".into(), json!(spec.metadata));
    }
    if !spec.security_groups.is_empty() {
        let groups: Vec<Value> = spec
            .security_groups
            .iter()
            .map(|g| json!({ "name": g }))
            .collect();
        s.insert("security_groups".into(), Value::Array(groups));
    }
    if spec.networks.is_empty() {
        if microversion >= Microversion::new(2, 37) {
            s.insert("networks".into(), json!("none"));
        }
    } else {
        let nets: Vec<Value> = spec
            .networks
            .iter()
            .map(|n| match n {
                NetworkAttachment::Network { network, fixed_ip } => {
                    let mut m = Map::new();
                    m.insert("uuid".into(), json!(network.as_str()));
                    put_opt(&mut m, "fixed_ip", fixed_ip.as_deref());
                    Value::Object(m)
                }
                NetworkAttachment::Port { port } => json!({ "port": port.as_str() }),
            })
            .collect();
        s.insert("networks".into(), Value::Array(nets));
    }
    if !spec.tags.is_empty() && microversion >= Microversion::new(2, 52) {
        s.insert("tags".into(), json!(spec.tags));
    }
    json!({ "server": s })
}

/// `POST /servers/{id}/action` to reboot.
pub fn reboot(kind: RebootKind) -> Value {
    json!({ "reboot": { "type": match kind { RebootKind::Soft => "SOFT", RebootKind::Hard => "HARD" } } })
}

/// `POST /servers/{id}/action` to resize.
pub fn resize(flavor: &FlavorId) -> Value {
    json!({ "resize": { "flavorRef": flavor.as_str() } })
}

/// `POST /servers/{id}/action` to confirm a resize.
pub fn confirm_resize() -> Value {
    json!({ "confirmResize": null })
}

/// `POST /servers/{id}/action` to start.
pub fn start() -> Value {
    json!({ "os-start": null })
}

/// `POST /servers/{id}/action` to stop.
pub fn stop() -> Value {
    json!({ "os-stop": null })
}

/// `POST /os-keypairs` importing a public key.
pub fn import_key_pair(spec: &CreateKeyPair) -> Value {
    json!({ "keypair": { "name": spec.name, "public_key": spec.public_key } })
}

/// `PUT /servers/{id}/tags`.
pub fn replace_tags(tags: &[String]) -> Value {
    json!({ "tags": tags })
}

/// `POST /servers/{id}/metadata` (merge).
pub fn merge_metadata(metadata: &Metadata) -> Value {
    json!({ "metadata": metadata })
}

/// `POST /servers/{id}/os-volume_attachments`.
pub fn attach_volume(volume: &VolumeId, device: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("volumeId".into(), json!(volume.as_str()));
    put_opt(&mut m, "device", device);
    json!({ "volumeAttachment": m })
}

/// `POST /v2.0/networks`. Flat and VLAN networks carry the provider attributes
/// (admin only); overlay networks let Neutron pick the tenant network type.
pub fn create_network(spec: &CreateNetwork) -> Value {
    let mut n = Map::new();
    n.insert("name".into(), json!(spec.name));
    match &spec.kind {
        NetworkKind::Flat | NetworkKind::Vlan | NetworkKind::Local => {
            n.insert("provider:network_type".into(), json!(spec.kind.as_str()));
            put_opt(&mut n, "provider:segmentation_id", spec.segmentation_id);
            put_opt(
                &mut n,
                "provider:physical_network",
                spec.physical_network.as_deref(),
            );
        }
        NetworkKind::Overlay => {}
        other => {
            n.insert("provider:network_type".into(), json!(other.as_str()));
            put_opt(&mut n, "provider:segmentation_id", spec.segmentation_id);
        }
    }
    json!({ "network": n })
}

fn ip_version(v: IpVersion) -> u8 {
    match v {
        IpVersion::V4 => 4,
        IpVersion::V6 => 6,
    }
}

/// `POST /v2.0/subnets`.
pub fn create_subnet(spec: &CreateSubnet) -> Value {
    let mut s = Map::new();
    s.insert("network_id".into(), json!(spec.network_id.as_str()));
    s.insert("name".into(), json!(spec.name));
    s.insert("cidr".into(), json!(spec.cidr));
    s.insert("ip_version".into(), json!(ip_version(spec.ip_version)));
    put_opt(&mut s, "gateway_ip", spec.gateway_ip.as_deref());
    s.insert("enable_dhcp".into(), json!(spec.dhcp_enabled));
    if !spec.dns_nameservers.is_empty() {
        s.insert("dns_nameservers".into(), json!(spec.dns_nameservers));
    }
    json!({ "subnet": s })
}

/// `POST /v2.0/ports`.
pub fn create_port(spec: &CreatePort) -> Value {
    let mut p = Map::new();
    p.insert("network_id".into(), json!(spec.network_id.as_str()));
    p.insert("name".into(), json!(spec.name));
    if !spec.fixed_ips.is_empty() {
        let ips: Vec<Value> = spec
            .fixed_ips
            .iter()
            .map(|f| {
                let mut m = Map::new();
                m.insert("ip_address".into(), json!(f.ip_address));
                put_opt(
                    &mut m,
                    "subnet_id",
                    f.subnet_id.as_ref().map(|s| s.as_str()),
                );
                Value::Object(m)
            })
            .collect();
        p.insert("fixed_ips".into(), Value::Array(ips));
    }
    if !spec.security_groups.is_empty() {
        let ids: Vec<&str> = spec.security_groups.iter().map(|g| g.as_str()).collect();
        p.insert("security_groups".into(), json!(ids));
    }
    json!({ "port": p })
}

/// `POST /v2.0/security-groups`.
pub fn create_security_group(spec: &CreateSecurityGroup) -> Value {
    json!({ "security_group": { "name": spec.name, "description": spec.description } })
}

/// `POST /v2.0/security-group-rules`.
pub fn create_security_group_rule(spec: &CreateSecurityGroupRule) -> Value {
    let mut r = Map::new();
    r.insert("security_group_id".into(), json!(spec.group_id.as_str()));
    r.insert(
        "direction".into(),
        json!(match spec.direction {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }),
    );
    r.insert(
        "ethertype".into(),
        json!(match spec.ip_version {
            IpVersion::V4 => "IPv4",
            IpVersion::V6 => "IPv6",
        }),
    );
    put_opt(&mut r, "protocol", spec.protocol.as_deref());
    put_opt(&mut r, "port_range_min", spec.port_min);
    put_opt(&mut r, "port_range_max", spec.port_max);
    match &spec.remote {
        Some(RuleRemote::Cidr(c)) => {
            r.insert("remote_ip_prefix".into(), json!(c));
        }
        Some(RuleRemote::Group(g)) => {
            r.insert("remote_group_id".into(), json!(g.as_str()));
        }
        None => {}
    }
    json!({ "security_group_rule": r })
}

/// `POST /v2.0/routers`.
pub fn create_router(spec: &CreateRouter) -> Value {
    let mut r = Map::new();
    r.insert("name".into(), json!(spec.name));
    if let Some(n) = &spec.external_network {
        r.insert(
            "external_gateway_info".into(),
            json!({ "network_id": n.as_str() }),
        );
    }
    json!({ "router": r })
}

/// `PUT /v2.0/routers/{id}/add_router_interface` and `remove_router_interface`.
pub fn router_interface(subnet: &SubnetId) -> Value {
    json!({ "subnet_id": subnet.as_str() })
}

/// `POST /v2.0/floatingips`; `network` is the external network to allocate from.
pub fn create_floating_ip(spec: &CreateFloatingIp, network: &str) -> Value {
    let mut f = Map::new();
    f.insert("floating_network_id".into(), json!(network));
    put_opt(&mut f, "port_id", spec.port_id.as_ref().map(|p| p.as_str()));
    json!({ "floatingip": f })
}

/// `PUT /v2.0/floatingips/{id}` mapping it to a port, or unmapping it with `None`.
pub fn associate_floating_ip(port: Option<&PortId>) -> Value {
    json!({ "floatingip": { "port_id": port.map(|p| p.as_str()) } })
}

/// `POST /v3/{project}/volumes`.
pub fn create_volume(spec: &CreateVolume) -> Value {
    let mut v = Map::new();
    v.insert("size".into(), json!(spec.size_gib));
    v.insert("name".into(), json!(spec.name));
    put_opt(&mut v, "volume_type", spec.volume_type.as_deref());
    put_opt(
        &mut v,
        "availability_zone",
        spec.availability_zone.as_deref(),
    );
    put_opt(
        &mut v,
        "snapshot_id",
        spec.snapshot_id.as_ref().map(|s| s.as_str()),
    );
    v.insert("metadata".into(), json!(spec.metadata));
    json!({ "volume": v })
}

/// `POST /v3/{project}/volumes/{id}/action` to extend.
pub fn extend_volume(new_size_gib: u64) -> Value {
    json!({ "os-extend": { "new_size": new_size_gib } })
}

/// `POST /v3/{project}/snapshots`. From microversion 3.66 Cinder snapshots in-use
/// volumes without being asked and rejects `"force": false` (400), so `force` is sent
/// only below 3.66.
pub fn create_snapshot(spec: &CreateSnapshot, microversion: Microversion) -> Value {
    if microversion >= Microversion::new(3, 66) {
        json!({ "snapshot": { "volume_id": spec.volume_id.as_str(), "name": spec.name } })
    } else {
        json!({ "snapshot": { "volume_id": spec.volume_id.as_str(), "name": spec.name, "force": spec.force } })
    }
}

/// `POST /v2/images`: the image record (data is uploaded or imported after).
pub fn create_image(spec: &CreateImage) -> Value {
    let mut i = Map::new();
    for (k, v) in &spec.properties {
        i.insert(k.clone(), json!(v));
    }
    i.insert("name".into(), json!(spec.name));
    put_opt(&mut i, "disk_format", spec.disk_format.as_deref());
    put_opt(&mut i, "container_format", spec.container_format.as_deref());
    put_opt(
        &mut i,
        "visibility",
        spec.visibility.as_ref().map(|v| v.as_str().to_owned()),
    );
    if spec.min_disk_gib > 0 {
        i.insert("min_disk".into(), json!(spec.min_disk_gib));
    }
    if spec.min_ram_mib > 0 {
        i.insert("min_ram".into(), json!(spec.min_ram_mib));
    }
    put_opt(&mut i, "os_type", spec.os_family.as_deref());
    if !spec.tags.is_empty() {
        i.insert("tags".into(), json!(spec.tags));
    }
    Value::Object(i)
}

/// `POST /v2/images/{id}/import` with the web-download method.
pub fn import_web_download(url: &str) -> Value {
    json!({ "method": { "name": "web-download", "uri": url } })
}
