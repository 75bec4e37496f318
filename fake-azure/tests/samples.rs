//! Conformance with Azure's official x-ms-examples (tests/fixtures/azure, see
//! ATTRIBUTION.md): the fake accepts every sample request and answers with the
//! sample responses' shapes (every field both carry has the same JSON type, and the
//! fields a client relies on are present).

mod common;

use common::*;
use hybrid_fake_azure::FakeAzure;
use reqwest::Method;
use serde_json::{json, Value};

fn sample(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/azure/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares the fields both documents carry; returns how many leaves matched.
fn shape(sample: &Value, fake: &Value, path: &str, errors: &mut Vec<String>) -> usize {
    match (sample, fake) {
        (Value::Object(s), Value::Object(f)) => s
            .iter()
            .filter_map(|(k, sv)| {
                f.get(k)
                    .map(|fv| shape(sv, fv, &format!("{path}/{k}"), errors))
            })
            .sum(),
        (Value::Array(s), Value::Array(f)) => match (s.first(), f.first()) {
            (Some(a), Some(b)) => shape(a, b, &format!("{path}/0"), errors),
            _ => 1,
        },
        (Value::Null, _) => 0,
        (s, f) if kind(s) == kind(f) => 1,
        (s, f) => {
            errors.push(format!(
                "{path}: sample has {} ({s}), fake has {} ({f})",
                kind(s),
                kind(f)
            ));
            0
        }
    }
}

/// Checks `fake` against `sample`, and that `fake` has every pointer in `required`.
fn conforms(name: &str, sample: &Value, fake: &Value, required: &[&str]) {
    let mut errors = Vec::new();
    let matched = shape(sample, fake, "", &mut errors);
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    assert!(
        matched >= 2,
        "{name}: only {matched} fields in common\nfake: {fake}"
    );
    for p in required {
        assert!(
            fake.pointer(p).is_some(),
            "{name}: the fake lacks {p}: {fake}"
        );
        assert!(
            sample.pointer(p).is_some(),
            "{name}: the sample lacks {p} (bad test)"
        );
    }
}

fn body<'a>(s: &'a Value, status: &str) -> &'a Value {
    &s["responses"][status]["body"]
}

/// Replaces the samples' placeholders that are not valid names.
fn fill(v: &Value) -> Value {
    let text = v
        .to_string()
        .replace("{subscription-id}", "subid")
        .replace("{existing-nic-name}", "existing-nic");
    serde_json::from_str(&text).unwrap()
}

async fn fake() -> Az {
    setup(
        FakeAzure::builder()
            .subscription("subid")
            .resource_group("rg1")
            .resource_group("myResourceGroup")
            .resource_group("subnet-test")
            .resource_group("rgcompute")
            .location("eastus")
            .extra_location("westus"),
    )
    .await
}

fn path(rg: &str, rest: &str) -> String {
    format!("/subscriptions/subid/resourceGroups/{rg}/providers/{rest}")
}

#[tokio::test]
async fn sample_requests_are_accepted_and_answered_in_shape() {
    let az = fake().await;

    let s = sample("network/vnet-create.json");
    let r = az
        .put(
            &path("rg1", "Microsoft.Network/virtualNetworks/test-vnet"),
            NETWORK,
            s["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(
        "vnet-create",
        body(&s, "201"),
        &r.body,
        &[
            "/properties/addressSpace/addressPrefixes",
            "/properties/subnets",
        ],
    );
    az.done(&r).await;

    az.put(
        &path("subnet-test", "Microsoft.Network/virtualNetworks/vnetname"),
        NETWORK,
        json!({"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/8"]}}}),
    )
    .await;
    let s = sample("network/subnet-create.json");
    let r = az
        .put(
            &path(
                "subnet-test",
                "Microsoft.Network/virtualNetworks/vnetname/subnets/subnet1",
            ),
            NETWORK,
            s["parameters"]["subnetParameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(
        "subnet-create",
        body(&s, "201"),
        &r.body,
        &["/id", "/name", "/properties/addressPrefix"],
    );
    az.done(&r).await;

    let s = sample("network/public-ip-create-defaults.json");
    let r = az
        .put(
            &path("rg1", "Microsoft.Network/publicIPAddresses/test-ip"),
            NETWORK,
            s["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(
        "public-ip-create",
        body(&s, "201"),
        &r.body,
        &[
            "/sku/name",
            "/properties/publicIPAllocationMethod",
            "/properties/idleTimeoutInMinutes",
        ],
    );
    az.done(&r).await;

    // The NIC sample's subnet: rg1-vnet/default, holding 172.20.2.4.
    let v = az
        .put(
            &path("rg1", "Microsoft.Network/virtualNetworks/rg1-vnet"),
            NETWORK,
            json!({"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["172.20.0.0/16"]}, "subnets": [{"name": "default", "properties": {"addressPrefix": "172.20.2.0/24"}}]}}),
        )
        .await;
    az.done(&v).await;
    let s = sample("network/nic-create.json");
    let r = az
        .put(
            &path("rg1", "Microsoft.Network/networkInterfaces/test-nic"),
            NETWORK,
            s["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(
        "nic-create",
        body(&s, "201"),
        &r.body,
        &[
            "/properties/ipConfigurations/1/properties/subnet/id",
            "/properties/ipConfigurations/0/properties/publicIPAddress/id",
            "/properties/ipConfigurations/0/properties/privateIPAddress",
        ],
    );
    assert_eq!(
        r.body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"],
        "172.20.2.4"
    );
    az.done(&r).await;

    let s = sample("network/nsg-create-with-rule.json");
    let r = az
        .put(
            &path("rg1", "Microsoft.Network/networkSecurityGroups/testnsg"),
            NETWORK,
            s["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(
        "nsg-create",
        body(&s, "201"),
        &r.body,
        &[
            "/properties/securityRules/0/properties/priority",
            "/properties/defaultSecurityRules/5/name",
        ],
    );
    let defaults: Vec<&Value> = body(&s, "201")["properties"]["defaultSecurityRules"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    for (want, got) in defaults.iter().zip(
        r.body["properties"]["defaultSecurityRules"]
            .as_array()
            .unwrap(),
    ) {
        assert_eq!(want["name"], got["name"]);
        for k in [
            "priority",
            "access",
            "direction",
            "sourceAddressPrefix",
            "destinationAddressPrefix",
            "description",
        ] {
            assert_eq!(
                want["properties"][k], got["properties"][k],
                "default rule {} {k}",
                want["name"]
            );
        }
    }
    az.done(&r).await;

    let s = sample("compute/disk-create-empty.json");
    let r = az
        .put(
            &path("myResourceGroup", "Microsoft.Compute/disks/myDisk"),
            DISKS,
            s["parameters"]["disk"].clone(),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    conforms(
        "disk-create-empty",
        body(&s, "202"),
        &r.body,
        &[
            "/properties/diskSizeGB",
            "/properties/creationData/createOption",
            "/properties/provisioningState",
        ],
    );
    az.done(&r).await;

    let v = az
        .put(
            &path("myResourceGroup", "Microsoft.Network/virtualNetworks/vm-net"),
            NETWORK,
            json!({"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}, "subnets": [{"name": "default", "properties": {"addressPrefix": "10.1.0.0/24"}}]}}),
        )
        .await;
    az.done(&v).await;
    let nic = az
        .put(
            &path("myResourceGroup", "Microsoft.Network/networkInterfaces/existing-nic"),
            NETWORK,
            json!({"location": "westus", "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": path("myResourceGroup", "Microsoft.Network/virtualNetworks/vm-net/subnets/default")}}}]}}),
        )
        .await;
    az.done(&nic).await;
    let s = sample("compute/vm-create-ssh.json");
    let r = az
        .put(
            &path("myResourceGroup", "Microsoft.Compute/virtualMachines/myVM"),
            COMPUTE,
            fill(&s["parameters"]["parameters"]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    conforms(
        "vm-create-ssh",
        body(&s, "201"),
        &r.body,
        &[
            "/properties/vmId",
            "/properties/hardwareProfile/vmSize",
            "/properties/storageProfile/osDisk/managedDisk/storageAccountType",
            "/properties/osProfile/linuxConfiguration/ssh/publicKeys/0/keyData",
            "/properties/networkProfile/networkInterfaces/0/id",
            "/properties/provisioningState",
        ],
    );
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    az.done(&r).await;

    // GETs.
    let vm_path = path("myResourceGroup", "Microsoft.Compute/virtualMachines/myVM");
    let cases: Vec<(&str, String, &str, Vec<&str>)> = vec![
        ("compute/vm-get.json", format!("{vm_path}?$expand=userData"), COMPUTE, vec!["/properties/storageProfile/osDisk/managedDisk/id", "/properties/timeCreated", "/properties/osProfile/computerName"]),
        ("compute/vm-instance-view.json", format!("{vm_path}/instanceView"), COMPUTE, vec!["/statuses/1/code", "/disks/0/name", "/computerName", "/vmAgent/vmAgentVersion"]),
        ("compute/disk-get.json", path("myResourceGroup", "Microsoft.Compute/disks/myDisk"), DISKS, vec!["/sku/name", "/properties/diskSizeGB", "/properties/timeCreated"]),
        ("compute/image-get.json", path("rg1", "Microsoft.Compute/images/ubuntu-22.04-image"), COMPUTE, vec!["/properties/storageProfile/osDisk/osType", "/properties/storageProfile/osDisk/diskSizeGB"]),
        ("compute/gallery-image-version-get.json", path("rg1", "Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04/versions/1.0.0"), GALLERY, vec!["/properties/publishingProfile/targetRegions/0/name", "/properties/storageProfile/osDiskImage/sizeInGB"]),
        ("network/nic-get.json", path("rg1", "Microsoft.Network/networkInterfaces/test-nic"), NETWORK, vec!["/properties/ipConfigurations/0/properties/privateIPAddress"]),
        ("network/nsg-get.json", path("rg1", "Microsoft.Network/networkSecurityGroups/testnsg"), NETWORK, vec!["/properties/defaultSecurityRules/0/properties/priority"]),
        ("network/nsg-default-rule-get.json", path("rg1", "Microsoft.Network/networkSecurityGroups/testnsg/defaultSecurityRules/AllowVnetInBound"), NETWORK, vec!["/properties/priority", "/properties/access"]),
        ("network/public-ip-get.json", path("rg1", "Microsoft.Network/publicIPAddresses/test-ip"), NETWORK, vec!["/properties/ipConfiguration/id", "/properties/publicIPAllocationMethod"]),
        ("network/subnet-get.json", path("subnet-test", "Microsoft.Network/virtualNetworks/vnetname/subnets/subnet1"), NETWORK, vec!["/properties/addressPrefix"]),
        ("network/vnet-get.json", path("rg1", "Microsoft.Network/virtualNetworks/rg1-vnet"), NETWORK, vec!["/properties/subnets/0/properties/ipConfigurations/0/id"]),
    ];
    for (file, p, api, required) in cases {
        let s = sample(file);
        let r = az.get(&p, api).await;
        assert_eq!(r.status, 200, "{file}: {}", r.text);
        conforms(file, body(&s, "200"), &r.body, &required);
    }

    // Lists.
    let lists: Vec<(&str, String, &str)> = vec![
        (
            "compute/vm-list-min.json",
            path("myResourceGroup", "Microsoft.Compute/virtualMachines"),
            COMPUTE,
        ),
        (
            "compute/vm-list-all-min.json",
            "/subscriptions/subid/providers/Microsoft.Compute/virtualMachines".into(),
            COMPUTE,
        ),
        (
            "compute/vm-list-by-location.json",
            "/subscriptions/subid/providers/Microsoft.Compute/locations/westus/virtualMachines"
                .into(),
            COMPUTE,
        ),
        (
            "compute/vm-list-available-sizes.json",
            format!("{vm_path}/vmSizes"),
            COMPUTE,
        ),
        (
            "compute/vm-sizes-list.json",
            "/subscriptions/subid/providers/Microsoft.Compute/locations/westus/vmSizes".into(),
            COMPUTE,
        ),
        (
            "compute/disk-list-by-rg.json",
            path("myResourceGroup", "Microsoft.Compute/disks"),
            DISKS,
        ),
        (
            "compute/image-list-by-rg.json",
            path("rg1", "Microsoft.Compute/images"),
            COMPUTE,
        ),
        (
            "compute/gallery-image-version-list.json",
            path(
                "rg1",
                "Microsoft.Compute/galleries/hybridGallery/images/ubuntu-22_04/versions",
            ),
            GALLERY,
        ),
        (
            "network/nic-list.json",
            path("rg1", "Microsoft.Network/networkInterfaces"),
            NETWORK,
        ),
        (
            "network/public-ip-list.json",
            path("rg1", "Microsoft.Network/publicIPAddresses"),
            NETWORK,
        ),
        (
            "network/subnet-list.json",
            path(
                "subnet-test",
                "Microsoft.Network/virtualNetworks/vnetname/subnets",
            ),
            NETWORK,
        ),
        (
            "network/vnet-list.json",
            path("rg1", "Microsoft.Network/virtualNetworks"),
            NETWORK,
        ),
        (
            "network/vnet-list-all.json",
            "/subscriptions/subid/providers/Microsoft.Network/virtualNetworks".into(),
            NETWORK,
        ),
    ];
    for (file, p, api) in lists {
        let s = sample(file);
        let r = az.get(&p, api).await;
        assert_eq!(r.status, 200, "{file}: {}", r.text);
        assert!(
            !r.body["value"].as_array().unwrap().is_empty(),
            "{file}: empty list"
        );
        conforms(file, body(&s, "200"), &r.body, &["/value/0"]);
    }

    // Actions and deletion: 202 with the Location header the samples show.
    let actions = [
        ("compute/vm-power-off.json", "powerOff?skipShutdown=true"),
        ("compute/vm-start.json", "start"),
        ("compute/vm-restart.json", "restart"),
        ("compute/vm-deallocate.json", "deallocate?hibernate=true"),
    ];
    for (file, action) in actions {
        let s = sample(file);
        let headers = s["responses"]["202"]["headers"].as_object().unwrap();
        assert!(
            headers.keys().any(|k| k.eq_ignore_ascii_case("location")),
            "{file}"
        );
        let r = az
            .call(Method::POST, &format!("{vm_path}/{action}"), COMPUTE, None)
            .await;
        assert_eq!(r.status, 202, "{file}: {}", r.text);
        assert!(r.header("location").is_some(), "{file}");
        az.done(&r).await;
    }
    let s = sample("compute/vm-delete-force.json");
    assert!(s["responses"]["202"]["headers"]["Location"]
        .as_str()
        .unwrap()
        .contains("/providers/Microsoft.Compute/locations/"));
    let r = az
        .call(
            Method::DELETE,
            &format!("{vm_path}?forceDeletion=true"),
            COMPUTE,
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    let loc = r.header("location").unwrap();
    assert!(
        loc.contains("/providers/Microsoft.Compute/locations/westus/operations/"),
        "{loc}"
    );
    az.done(&r).await;
    assert_eq!(az.get(&vm_path, COMPUTE).await.status, 404);
}
