//! The provider over a mock ARM: how portable calls become exact ARM requests (bodies,
//! order, what is checked before any write), and how ARM's documents come back.

mod common;

use common::*;
use futures::TryStreamExt;
use hybrid_azure::AzureProvider;
use hybrid_core::model::*;
use hybrid_core::provider::{Compute, Images, Network, Storage};
use hybrid_core::{ErrorKind, Feature, ListOptions, Provider, ProviderKind, ReasonKind};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header};
use wiremock::{Match, MockServer, Request, ResponseTemplate};

const VM: &str = "2024-07-01";
const NET: &str = "2024-05-01";
const DISK: &str = "2024-03-02";
const GAL: &str = "2023-07-03";
const RES: &str = "2021-04-01";

fn vm_path(name: &str) -> String {
    rg_path(&format!("Microsoft.Compute/virtualMachines/{name}"))
}

fn vm_doc(name: &str, tags: Value) -> Value {
    json!({
        "id": vm_path(name), "name": name, "location": LOC, "tags": tags, "etag": "\"3\"",
        "properties": {
            "provisioningState": "Succeeded",
            "hardwareProfile": {"vmSize": "Standard_B1s"},
            "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
                               "dataDisks": [{"lun": 0, "createOption": "Attach", "managedDisk": {"id": rg_id("Microsoft.Compute/disks/old")}}]},
            "networkProfile": {"networkInterfaces": [{"id": rg_id(&format!("Microsoft.Network/networkInterfaces/{name}-nic0")), "properties": {"primary": true}}]}
        }
    })
}

fn instance_view(power: &str) -> Value {
    json!({"statuses": [
        {"code": "ProvisioningState/succeeded", "level": "Info"},
        {"code": format!("PowerState/{power}"), "level": "Info", "displayStatus": format!("VM {power}")}
    ]})
}

fn with_view(mut doc: Value, power: &str) -> Value {
    doc["properties"]["instanceView"] = instance_view(power);
    doc
}

/// Matches when the JSON body has `pointer` and it satisfies `f`.
struct BodyAt(&'static str, fn(&Value) -> bool);

impl Match for BodyAt {
    fn matches(&self, req: &Request) -> bool {
        serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|v| v.pointer(self.0).cloned())
            .is_some_and(|v| (self.1)(&v))
    }
}

async fn mount_vm_reads(server: &MockServer, name: &str, tags: Value, power: &str) {
    arm(
        "GET",
        &vm_path(name),
        &[("api-version", VM), ("$expand", "instanceView")],
    )
    .respond_with(ok(200, with_view(vm_doc(name, tags.clone()), power)))
    .mount(server)
    .await;
    arm("GET", &vm_path(name), &v(VM))
        .respond_with(ok(200, vm_doc(name, tags)))
        .mount(server)
        .await;
    let nic = rg_path(&format!("Microsoft.Network/networkInterfaces/{name}-nic0"));
    arm("GET", &nic, &v(NET))
        .respond_with(ok(
            200,
            json!({"id": nic, "name": format!("{name}-nic0"), "properties": {"ipConfigurations": [{
            "id": format!("{nic}/ipConfigurations/ipconfig1"), "name": "ipconfig1",
            "properties": {"privateIPAddress": "10.0.0.4", "primary": true,
                "subnet": {"id": rg_id("Microsoft.Network/virtualNetworks/vn1/subnets/default")},
                "publicIPAddress": {"id": rg_id("Microsoft.Network/publicIPAddresses/pip1")}}}]}}),
        ))
        .mount(server)
        .await;
    arm(
        "GET",
        &rg_path("Microsoft.Network/publicIPAddresses/pip1"),
        &v(NET),
    )
    .respond_with(ok(
        200,
        json!({"id": rg_id("Microsoft.Network/publicIPAddresses/pip1"), "name": "pip1",
            "properties": {"ipAddress": "203.0.113.9"}}),
    ))
    .mount(server)
    .await;
}

fn vnet_doc() -> Value {
    json!({"id": rg_id("Microsoft.Network/virtualNetworks/vn1"), "name": "vn1", "location": LOC, "etag": "W/\"1\"",
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "provisioningState": "Succeeded",
            "subnets": [{"id": rg_id("Microsoft.Network/virtualNetworks/vn1/subnets/default"), "name": "default",
                         "properties": {"addressPrefix": "10.0.0.0/24"}}]}})
}

#[tokio::test]
async fn identity_capabilities_and_check() {
    let (server, p) = setup().await;
    arm(
        "GET",
        &format!("/subscriptions/{SUB}/resourcegroups/{RG}"),
        &v(RES),
    )
    .respond_with(ok(200, json!({"id": "x", "name": RG, "location": LOC})))
    .expect(1)
    .mount(&server)
    .await;
    p.check().await.unwrap();
    let i = p.info();
    assert_eq!(i.kind, ProviderKind::Azure);
    assert_eq!(i.region.as_deref(), Some(LOC));
    assert!(i.variant.unwrap().contains(RG));
    let c = p.capabilities();
    assert!(
        !c.supports(Feature::Routers)
            && c.supports(Feature::Snapshots)
            && c.supports(Feature::KeyPairs)
    );
    assert!(!format!("{p:?}").contains(SECRET));
}

#[tokio::test]
async fn get_server_reads_state_and_addresses() {
    let (server, p) = setup().await;
    mount_vm_reads(
        &server,
        "web-1",
        json!({"env": "prod", "hybrid:tag:blue": "", "hybrid:key-name": "k1"}),
        "running",
    )
    .await;
    let s = p.get_server(&ServerId::new("web-1")).await.unwrap();
    assert_eq!(s.id.as_str(), vm_path("web-1"));
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(s.flavor.unwrap().as_str(), "Standard_B1s");
    assert_eq!(
        s.image.unwrap().as_str(),
        "Canonical:ubuntu-24_04-lts:server:latest"
    );
    assert_eq!(s.tags, vec!["blue".to_owned()]);
    assert_eq!(s.metadata.get("env").map(String::as_str), Some("prod"));
    assert_eq!(s.key_name.as_deref(), Some("k1"));
    let vnet = rg_id("Microsoft.Network/virtualNetworks/vn1");
    assert_eq!(
        s.addresses,
        vec![
            ServerAddress {
                network: vnet.clone(),
                address: "10.0.0.4".into(),
                kind: AddressKind::Fixed
            },
            ServerAddress {
                network: vnet,
                address: "203.0.113.9".into(),
                kind: AddressKind::Floating
            },
        ]
    );
    // by full id too; a disk id is not a server id
    assert_eq!(
        p.get_server(&ServerId::new(vm_path("web-1")))
            .await
            .unwrap()
            .name,
        "web-1"
    );
    let e = p
        .get_server(&ServerId::new(rg_id("Microsoft.Compute/disks/d")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn create_server_builds_the_nic_then_the_vm() {
    let (server, p) = setup().await;
    arm(
        "GET",
        &rg_path("Microsoft.Compute/sshPublicKeys/k1"),
        &v(VM),
    )
    .respond_with(ok(
        200,
        json!({"name": "k1", "properties": {"publicKey": "ssh-ed25519 AAAAkey me@host"}}),
    ))
    .expect(1)
    .mount(&server)
    .await;
    // the VM does not exist yet, then it does
    arm("GET", &vm_path("web-1"), &v(VM))
        .respond_with(arm_error(404, "ResourceNotFound", "not found"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_vm_reads(&server, "web-1", json!({}), "running").await;
    arm(
        "GET",
        &rg_path("Microsoft.Network/virtualNetworks/vn1"),
        &v(NET),
    )
    .respond_with(ok(200, vnet_doc()))
    .mount(&server)
    .await;
    let nic = rg_path("Microsoft.Network/networkInterfaces/web-1-nic0");
    arm("PUT", &nic, &v(NET))
        .and(body_json(json!({
            "location": LOC,
            "properties": {
                "ipConfigurations": [{"name": "ipconfig1", "properties": {
                    "subnet": {"id": rg_id("Microsoft.Network/virtualNetworks/vn1/subnets/default")},
                    "primary": true, "privateIPAllocationMethod": "Dynamic"}}],
                "networkSecurityGroup": {"id": rg_id("Microsoft.Network/networkSecurityGroups/web")}
            }
        })))
        .respond_with(ok(201, json!({"id": nic, "name": "web-1-nic0", "properties": {"provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let op_path =
        format!("/subscriptions/{SUB}/providers/Microsoft.Compute/locations/{LOC}/operations/c1");
    arm("GET", &op_path, &v(VM))
        .respond_with(ok(200, json!({"status": "Succeeded"})))
        .mount(&server)
        .await;
    arm("PUT", &vm_path("web-1"), &v(VM))
        .and(body_json(json!({
            "location": LOC,
            "tags": {"env": "prod", "hybrid:tag:blue": "", "hybrid:key-name": "k1"},
            "zones": ["2"],
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B1s"},
                "storageProfile": {
                    "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
                    "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"}
                },
                "osProfile": {
                    "computerName": "web-1", "adminUsername": "azureuser", "customData": "I2Nsb3VkLWNvbmZpZw==",
                    "linuxConfiguration": {"disablePasswordAuthentication": true, "ssh": {"publicKeys": [
                        {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAAkey me@host"}]}}
                },
                "networkProfile": {"networkInterfaces": [{"id": rg_id("Microsoft.Network/networkInterfaces/web-1-nic0"),
                    "properties": {"primary": true, "deleteOption": "Delete"}}]}
            }
        })))
        .respond_with(
            ok(201, json!({"id": vm_path("web-1"), "name": "web-1", "properties": {"provisioningState": "Creating"}}))
                .insert_header("azure-asyncoperation", format!("{}{op_path}?api-version={VM}", server.uri()).as_str())
                .insert_header("retry-after", "0"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut spec = CreateServer::new("web-1", "Standard_B1s")
        .with_image("Canonical:ubuntu-24_04-lts:server:latest")
        .with_network(rg_id("Microsoft.Network/virtualNetworks/vn1"))
        .with_security_group("web")
        .with_key_name("k1")
        .with_metadata("env", "prod")
        .with_tag("blue");
    spec.user_data = Some("#cloud-config".into());
    spec.availability_zone = Some("2".into());
    let op = p.create_server(&spec).await.unwrap();
    assert_eq!(op.resource(), Some(vm_path("web-1").as_str()));
    let s = op.with_options(fast_wait()).await.unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(s.addresses.len(), 2);
}

#[tokio::test]
async fn create_server_refusals_and_cleanup() {
    let (server, p) = setup().await;
    // exists already: no write at all
    arm("GET", &vm_path("dup"), &v(VM))
        .respond_with(ok(200, vm_doc("dup", json!({}))))
        .mount(&server)
        .await;
    let spec = CreateServer::new("dup", "Standard_B1s")
        .with_image("img")
        .with_network("vn1");
    assert_eq!(
        p.create_server(&spec).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    // no network, two groups, a reserved metadata key, no image: refused before any request
    let before = server.received_requests().await.unwrap().len();
    for spec in [
        CreateServer::new("a", "Standard_B1s").with_image("img"),
        CreateServer::new("a", "Standard_B1s")
            .with_image("img")
            .with_network("vn1")
            .with_security_group("x")
            .with_security_group("y"),
        CreateServer::new("a", "Standard_B1s")
            .with_image("img")
            .with_network("vn1")
            .with_metadata("hybrid:x", "1"),
        CreateServer::new("a", "Standard_B1s").with_network("vn1"),
        CreateServer::new("a/b", "Standard_B1s")
            .with_image("img")
            .with_network("vn1"),
    ] {
        assert_eq!(
            p.create_server(&spec).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{spec:?}"
        );
    }
    assert_eq!(server.received_requests().await.unwrap().len(), before);

    // the VM is refused: the NIC made for it is deleted again; no key: a password no one knows
    arm("GET", &vm_path("bad"), &v(VM))
        .respond_with(arm_error(404, "ResourceNotFound", "nf"))
        .mount(&server)
        .await;
    arm(
        "GET",
        &rg_path("Microsoft.Network/virtualNetworks/vn1"),
        &v(NET),
    )
    .respond_with(ok(200, vnet_doc()))
    .mount(&server)
    .await;
    let nic = rg_path("Microsoft.Network/networkInterfaces/bad-nic0");
    arm("PUT", &nic, &v(NET))
        .respond_with(ok(
            200,
            json!({"id": nic, "properties": {"provisioningState": "Succeeded"}}),
        ))
        .mount(&server)
        .await;
    arm("PUT", &vm_path("bad"), &v(VM))
        .and(BodyAt("/properties/osProfile/adminPassword", |v| {
            v.as_str().is_some_and(|s| s.len() >= 24)
        }))
        .and(BodyAt(
            "/properties/storageProfile/imageReference/id",
            |v| v == &json!(rg_id("Microsoft.Compute/images/golden")),
        ))
        .respond_with(arm_error(
            409,
            "SkuNotAvailable",
            "The requested size is not available.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    arm("DELETE", &nic, &v(NET))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let spec = CreateServer::new("bad", "Standard_B1s")
        .with_image("golden")
        .with_network("vn1");
    let e = p.create_server(&spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let put = received(&server, "PUT", &vm_path("bad")).await;
    assert!(put[0]
        .body_json::<Value>()
        .unwrap()
        .pointer("/properties/osProfile/linuxConfiguration")
        .is_none());
}

/// `api-version` and `$expand=instanceView`: how the VM listings ask for power states.
fn expanded() -> Vec<(&'static str, &'static str)> {
    vec![("api-version", VM), ("$expand", "instanceView")]
}

/// Every request the mock server received but the token's.
async fn arm_requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.url.path().ends_with("/oauth2/v2.0/token"))
        .map(|r| format!("{} {}", r.method, r.url))
        .collect()
}

#[tokio::test]
async fn listing_servers_reads_power_states_from_the_pages_alone() {
    let (server, p) = setup().await;
    let path = rg_path("Microsoft.Compute/virtualMachines");
    let page1: Vec<Value> = [("a", "running"), ("b", "deallocated"), ("c", "starting")]
        .iter()
        .map(|(n, power)| with_view(vm_doc(n, json!({"hybrid:tag:web": ""})), power))
        .collect();
    let page2 = vec![with_view(vm_doc("d", json!({})), "stopped")];
    // ARM's next link carries the first request's query and a skip token.
    let next = format!(
        "{}{path}?api-version={VM}&%24expand=instanceView&%24skiptoken=p2",
        server.uri()
    );
    arm("GET", &path, &expanded())
        .respond_with(ok(200, json!({"value": page1, "nextLink": next})))
        .mount(&server)
        .await;
    let mut q2 = expanded();
    q2.push(("$skiptoken", "p2"));
    arm("GET", &path, &q2)
        .respond_with(ok(200, json!({"value": page2})))
        .mount(&server)
        .await;

    let all: Vec<Server> = p
        .list_servers(ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    let st: Vec<_> = all
        .iter()
        .map(|s| (s.name.as_str(), s.status.clone()))
        .collect();
    assert_eq!(
        st,
        vec![
            ("a", ServerStatus::Active),
            ("b", ServerStatus::Stopped),
            ("c", ServerStatus::Other("starting".into())),
            ("d", ServerStatus::Stopped),
        ]
    );
    assert_eq!(all[0].tags, vec!["web".to_owned()]);
    // the raw document is the VM as listed, instance view included
    assert_eq!(*all[1].raw.as_ref().unwrap().as_json().unwrap(), page1[1]);
    // one request per ARM page, none per VM
    let sent = arm_requests(&server).await;
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(
        sent.iter().all(|r| !r.contains("/instanceView")),
        "{sent:#?}"
    );
    assert_eq!(p.request_count(), 2);

    // Slices of two: the page token resumes inside the ARM page, then on the next one.
    let o = ListOptions::new().with_page_size(2);
    let first = p.list_servers_page(&o, None).await.unwrap();
    let names: Vec<_> = first.items.iter().map(|s| s.name.clone()).collect();
    assert_eq!(names, ["a", "b"]);
    let token = first.next.expect("a second slice");
    let token: hybrid_core::PageToken =
        serde_json::from_str(&serde_json::to_string(&token).unwrap()).unwrap();
    let second = p.list_servers_page(&o, Some(token)).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(
        second.items[0].status,
        ServerStatus::Other("starting".into())
    );
    let third = p.list_servers_page(&o, second.next).await.unwrap();
    assert_eq!(third.items[0].name, "d");
    assert!(third.next.is_none());
    assert!(arm_requests(&server)
        .await
        .iter()
        .all(|r| !r.contains("/instanceView")));

    // the whole subscription: the same expansion on VirtualMachines_ListAll
    arm(
        "GET",
        &sub_path("Microsoft.Compute/virtualMachines"),
        &expanded(),
    )
    .respond_with(ok(
        200,
        json!({"value": [with_view(vm_doc("e", json!({})), "running")]}),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let sub: Vec<Server> = p
        .list_servers(ListOptions::new().with_filter("scope", "subscription"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sub[0].status, ServerStatus::Active);

    let e = p
        .list_servers_page(&ListOptions::new().with_filter("status", "x"), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = p
        .list_servers_page(&o, Some(hybrid_core::PageToken::new("garbage")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = p
        .list_servers_page(&ListOptions::new().with_filter("scope", "tenant"), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_malformed_vm_in_a_page_is_an_invalid_response_naming_it() {
    let (server, p) = setup().await;
    arm(
        "GET",
        &rg_path("Microsoft.Compute/virtualMachines"),
        &expanded(),
    )
    .respond_with(ok(
        200,
        json!({"value": [with_view(vm_doc("a", json!({})), "running"), {"name": "no-id"}]}),
    ))
    .mount(&server)
    .await;
    let e = p
        .list_servers_page(&ListOptions::new(), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert!(e.message().contains("item 1 of the VM listing"), "{e}");
}

#[tokio::test]
async fn vms_listed_without_their_instance_view_have_it_read() {
    let (server, p) = setup().await;
    // By location: VirtualMachines_ListByLocation has no `$expand`.
    let by_loc = sub_path(&format!(
        "Microsoft.Compute/locations/{LOC}/virtualMachines"
    ));
    let docs: Vec<Value> = ["a", "b", "c", "gone"]
        .iter()
        .map(|n| vm_doc(n, json!({})))
        .collect();
    // listed twice by location; `c` is read three times: in each listing by
    // location, and in the resource group's listing that leaves its view out
    arm("GET", &by_loc, &v(VM))
        .respond_with(ok(200, json!({"value": docs})))
        .expect(2)
        .mount(&server)
        .await;
    for (n, power, reads) in [
        ("a", "running", 1),
        ("b", "deallocated", 1),
        ("c", "starting", 3),
    ] {
        arm("GET", &format!("{}/instanceView", vm_path(n)), &v(VM))
            .respond_with(ok(200, instance_view(power)))
            .expect(reads)
            .mount(&server)
            .await;
    }
    arm("GET", &format!("{}/instanceView", vm_path("gone")), &v(VM))
        .respond_with(arm_error(404, "ResourceNotFound", "gone"))
        .expect(1)
        .mount(&server)
        .await;
    let got: Vec<Server> = p
        .list_servers(ListOptions::new().with_filter("location", LOC))
        .try_collect()
        .await
        .unwrap();
    let st: Vec<_> = got
        .iter()
        .map(|s| (s.name.as_str(), s.status.clone()))
        .collect();
    // a VM deleted between the page and its instance view is left out
    assert_eq!(
        st,
        vec![
            ("a", ServerStatus::Active),
            ("b", ServerStatus::Stopped),
            ("c", ServerStatus::Other("starting".into())),
        ]
    );
    // the view read joins the raw document, as the expansion would have put it
    assert_eq!(
        *got[1].raw.as_ref().unwrap().as_json().unwrap(),
        with_view(vm_doc("b", json!({})), "deallocated")
    );

    // The expansion asked for but left out by ARM for one VM: only that one is read.
    let page =
        json!({"value": [with_view(vm_doc("a", json!({})), "running"), vm_doc("c", json!({}))]});
    arm(
        "GET",
        &rg_path("Microsoft.Compute/virtualMachines"),
        &expanded(),
    )
    .respond_with(ok(200, page))
    .expect(1)
    .mount(&server)
    .await;
    let before_a = received(&server, "GET", &format!("{}/instanceView", vm_path("a")))
        .await
        .len();
    let got = p
        .list_servers_page(&ListOptions::new(), None)
        .await
        .unwrap();
    assert_eq!(got.items[0].status, ServerStatus::Active);
    assert_eq!(got.items[1].status, ServerStatus::Other("starting".into()));
    assert_eq!(
        received(&server, "GET", &format!("{}/instanceView", vm_path("a")))
            .await
            .len(),
        before_a,
        "a came with its view"
    );
    // by name: only the match's instance view is read
    let found: Vec<Server> = p
        .list_servers(
            ListOptions::new()
                .with_name("c")
                .with_filter("location", LOC),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        received(&server, "GET", &format!("{}/instanceView", vm_path("a")))
            .await
            .len(),
        before_a
    );
}

#[tokio::test]
async fn a_refused_expansion_lists_without_it_from_then_on() {
    let (server, p) = setup().await;
    let path = rg_path("Microsoft.Compute/virtualMachines");
    arm("GET", &path, &expanded())
        .respond_with(arm_error(
            400,
            "InvalidParameter",
            "The value 'instanceView' of parameter '$expand' is not allowed without $filter.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    arm("GET", &path, &v(VM))
        .respond_with(ok(200, json!({"value": [vm_doc("a", json!({}))]})))
        .expect(2)
        .mount(&server)
        .await;
    arm("GET", &format!("{}/instanceView", vm_path("a")), &v(VM))
        .respond_with(ok(200, instance_view("running")))
        .expect(2)
        .mount(&server)
        .await;
    for _ in 0..2 {
        let got: Vec<Server> = p
            .list_servers(ListOptions::new())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].status, ServerStatus::Active);
    }
    // Another 400 (not the expansion's) is the caller's error.
    let (server, p) = setup().await;
    arm("GET", &path, &expanded())
        .respond_with(arm_error(400, "BadRequest", "no"))
        .mount(&server)
        .await;
    arm("GET", &path, &v(VM))
        .respond_with(arm_error(400, "BadRequest", "still no"))
        .expect(1)
        .mount(&server)
        .await;
    let e = p
        .list_servers_page(&ListOptions::new(), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("still no"), "{e}");
}

#[tokio::test]
async fn power_checks_the_state_first() {
    let (server, p) = setup().await;
    mount_vm_reads(&server, "web-1", json!({}), "running").await;
    arm("POST", &format!("{}/start", vm_path("web-1")), &v(VM))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    arm("POST", &format!("{}/deallocate", vm_path("web-1")), &v(VM))
        .and(NoBody)
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let e = p.start_server(&ServerId::new("web-1")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    p.stop_server(&ServerId::new("web-1"))
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    let (server2, p2) = setup().await;
    mount_vm_reads(&server2, "off", json!({}), "deallocated").await;
    assert_eq!(
        p2.stop_server(&ServerId::new("off"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        p2.reboot_server(&ServerId::new("off"), RebootKind::Hard)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    assert!(
        received(&server2, "POST", &format!("{}/deallocate", vm_path("off")))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn resize_patches_the_size_with_the_etag() {
    let (server, p) = setup().await;
    mount_vm_reads(&server, "web-1", json!({}), "running").await;
    arm("PATCH", &vm_path("web-1"), &v(VM))
        .and(header("if-match", "\"3\""))
        .and(body_json(
            json!({"properties": {"hardwareProfile": {"vmSize": "Standard_B2s"}}}),
        ))
        .respond_with(ok(
            200,
            json!({"id": vm_path("web-1"), "properties": {"provisioningState": "Succeeded"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    p.resize_server(&ServerId::new("web-1"), &FlavorId::new("Standard_B2s"))
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    let e = p
        .resize_server(&ServerId::new("web-1"), &FlavorId::new("standard_b1s"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn tags_and_metadata_use_the_tags_api_without_clobbering() {
    let (server, p) = setup().await;
    mount_vm_reads(
        &server,
        "web-1",
        json!({"env": "prod", "hybrid:tag:old": "", "hybrid:tag:keep": ""}),
        "running",
    )
    .await;
    let tags_path = format!(
        "{}/providers/Microsoft.Resources/tags/default",
        vm_path("web-1")
    );
    let done = || ok(200, json!({"id": "x", "properties": {"tags": {}}}));
    arm("PATCH", &tags_path, &v(RES))
        .and(body_json(
            json!({"operation": "Delete", "properties": {"tags": {"hybrid:tag:old": ""}}}),
        ))
        .respond_with(done())
        .expect(2)
        .mount(&server)
        .await;
    arm("PATCH", &tags_path, &v(RES))
        .and(body_json(
            json!({"operation": "Merge", "properties": {"tags": {"hybrid:tag:new": ""}}}),
        ))
        .respond_with(done())
        .expect(2)
        .mount(&server)
        .await;
    arm("PATCH", &tags_path, &v(RES))
        .and(body_json(
            json!({"operation": "Merge", "properties": {"tags": {"owner": "ops"}}}),
        ))
        .respond_with(done())
        .expect(1)
        .mount(&server)
        .await;
    arm("PATCH", &tags_path, &v(RES))
        .and(body_json(
            json!({"operation": "Delete", "properties": {"tags": {"env": "prod"}}}),
        ))
        .respond_with(done())
        .expect(1)
        .mount(&server)
        .await;
    let id = ServerId::new("web-1");
    let got = p
        .set_server_tags(&id, &["keep".into(), "new".into(), "new".into()])
        .await
        .unwrap();
    assert_eq!(got, vec!["keep".to_owned(), "new".to_owned()]);
    p.add_server_tag(&id, "new").await.unwrap();
    p.remove_server_tag(&id, "old").await.unwrap();
    assert_eq!(
        p.remove_server_tag(&id, "absent").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let m = p
        .set_server_metadata(&id, &[("owner".to_owned(), "ops".to_owned())].into())
        .await
        .unwrap();
    assert_eq!(m.get("env").map(String::as_str), Some("prod"));
    p.delete_server_metadata(&id, "env").await.unwrap();
    assert_eq!(
        p.delete_server_metadata(&id, "nope")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        p.set_server_metadata(&id, &[("hybrid:tag:x".to_owned(), "1".to_owned())].into())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        p.add_server_tag(&id, "a/b").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn flavors_come_from_the_locations_sizes_once() {
    let (server, p) = setup().await;
    arm("GET", &sub_path(&format!("Microsoft.Compute/locations/{LOC}/vmSizes")), &v(VM))
        .respond_with(ok(200, json!({"value": [
            {"name": "Standard_B1s", "numberOfCores": 1, "memoryInMB": 1024, "resourceDiskSizeInMB": 4096, "maxDataDiskCount": 2},
            {"name": "Standard_B2s", "numberOfCores": 2, "memoryInMB": 4096, "resourceDiskSizeInMB": 8192, "maxDataDiskCount": 4}]})))
        .expect(1)
        .mount(&server)
        .await;
    let all: Vec<Flavor> = p
        .list_flavors(ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let page = p
        .list_flavors_page(&ListOptions::new().with_page_size(1), None)
        .await
        .unwrap();
    assert_eq!(page.items[0].id.as_str(), "Standard_B1s");
    let rest = p
        .list_flavors_page(&ListOptions::new().with_page_size(1), page.next)
        .await
        .unwrap();
    assert_eq!(rest.items[0].id.as_str(), "Standard_B2s");
    assert!(rest.next.is_none());
    let f = p.get_flavor(&FlavorId::new("standard_b2s")).await.unwrap();
    assert_eq!((f.vcpus, f.ram_mib, f.ephemeral_gib), (2, 4096, 8));
    assert_eq!(
        p.get_flavor(&FlavorId::new("nope"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn key_pairs_are_ssh_public_keys() {
    let (server, p) = setup().await;
    let k = rg_path("Microsoft.Compute/sshPublicKeys/k1");
    arm("GET", &k, &v(VM))
        .respond_with(arm_error(404, "ResourceNotFound", "nf"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &k, &v(VM))
        .respond_with(ok(200, json!({"id": k, "name": "k1", "properties": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq me"}})))
        .with_priority(2)
        .mount(&server)
        .await;
    arm("PUT", &k, &v(VM))
        .and(body_json(json!({"location": LOC, "properties": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq me"}})))
        .respond_with(ok(200, json!({"id": k, "name": "k1", "properties": {"publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq me"}})))
        .expect(1)
        .mount(&server)
        .await;
    let spec = CreateKeyPair {
        name: "k1".into(),
        public_key:
            " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZ1m0KhMdLpGl4Qdvbt8HcKx0hX3b8eHkQe1Y0l0Ygq me\n"
                .into(),
    };
    let kp = p.create_key_pair(&spec).await.unwrap();
    assert_eq!(kp.name, "k1");
    assert!(kp.fingerprint.unwrap().starts_with("SHA256:"));
    assert_eq!(
        p.create_key_pair(&spec).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        received(&server, "PUT", &k).await.len(),
        1,
        "the second create sent no PUT"
    );
}

#[tokio::test]
async fn attach_and_detach_update_the_vms_data_disks() {
    let (server, p) = setup().await;
    mount_vm_reads(&server, "web-1", json!({}), "running").await;
    let disk = rg_id("Microsoft.Compute/disks/d1");
    arm("GET", &rg_path("Microsoft.Compute/disks/d1"), &v(DISK))
        .respond_with(ok(200, json!({"id": disk, "name": "d1", "properties": {"diskSizeGB": 1, "diskState": "Unattached"}})))
        .mount(&server)
        .await;
    let old = json!({"lun": 0, "createOption": "Attach", "managedDisk": {"id": rg_id("Microsoft.Compute/disks/old")}});
    arm("PATCH", &vm_path("web-1"), &v(VM))
        .and(header("if-match", "\"3\""))
        .and(body_json(
            json!({"properties": {"storageProfile": {"dataDisks": [old.clone(),
            {"lun": 1, "createOption": "Attach", "managedDisk": {"id": disk}}]}}}),
        ))
        .respond_with(ok(
            200,
            json!({"id": vm_path("web-1"), "properties": {"provisioningState": "Succeeded"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    arm("PATCH", &vm_path("web-1"), &v(VM))
        .and(body_json(
            json!({"properties": {"storageProfile": {"dataDisks": []}}}),
        ))
        .respond_with(ok(
            200,
            json!({"id": vm_path("web-1"), "properties": {"provisioningState": "Succeeded"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let a = p
        .attach_volume(&VolumeId::new("d1"), &ServerId::new("web-1"), None)
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(a.device.as_deref(), Some("lun1"));
    assert_eq!(a.volume_id.as_str(), disk);
    assert_eq!(a.server_id.as_str(), vm_path("web-1"));
    // LUN 0 is taken
    let e = p
        .attach_volume(&VolumeId::new("d1"), &ServerId::new("web-1"), Some("lun0"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    // detaching the old disk sends the list without it; a disk not attached is NotFound
    p.detach_volume(&VolumeId::new("old"), &ServerId::new("web-1"))
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    let e = p
        .detach_volume(&VolumeId::new("d1"), &ServerId::new("web-1"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn volumes_create_extend_and_snapshot() {
    let (server, p) = setup().await;
    let d = rg_path("Microsoft.Compute/disks/vol1");
    arm("GET", &d, &v(DISK))
        .respond_with(arm_error(404, "ResourceNotFound", "nf"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let attached = json!({"id": d, "name": "vol1", "location": LOC, "managedBy": vm_path("web-1"),
        "properties": {"diskSizeGB": 4, "diskState": "Attached", "provisioningState": "Succeeded"}});
    arm("GET", &d, &v(DISK))
        .respond_with(ok(200, attached))
        .with_priority(2)
        .mount(&server)
        .await;
    arm("PUT", &d, &v(DISK))
        .and(body_json(json!({"location": LOC, "sku": {"name": "Premium_LRS"}, "tags": {"team": "db"},
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}})))
        .respond_with(ok(200, json!({"id": d, "name": "vol1", "properties": {"diskSizeGB": 4, "provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let mut spec = CreateVolume::new("vol1", 4);
    spec.volume_type = Some("Premium_LRS".into());
    spec.metadata.insert("team".into(), "db".into());
    let v1 = p
        .create_volume(&spec)
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(
        (v1.name.as_str(), v1.size_gib, v1.status.clone()),
        ("vol1", 4, VolumeStatus::Available)
    );
    assert_eq!(
        p.extend_volume(&VolumeId::new("vol1"), 4)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    arm("PATCH", &d, &v(DISK))
        .and(body_json(json!({"properties": {"diskSizeGB": 8}})))
        .respond_with(ok(200, json!({"id": d, "name": "vol1", "properties": {"diskSizeGB": 8, "provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let e = p
        .extend_volume(&VolumeId::new("vol1"), 8)
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(e.size_gib, 8);
    // an attached disk is snapshotted only with force
    let spec = CreateSnapshot {
        volume_id: VolumeId::new("vol1"),
        name: "s1".into(),
        force: false,
    };
    assert_eq!(
        p.create_snapshot(&spec).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    let s = rg_path("Microsoft.Compute/snapshots/s1");
    arm("GET", &s, &v(DISK))
        .respond_with(arm_error(404, "ResourceNotFound", "nf"))
        .mount(&server)
        .await;
    arm("PUT", &s, &v(DISK))
        .and(body_json(json!({"location": LOC, "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": d}}})))
        .respond_with(ok(200, json!({"id": s, "name": "s1", "properties": {"diskSizeGB": 8, "provisioningState": "Succeeded",
            "creationData": {"createOption": "Copy", "sourceResourceId": d}}})))
        .expect(1)
        .mount(&server)
        .await;
    let snap = p
        .create_snapshot(&CreateSnapshot {
            force: true,
            ..spec
        })
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(snap.volume_id.as_str(), d);
    assert_eq!(snap.status, SnapshotStatus::Available);
}

#[tokio::test]
async fn security_rules_pick_a_free_priority_and_refuse_duplicates() {
    let (server, p) = setup().await;
    let nsg = rg_path("Microsoft.Network/networkSecurityGroups/web");
    arm("GET", &nsg, &v(NET))
        .respond_with(ok(200, json!({"id": nsg, "name": "web", "properties": {"securityRules": [
            {"id": format!("{nsg}/securityRules/ssh"), "name": "ssh", "properties": {"protocol": "Tcp", "sourcePortRange": "*",
              "destinationPortRange": "22", "sourceAddressPrefix": "192.0.2.0/24", "destinationAddressPrefix": "*",
              "access": "Allow", "priority": 100, "direction": "Inbound"}},
            {"id": format!("{nsg}/securityRules/deny"), "name": "deny", "properties": {"protocol": "*", "sourcePortRange": "*",
              "destinationPortRange": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
              "access": "Deny", "priority": 101, "direction": "Inbound"}}]}})))
        .mount(&server)
        .await;
    let rule = CreateSecurityGroupRule {
        group_id: SecurityGroupId::new("web"),
        direction: Direction::Ingress,
        ip_version: IpVersion::V4,
        protocol: Some("tcp".into()),
        port_min: Some(22),
        port_max: Some(22),
        remote: Some(RuleRemote::Cidr("192.0.2.0/24".into())),
    };
    assert_eq!(
        p.create_security_group_rule(&rule)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists
    );
    let rule = CreateSecurityGroupRule {
        port_min: Some(443),
        port_max: Some(443),
        ..rule
    };
    struct RulePath;
    impl Match for RulePath {
        fn matches(&self, req: &Request) -> bool {
            let p = req.url.path();
            p.starts_with(&format!(
                "{}/securityRules/hybrid-",
                rg_path("Microsoft.Network/networkSecurityGroups/web")
            ))
        }
    }
    wiremock::Mock::given(wiremock::matchers::method("PUT"))
        .and(RulePath)
        .and(body_json(json!({"properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443",
            "sourceAddressPrefix": "192.0.2.0/24", "destinationAddressPrefix": "*", "access": "Allow",
            "priority": 102, "direction": "Inbound"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": format!("{nsg}/securityRules/hybrid-x"), "name": "hybrid-x",
            "properties": {"protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "443",
            "sourceAddressPrefix": "192.0.2.0/24", "destinationAddressPrefix": "*", "access": "Allow",
            "priority": 102, "direction": "Inbound", "provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let r = p
        .create_security_group_rule(&rule)
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(
        (r.port_min, r.port_max, r.protocol.as_deref()),
        (Some(443), Some(443), Some("tcp"))
    );
    assert_eq!(r.group_id.as_str(), nsg);
    let g = p
        .get_security_group(&SecurityGroupId::new("web"))
        .await
        .unwrap();
    assert_eq!(g.rules.len(), 1, "the deny rule is not a hybrid rule");
}

#[tokio::test]
async fn a_subnet_outside_the_address_space_widens_it_first() {
    let (server, p) = setup().await;
    let vnet = rg_path("Microsoft.Network/virtualNetworks/vn1");
    arm("GET", &vnet, &v(NET))
        .respond_with(ok(200, vnet_doc()))
        .mount(&server)
        .await;
    let mut widened = vnet_doc();
    widened["properties"]["addressSpace"]["addressPrefixes"] =
        json!(["10.0.0.0/16", "10.251.7.0/24"]);
    arm("PUT", &vnet, &v(NET))
        .and(body_json(widened.clone()))
        .respond_with(ok(200, widened))
        .expect(1)
        .mount(&server)
        .await;
    let sn = format!("{vnet}/subnets/s2");
    arm("PUT", &sn, &v(NET))
        .and(body_json(json!({"properties": {"addressPrefix": "10.251.7.0/24"}})))
        .respond_with(ok(200, json!({"id": sn, "name": "s2", "properties": {"addressPrefix": "10.251.7.0/24", "provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let spec = CreateSubnet {
        network_id: NetworkId::new("vn1"),
        name: "s2".into(),
        cidr: "10.251.7.0/24".into(),
        ip_version: IpVersion::V4,
        gateway_ip: None,
        dhcp_enabled: true,
        dns_nameservers: Vec::new(),
    };
    let s = p
        .create_subnet(&spec)
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(s.network_id.as_str(), vnet);
    assert_eq!(s.gateway_ip.as_deref(), Some("10.251.7.1"));
    let dup = CreateSubnet {
        name: "default".into(),
        ..spec.clone()
    };
    assert_eq!(
        p.create_subnet(&dup).await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    let no_dhcp = CreateSubnet {
        dhcp_enabled: false,
        ..spec
    };
    assert_eq!(
        p.create_subnet(&no_dhcp).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn floating_ips_map_through_the_nics_ip_configuration() {
    let (server, p) = setup().await;
    let pip = rg_path("Microsoft.Network/publicIPAddresses/pip1");
    let nic = rg_path("Microsoft.Network/networkInterfaces/n1");
    let nic_doc = json!({"id": nic, "name": "n1", "properties": {"ipConfigurations": [{"id": format!("{nic}/ipConfigurations/ipconfig1"),
        "name": "ipconfig1", "properties": {"privateIPAddress": "10.0.0.5", "primary": true,
        "subnet": {"id": rg_id("Microsoft.Network/virtualNetworks/vn1/subnets/default")}}}]}});
    arm("GET", &pip, &v(NET))
        .respond_with(ok(
            200,
            json!({"id": pip, "name": "pip1", "properties": {"ipAddress": "203.0.113.7"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &pip, &v(NET))
        .respond_with(ok(
            200,
            json!({"id": pip, "name": "pip1", "properties": {"ipAddress": "203.0.113.7",
            "ipConfiguration": {"id": format!("{nic}/ipConfigurations/ipconfig1")}}}),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    arm("GET", &nic, &v(NET))
        .respond_with(ok(200, nic_doc.clone()))
        .mount(&server)
        .await;
    let mut mapped = nic_doc.clone();
    mapped["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"] =
        json!({"id": pip});
    arm("PUT", &nic, &v(NET))
        .and(body_json(mapped))
        .respond_with(ok(
            200,
            json!({"id": nic, "properties": {"provisioningState": "Succeeded"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let f = p
        .associate_floating_ip(&FloatingIpId::new("pip1"), Some(&PortId::new("n1")))
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(f.port_id.unwrap().as_str(), nic);
    assert_eq!(f.fixed_address.as_deref(), Some("10.0.0.5"));
    assert_eq!(f.address, "203.0.113.7");
    let e = p
        .create_floating_ip(&CreateFloatingIp {
            network_id: Some(NetworkId::new("ext")),
            port_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn what_azure_lacks_fails_without_a_request() {
    let (server, p) = setup().await;
    let e = p
        .create_network(&CreateNetwork::new("v", NetworkKind::Vlan))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.unsupported_reason().unwrap().kind,
        ReasonKind::PlatformNever
    );
    // Ungated, the refusal still names the provider, its location and the operation.
    let info = p.info();
    assert_eq!(e.context().operation.as_deref(), Some("create_network"));
    assert_eq!(e.context().provider.as_deref(), Some(info.name.as_str()));
    assert_eq!(e.context().region, info.region);
    assert!(e.context().region.is_some());
    let e = p.get_router(&RouterId::new("r")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(e.context().operation.as_deref(), Some("get_router"));
    let e = p
        .create_image(
            &CreateImage::new("i", "vhd", "bare"),
            hybrid_core::ImageData::bytes(&b"x"[..]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.unsupported_reason().unwrap().kind,
        ReasonKind::NotImplemented
    );
    assert_eq!(
        p.download_image(&ImageId::new("i"))
            .await
            .err()
            .map(|e| e.kind()),
        Some(ErrorKind::Unsupported)
    );
    assert_eq!(
        p.get_subnet(&SubnetId::new("00000000-0000-4000-8000-00000000dead"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn images_list_managed_then_gallery_versions() {
    let (server, p) = setup().await;
    arm("GET", &rg_path("Microsoft.Compute/images"), &v(VM))
        .respond_with(ok(200, json!({"value": [{"id": rg_id("Microsoft.Compute/images/golden"), "name": "golden", "location": LOC,
            "properties": {"provisioningState": "Succeeded", "storageProfile": {"osDisk": {"osType": "Linux", "diskSizeGB": 30}}}}]})))
        .mount(&server)
        .await;
    let g = rg_id("Microsoft.Compute/galleries/gal");
    arm("GET", &rg_path("Microsoft.Compute/galleries"), &v(GAL))
        .respond_with(ok(200, json!({"value": [{"id": g, "name": "gal", "properties": {"sharingProfile": {"permissions": "Groups"}}}]})))
        .mount(&server)
        .await;
    arm("GET", &rg_path("Microsoft.Compute/galleries/gal/images"), &v(GAL))
        .respond_with(ok(200, json!({"value": [{"id": format!("{g}/images/ubuntu"), "name": "ubuntu", "properties": {"osType": "Linux"}}]})))
        .mount(&server)
        .await;
    arm("GET", &rg_path("Microsoft.Compute/galleries/gal/images/ubuntu/versions"), &v(GAL))
        .respond_with(ok(200, json!({"value": [{"id": format!("{g}/images/ubuntu/versions/1.2.3"), "name": "1.2.3", "location": LOC,
            "properties": {"provisioningState": "Succeeded", "storageProfile": {"osDiskImage": {"sizeInGB": 30}},
                "publishingProfile": {"targetRegions": [{"name": "westeurope"}, {"name": "northeurope"}]}}}]})))
        .mount(&server)
        .await;
    let all: Vec<Image> = p
        .list_images(ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["golden", "gal/ubuntu/1.2.3"]);
    assert!(!all[0].locality.shareable && all[1].locality.shareable);
    assert_eq!(all[1].visibility, Visibility::Shared);
    assert_eq!(all[1].os_family.as_deref(), Some("linux"));
    assert_eq!(
        all.iter()
            .filter(|i| i.status == ImageStatus::Active)
            .count(),
        2
    );
}

#[tokio::test]
async fn networks_ports_and_groups_are_created_once() {
    let (server, p) = setup().await;
    let vnet = rg_path("Microsoft.Network/virtualNetworks/net1");
    arm("GET", &vnet, &v(NET))
        .respond_with(arm_error(404, "ResourceNotFound", "nf"))
        .mount(&server)
        .await;
    arm("PUT", &vnet, &v(NET))
        .and(body_json(json!({"location": LOC, "tags": {"hybrid:tag:t1": ""}, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})))
        .respond_with(ok(200, json!({"id": vnet, "name": "net1", "tags": {"hybrid:tag:t1": ""}, "properties": {"provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let mut spec = CreateNetwork::new("net1", NetworkKind::Overlay);
    spec.tags = vec!["t1".into()];
    let n = p
        .create_network(&spec)
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(
        (n.name.as_str(), n.tags.clone()),
        ("net1", vec!["t1".to_owned()])
    );

    let nsg = rg_path("Microsoft.Network/networkSecurityGroups/g1");
    arm("GET", &nsg, &v(NET))
        .respond_with(arm_error(404, "ResourceNotFound", "nf"))
        .mount(&server)
        .await;
    arm("PUT", &nsg, &v(NET))
        .and(body_json(json!({"location": LOC, "tags": {"hybrid:description": "web tier"}, "properties": {}})))
        .respond_with(ok(200, json!({"id": nsg, "name": "g1", "tags": {"hybrid:description": "web tier"}, "properties": {"provisioningState": "Succeeded"}})))
        .expect(1)
        .mount(&server)
        .await;
    let g = p
        .create_security_group(&CreateSecurityGroup {
            name: "g1".into(),
            description: "web tier".into(),
        })
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(g.description, "web tier");

    arm(
        "GET",
        &rg_path("Microsoft.Network/virtualNetworks/vn1"),
        &v(NET),
    )
    .respond_with(ok(200, vnet_doc()))
    .mount(&server)
    .await;
    let nic = rg_path("Microsoft.Network/networkInterfaces/p1");
    arm("GET", &nic, &v(NET))
        .respond_with(arm_error(404, "NotFound", "nf"))
        .mount(&server)
        .await;
    arm("PUT", &nic, &v(NET))
        .and(body_json(json!({"location": LOC, "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
            "subnet": {"id": rg_id("Microsoft.Network/virtualNetworks/vn1/subnets/default")},
            "privateIPAllocationMethod": "Static", "privateIPAddress": "10.0.0.9", "primary": true}}]}})))
        .respond_with(ok(200, json!({"id": nic, "name": "p1", "properties": {"provisioningState": "Succeeded", "ipConfigurations": [{
            "name": "ipconfig1", "properties": {"privateIPAddress": "10.0.0.9", "subnet": {"id": rg_id("Microsoft.Network/virtualNetworks/vn1/subnets/default")}}}]}})))
        .expect(1)
        .mount(&server)
        .await;
    let port = p
        .create_port(&CreatePort {
            network_id: NetworkId::new("vn1"),
            name: "p1".into(),
            fixed_ips: vec![FixedIp {
                subnet_id: None,
                ip_address: "10.0.0.9".into(),
            }],
            security_groups: Vec::new(),
        })
        .await
        .unwrap()
        .with_options(fast_wait())
        .await
        .unwrap();
    assert_eq!(
        port.network_id.as_str(),
        rg_id("Microsoft.Network/virtualNetworks/vn1")
    );
    assert_eq!(port.fixed_ips[0].ip_address, "10.0.0.9");
}

#[tokio::test]
async fn the_free_connect_function_hands_out_a_gated_provider() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    arm(
        "GET",
        &format!("/subscriptions/{SUB}/resourcegroups/{RG}"),
        &v(RES),
    )
    .respond_with(ok(200, json!({"id": "x", "name": RG, "location": LOC})))
    .mount(&server)
    .await;
    let p = hybrid_azure::connect(config(&server.uri())).await.unwrap();
    let before = server.received_requests().await.unwrap().len();
    let e = p
        .network()
        .list_routers_page(&ListOptions::new(), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(e.context().operation.as_deref(), Some("list_routers_page"));
    assert_eq!(server.received_requests().await.unwrap().len(), before);
    let _: AzureProvider = AzureProvider::connect(config(&server.uri())).await.unwrap();
}
