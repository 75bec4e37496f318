//! Every official OpenStack response sample for a resource hybrid covers deserializes,
//! and its key fields reach the core model unchanged.
//!
//! The samples are in `tests/fixtures/` (Apache-2.0, see `ATTRIBUTION.md`).

use std::path::{Path, PathBuf};

use hybrid_core::model::{ImageStatus, NetworkStatus, ServerStatus, SnapshotStatus, VolumeStatus};
use hybrid_openstack::protocol::{cinder, glance, keystone, neutron, nova};
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for svc in std::fs::read_dir(&dir).expect("fixtures dir") {
        let svc = svc.expect("entry").path();
        if svc.is_dir() {
            for f in std::fs::read_dir(&svc).expect("service dir") {
                out.push(f.expect("entry").path());
            }
        }
    }
    out.sort();
    out
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn check_server(v: &Value, file: &str) {
    let raw: nova::NovaServer =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(Some(v.clone()));
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(m.name, s(v, "name").unwrap_or(""), "{file}");
    if let Some(st) = s(v, "status") {
        assert_eq!(
            m.status.as_str().to_ascii_uppercase(),
            canonical_server(st),
            "{file}"
        );
    }
    if let Some(id) = v
        .get("image")
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
    {
        assert_eq!(m.image.as_ref().map(|i| i.as_str()), Some(id), "{file}");
    }
    let flavor = v.get("flavor");
    let want = flavor
        .and_then(|f| f.get("id").or_else(|| f.get("original_name")))
        .and_then(Value::as_str);
    assert_eq!(m.flavor.as_ref().map(|f| f.as_str()), want, "{file}");
    let n_addr: usize = v
        .get("addresses")
        .and_then(Value::as_object)
        .map(|o| o.values().map(|l| l.as_array().map_or(0, Vec::len)).sum())
        .unwrap_or(0);
    assert_eq!(m.addresses.len(), n_addr, "{file}");
    assert!(m.raw.is_some());
}

fn canonical_server(st: &str) -> String {
    match ServerStatus::parse(st) {
        ServerStatus::Other(o) => o.to_ascii_uppercase(),
        ServerStatus::Rebooting => "REBOOT".into(),
        known => known.as_str().to_ascii_uppercase(),
    }
}

fn check_flavor(v: &Value, file: &str) {
    let raw: nova::NovaFlavor =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(m.name, s(v, "name").unwrap(), "{file}");
    if let Some(ram) = v.get("ram").and_then(Value::as_u64) {
        assert_eq!(m.ram_mib, ram, "{file}");
        assert_eq!(u64::from(m.vcpus), v["vcpus"].as_u64().unwrap(), "{file}");
    }
}

fn check_keypair(v: &Value, file: &str) {
    let raw: nova::NovaKeyPair =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core();
    assert_eq!(m.name, s(v, "name").unwrap(), "{file}");
    assert_eq!(m.fingerprint.as_deref(), s(v, "fingerprint"), "{file}");
}

fn check_network(v: &Value, file: &str) {
    let raw: neutron::NeutronNetwork =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(
        m.external,
        v.get("router:external")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        "{file}"
    );
    if let Some(st) = s(v, "status") {
        assert!(
            !matches!(m.status, NetworkStatus::Other(_)),
            "{file}: status {st}"
        );
    }
    assert_eq!(
        m.subnets.len(),
        v.get("subnets")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        "{file}"
    );
}

fn check_subnet(v: &Value, file: &str) {
    let raw: neutron::NeutronSubnet =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.cidr, s(v, "cidr").unwrap(), "{file}");
    assert_eq!(m.network_id.as_str(), s(v, "network_id").unwrap(), "{file}");
}

fn check_port(v: &Value, file: &str) {
    let raw: neutron::NeutronPort =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(m.mac_address.as_deref(), s(v, "mac_address"), "{file}");
    assert_eq!(
        m.fixed_ips.len(),
        v.get("fixed_ips")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        "{file}"
    );
    assert_eq!(
        m.device_id.as_ref().map(|d| d.as_str()),
        s(v, "device_id").filter(|d| !d.is_empty()),
        "{file}"
    );
}

fn check_rule(v: &Value, file: &str) {
    let raw: neutron::NeutronRule =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core();
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(
        m.port_min.map(u64::from),
        v.get("port_range_min").and_then(Value::as_u64),
        "{file}"
    );
}

fn check_group(v: &Value, file: &str) {
    let raw: neutron::NeutronSecurityGroup =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.name, s(v, "name").unwrap_or(""), "{file}");
    assert_eq!(
        m.rules.len(),
        v.get("security_group_rules")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
        "{file}"
    );
}

fn check_router(v: &Value, file: &str) {
    let raw: neutron::NeutronRouter =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(Vec::new(), None);
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    let gw = v
        .get("external_gateway_info")
        .and_then(|g| g.get("network_id"))
        .and_then(Value::as_str);
    assert_eq!(
        m.external_network.as_ref().map(|n| n.as_str()),
        gw,
        "{file}"
    );
}

fn check_fip(v: &Value, file: &str) {
    let raw: neutron::NeutronFloatingIp =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.address, s(v, "floating_ip_address").unwrap(), "{file}");
    assert_eq!(
        m.port_id.as_ref().map(|p| p.as_str()),
        s(v, "port_id"),
        "{file}"
    );
}

fn check_volume(v: &Value, file: &str) {
    let raw: cinder::CinderVolume =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(m.size_gib, v["size"].as_u64().unwrap(), "{file}");
    assert!(
        !matches!(m.status, VolumeStatus::Other(_)),
        "{file}: status {}",
        m.status
    );
    assert_eq!(m.bootable, s(v, "bootable") == Some("true"), "{file}");
}

fn check_snapshot(v: &Value, file: &str) {
    let raw: cinder::CinderSnapshot =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(None);
    assert_eq!(m.volume_id.as_str(), s(v, "volume_id").unwrap(), "{file}");
    assert!(
        !matches!(m.status, SnapshotStatus::Other(_)),
        "{file}: status {}",
        m.status
    );
}

fn check_image(v: &Value, file: &str) {
    let raw: glance::GlanceImage =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
    let m = raw.into_core(Some("RegionOne"), false, None);
    assert_eq!(m.id.as_str(), s(v, "id").unwrap(), "{file}");
    assert_eq!(
        m.size_bytes,
        v.get("size").and_then(Value::as_u64),
        "{file}"
    );
    assert!(
        !matches!(m.status, ImageStatus::Other(_)),
        "{file}: status {}",
        m.status
    );
    assert_eq!(m.disk_format.as_deref(), s(v, "disk_format"), "{file}");
}

fn each(v: &Value, key: &str, file: &str, f: fn(&Value, &str)) -> usize {
    match v.get(key).and_then(Value::as_array) {
        Some(items) => {
            for i in items {
                f(i, file);
            }
            items.len()
        }
        None => 0,
    }
}

#[test]
fn every_covered_sample_deserializes_with_its_key_fields() {
    let files = fixtures();
    assert!(files.len() >= 150, "only {} fixtures", files.len());
    let mut checked = 0;
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Requests are checked by `auth_requests_match_the_official_samples` and tests/requests.rs.
        if !name.ends_with(".json") || name.contains("-req") {
            continue;
        }
        let file = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let before = checked;
        if let Some(x) = v.get("server") {
            check_server(x, &file);
            checked += 1;
        }
        if v.get("servers").is_some() {
            let list: nova::ServerList =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(list.servers.len(), v["servers"].as_array().unwrap().len());
            checked += each(&v, "servers", &file, check_server).max(1);
        }
        if let Some(x) = v.get("flavor") {
            check_flavor(x, &file);
            checked += 1;
        }
        if v.get("flavors").is_some() {
            let _: nova::FlavorList =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            checked += each(&v, "flavors", &file, check_flavor).max(1);
        }
        if let Some(x) = v.get("keypair") {
            check_keypair(x, &file);
            checked += 1;
        }
        if v.get("keypairs").is_some() {
            let list: nova::KeyPairList =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            for k in &list.keypairs {
                assert!(!k.keypair.name.is_empty(), "{file}");
            }
            if file.contains("v2.35") {
                assert_eq!(
                    hybrid_openstack::protocol::next_link(&list.keypairs_links)
                        .map(|l| l.contains("marker=")),
                    Some(true),
                    "{file}"
                );
            }
            checked += 1;
        }
        if v.get("hypervisors").is_some() {
            let list: nova::HypervisorList =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(
                !list.hypervisors.iter().any(nova::Hypervisor::is_vmware),
                "{file}: the samples use fake"
            );
            checked += 1;
        }
        for (one, many, f) in [
            ("network", "networks", check_network as fn(&Value, &str)),
            ("subnet", "subnets", check_subnet),
            ("port", "ports", check_port),
            ("security_group_rule", "security_group_rules", check_rule),
            ("security_group", "security_groups", check_group),
            ("router", "routers", check_router),
            ("floatingip", "floatingips", check_fip),
            ("volume", "volumes", check_volume),
            ("snapshot", "snapshots", check_snapshot),
        ] {
            if let Some(x) = v.get(one) {
                if x.get("id").is_some() {
                    f(x, &file);
                    checked += 1;
                }
            }
            checked += each(&v, many, &file, f);
        }
        if v.get("images").is_some() {
            let list: glance::ImageList =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(list.next.is_some(), v.get("next").is_some(), "{file}");
            checked += each(&v, "images", &file, check_image);
        }
        if file.contains("glance/") && v.get("disk_format").is_some() {
            check_image(&v, &file);
            checked += 1;
        }
        if v.get("token").is_some() {
            let t: keystone::TokenResponse =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(
                t.token.expires_at,
                v["token"]["expires_at"].as_str().unwrap(),
                "{file}"
            );
            assert_eq!(
                t.token.catalog.len(),
                v["token"]
                    .get("catalog")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
                "{file}"
            );
            checked += 1;
        }
        if v.get("extensions").is_some() {
            let e: neutron::ExtensionList =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(!e.extensions.is_empty(), "{file}");
            checked += 1;
        }
        if v.get("version").is_some() || v.get("versions").is_some() {
            let doc: hybrid_openstack::capabilities::VersionDoc =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
            if file.contains("nova/") {
                assert!(doc.range("v2.1").is_some(), "{file}: no microversion range");
            }
            if file.contains("cinder/") {
                assert!(doc.range("v3").is_some(), "{file}: no microversion range");
            }
            checked += 1;
        }
        assert!(checked > before, "{file}: no decoder covered this sample");
    }
    assert!(checked >= 200, "only {checked} items checked");
}

#[test]
fn catalog_endpoint_selection() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/keystone/auth-tokens-password-project-scoped-resp-full-catalog.json",
    ))
    .unwrap();
    let t: keystone::TokenResponse = serde_json::from_str(&text).unwrap();
    let cat = &t.token.catalog;
    let compute =
        keystone::find_endpoint(cat, "compute", "public", Some("RegionOne")).expect("compute");
    assert!(compute.starts_with("http"), "{compute}");
    assert!(keystone::find_endpoint(cat, "compute", "publicURL", None).is_some());
    assert!(keystone::find_endpoint(cat, "compute", "public", Some("NoSuchRegion")).is_none());
    assert!(keystone::has_service(cat, "identity", None));
    assert!(!keystone::has_service(cat, "no-such-service", None));
}

fn fixture_json(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keystone")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn user_id(id: &str) -> keystone::UserRef {
    keystone::UserRef {
        id: Some(id.into()),
        name: None,
        domain: None,
    }
}

fn domain_id(id: &str) -> keystone::DomainRef {
    keystone::DomainRef {
        id: Some(id.into()),
        name: None,
    }
}

/// The token requests hybrid builds are exactly Keystone's documented bodies.
#[test]
fn auth_requests_match_the_official_samples() {
    use keystone::{AppCredMethod, AuthRequest, Scope};
    let uid = "ee4dfb6e5540447cb3741905149d9b6e";
    let project = |id: &str| Scope::Project {
        id: Some(id.into()),
        name: None,
        domain: None,
    };
    let cases: Vec<(&str, AuthRequest)> = vec![
        (
            "auth-tokens-password-project-id-req.json",
            AuthRequest::password(
                user_id(uid),
                "devstacker".into(),
                Some(project("a6944d763bf64ee6a275f1263fae0352")),
            ),
        ),
        (
            "auth-tokens-password-project-name-req.json",
            AuthRequest::password(
                user_id(uid),
                "devstacker".into(),
                Some(Scope::Project {
                    id: None,
                    name: Some("admin".into()),
                    domain: Some(domain_id("default")),
                }),
            ),
        ),
        (
            "auth-tokens-password-domain-id-req.json",
            AuthRequest::password(
                user_id(uid),
                "devstacker".into(),
                Some(Scope::Domain(domain_id("default"))),
            ),
        ),
        (
            "auth-tokens-password-system-req.json",
            AuthRequest::password(
                user_id(uid),
                "devstacker".into(),
                Some(Scope::System { all: true }),
            ),
        ),
        (
            "auth-tokens-password-unscoped-req.json",
            AuthRequest::password(
                user_id("423f19a4ac1e4f48bbb4180756e6eb6c"),
                "devstacker".into(),
                None,
            ),
        ),
        (
            "auth-tokens-app-cred-id-req.json",
            AuthRequest::application_credential(AppCredMethod {
                id: Some("423f19a4ac1e4f48bbb4180756e6eb6c".into()),
                name: None,
                user: None,
                secret: "rEaqvJka48mpv".into(),
            }),
        ),
        (
            "auth-tokens-app-cred-name-req.json",
            AuthRequest::application_credential(AppCredMethod {
                id: None,
                name: Some("monitoring".into()),
                user: Some(user_id("423f19a4ac1e4f48bbb4180756e6eb6c")),
                secret: "rEaqvJka48mpv".into(),
            }),
        ),
        (
            "auth-tokens-token-project-id-req.json",
            AuthRequest::token(
                "'$OS_TOKEN'".into(),
                Some(project("a6944d763bf64ee6a275f1263fae0352")),
            ),
        ),
    ];
    for (file, req) in cases {
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            fixture_json(file),
            "{file}"
        );
        let dbg = format!("{req:?}");
        assert!(
            !dbg.contains("devstacker")
                && !dbg.contains("rEaqvJka48mpv")
                && !dbg.contains("OS_TOKEN"),
            "{dbg}"
        );
    }
}
