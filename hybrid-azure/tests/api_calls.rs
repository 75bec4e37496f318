//! One wiremock test per ARM call of the `api` stratum: exact method, path, query
//! (`api-version` and nothing else unless named), bearer token, correlation id and
//! body; then ARM's error bodies.

mod common;

use common::*;
use hybrid_azure::api::compute::VmAction;
use hybrid_azure::api::resources::TagsOperation;
use hybrid_azure::api::{self, compute, disks, images, network, resources};
use hybrid_azure::client::ArmClient;
use hybrid_azure::http::Url;
use hybrid_azure::ids::ResourceId;
use hybrid_azure::protocol::common::Tags;
use hybrid_core::ErrorKind;
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header};
use wiremock::ResponseTemplate;

const VM: &str = "2024-07-01";
const DISK: &str = "2024-03-02";
const GAL: &str = "2023-07-03";
const NET: &str = "2024-05-01";
const RES: &str = "2021-04-01";

fn id(rest: &str) -> ResourceId {
    ResourceId::parse(&rg_id(rest)).unwrap()
}

/// A GET of one resource: exact request, body returned as is.
macro_rules! get_call {
    ($name:ident, $path:expr, $query:expr, |$arm:ident| $call:expr) => {
        #[tokio::test]
        async fn $name() {
            let (server, p) = setup().await;
            let path: String = $path;
            let doc = json!({"id": path, "name": stringify!($name)});
            arm("GET", &path, &$query)
                .and(NoBody)
                .respond_with(ok(200, doc.clone()))
                .expect(1)
                .mount(&server)
                .await;
            let $arm: ArmClient = p.arm().clone();
            let got: Value = $call.await.unwrap();
            assert_eq!(got, doc);
        }
    };
}

/// A listing: the first page at the collection, the second at its exact `nextLink`.
macro_rules! list_call {
    ($name:ident, $path:expr, $version:expr, |$arm:ident, $next:ident| $call:expr) => {
        #[tokio::test]
        async fn $name() {
            let (server, p) = setup().await;
            let path: String = $path;
            let next_url = format!("{}{}?api-version={}&$skiptoken=page2", server.uri(), path, $version);
            arm("GET", &path, &v($version))
                .respond_with(ok(200, json!({"value": [{"name": "a"}], "nextLink": next_url})))
                .expect(1)
                .mount(&server)
                .await;
            arm("GET", &path, &[("api-version", $version), ("$skiptoken", "page2")])
                .respond_with(ok(200, json!({"value": [{"name": "b"}, {"name": "c"}]})))
                .expect(1)
                .mount(&server)
                .await;
            let $arm: ArmClient = p.arm().clone();
            let $next: Option<Url> = None;
            let first = $call.await.unwrap();
            assert_eq!(first.items, vec![json!({"name": "a"})]);
            assert_eq!(first.next.as_ref().map(Url::as_str), Some(next_url.as_str()));
            let $next = first.next;
            let second = $call.await.unwrap();
            assert_eq!(second.items.len(), 2);
            assert!(second.next.is_none());
        }
    };
}

/// A VM listing (each VM kept as its JSON text): the first page at the collection with
/// exactly `$query`, the second at its exact `nextLink`, which carries the first
/// request's query as ARM's does.
macro_rules! vm_list_call {
    ($name:ident, $path:expr, $query:expr, |$arm:ident, $next:ident| $call:expr) => {
        #[tokio::test]
        async fn $name() {
            let (server, p) = setup().await;
            let path: String = $path;
            let query: Vec<(&str, &str)> = $query;
            let mut second_query = query.clone();
            second_query.push(("$skiptoken", "page2"));
            let mut next_url = Url::parse(&format!("{}{}", server.uri(), path)).unwrap();
            next_url.query_pairs_mut().extend_pairs(&second_query);
            let next_url = next_url.to_string();
            let a = json!({"id": rg_id("Microsoft.Compute/virtualMachines/a"), "name": "a",
                "properties": {"instanceView": {"statuses": [{"code": "PowerState/running"}]}}});
            arm("GET", &path, &query)
                .and(NoBody)
                .respond_with(ok(200, json!({"value": [a], "nextLink": next_url})))
                .expect(1)
                .mount(&server)
                .await;
            arm("GET", &path, &second_query)
                .and(NoBody)
                .respond_with(ResponseTemplate::new(200).set_body_raw(
                    r#"{"value": [{"name": "b"}, {"name": "c\u00e9"}], "odata.count": 2}"#,
                    "application/json",
                ))
                .expect(1)
                .mount(&server)
                .await;
            let $arm: ArmClient = p.arm().clone();
            let $next: Option<Url> = None;
            let first = $call.await.unwrap();
            assert_eq!(first.items.len(), 1);
            assert_eq!(first.items[0], a);
            assert_eq!(first.next.as_ref().map(Url::as_str), Some(next_url.as_str()));
            let $next = first.next;
            let second = $call.await.unwrap();
            // each item is the text of the page, as sent
            let texts: Vec<&str> = second.items.iter().map(|i| i.as_str()).collect();
            assert_eq!(texts, [r#"{"name": "b"}"#, r#"{"name": "c\u00e9"}"#]);
            assert!(second.next.is_none());
        }
    };
}

/// A write answered `200` with a terminal state: exact request and body; the LRO is
/// done at once.
macro_rules! write_call {
    ($name:ident, $method:expr, $path:expr, $query:expr, $body:expr, |$arm:ident| $call:expr) => {
        #[tokio::test]
        async fn $name() {
            let (server, p) = setup().await;
            let path: String = $path;
            let body: Option<Value> = $body;
            let mut m = arm($method, &path, &$query);
            m = match &body {
                Some(b) => m.and(body_json(b.clone())).and(header("content-type", "application/json")),
                None => m.and(NoBody),
            };
            let reply = if $method == "DELETE" || $method == "POST" {
                ResponseTemplate::new(200)
            } else {
                ok(200, json!({"id": path, "properties": {"provisioningState": "Succeeded"}}))
            };
            m.respond_with(reply).expect(1).mount(&server).await;
            let $arm: ArmClient = p.arm().clone();
            let lro = $call.await.unwrap();
            assert!(lro.is_done());
        }
    };
}

// ---- Microsoft.Compute: virtual machines -------------------------------------------

get_call!(
    get_vm,
    rg_path("Microsoft.Compute/virtualMachines/vm1"),
    v(VM),
    |a| compute::get_vm(&a, &id("Microsoft.Compute/virtualMachines/vm1"), false)
);
get_call!(
    get_vm_with_instance_view,
    rg_path("Microsoft.Compute/virtualMachines/vm1"),
    [("api-version", VM), ("$expand", "instanceView")],
    |a| compute::get_vm(&a, &id("Microsoft.Compute/virtualMachines/vm1"), true)
);
get_call!(
    get_instance_view,
    rg_path("Microsoft.Compute/virtualMachines/vm1/instanceView"),
    v(VM),
    |a| compute::get_instance_view(&a, &id("Microsoft.Compute/virtualMachines/vm1"))
);
vm_list_call!(
    list_vms_with_instance_views,
    rg_path("Microsoft.Compute/virtualMachines"),
    vec![("api-version", VM), ("$expand", "instanceView")],
    |a, n| compute::list_vms(&a, true, n.clone())
);
vm_list_call!(
    list_vms,
    rg_path("Microsoft.Compute/virtualMachines"),
    v(VM),
    |a, n| compute::list_vms(&a, false, n.clone())
);
vm_list_call!(
    list_all_vms_with_instance_views,
    sub_path("Microsoft.Compute/virtualMachines"),
    vec![("api-version", VM), ("$expand", "instanceView")],
    |a, n| compute::list_all_vms(&a, true, n.clone())
);
vm_list_call!(
    list_all_vms,
    sub_path("Microsoft.Compute/virtualMachines"),
    v(VM),
    |a, n| compute::list_all_vms(&a, false, n.clone())
);
vm_list_call!(
    list_vms_by_location,
    sub_path("Microsoft.Compute/locations/eastus/virtualMachines"),
    v(VM),
    |a, n| compute::list_vms_by_location(&a, "eastus", n.clone())
);

/// The VM listing keeps each VM as its text and refuses, as every listing does, what
/// is not a listing: not JSON, no `value` array, items that are not JSON values, a
/// `nextLink` to another origin or with credentials.
#[tokio::test]
async fn vm_listing_refuses_what_is_not_a_listing() {
    let (server, p) = setup().await;
    let path = rg_path("Microsoft.Compute/virtualMachines");
    let cases: [(&str, &str); 8] = [
        ("truncated", r#"{"value": [{"id": "a"}, {"id": "#),
        ("html", "<html>oops</html>"),
        ("no-value", r#"{"items": []}"#),
        ("value-not-array", r#"{"value": {"id": "a"}}"#),
        ("not-an-object", r#"[{"id": "a"}]"#),
        ("trailing", r#"{"value": []} {"value": []}"#),
        (
            "evil-next",
            r#"{"value": [], "nextLink": "https://evil.example.com/steal"}"#,
        ),
        (
            "creds-next",
            r#"{"value": [], "nextLink": "/x?api-version=1&$skiptoken=2"}"#,
        ),
    ];
    for (tag, body) in cases {
        let body = if tag == "creds-next" {
            let mut u = Url::parse(&server.uri()).unwrap();
            u.set_username("user").unwrap();
            u.set_password(Some("pw")).unwrap();
            format!(r#"{{"value": [], "nextLink": "{u}x"}}"#)
        } else {
            body.to_owned()
        };
        arm("GET", &path, &[("api-version", VM), ("$skiptoken", tag)])
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-ms-request-id", format!("req-{tag}").as_str())
                    .set_body_raw(body, "application/json"),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    for (tag, _) in cases {
        let url = Url::parse(&format!(
            "{}{path}?api-version={VM}&$skiptoken={tag}",
            server.uri()
        ))
        .unwrap();
        let e = compute::list_vms(p.arm(), true, Some(url))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{tag}: {e}");
        assert_eq!(e.http_status(), Some(200), "{tag}");
        assert_eq!(e.request_id(), Some(format!("req-{tag}").as_str()), "{tag}");
        assert_eq!(
            e.context().operation.as_deref(),
            Some("list_servers"),
            "{tag}"
        );
        let msg = e.message().to_owned();
        match tag {
            "no-value" | "value-not-array" | "not-an-object" => {
                assert!(msg.contains("`value` array"), "{tag}: {msg}")
            }
            "evil-next" => assert!(msg.contains("another origin"), "{tag}: {msg}"),
            "creds-next" => assert!(msg.contains("credentials"), "{tag}: {msg}"),
            _ => assert!(msg.contains("not the expected JSON"), "{tag}: {msg}"),
        }
        assert!(!msg.contains("pw"), "{tag}: {msg}");
    }
}
write_call!(
    create_or_update_vm,
    "PUT",
    rg_path("Microsoft.Compute/virtualMachines/vm1"),
    v(VM),
    Some(json!({"location": LOC, "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"}}})),
    |a| compute::create_or_update_vm(
        &a,
        &id("Microsoft.Compute/virtualMachines/vm1"),
        &json!({"location": LOC, "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"}}})
    )
);
write_call!(
    update_vm,
    "PATCH",
    rg_path("Microsoft.Compute/virtualMachines/vm1"),
    v(VM),
    Some(json!({"properties": {"hardwareProfile": {"vmSize": "Standard_B2s"}}})),
    |a| compute::update_vm(
        &a,
        &id("Microsoft.Compute/virtualMachines/vm1"),
        &json!({"properties": {"hardwareProfile": {"vmSize": "Standard_B2s"}}}),
        None,
        "resize_server"
    )
);
write_call!(
    delete_vm,
    "DELETE",
    rg_path("Microsoft.Compute/virtualMachines/vm1"),
    v(VM),
    None,
    |a| compute::delete_vm(&a, &id("Microsoft.Compute/virtualMachines/vm1"))
);
write_call!(
    start_vm,
    "POST",
    rg_path("Microsoft.Compute/virtualMachines/vm1/start"),
    v(VM),
    None,
    |a| compute::vm_action(
        &a,
        &id("Microsoft.Compute/virtualMachines/vm1"),
        VmAction::Start
    )
);
write_call!(
    power_off_vm,
    "POST",
    rg_path("Microsoft.Compute/virtualMachines/vm1/powerOff"),
    v(VM),
    None,
    |a| compute::vm_action(
        &a,
        &id("Microsoft.Compute/virtualMachines/vm1"),
        VmAction::PowerOff
    )
);
write_call!(
    deallocate_vm,
    "POST",
    rg_path("Microsoft.Compute/virtualMachines/vm1/deallocate"),
    v(VM),
    None,
    |a| compute::vm_action(
        &a,
        &id("Microsoft.Compute/virtualMachines/vm1"),
        VmAction::Deallocate
    )
);
write_call!(
    restart_vm,
    "POST",
    rg_path("Microsoft.Compute/virtualMachines/vm1/restart"),
    v(VM),
    None,
    |a| compute::vm_action(
        &a,
        &id("Microsoft.Compute/virtualMachines/vm1"),
        VmAction::Restart
    )
);

#[tokio::test]
async fn update_vm_with_an_etag_sends_if_match() {
    let (server, p) = setup().await;
    let patch = json!({"properties": {"storageProfile": {"dataDisks": []}}});
    arm(
        "PATCH",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM),
    )
    .and(header("if-match", "\"7\""))
    .and(body_json(patch.clone()))
    .respond_with(ok(
        200,
        json!({"id": "x", "properties": {"provisioningState": "Succeeded"}}),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let lro = compute::update_vm(
        p.arm(),
        &id("Microsoft.Compute/virtualMachines/vm1"),
        &patch,
        Some("\"7\""),
        "attach_volume",
    )
    .await
    .unwrap();
    assert!(lro.is_done());
    // an etag that no longer matches
    let server2 = MockServer::start().await;
    mount_token(&server2).await;
    arm(
        "PATCH",
        &rg_path("Microsoft.Compute/virtualMachines/vm1"),
        &v(VM),
    )
    .respond_with(arm_error(
        412,
        "PreconditionFailed",
        "The etag does not match.",
    ))
    .mount(&server2)
    .await;
    let p2 = hybrid_azure::AzureProvider::new(config(&server2.uri())).unwrap();
    let e = compute::update_vm(
        p2.arm(),
        &id("Microsoft.Compute/virtualMachines/vm1"),
        &patch,
        Some("\"6\""),
        "attach_volume",
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
}

use wiremock::MockServer;

#[tokio::test]
async fn list_vm_sizes() {
    let (server, p) = setup().await;
    let sizes =
        json!({"value": [{"name": "Standard_B1s", "numberOfCores": 1, "memoryInMB": 1024}]});
    arm(
        "GET",
        &sub_path("Microsoft.Compute/locations/westeurope/vmSizes"),
        &v(VM),
    )
    .respond_with(ok(200, sizes.clone()))
    .expect(1)
    .mount(&server)
    .await;
    let got = compute::list_vm_sizes(p.arm(), LOC).await.unwrap();
    assert_eq!(got, sizes["value"].as_array().unwrap().clone());
}

#[tokio::test]
async fn list_vm_available_sizes() {
    let (server, p) = setup().await;
    arm(
        "GET",
        &rg_path("Microsoft.Compute/virtualMachines/vm1/vmSizes"),
        &v(VM),
    )
    .respond_with(ok(
        200,
        json!({"value": [{"name": "Standard_A1"}, {"name": "Standard_A2"}]}),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let got =
        compute::list_vm_available_sizes(p.arm(), &id("Microsoft.Compute/virtualMachines/vm1"))
            .await
            .unwrap();
    assert_eq!(got.len(), 2);
}

// ---- Microsoft.Compute: SSH public keys ---------------------------------------------

get_call!(
    get_ssh_key,
    rg_path("Microsoft.Compute/sshPublicKeys/k1"),
    v(VM),
    |a| compute::get_ssh_key(&a, &id("Microsoft.Compute/sshPublicKeys/k1"))
);
list_call!(
    list_ssh_keys,
    rg_path("Microsoft.Compute/sshPublicKeys"),
    VM,
    |a, n| compute::list_ssh_keys(&a, n.clone())
);

#[tokio::test]
async fn create_ssh_key() {
    let (server, p) = setup().await;
    let body = json!({"location": LOC, "properties": {"publicKey": "ssh-ed25519 AAAA k"}});
    arm(
        "PUT",
        &rg_path("Microsoft.Compute/sshPublicKeys/k1"),
        &v(VM),
    )
    .and(body_json(body.clone()))
    .respond_with(ok(
        201,
        json!({"name": "k1", "properties": {"publicKey": "ssh-ed25519 AAAA k"}}),
    ))
    .expect(1)
    .mount(&server)
    .await;
    let got = compute::create_ssh_key(p.arm(), &id("Microsoft.Compute/sshPublicKeys/k1"), &body)
        .await
        .unwrap();
    assert_eq!(got["name"], "k1");
}

#[tokio::test]
async fn delete_ssh_key() {
    let (server, p) = setup().await;
    arm(
        "DELETE",
        &rg_path("Microsoft.Compute/sshPublicKeys/k1"),
        &v(VM),
    )
    .and(NoBody)
    .respond_with(ResponseTemplate::new(200))
    .expect(1)
    .mount(&server)
    .await;
    arm(
        "DELETE",
        &rg_path("Microsoft.Compute/sshPublicKeys/k2"),
        &v(VM),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;
    compute::delete_ssh_key(p.arm(), &id("Microsoft.Compute/sshPublicKeys/k1"))
        .await
        .unwrap();
    let e = compute::delete_ssh_key(p.arm(), &id("Microsoft.Compute/sshPublicKeys/k2"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

// ---- Microsoft.Compute: disks and snapshots -----------------------------------------

get_call!(
    get_disk,
    rg_path("Microsoft.Compute/disks/d1"),
    v(DISK),
    |a| disks::get_disk(&a, &id("Microsoft.Compute/disks/d1"))
);
list_call!(
    list_disks,
    rg_path("Microsoft.Compute/disks"),
    DISK,
    |a, n| disks::list_disks(&a, n.clone())
);
write_call!(
    create_disk,
    "PUT",
    rg_path("Microsoft.Compute/disks/d1"),
    v(DISK),
    Some(
        json!({"location": LOC, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8}})
    ),
    |a| disks::create_disk(
        &a,
        &id("Microsoft.Compute/disks/d1"),
        &json!({"location": LOC, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 8}})
    )
);
write_call!(
    update_disk,
    "PATCH",
    rg_path("Microsoft.Compute/disks/d1"),
    v(DISK),
    Some(json!({"properties": {"diskSizeGB": 16}})),
    |a| disks::update_disk(
        &a,
        &id("Microsoft.Compute/disks/d1"),
        &json!({"properties": {"diskSizeGB": 16}}),
        "extend_volume"
    )
);
write_call!(
    delete_disk,
    "DELETE",
    rg_path("Microsoft.Compute/disks/d1"),
    v(DISK),
    None,
    |a| disks::delete_disk(&a, &id("Microsoft.Compute/disks/d1"))
);
get_call!(
    get_snapshot,
    rg_path("Microsoft.Compute/snapshots/s1"),
    v(DISK),
    |a| disks::get_snapshot(&a, &id("Microsoft.Compute/snapshots/s1"))
);
list_call!(
    list_snapshots,
    rg_path("Microsoft.Compute/snapshots"),
    DISK,
    |a, n| disks::list_snapshots(&a, n.clone())
);
write_call!(
    create_snapshot,
    "PUT",
    rg_path("Microsoft.Compute/snapshots/s1"),
    v(DISK),
    Some(
        json!({"location": LOC, "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": "/d"}}})
    ),
    |a| disks::create_snapshot(
        &a,
        &id("Microsoft.Compute/snapshots/s1"),
        &json!({"location": LOC, "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": "/d"}}})
    )
);
write_call!(
    delete_snapshot,
    "DELETE",
    rg_path("Microsoft.Compute/snapshots/s1"),
    v(DISK),
    None,
    |a| disks::delete_snapshot(&a, &id("Microsoft.Compute/snapshots/s1"))
);

// ---- Microsoft.Compute: images and galleries ----------------------------------------

get_call!(
    get_image,
    rg_path("Microsoft.Compute/images/i1"),
    v(VM),
    |a| images::get_image(&a, &id("Microsoft.Compute/images/i1"))
);
list_call!(
    list_images,
    rg_path("Microsoft.Compute/images"),
    VM,
    |a, n| images::list_images(&a, n.clone())
);
write_call!(
    delete_image,
    "DELETE",
    rg_path("Microsoft.Compute/images/i1"),
    v(VM),
    None,
    |a| images::delete_image(&a, &id("Microsoft.Compute/images/i1"))
);
list_call!(
    list_galleries,
    rg_path("Microsoft.Compute/galleries"),
    GAL,
    |a, n| images::list_galleries(&a, n.clone())
);
get_call!(
    get_gallery,
    rg_path("Microsoft.Compute/galleries/g1"),
    v(GAL),
    |a| images::get_gallery(&a, &id("Microsoft.Compute/galleries/g1"))
);
list_call!(
    list_gallery_images,
    rg_path("Microsoft.Compute/galleries/g1/images"),
    GAL,
    |a, n| images::list_gallery_images(&a, &id("Microsoft.Compute/galleries/g1"), n.clone())
);
get_call!(
    get_gallery_image,
    rg_path("Microsoft.Compute/galleries/g1/images/def1"),
    v(GAL),
    |a| images::get_gallery_image(&a, &id("Microsoft.Compute/galleries/g1/images/def1"))
);
list_call!(
    list_gallery_image_versions,
    rg_path("Microsoft.Compute/galleries/g1/images/def1/versions"),
    GAL,
    |a, n| images::list_gallery_image_versions(
        &a,
        &id("Microsoft.Compute/galleries/g1/images/def1"),
        n.clone()
    )
);
get_call!(
    get_gallery_image_version,
    rg_path("Microsoft.Compute/galleries/g1/images/def1/versions/1.0.0"),
    v(GAL),
    |a| images::get_gallery_image_version(
        &a,
        &id("Microsoft.Compute/galleries/g1/images/def1/versions/1.0.0")
    )
);
write_call!(
    delete_gallery_image_version,
    "DELETE",
    rg_path("Microsoft.Compute/galleries/g1/images/def1/versions/1.0.0"),
    v(GAL),
    None,
    |a| images::delete_gallery_image_version(
        &a,
        &id("Microsoft.Compute/galleries/g1/images/def1/versions/1.0.0")
    )
);

// ---- Microsoft.Network ----------------------------------------------------------------

get_call!(
    get_vnet,
    rg_path("Microsoft.Network/virtualNetworks/vn1"),
    v(NET),
    |a| network::get_vnet(&a, &id("Microsoft.Network/virtualNetworks/vn1"))
);
list_call!(
    list_vnets,
    rg_path("Microsoft.Network/virtualNetworks"),
    NET,
    |a, n| network::list_vnets(&a, n.clone())
);
list_call!(
    list_all_vnets,
    sub_path("Microsoft.Network/virtualNetworks"),
    NET,
    |a, n| network::list_all_vnets(&a, n.clone())
);
write_call!(
    put_vnet,
    "PUT",
    rg_path("Microsoft.Network/virtualNetworks/vn1"),
    v(NET),
    Some(
        json!({"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
    ),
    |a| network::put_vnet(
        &a,
        &id("Microsoft.Network/virtualNetworks/vn1"),
        &json!({"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}),
        "create_network"
    )
);
write_call!(
    delete_vnet,
    "DELETE",
    rg_path("Microsoft.Network/virtualNetworks/vn1"),
    v(NET),
    None,
    |a| network::delete_vnet(&a, &id("Microsoft.Network/virtualNetworks/vn1"))
);
get_call!(
    get_subnet,
    rg_path("Microsoft.Network/virtualNetworks/vn1/subnets/sn1"),
    v(NET),
    |a| network::get_subnet(&a, &id("Microsoft.Network/virtualNetworks/vn1/subnets/sn1"))
);
list_call!(
    list_subnets,
    rg_path("Microsoft.Network/virtualNetworks/vn1/subnets"),
    NET,
    |a, n| network::list_subnets(&a, &id("Microsoft.Network/virtualNetworks/vn1"), n.clone())
);
write_call!(
    put_subnet,
    "PUT",
    rg_path("Microsoft.Network/virtualNetworks/vn1/subnets/sn1"),
    v(NET),
    Some(json!({"properties": {"addressPrefix": "10.0.1.0/24"}})),
    |a| network::put_subnet(
        &a,
        &id("Microsoft.Network/virtualNetworks/vn1/subnets/sn1"),
        &json!({"properties": {"addressPrefix": "10.0.1.0/24"}})
    )
);
write_call!(
    delete_subnet,
    "DELETE",
    rg_path("Microsoft.Network/virtualNetworks/vn1/subnets/sn1"),
    v(NET),
    None,
    |a| network::delete_subnet(&a, &id("Microsoft.Network/virtualNetworks/vn1/subnets/sn1"))
);
get_call!(
    get_nic,
    rg_path("Microsoft.Network/networkInterfaces/n1"),
    v(NET),
    |a| network::get_nic(&a, &id("Microsoft.Network/networkInterfaces/n1"))
);
list_call!(
    list_nics,
    rg_path("Microsoft.Network/networkInterfaces"),
    NET,
    |a, n| network::list_nics(&a, n.clone())
);
write_call!(
    put_nic,
    "PUT",
    rg_path("Microsoft.Network/networkInterfaces/n1"),
    v(NET),
    Some(json!({"location": LOC, "properties": {"ipConfigurations": []}})),
    |a| network::put_nic(
        &a,
        &id("Microsoft.Network/networkInterfaces/n1"),
        &json!({"location": LOC, "properties": {"ipConfigurations": []}}),
        "create_port"
    )
);
write_call!(
    delete_nic,
    "DELETE",
    rg_path("Microsoft.Network/networkInterfaces/n1"),
    v(NET),
    None,
    |a| network::delete_nic(&a, &id("Microsoft.Network/networkInterfaces/n1"))
);
get_call!(
    get_nsg,
    rg_path("Microsoft.Network/networkSecurityGroups/g1"),
    v(NET),
    |a| network::get_nsg(&a, &id("Microsoft.Network/networkSecurityGroups/g1"))
);
list_call!(
    list_nsgs,
    rg_path("Microsoft.Network/networkSecurityGroups"),
    NET,
    |a, n| network::list_nsgs(&a, n.clone())
);
write_call!(
    put_nsg,
    "PUT",
    rg_path("Microsoft.Network/networkSecurityGroups/g1"),
    v(NET),
    Some(json!({"location": LOC, "properties": {}})),
    |a| network::put_nsg(
        &a,
        &id("Microsoft.Network/networkSecurityGroups/g1"),
        &json!({"location": LOC, "properties": {}})
    )
);
write_call!(
    delete_nsg,
    "DELETE",
    rg_path("Microsoft.Network/networkSecurityGroups/g1"),
    v(NET),
    None,
    |a| network::delete_nsg(&a, &id("Microsoft.Network/networkSecurityGroups/g1"))
);
get_call!(
    get_security_rule,
    rg_path("Microsoft.Network/networkSecurityGroups/g1/securityRules/r1"),
    v(NET),
    |a| network::get_security_rule(
        &a,
        &id("Microsoft.Network/networkSecurityGroups/g1/securityRules/r1")
    )
);
write_call!(
    put_security_rule,
    "PUT",
    rg_path("Microsoft.Network/networkSecurityGroups/g1/securityRules/r1"),
    v(NET),
    Some(json!({"properties": {"protocol": "Tcp", "priority": 100}})),
    |a| network::put_security_rule(
        &a,
        &id("Microsoft.Network/networkSecurityGroups/g1/securityRules/r1"),
        &json!({"properties": {"protocol": "Tcp", "priority": 100}})
    )
);
write_call!(
    delete_security_rule,
    "DELETE",
    rg_path("Microsoft.Network/networkSecurityGroups/g1/securityRules/r1"),
    v(NET),
    None,
    |a| network::delete_security_rule(
        &a,
        &id("Microsoft.Network/networkSecurityGroups/g1/securityRules/r1")
    )
);
get_call!(
    get_public_ip,
    rg_path("Microsoft.Network/publicIPAddresses/ip1"),
    v(NET),
    |a| network::get_public_ip(&a, &id("Microsoft.Network/publicIPAddresses/ip1"))
);
list_call!(
    list_public_ips,
    rg_path("Microsoft.Network/publicIPAddresses"),
    NET,
    |a, n| network::list_public_ips(&a, n.clone())
);
write_call!(
    put_public_ip,
    "PUT",
    rg_path("Microsoft.Network/publicIPAddresses/ip1"),
    v(NET),
    Some(json!({"location": LOC, "sku": {"name": "Standard"}})),
    |a| network::put_public_ip(
        &a,
        &id("Microsoft.Network/publicIPAddresses/ip1"),
        &json!({"location": LOC, "sku": {"name": "Standard"}})
    )
);
write_call!(
    delete_public_ip,
    "DELETE",
    rg_path("Microsoft.Network/publicIPAddresses/ip1"),
    v(NET),
    None,
    |a| network::delete_public_ip(&a, &id("Microsoft.Network/publicIPAddresses/ip1"))
);

// ---- Microsoft.Resources ------------------------------------------------------------

get_call!(
    get_resource_group,
    format!("/subscriptions/{SUB}/resourcegroups/{RG}"),
    v(RES),
    |a| { resources::get_resource_group(&a) }
);
get_call!(
    get_tags,
    rg_path("Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Resources/tags/default"),
    v(RES),
    |a| resources::get_tags(&a, &id("Microsoft.Compute/virtualMachines/vm1"))
);

#[tokio::test]
async fn update_tags_merge_delete_replace() {
    let (server, p) = setup().await;
    let path =
        rg_path("Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Resources/tags/default");
    let tags: Tags = [
        ("env".to_owned(), "prod".to_owned()),
        ("hybrid:tag:web".to_owned(), String::new()),
    ]
    .into();
    for op in [
        TagsOperation::Merge,
        TagsOperation::Delete,
        TagsOperation::Replace,
    ] {
        arm("PATCH", &path, &v(RES))
            .and(body_json(json!({"operation": op.as_str(), "properties": {"tags": {"env": "prod", "hybrid:tag:web": ""}}})))
            .respond_with(ok(200, json!({"id": path, "properties": {"tags": {}}})))
            .expect(1)
            .mount(&server)
            .await;
        let lro = resources::update_tags(
            p.arm(),
            &id("Microsoft.Compute/virtualMachines/vm1"),
            op,
            &tags,
            "set_server_tags",
        )
        .await
        .unwrap();
        assert!(lro.is_done());
    }
}

// ---- errors ---------------------------------------------------------------------------

#[tokio::test]
async fn error_bodies_become_kinds_with_both_ids() {
    let cases: Vec<(u16, &str, &str, ErrorKind)> = vec![
        (
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.Compute/virtualMachines/vm1' was not found.",
            ErrorKind::NotFound,
        ),
        (
            404,
            "ResourceGroupNotFound",
            "Resource group 'rg-test' could not be found.",
            ErrorKind::NotFound,
        ),
        (
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            ErrorKind::Unauthenticated,
        ),
        (
            403,
            "AuthorizationFailed",
            "The client does not have authorization.",
            ErrorKind::PermissionDenied,
        ),
        (
            400,
            "InvalidParameter",
            "The value of parameter vmSize is invalid.",
            ErrorKind::InvalidInput,
        ),
        (
            409,
            "Conflict",
            "Another operation is pending.",
            ErrorKind::Conflict,
        ),
        (
            409,
            "OperationNotAllowed",
            "Operation results in exceeding quota limits of Core. Maximum allowed: 4",
            ErrorKind::QuotaExceeded,
        ),
        (
            400,
            "InUseSubnetCannotBeDeleted",
            "Subnet default is in use.",
            ErrorKind::Conflict,
        ),
        (
            409,
            "AnotherOperationInProgress",
            "Operation is in progress.",
            ErrorKind::Conflict,
        ),
        (
            409,
            "MissingSubscriptionRegistration",
            "The subscription is not registered to use namespace 'Microsoft.Compute'.",
            ErrorKind::Config,
        ),
        (
            409,
            "SkuNotAvailable",
            "The requested size is not available in location 'westeurope'.",
            ErrorKind::InvalidInput,
        ),
        (
            500,
            "InternalServerError",
            "An unexpected error occured.",
            ErrorKind::Unavailable,
        ),
    ];
    for (status, code, message, kind) in cases {
        let (server, p) = setup().await;
        arm(
            "GET",
            &rg_path("Microsoft.Compute/virtualMachines/vm1"),
            &v(VM),
        )
        .respond_with(arm_error(status, code, message))
        .mount(&server)
        .await;
        let e = compute::get_vm(p.arm(), &id("Microsoft.Compute/virtualMachines/vm1"), false)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{code}: {e}");
        assert_eq!(e.http_status(), Some(status));
        assert_eq!(e.request_id(), Some("req-0001"), "{code}");
        assert!(
            e.message().contains(&format!("{code}: {message}")) || e.message().contains(message),
            "{e}"
        );
        // hybrid's own correlation id (sent with the request) is in the message
        let sent = server.received_requests().await.unwrap();
        let cid = sent
            .iter()
            .find_map(|r| r.headers.get("x-ms-correlation-request-id"))
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            e.message().ends_with(&format!("(correlation id {cid})")),
            "{e}"
        );
        assert_eq!(e.context().operation.as_deref(), Some("get_server"));
    }
}

#[tokio::test]
async fn error_details_and_odd_bodies() {
    let (server, p) = setup().await;
    arm("GET", &rg_path("Microsoft.Compute/disks/d1"), &v(DISK))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "code": "InvalidTemplateDeployment", "message": "The deployment failed.",
            "details": [{"code": "QuotaExceeded", "message": "Disks quota exceeded"}]}})))
        .mount(&server)
        .await;
    arm("GET", &rg_path("Microsoft.Compute/disks/d2"), &v(DISK))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_string("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        )
        .mount(&server)
        .await;
    arm("GET", &rg_path("Microsoft.Compute/disks/d3"), &v(DISK))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": \"/x\", \"name\":"))
        .mount(&server)
        .await;
    arm("GET", &rg_path("Microsoft.Compute/disks"), &v(DISK))
        .respond_with(ok(200, json!({"items": []})))
        .mount(&server)
        .await;
    arm("GET", &rg_path("Microsoft.Compute/snapshots"), &v(DISK))
        .respond_with(ok(
            200,
            json!({"value": [], "nextLink": "https://evil.example.com/steal"}),
        ))
        .mount(&server)
        .await;
    let e = disks::get_disk(p.arm(), &id("Microsoft.Compute/disks/d1"))
        .await
        .unwrap_err();
    assert!(e.message().contains("details: Disks quota exceeded"), "{e}");
    let e = disks::get_disk(p.arm(), &id("Microsoft.Compute/disks/d2"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.message().contains("502 Bad Gateway"), "{e}");
    let e = disks::get_disk(p.arm(), &id("Microsoft.Compute/disks/d3"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    let e = disks::list_disks(p.arm(), None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert!(e.message().contains("`value`"), "{e}");
    let e = disks::list_snapshots(p.arm(), None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert!(e.message().contains("another origin"), "{e}");
}

#[tokio::test]
async fn delete_of_nothing_is_not_found() {
    let (server, p) = setup().await;
    arm(
        "DELETE",
        &rg_path("Microsoft.Network/publicIPAddresses/ip9"),
        &v(NET),
    )
    .respond_with(ResponseTemplate::new(204).insert_header("x-ms-request-id", "req-204"))
    .expect(1)
    .mount(&server)
    .await;
    let e = network::delete_public_ip(p.arm(), &id("Microsoft.Network/publicIPAddresses/ip9"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.request_id(), Some("req-204"));
}

#[tokio::test]
async fn requests_never_leave_the_arm_origin() {
    let (_server, p) = setup().await;
    let other = Url::parse("https://evil.example.com/subscriptions/x?api-version=1").unwrap();
    let e = p
        .arm()
        .execute(
            hybrid_azure::http::Method::GET,
            other,
            None,
            "get_server",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // a forged page token cannot send the token elsewhere either
    let e = compute::list_vms(
        p.arm(),
        true,
        Some(Url::parse("https://evil.example.com/p2").unwrap()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let _ = api::versions::VIRTUAL_MACHINES;
}
