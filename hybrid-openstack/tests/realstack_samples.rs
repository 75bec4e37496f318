//! Real responses of a Zed control plane (Keystone 22, Nova 26 with the fake driver,
//! Neutron 21, Cinder 21, Glance 25) captured by `../shared/realstack/verify.sh` on
//! 127.0.0.1, copied into `tests/realstack/`. Each decodes, and its key fields reach
//! the core models; together they give the region's capabilities.
//!
//! `network_extensions.json` was reduced by the capture script to the list of
//! extension aliases (the real response is `{"extensions": [{"alias": ..}, ..]}`), so
//! it is read as a list of aliases here.

use std::path::Path;

use hybrid_core::model::{NetworkStatus, ServerStatus, VolumeStatus};
use hybrid_core::Feature;
use hybrid_openstack::api::{CINDER_RANGE, NOVA_RANGE};
use hybrid_openstack::capabilities::{Microversion, RegionFacts, VersionDoc};
use hybrid_openstack::protocol::{cinder, glance, keystone, neutron, nova};
use serde_json::Value;

fn load(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/realstack")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn items<T: serde::de::DeserializeOwned>(doc: &Value, key: &str) -> Vec<(T, Value)> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} array"))
        .iter()
        .map(|v| (serde_json::from_value(v.clone()).unwrap(), v.clone()))
        .collect()
}

#[test]
fn the_token_and_its_catalog_decode_and_select_endpoints() {
    let t: keystone::TokenResponse = serde_json::from_value(load("token_issue.json")).unwrap();
    let cat = &t.token.catalog;
    for ty in ["compute", "network", "image", "identity"] {
        assert!(
            keystone::has_service(cat, ty, Some("RegionOne")),
            "no {ty} in the catalog"
        );
    }
    // `block-storage` is found through its alias `volumev3` or as itself.
    assert_eq!(
        keystone::find_endpoint(cat, "compute", "public", Some("RegionOne")),
        Some("http://127.0.0.1:8774/v2.1")
    );
    let cinder = keystone::find_endpoint(cat, "block-storage", "public", Some("RegionOne"))
        .expect("a block-storage endpoint");
    assert!(cinder.starts_with("http://127.0.0.1:8776/v3/"), "{cinder}");
    assert_eq!(
        keystone::find_endpoint(cat, "compute", "public", Some("RegionTwo")),
        None
    );
    let catalog: Vec<keystone::CatalogService> =
        serde_json::from_value(load("catalog.json")["catalog"].clone()).unwrap();
    assert_eq!(catalog.len(), cat.len());
}

#[test]
fn version_documents_give_the_ranges_and_the_negotiated_microversions() {
    let nova: VersionDoc = serde_json::from_value(load("version_nova.json")).unwrap();
    let range = nova.range("v2.1").unwrap();
    assert_eq!(range, (Microversion::new(2, 1), Microversion::new(2, 93)));
    assert_eq!(
        Microversion::negotiate(NOVA_RANGE, range),
        Some(Microversion::new(2, 93))
    );
    let cinder: VersionDoc = serde_json::from_value(load("version_cinder.json")).unwrap();
    let range = cinder.range("v3").unwrap();
    assert_eq!(range, (Microversion::new(3, 0), Microversion::new(3, 70)));
    assert_eq!(
        Microversion::negotiate(CINDER_RANGE, range),
        Some(Microversion::new(3, 70))
    );
    for f in [
        "version_glance.json",
        "version_neutron.json",
        "version_placement.json",
    ] {
        let d: VersionDoc = serde_json::from_value(load(f)).unwrap();
        assert!(!d.versions.is_empty(), "{f}");
    }
    let ks: VersionDoc = serde_json::from_value(load("version_keystone.json")).unwrap();
    assert!(ks.version.unwrap().id.starts_with("v3"));
}

#[test]
fn servers_at_2_93_name_their_flavor_and_are_active() {
    let doc = load("server_list_detail.json");
    let servers = items::<nova::NovaServer>(&doc, "servers");
    assert_eq!(servers.len(), 2);
    for (s, raw) in servers {
        assert_eq!(s.flavor.id, None, "2.47+ sends no flavor id");
        let name = s.flavor.original_name.clone().expect("original_name");
        let m = s.into_core(Some(raw.clone()));
        assert_eq!(m.status, ServerStatus::Active);
        assert_eq!(m.id.as_str(), raw["id"].as_str().unwrap());
        assert_eq!(m.flavor.as_ref().map(|f| f.as_str()), Some(name.as_str()));
    }
}

#[test]
fn flavors_hypervisors_and_interfaces_decode() {
    let flavors = items::<nova::NovaFlavor>(&load("flavor_list.json"), "flavors");
    assert!(!flavors.is_empty());
    for (f, raw) in flavors {
        let m = f.into_core(Some(raw.clone()));
        assert_eq!(m.name, raw["name"].as_str().unwrap());
        assert_eq!(u64::from(m.vcpus), raw["vcpus"].as_u64().unwrap());
        assert_eq!(m.ram_mib, raw["ram"].as_u64().unwrap());
    }
    let h: nova::HypervisorList =
        serde_json::from_value(load("hypervisor_list_detail.json")).unwrap();
    assert_eq!(h.hypervisors[0].hypervisor_type.as_deref(), Some("fake"));
    assert!(!h.hypervisors[0].is_vmware());
    let ifaces = load("server_interfaces.json");
    assert!(ifaces["interfaceAttachments"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
}

#[test]
fn neutron_resources_decode() {
    for (n, raw) in items::<neutron::NeutronNetwork>(&load("network_list.json"), "networks") {
        let m = n.into_core(Some(raw.clone()));
        assert_eq!(m.id.as_str(), raw["id"].as_str().unwrap());
        assert_eq!(m.status, NetworkStatus::Active);
    }
    for (s, raw) in items::<neutron::NeutronSubnet>(&load("subnet_list.json"), "subnets") {
        let m = s.into_core(Some(raw.clone()));
        assert_eq!(m.cidr, raw["cidr"].as_str().unwrap());
    }
    let groups = items::<neutron::NeutronSecurityGroup>(
        &load("security_group_list.json"),
        "security_groups",
    );
    assert!(!groups.is_empty());
    for (g, raw) in groups {
        let n_rules = raw["security_group_rules"].as_array().map_or(0, Vec::len);
        let m = g.into_core(Some(raw));
        assert_eq!(m.rules.len(), n_rules);
    }
}

#[test]
fn cinder_and_glance_resources_decode() {
    let vols = items::<cinder::CinderVolume>(&load("volume_list_detail.json"), "volumes");
    assert!(!vols.is_empty());
    for (v, raw) in vols {
        let m = v.into_core(Some(raw.clone()));
        assert_eq!(m.size_gib, raw["size"].as_u64().unwrap());
        assert_eq!(m.status, VolumeStatus::Available);
    }
    let types = load("volume_type_list.json");
    assert!(types["volume_types"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    let images = items::<glance::GlanceImage>(&load("image_list.json"), "images");
    for (i, raw) in images {
        let m = i.into_core(Some("RegionOne"), false, Some(raw.clone()));
        assert_eq!(m.id.as_str(), raw["id"].as_str().unwrap());
        assert!(m.locality.shareable);
    }
}

#[test]
fn the_real_region_has_every_capability_but_object_storage() {
    let t: keystone::TokenResponse = serde_json::from_value(load("token_issue.json")).unwrap();
    let aliases: Vec<String> =
        serde_json::from_value(load("network_extensions.json")["extensions"].clone()).unwrap();
    let facts = RegionFacts {
        catalog: t.token.catalog,
        region: Some("RegionOne".into()),
        neutron_extensions: Some(aliases),
        hypervisor_types: Some(vec!["fake".into()]),
        nova_microversion: Some(Microversion::new(2, 93)),
        glance_import_methods: None,
    };
    assert!(!facts.is_vmware());
    assert!(!facts.has_nsx());
    let caps = facts.capabilities();
    for f in [
        Feature::Servers,
        Feature::Resize,
        Feature::ServerTags,
        Feature::SecurityGroups,
        Feature::Routers,
        Feature::FloatingIps,
        Feature::Volumes,
        Feature::Images,
    ] {
        assert!(caps.supports(f), "{f} should be supported");
    }
    assert!(
        !caps.platform.object_storage.supported,
        "no Swift in this catalog"
    );
    assert!(caps.platform.image_sharing.supported);
}
