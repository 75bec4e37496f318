//! Every request body hybrid builds matches the official request sample of its call:
//! built from the sample's own values, each field hybrid sends is in the sample, at the
//! same place, with the same value. (Samples also show optional fields hybrid does not
//! send.) The samples are in `tests/fixtures/` (Apache-2.0, see `ATTRIBUTION.md`).

use std::path::Path;

use hybrid_core::model::*;
use hybrid_openstack::capabilities::Microversion;
use hybrid_openstack::protocol::requests as rq;
use serde_json::Value;

fn sample(p: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Whether `ours` is contained in `theirs`. Neutron's samples send port numbers as
/// strings; numbers and their decimal strings are taken as equal.
fn subset(ours: &Value, theirs: &Value, path: &str) -> Result<(), String> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                let t = b
                    .get(k)
                    .ok_or_else(|| format!("{p} is sent but not in the sample"))?;
                subset(v, t, &p)?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                subset(x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n))
            if n.to_string() == *s =>
        {
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: sent {a}, sample has {b}")),
    }
}

fn check(ours: Value, file: &str) {
    let theirs = sample(file);
    if let Err(e) = subset(&ours, &theirs, "") {
        panic!("{file}: {e}\nours: {ours}");
    }
}

fn s(v: &Value, ptr: &str) -> String {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {ptr}"))
        .to_owned()
}

#[test]
fn nova_requests() {
    let smp = sample("nova/servers-create-req-v2.1.json");
    let mut spec = CreateServer::new(s(&smp, "/server/name"), s(&smp, "/server/flavorRef"))
        .with_image(s(&smp, "/server/imageRef"))
        .with_security_group("default")
        .with_metadata("My Server Name", "Apache1");
    spec.availability_zone = Some("us-west".into());
    spec.user_data = Some("#!/bin/bash\n/bin/su\necho \"I am in you!\"\n".into());
    check(
        rq::create_server(&spec, Microversion::new(2, 1)),
        "nova/servers-create-req-v2.1.json",
    );
    let with_net = rq::create_server(
        &spec.clone().with_network("net-1"),
        Microversion::new(2, 90),
    );
    assert_eq!(
        with_net["server"]["networks"],
        serde_json::json!([{"uuid": "net-1"}])
    );
    let no_net = rq::create_server(&spec, Microversion::new(2, 90));
    assert_eq!(no_net["server"]["networks"], "none");

    check(
        rq::reboot(RebootKind::Hard),
        "nova/server-action-reboot-req.json",
    );
    check(
        rq::resize(&FlavorId::new("2")),
        "nova/server-action-resize-req.json",
    );
    check(
        rq::confirm_resize(),
        "nova/server-action-confirm-resize-req.json",
    );
    check(rq::start(), "nova/server-action-start-req.json");
    check(rq::stop(), "nova/server-action-stop-req.json");
    let kp = sample("nova/keypairs-import-req-v2.1.json");
    check(
        rq::import_key_pair(&CreateKeyPair {
            name: s(&kp, "/keypair/name"),
            public_key: s(&kp, "/keypair/public_key"),
        }),
        "nova/keypairs-import-req-v2.1.json",
    );
    check(
        rq::attach_volume(
            &VolumeId::new("a07f71dc-8151-4e7d-a0cc-cd24a3f11113"),
            Some("/dev/sdb"),
        ),
        "nova/os-volume-attachments-create-req-v2.1.json",
    );
}

#[test]
fn neutron_requests() {
    let mut net = CreateNetwork::new("net1", NetworkKind::Vlan);
    net.segmentation_id = Some(2);
    net.physical_network = Some("public".into());
    check(
        rq::create_network(&net),
        "neutron/network-provider-create-req.json",
    );
    let overlay = rq::create_network(&CreateNetwork::new("net1", NetworkKind::Overlay));
    assert!(overlay["network"].get("provider:network_type").is_none());

    let sub = sample("neutron/subnet-create-req.json");
    let mut body = rq::create_subnet(&CreateSubnet {
        network_id: NetworkId::new(s(&sub, "/subnet/network_id")),
        name: String::new(),
        cidr: s(&sub, "/subnet/cidr"),
        ip_version: IpVersion::V4,
        gateway_ip: None,
        dhcp_enabled: true,
        dns_nameservers: Vec::new(),
    });
    // The sample leaves name and enable_dhcp to their defaults ("" and true).
    let o = body["subnet"].as_object_mut().unwrap();
    assert_eq!(o.remove("name"), Some(Value::String(String::new())));
    assert_eq!(o.remove("enable_dhcp"), Some(Value::Bool(true)));
    check(body, "neutron/subnet-create-req.json");

    check(
        rq::create_port(&CreatePort {
            network_id: NetworkId::new("a87cc70a-3e15-4acf-8205-9b711a3531b7"),
            name: "private-port".into(),
            fixed_ips: Vec::new(),
            security_groups: Vec::new(),
        }),
        "neutron/port-create-req.json",
    );
    check(
        rq::create_security_group(&CreateSecurityGroup {
            name: "new-webservers".into(),
            description: "security group for webservers".into(),
        }),
        "neutron/security-group-create-req.json",
    );
    check(
        rq::create_security_group_rule(&CreateSecurityGroupRule {
            group_id: SecurityGroupId::new("a7734e61-b545-452d-a3cd-0189cbd9747a"),
            direction: Direction::Ingress,
            ip_version: IpVersion::V4,
            protocol: Some("tcp".into()),
            port_min: Some(80),
            port_max: Some(80),
            remote: Some(RuleRemote::Group(SecurityGroupId::new(
                "85cc3048-abc3-43cc-89b3-377341426ac5",
            ))),
        }),
        "neutron/security-group-rule-create-req.json",
    );
    check(
        rq::create_router(&CreateRouter {
            name: "router1".into(),
            external_network: Some(NetworkId::new("ae34051f-aa6c-4c75-abf5-50dc9ac99ef3")),
        }),
        "neutron/router-create-req.json",
    );
    let subnet = SubnetId::new("a2f1f29d-571b-4533-907f-5803ab96ead1");
    check(
        rq::router_interface(&subnet),
        "neutron/router-add-interface-req.json",
    );
    check(
        rq::router_interface(&subnet),
        "neutron/router-remove-interface-req.json",
    );
    check(
        rq::create_floating_ip(
            &CreateFloatingIp {
                network_id: None,
                port_id: Some(PortId::new("ce705c24-c1ef-408a-bda3-7bbd946164ab")),
            },
            "376da547-b977-4cfe-9cba-275c80debf57",
        ),
        "neutron/floatingip-create-req.json",
    );
    check(
        rq::associate_floating_ip(Some(&PortId::new("fc861431-0e6c-4842-a0ed-e2363f9bc3a8"))),
        "neutron/floatingip-update-req.json",
    );
    check(
        rq::associate_floating_ip(None),
        "neutron/floatingip-disassociate-req.json",
    );
}

#[test]
fn cinder_and_glance_requests() {
    let mut vol = rq::create_volume(&CreateVolume::new("", 10));
    // The sample sends `"name": null`; hybrid always names its volumes.
    assert_eq!(
        vol["volume"].as_object_mut().unwrap().remove("name"),
        Some(Value::String(String::new()))
    );
    check(vol, "cinder/volume-create-req-v3.0.json");
    check(rq::extend_volume(3), "cinder/volume-action-extend-req.json");
    check(
        rq::create_snapshot(
            &CreateSnapshot {
                volume_id: VolumeId::new("5aa119a8-d25b-45a7-8d1b-88e127885635"),
                name: "snap-001".into(),
                force: true,
            },
            Microversion::new(3, 0),
        ),
        "cinder/snapshot-create-req-v3.0.json",
    );
    let at_3_66 = rq::create_snapshot(
        &CreateSnapshot {
            volume_id: VolumeId::new("v1"),
            name: "s".into(),
            force: false,
        },
        Microversion::new(3, 66),
    );
    assert_eq!(
        at_3_66,
        serde_json::json!({"snapshot": {"volume_id": "v1", "name": "s"}}),
        "Cinder 3.66+ rejects force=false"
    );
    check(
        rq::create_image(&CreateImage::new("Ubuntu", "raw", "bare")),
        "glance/image-create-req.json",
    );
    check(
        rq::import_web_download(
            "https://download.cirros-cloud.net/0.4.0/cirros-0.4.0-ppc64le-disk.img",
        ),
        "glance/image-import-w-d-req.json",
    );
    let mut spec = CreateImage::new("win", "vhd", "bare");
    spec.properties
        .insert("hw_firmware_type".into(), "uefi".into());
    spec.os_family = Some("windows".into());
    let body = rq::create_image(&spec);
    assert_eq!(body["hw_firmware_type"], "uefi");
    assert_eq!(body["os_type"], "windows");
}
