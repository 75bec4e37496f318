//! Every official example of azure-rest-api-specs in `tests/fixtures/azure` (see its
//! ATTRIBUTION.md) decodes through the protocol stratum into core models, with the key
//! fields checked against the example's own values.

use std::sync::Arc;

use hybrid_azure::client::{ArmClient, ArmResponse};
use hybrid_azure::http::header::{HeaderMap, HeaderName, HeaderValue};
use hybrid_azure::http::{ClientOptions, HttpClient, Method, Url};
use hybrid_azure::ids::Scope;
use hybrid_azure::lro::Lro;
use hybrid_azure::protocol::compute::{listed_server, server_from, InstanceView, VmSize};
use hybrid_azure::protocol::disks::{snapshot_from, volume_from};
use hybrid_azure::protocol::images::{gallery_version_from, managed_image_from};
use hybrid_azure::protocol::network::{
    floating_ip_from, network_from, port_from, security_group_from, subnet_from, SecurityRule,
};
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_core::model::*;
use serde_json::Value;

fn sample(name: &str) -> Value {
    let p = format!("{}/tests/fixtures/azure/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap())
        .unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn body(s: &Value, status: &str) -> Value {
    s["responses"][status]["body"].clone()
}

fn list(s: &Value) -> (Vec<Value>, bool) {
    let b = body(s, "200");
    (
        b["value"].as_array().unwrap().clone(),
        hybrid_azure::http::pagination::next_link(&b, "value").is_some(),
    )
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {p}"))
}

// ---- compute -------------------------------------------------------------------------

#[test]
fn vm_get() {
    let doc = body(&sample("compute/vm-get.json"), "200");
    let s = server_from(doc.clone()).unwrap();
    assert_eq!(s.id.as_str(), str_at(&doc, "/id"));
    assert_eq!(s.name, "myVM");
    assert_eq!(s.flavor.as_ref().unwrap().as_str(), "Standard_DS3_v2");
    assert_eq!(
        s.image.as_ref().unwrap().as_str(),
        "MicrosoftWindowsServer:WindowsServer:2016-Datacenter:latest"
    );
    assert_eq!(
        s.metadata.get("myTag1").map(String::as_str),
        Some("tagValue1")
    );
    assert!(s.tags.is_empty());
    // no instance view in this document: the state is the provisioning state
    assert_eq!(s.status, ServerStatus::Other("Succeeded".into()));
    assert_eq!(*s.raw.unwrap().as_json().unwrap(), doc);
}

#[test]
fn vm_create_with_ssh() {
    let s = sample("compute/vm-create-ssh.json");
    // The request carries the fields hybrid writes, at the same places.
    let req = &s["parameters"]["parameters"];
    for p in [
        "/location",
        "/properties/hardwareProfile/vmSize",
        "/properties/storageProfile/imageReference/publisher",
        "/properties/storageProfile/imageReference/offer",
        "/properties/storageProfile/imageReference/sku",
        "/properties/storageProfile/imageReference/version",
        "/properties/storageProfile/osDisk/createOption",
        "/properties/osProfile/adminUsername",
        "/properties/osProfile/computerName",
        "/properties/osProfile/linuxConfiguration/ssh/publicKeys/0/path",
        "/properties/osProfile/linuxConfiguration/ssh/publicKeys/0/keyData",
        "/properties/networkProfile/networkInterfaces/0/id",
    ] {
        assert!(req.pointer(p).is_some(), "{p}");
    }
    assert_eq!(
        req.pointer("/properties/osProfile/linuxConfiguration/disablePasswordAuthentication"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        req.pointer("/properties/networkProfile/networkInterfaces/0/properties/primary"),
        Some(&Value::Bool(true))
    );
    for st in ["200", "201"] {
        let srv = server_from(body(&s, st)).unwrap();
        assert_eq!(srv.name, "myVM");
        assert_eq!(srv.status, ServerStatus::Building, "{st}");
        assert_eq!(srv.flavor.unwrap().as_str(), "Standard_D1_v2");
        assert_eq!(
            srv.image.unwrap().as_str(),
            "Canonical:UbuntuServer:16.04-LTS:latest"
        );
    }
}

#[test]
fn vm_instance_view() {
    let doc = body(&sample("compute/vm-instance-view.json"), "200");
    let iv: InstanceView = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(iv.power_state(), Some("running"));
    assert_eq!(iv.computer_name.as_deref(), doc["computerName"].as_str());
    assert_eq!(iv.fault(), None);
}

#[test]
fn vm_lists() {
    for f in ["compute/vm-list-min.json", "compute/vm-list-all-min.json"] {
        let (items, next) = list(&sample(f));
        assert_eq!(items.len(), 2, "{f}");
        assert!(!next);
        for v in items {
            let s = server_from(v.clone()).unwrap();
            // the minimal examples have no name: it comes from the id
            assert_eq!(s.id.as_str(), str_at(&v, "/id"));
            assert_eq!(s.name, str_at(&v, "/id").rsplit('/').next().unwrap());
        }
    }
    let (items, _) = list(&sample("compute/vm-list-by-location.json"));
    assert_eq!(items.len(), 2);
    let s = server_from(items[0].clone()).unwrap();
    assert_eq!(s.flavor.unwrap().as_str(), "Standard_A0");
    assert_eq!(s.metadata.get("testTag").map(String::as_str), Some("1"));
    assert_eq!(
        s.image.unwrap().as_str(),
        "MicrosoftWindowsServer:WindowsServer:2012-R2-Datacenter:4.127.20170406"
    );
}

/// The listing examples as the provider reads a page: the body split into each VM's
/// text, each decoded once from it; the same servers as the parsed documents give.
/// With the example instance view joined to each VM (what `$expand=instanceView`
/// answers), the listed VMs carry the power state.
#[test]
fn vm_list_pages_as_listed() {
    let view = body(&sample("compute/vm-instance-view.json"), "200");
    for f in [
        "compute/vm-list-min.json",
        "compute/vm-list-all-min.json",
        "compute/vm-list-by-location.json",
    ] {
        let mut page = body(&sample(f), "200");
        for expand in [false, true] {
            if expand {
                for v in page["value"].as_array_mut().unwrap() {
                    v["properties"]["instanceView"] = view.clone();
                }
            }
            let text = serde_json::to_vec_pretty(&page).unwrap();
            let split = hybrid_azure::http::pagination::split_listing(&text, "value").unwrap();
            assert_eq!(split.items.len(), 2, "{f}");
            for (item, doc) in split
                .items
                .into_iter()
                .zip(page["value"].as_array().unwrap())
            {
                let vm = listed_server(RawJson::from_raw(item), 0).unwrap();
                assert_eq!(vm.has_instance_view, expand, "{f}");
                assert_eq!(vm.server, server_from(doc.clone()).unwrap(), "{f}");
                assert_eq!(*vm.server.raw.as_ref().unwrap().as_json().unwrap(), *doc);
                if expand {
                    assert_eq!(vm.server.status, ServerStatus::Active, "{f}");
                }
            }
        }
    }
}

#[test]
fn vm_sizes() {
    for f in [
        "compute/vm-sizes-list.json",
        "compute/vm-list-available-sizes.json",
    ] {
        let (items, _) = list(&sample(f));
        assert_eq!(items.len(), 2, "{f}");
        for v in items {
            let s: VmSize = serde_json::from_value(v.clone()).unwrap();
            let fl = s.to_flavor(v.clone());
            assert_eq!(fl.id.as_str(), str_at(&v, "/name"));
            assert_eq!(fl.vcpus as u64, v["numberOfCores"].as_u64().unwrap());
            assert_eq!(fl.ram_mib, v["memoryInMB"].as_u64().unwrap());
            assert_eq!(
                fl.ephemeral_gib,
                v["resourceDiskSizeInMB"].as_u64().unwrap() / 1024
            );
            assert_eq!(
                fl.extra["max_data_disks"],
                v["maxDataDiskCount"].to_string()
            );
            assert!(fl.vcpus > 0 && fl.ram_mib > 0);
        }
    }
    let (items, _) = list(&sample("compute/vm-sizes-list.json"));
    let s: VmSize = serde_json::from_value(items[0].clone()).unwrap();
    assert_eq!(
        (s.name.as_str(), s.number_of_cores, s.memory_in_mb),
        ("Standard_A1_V2", 1, 2048)
    );
}

fn arm_client(endpoint: &str) -> ArmClient {
    #[derive(Debug)]
    struct NoAuth;
    #[hybrid_azure::http::async_trait]
    impl hybrid_azure::http::Authorizer for NoAuth {
        async fn authorize(&self) -> hybrid_core::Result<hybrid_azure::http::AuthHeader> {
            Err(hybrid_core::Error::new(
                hybrid_core::ErrorKind::Other,
                "no requests in this test",
            ))
        }
        async fn invalidate(&self, _generation: u64) {}
    }
    ArmClient::new(
        HttpClient::new(ClientOptions::new()).unwrap(),
        Arc::new(NoAuth),
        Url::parse(endpoint).unwrap(),
        Scope {
            subscription_id: "s".into(),
            resource_group: "g".into(),
            location: "westus".into(),
        },
        ThrottleOptions::disabled(),
    )
}

fn response(status: u16, headers: &Value, url: &str) -> ArmResponse {
    let mut h = HeaderMap::new();
    if let Some(o) = headers.as_object() {
        for (k, v) in o {
            h.insert(
                HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
                HeaderValue::from_str(v.as_str().unwrap()).unwrap(),
            );
        }
    }
    ArmResponse {
        status,
        headers: h,
        body: Default::default(),
        url: Url::parse(url).unwrap(),
        request_id: None,
    }
}

#[test]
fn vm_power_and_delete_operations() {
    for (f, method, endpoint) in [
        ("compute/vm-start.json", Method::POST, "https://foo.com/"),
        (
            "compute/vm-power-off.json",
            Method::POST,
            "https://foo.com/",
        ),
        ("compute/vm-restart.json", Method::POST, "https://foo.com/"),
        (
            "compute/vm-deallocate.json",
            Method::POST,
            "https://foo.com/",
        ),
        (
            "compute/vm-delete-force.json",
            Method::DELETE,
            "https://management.azure.com/",
        ),
    ] {
        let s = sample(f);
        let arm = arm_client(endpoint);
        let url = format!("{endpoint}subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v");
        for (status, r) in s["responses"].as_object().unwrap() {
            let code: u16 = status.parse().unwrap();
            let resp = response(code, &r["headers"], &url);
            let lro = Lro::start(&arm, method.clone(), Url::parse(&url).unwrap(), resp, f).unwrap();
            // 200 and 204 are done; 202 is followed through its Location
            assert_eq!(lro.is_done(), code != 202, "{f} {status}");
        }
    }
}

#[test]
fn disks() {
    let s = sample("compute/disk-create-empty.json");
    assert_eq!(
        s["parameters"]["disk"]["properties"]["creationData"]["createOption"],
        "Empty"
    );
    for st in ["200", "202"] {
        let v = volume_from(body(&s, st)).unwrap();
        assert_eq!((v.name.as_str(), v.size_gib), ("myDisk", 200));
        assert_ne!(v.status, VolumeStatus::Error);
        assert!(v.attachments.is_empty());
    }
    let doc = body(&sample("compute/disk-get.json"), "200");
    let v = volume_from(doc.clone()).unwrap();
    assert_eq!(v.name, "myManagedDisk");
    assert_eq!(v.size_gib, 10);
    assert_eq!(v.status, VolumeStatus::InUse);
    assert_eq!(v.volume_type.as_deref(), Some("Standard_LRS"));
    assert!(v.bootable);
    assert_eq!(v.attachments.len(), 1);
    assert_eq!(
        v.attachments[0].server_id.as_str(),
        str_at(&doc, "/managedBy")
    );
    assert_eq!(
        v.metadata.get("department").map(String::as_str),
        Some("Development")
    );
    let (items, next) = list(&sample("compute/disk-list-by-rg.json"));
    assert_eq!(items.len(), 3);
    assert!(next);
    for d in items {
        let v = volume_from(d.clone()).unwrap();
        assert_eq!(v.name, str_at(&d, "/name"));
        assert_eq!(
            Some(v.size_gib),
            d.pointer("/properties/diskSizeGB")
                .and_then(Value::as_u64)
                .or(Some(0))
        );
    }
    // a snapshot has the disk's shape
    let snap = snapshot_from(body(&sample("compute/disk-get.json"), "200")).unwrap();
    assert_eq!(snap.status, SnapshotStatus::Available);
    assert_eq!(snap.size_gib, 10);
}

#[test]
fn images() {
    let doc = body(&sample("compute/image-get.json"), "200");
    let i = managed_image_from(doc.clone()).unwrap();
    assert_eq!(i.name, "myImage");
    assert_eq!(i.os_family.as_deref(), Some("windows"));
    assert_eq!(i.min_disk_gib, 20);
    assert_eq!(i.size_bytes, Some(20 << 30));
    assert_eq!(i.status, ImageStatus::Other("created".into()));
    assert_eq!(i.locality.bound_to.as_deref(), Some("region West US"));
    assert!(!i.locality.shareable);
    let (items, next) = list(&sample("compute/image-list-by-rg.json"));
    assert_eq!(items.len(), 1);
    assert!(next);
    assert_eq!(
        managed_image_from(items[0].clone()).unwrap().name,
        str_at(&items[0], "/name")
    );

    let doc = body(&sample("compute/gallery-image-version-get.json"), "200");
    let i = gallery_version_from(doc.clone(), None, None).unwrap();
    assert_eq!(i.id.as_str(), str_at(&doc, "/id"));
    assert_eq!(i.name, "1.0.0");
    assert_eq!(i.status, ImageStatus::Active);
    assert_eq!(i.size_bytes, Some(10 << 30));
    assert_eq!(
        i.properties.get("target_regions").map(String::as_str),
        Some("West US,East US")
    );
    assert!(i.locality.shareable);
    let (items, next) = list(&sample("compute/gallery-image-version-list.json"));
    assert_eq!(items.len(), 1);
    assert!(next);
    let i = gallery_version_from(items[0].clone(), None, None).unwrap();
    assert_eq!(
        i.status,
        ImageStatus::parse(str_at(&items[0], "/properties/provisioningState"))
    );
}

// ---- network ---------------------------------------------------------------------------

#[test]
fn network_interfaces() {
    let doc = body(&sample("network/nic-get.json"), "200");
    let p = port_from(doc.clone()).unwrap();
    assert_eq!(p.name, "test-nic");
    assert_eq!(p.mac_address.as_deref(), Some("00:0d:3a:1b:c7:21"));
    assert_eq!(p.network_id.as_str(), "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/rg1-vnet");
    let ips: Vec<&str> = p.fixed_ips.iter().map(|f| f.ip_address.as_str()).collect();
    assert_eq!(ips, vec!["172.20.2.4", "172.20.2.16"]);
    assert_eq!(
        p.device_id.unwrap().as_str(),
        str_at(&doc, "/properties/virtualMachine/id")
    );
    assert_eq!(
        p.security_groups[0].as_str(),
        str_at(&doc, "/properties/networkSecurityGroup/id")
    );
    assert_eq!(p.status, NetworkStatus::Active);
    let s = sample("network/nic-create.json");
    assert!(s["parameters"]["parameters"]
        .pointer("/properties/ipConfigurations/0/properties/subnet/id")
        .is_some());
    for st in ["200", "201"] {
        let p = port_from(body(&s, st)).unwrap();
        assert_eq!(p.name, str_at(&body(&s, st), "/name"));
        assert!(!p.network_id.as_str().is_empty());
    }
    let (items, _) = list(&sample("network/nic-list.json"));
    assert_eq!(items.len(), 2);
    for n in items {
        assert_eq!(port_from(n.clone()).unwrap().id.as_str(), str_at(&n, "/id"));
    }
}

#[test]
fn security_groups() {
    let s = sample("network/nsg-create-with-rule.json");
    for st in ["200", "201"] {
        let g = security_group_from(body(&s, st)).unwrap();
        assert_eq!(g.name, "testnsg");
        assert_eq!(g.rules.len(), 1, "default rules are not hybrid rules");
        let r = &g.rules[0];
        assert_eq!(r.direction, Direction::Ingress);
        assert_eq!(r.protocol, None);
        assert_eq!((r.port_min, r.port_max), (Some(80), Some(80)));
        assert_eq!(r.remote, None);
        assert_eq!(r.group_id.as_str(), g.id.as_str());
        assert!(r.id.as_str().ends_with("/securityRules/rule1"));
    }
    let doc = body(&sample("network/nsg-get.json"), "200");
    let g = security_group_from(doc.clone()).unwrap();
    assert_eq!(g.id.as_str(), str_at(&doc, "/id"));
    let raw_rules = doc["properties"]["securityRules"].as_array().unwrap();
    assert!(g.rules.len() <= raw_rules.len());
    let d = body(&sample("network/nsg-default-rule-get.json"), "200");
    let rule: SecurityRule = serde_json::from_value(d.clone()).unwrap();
    assert_eq!(rule.properties.priority, Some(65000));
    assert_eq!(rule.properties.access.as_deref(), Some("Allow"));
    // a service tag (VirtualNetwork) is no address range: not a hybrid rule
    assert!(rule.to_rule("g").is_none());
}

#[test]
fn public_ips() {
    let doc = body(&sample("network/public-ip-get.json"), "200");
    let f = floating_ip_from(doc.clone()).unwrap();
    assert_eq!(f.id.as_str(), str_at(&doc, "/id"));
    assert_eq!(f.port_id.unwrap().as_str(), "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/testDNS649");
    assert_eq!(
        f.address,
        doc.pointer("/properties/ipAddress")
            .and_then(Value::as_str)
            .unwrap_or("")
    );
    assert_eq!(f.network_id, None);
    let s = sample("network/public-ip-create-defaults.json");
    for st in ["200", "201"] {
        let f = floating_ip_from(body(&s, st)).unwrap();
        assert_eq!(f.status, NetworkStatus::Active);
    }
    let (items, _) = list(&sample("network/public-ip-list.json"));
    assert_eq!(items.len(), 3);
    for i in items {
        let f = floating_ip_from(i.clone()).unwrap();
        assert_eq!(
            f.address,
            i.pointer("/properties/ipAddress")
                .and_then(Value::as_str)
                .unwrap_or("")
        );
    }
}

#[test]
fn subnets() {
    let s = sample("network/subnet-create.json");
    let prefix = str_at(
        &s["parameters"]["subnetParameters"],
        "/properties/addressPrefix",
    )
    .to_owned();
    for st in ["200", "201"] {
        let sn = subnet_from(body(&s, st)).unwrap();
        assert_eq!(sn.cidr, prefix);
        assert!(sn.network_id.as_str().ends_with(&format!(
            "/virtualNetworks/{}",
            str_at(&s, "/parameters/virtualNetworkName")
        )));
        assert!(sn.dhcp_enabled);
    }
    let doc = body(&sample("network/subnet-get.json"), "200");
    let sn = subnet_from(doc).unwrap();
    assert_eq!(sn.name, "subnet1");
    assert_eq!(sn.cidr, "10.0.0.0/16");
    assert_eq!(sn.gateway_ip.as_deref(), Some("10.0.0.1"));
    assert_eq!(sn.ip_version, IpVersion::V4);
    assert_eq!(sn.network_id.as_str(), "/subscriptions/subid/resourceGroups/subnet-test/providers/Microsoft.Network/virtualNetworks/vnetname");
    let (items, _) = list(&sample("network/subnet-list.json"));
    assert_eq!(items.len(), 2);
    for i in items {
        assert_eq!(subnet_from(i.clone()).unwrap().name, str_at(&i, "/name"));
    }
}

#[test]
fn virtual_networks() {
    let doc = body(&sample("network/vnet-get.json"), "200");
    let n = network_from(doc).unwrap();
    assert_eq!(n.name, "test-vnet");
    assert_eq!(n.kind, NetworkKind::Overlay);
    assert!(!n.external);
    assert_eq!(n.subnets.len(), 1);
    assert!(n.subnets[0].as_str().ends_with("/subnets/subnet1"));
    let s = sample("network/vnet-create.json");
    assert!(s["parameters"]["parameters"]
        .pointer("/properties/addressSpace/addressPrefixes/0")
        .is_some());
    for st in ["200", "201"] {
        let n = network_from(body(&s, st)).unwrap();
        assert_eq!(n.name, str_at(&body(&s, st), "/name"));
    }
    for f in ["network/vnet-list.json", "network/vnet-list-all.json"] {
        let (items, _) = list(&sample(f));
        assert_eq!(items.len(), 2, "{f}");
        for i in items {
            let n = network_from(i.clone()).unwrap();
            assert_eq!(n.id.as_str(), str_at(&i, "/id"));
            assert_eq!(
                n.subnets.len(),
                i.pointer("/properties/subnets")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            );
        }
    }
}
