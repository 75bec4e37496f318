//! Wire tests of the core traits over the vAPI `/api` flavour (which vcsim does not
//! answer): image upload through an update session, a rejected upload, image listing
//! across templates and library items, server tags, and OVF deployment.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use hybrid_core::model::{CreateImage, CreateServer, ImageId, ImageStatus, ServerId};
use hybrid_core::{Compute, ErrorKind, ImageData, Images, ListOptions};

use crate::protocol::vapi::Flavour;
use crate::provider::{Inner, VsphereProvider};
use crate::vapi_wire_tests::{answer, expect_rest, mount_vapi_login_with, Query};
use crate::wire_tests::{config, response, session, Soap};

/// `wire-user:wire-Secret-77aa` (the SOAP wire tests' credentials).
const BASIC: &str = "Basic d2lyZS11c2VyOndpcmUtU2VjcmV0LTc3YWE=";
const ITEM: &str = "6cbbef21-a5a3-4929-aecf-619da80881df";
const F: Flavour = Flavour::Api;

async fn provider(server: &MockServer) -> VsphereProvider {
    let s = session(server).await;
    mount_vapi_login_with(server, F, BASIC).await;
    VsphereProvider {
        inner: Inner::for_tests(config(server), s),
    }
}

fn no_content() -> ResponseTemplate {
    ResponseTemplate::new(204)
}

fn ok_xml(inner: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(response(inner))
}

/// vm-7 exists and is no template.
async fn mount_vm7(server: &MockServer) {
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(wiremock::matchers::body_string_contains(r#"<obj type="VirtualMachine">vm-7</obj>"#))
        .respond_with(ok_xml(r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-7</obj><propSet><name>name</name><val xsi:type="xsd:string">web-1</val></propSet><propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet><propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#))
        .mount(server)
        .await;
}

async fn mount_library_create(server: &MockServer) {
    expect_rest(
        server,
        F,
        "GET",
        "/api/content/library",
        None,
        None,
        answer(F, 200, json!([])),
    )
    .await;
    expect_rest(
        server,
        F,
        "POST",
        "/api/content/local-library",
        None,
        Some(json!({
            "name": "hybrid", "description": "images uploaded by hybrid", "type": "LOCAL",
            "storage_backings": [{"type": "DATASTORE", "datastore_id": "datastore-1"}],
            "publish_info": {"authentication_method": "NONE", "published": false}
        })),
        answer(F, 201, json!("lib-1")),
    )
    .await;
    expect_rest(
        server,
        F,
        "POST",
        "/api/content/library/item",
        None,
        Some(json!({
            "library_id": "lib-1", "name": "web img", "description": "uploaded by hybrid"
        })),
        answer(F, 201, json!(ITEM)),
    )
    .await;
    expect_rest(
        server,
        F,
        "POST",
        "/api/content/library/item/update-session",
        None,
        Some(json!({"library_item_id": ITEM})),
        answer(F, 201, json!("us-1")),
    )
    .await;
    expect_rest(
        server,
        F,
        "POST",
        "/api/content/library/item/update-session/us-1/file",
        None,
        Some(json!({"name": "web_img.raw", "source_type": "PUSH", "size": 6})),
        answer(
            F,
            201,
            json!({
                "name": "web_img.raw", "source_type": "PUSH", "status": "WAITING_FOR_TRANSFER",
                "upload_endpoint": {"uri": format!("{}/cls/data/us-1/web_img.raw", server.uri())}
            }),
        ),
    )
    .await;
    Mock::given(method("PUT"))
        .and(path("/cls/data/us-1/web_img.raw"))
        .and(header("vmware-api-session-id", "sess-api-1"))
        .and(wiremock::matchers::body_bytes(b"abcdef".to_vec()))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_image_uploads_through_an_update_session() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    mount_library_create(&server).await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/update-session/us-1/file",
        Some("action=validate"),
        None,
        answer(
            F,
            200,
            json!({"has_errors": false, "missing_files": [], "invalid_files": []}),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/update-session/us-1",
        Some("action=complete"),
        None,
        no_content(),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library/item/update-session/us-1"))
        .and(Query(None))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "us-1", "library_item_id": ITEM, "state": "ACTIVE"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library/item/update-session/us-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "us-1", "library_item_id": ITEM, "state": "DONE"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect_rest(&server, F, "GET", &format!("/api/content/library/item/{ITEM}"), None, None, answer(F, 200, json!({
        "id": ITEM, "library_id": "lib-1", "name": "web img", "type": "", "size": 6, "cached": true
    }))).await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}/file"),
        None,
        None,
        answer(
            F,
            200,
            json!([{"name": "web_img.raw", "size": 6, "cached": true, "version": "1"}]),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/api/content/library/lib-1",
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": "lib-1", "name": "hybrid", "type": "LOCAL",
                "storage_backings": [{"type": "DATASTORE", "datastore_id": "datastore-1"}]
            }),
        ),
    )
    .await;

    let op = p
        .create_image(
            &CreateImage::new("web img", "raw", "bare"),
            ImageData::bytes(&b"abcdef"[..]),
        )
        .await
        .unwrap();
    assert_eq!(op.resource(), Some(ITEM));
    let img = op
        .with_options(hybrid_core::WaitOptions {
            initial_delay: std::time::Duration::from_millis(5),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(img.id.as_str(), ITEM);
    assert_eq!(img.status, ImageStatus::Active);
    assert_eq!(img.size_bytes, Some(6));
    assert_eq!(
        (img.disk_format.as_deref(), img.container_format.as_deref()),
        (Some("raw"), Some("bare"))
    );
    assert!(!img.locality.shareable);
    assert_eq!(
        img.locality.bound_to.as_deref(),
        Some("content library hybrid on datastore LocalDS_0 of vCenter 127.0.0.1 (dbed6e0c-bd88-4ef6-b594-21283e1c677f)")
    );
    assert_eq!(
        p.rest_calls(),
        14,
        "login, 2 library calls, 3 session calls, the PUT, validate, complete, 2 polls, 3 reads"
    );
}

#[tokio::test]
async fn a_rejected_upload_fails_its_session_and_deletes_the_item() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    mount_library_create(&server).await;
    expect_rest(&server, F, "POST", "/api/content/library/item/update-session/us-1/file", Some("action=validate"), None,
        answer(F, 200, json!({"has_errors": true, "missing_files": ["web_img-disk1.vmdk"], "invalid_files": [
            {"name": "web_img.raw", "error_message": {"id": "e", "default_message": "not an OVF", "args": []}}
        ]}))).await;
    expect_rest(&server, F, "POST", "/api/content/library/item/update-session/us-1", Some("action=fail"),
        Some(json!({"client_error_message": "the uploaded files are not valid: missing files: web_img-disk1.vmdk; web_img.raw is invalid: not an OVF"})),
        no_content()).await;
    expect_rest(
        &server,
        F,
        "DELETE",
        "/api/content/library/item/update-session/us-1",
        None,
        None,
        no_content(),
    )
    .await;
    expect_rest(
        &server,
        F,
        "DELETE",
        &format!("/api/content/library/item/{ITEM}"),
        None,
        None,
        no_content(),
    )
    .await;
    let e = p
        .create_image(
            &CreateImage::new("web img", "raw", "bare"),
            ImageData::bytes(&b"abcdef"[..]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OperationFailed);
    assert!(e.message().contains("not an OVF"), "{e}");

    // Formats that are no file extension never reach the vCenter.
    let e = p
        .create_image(
            &CreateImage::new("x", "a/b", "bare"),
            ImageData::bytes(&b"a"[..]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = p
        .create_image(
            &CreateImage::new("x", "raw", "bare"),
            ImageData::Url("file:///etc/passwd".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn images_list_templates_then_library_items() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    Mock::given(Soap("CreateContainerView"))
        .respond_with(ok_xml(r#"<CreateContainerViewResponse xmlns="urn:vim25"><returnval type="ContainerView">session[1]v1</returnval></CreateContainerViewResponse>"#))
        .mount(&server)
        .await;
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(wiremock::matchers::body_string_contains("session[1]v1"))
        .respond_with(ok_xml(r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-5</obj><propSet><name>name</name><val xsi:type="xsd:string">gold</val></propSet><propSet><name>config.template</name><val xsi:type="xsd:boolean">true</val></propSet><propSet><name>datastore</name><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore">datastore-1</ManagedObjectReference></val></propSet></objects><objects><obj type="VirtualMachine">vm-6</obj><propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#))
        .mount(&server)
        .await;
    let first = p.list_images_page(&ListOptions::new(), None).await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(
        first.items[0].locality.bound_to.as_deref(),
        Some("datastore LocalDS_0 of vCenter 127.0.0.1 (dbed6e0c-bd88-4ef6-b594-21283e1c677f)")
    );
    let next = first.next.clone().unwrap();
    assert_eq!(next.as_str(), "l:0");

    expect_rest(
        &server,
        F,
        "GET",
        "/api/content/library",
        None,
        None,
        answer(F, 200, json!(["lib-1"])),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/api/content/library/item",
        Some("library_id=lib-1"),
        None,
        answer(F, 200, json!([ITEM])),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}"),
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": ITEM, "library_id": "lib-1", "name": "web", "type": "ovf"
            }),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}/file"),
        None,
        None,
        answer(
            F,
            200,
            json!([{"name": "web.ovf", "size": 100}, {"name": "web-1.vmdk", "size": 900}]),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/api/content/library/lib-1",
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": "lib-1", "name": "gold-images", "type": "SUBSCRIBED", "storage_backings": []
            }),
        ),
    )
    .await;
    let second = p
        .list_images_page(&ListOptions::new(), Some(next))
        .await
        .unwrap();
    assert!(second.next.is_none());
    let i = &second.items[0];
    assert_eq!(
        (i.id.as_str(), i.size_bytes, i.container_format.as_deref()),
        (ITEM, Some(1000), Some("ovf"))
    );
    assert_eq!(
        i.properties.get("vsphere.files").map(String::as_str),
        Some("web.ovf,web-1.vmdk")
    );
    assert_eq!(i.locality.bound_to.as_deref(), Some("content library gold-images of vCenter 127.0.0.1 (dbed6e0c-bd88-4ef6-b594-21283e1c677f)"));

    for bad in ["x:1", "l:x", "garbage"] {
        let e = p
            .list_images_page(&ListOptions::new(), Some(hybrid_core::PageToken::new(bad)))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    // A library item that is gone is NotFound.
    Mock::given(method("GET"))
        .and(path(
            "/api/content/library/item/00000000-0000-4000-8000-000000000000",
        ))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error_type": "NOT_FOUND", "messages": []})),
        )
        .mount(&server)
        .await;
    let e = p
        .get_image(&ImageId::new("00000000-0000-4000-8000-000000000000"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.message(),
        "image 00000000-0000-4000-8000-000000000000 not found"
    );
}

#[tokio::test]
async fn server_tags_live_in_the_hybrid_category() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    mount_vm7(&server).await;
    let vm7 = json!({"type": "VirtualMachine", "id": "vm-7"});

    // add: the category and the tag are created on demand.
    expect_rest(
        &server,
        F,
        "GET",
        "/api/cis/tagging/category",
        None,
        None,
        answer(F, 200, json!(["cat-other"])),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/api/cis/tagging/category/cat-other",
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": "cat-other", "name": "owners", "cardinality": "SINGLE", "associable_types": []
            }),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/cis/tagging/category",
        None,
        Some(json!({
            "name": "hybrid", "description": "server tags of hybrid (one tag per core tag string)",
            "cardinality": "MULTIPLE", "associable_types": ["VirtualMachine"]
        })),
        answer(F, 201, json!("cat-1")),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/api/cis/tagging/tag"))
        .and(Query(Some("action=list-tags-for-category")))
        .and(body_json(json!({"category_id": "cat-1"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/cis/tagging/tag",
        None,
        Some(json!({
            "name": "web", "description": "", "category_id": "cat-1"
        })),
        answer(F, 201, json!("tag-1")),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/cis/tagging/tag-association/tag-1",
        Some("action=attach"),
        Some(json!({"object_id": vm7.clone()})),
        no_content(),
    )
    .await;
    p.add_server_tag(&ServerId::new("vm-7"), "web")
        .await
        .unwrap();

    // get: one call for the tags; a tag of another category is not a server tag.
    Mock::given(method("POST"))
        .and(path("/api/cis/tagging/tag"))
        .and(Query(Some("action=list-tags-for-category")))
        .and(body_json(json!({"category_id": "cat-1"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(["tag-1"])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/cis/tagging/tag-association"))
        .and(Query(Some("action=list-attached-tags-on-objects")))
        .and(body_json(json!({"object_ids": [vm7.clone()]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"object_id": vm7.clone(), "tag_ids": ["tag-1", "tag-foreign"]}
        ])))
        .expect(2)
        .mount(&server)
        .await;
    let s = p.get_server(&ServerId::new("vm-7")).await.unwrap();
    assert_eq!(s.tags, vec!["web".to_owned()]);
    // The foreign tag is remembered: no second refresh of the names.
    let before = p.rest_calls();
    assert_eq!(
        p.get_server(&ServerId::new("vm-7")).await.unwrap().tags,
        vec!["web".to_owned()]
    );
    assert_eq!(p.rest_calls() - before, 1);

    // remove an absent tag: NotFound.
    Mock::given(method("POST"))
        .and(path("/api/cis/tagging/tag-association"))
        .and(Query(Some("action=list-attached-tags")))
        .and(body_json(json!({"object_id": vm7.clone()})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(["tag-1", "tag-foreign"])))
        .mount(&server)
        .await;
    let e = p
        .remove_server_tag(&ServerId::new("vm-7"), "db")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);

    // set: detach what is not wanted (only in the category), create and attach the rest.
    expect_rest(
        &server,
        F,
        "POST",
        "/api/cis/tagging/tag-association/tag-1",
        Some("action=detach"),
        Some(json!({"object_id": vm7.clone()})),
        no_content(),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/cis/tagging/tag",
        None,
        Some(json!({
            "name": "db", "description": "", "category_id": "cat-1"
        })),
        answer(F, 201, json!("tag-2")),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/cis/tagging/tag-association/tag-2",
        Some("action=attach"),
        Some(json!({"object_id": vm7.clone()})),
        no_content(),
    )
    .await;
    let set = p
        .set_server_tags(&ServerId::new("vm-7"), &["db".into(), "db".into()])
        .await
        .unwrap();
    assert_eq!(set, vec!["db".to_owned()]);

    // Bad tags never reach the vCenter.
    for bad in ["", "a\u{7}b"] {
        assert_eq!(
            p.add_server_tag(&ServerId::new("vm-7"), bad)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
    }
}

#[tokio::test]
async fn deploying_an_ovf_item_checks_the_result() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}"),
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": ITEM, "library_id": "lib-1", "name": "web", "type": "ovf"
            }),
        ),
    )
    .await;
    let target = json!({"resource_pool_id": "resgroup-9", "folder_id": "group-d1"});
    expect_rest(
        &server,
        F,
        "POST",
        &format!("/api/vcenter/ovf/library-item/{ITEM}"),
        Some("action=filter"),
        Some(json!({"target": target.clone()})),
        answer(F, 200, json!({"name": "web", "networks": ["frontend"]})),
    )
    .await;
    expect_rest(&server, F, "POST", &format!("/api/vcenter/ovf/library-item/{ITEM}"), Some("action=deploy"),
        Some(json!({"target": target, "deployment_spec": {
            "name": "web-1", "accept_all_EULA": true, "storage_provisioning": "thin", "default_datastore_id": "datastore-1"
        }})),
        answer(F, 200, json!({"succeeded": false, "error": {"errors": [{"category": "SERVER", "error": {
            "@class": "com.vmware.vapi.std.errors.error", "messages": [{"id": "x", "default_message": "disk too big"}]
        }}], "warnings": [], "information": []}}))).await;
    let op = p
        .create_server(&CreateServer::new("web-1", "vm-1cpu-2gb").with_image(ITEM))
        .await
        .unwrap();
    let e = op.await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OperationFailed);
    assert_eq!(
        e.message(),
        format!("deploying OVF item {ITEM} failed: disk too big")
    );

    // An ISO item is no server image.
    let iso = "11111111-2222-4333-8444-555555555555";
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{iso}"),
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": iso, "library_id": "lib-1", "name": "tools", "type": "iso"
            }),
        ),
    )
    .await;
    let e = p
        .create_server(&CreateServer::new("web-2", "vm-1cpu-2gb").with_image(iso))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

/// The upload library exists already: found by name, not created.
async fn mount_existing_library(server: &MockServer) {
    expect_rest(
        server,
        F,
        "GET",
        "/api/content/library",
        None,
        None,
        answer(F, 200, json!(["lib-1"])),
    )
    .await;
    expect_rest(
        server,
        F,
        "GET",
        "/api/content/library/lib-1",
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": "lib-1", "name": "hybrid", "type": "LOCAL",
                "storage_backings": [{"type": "DATASTORE", "datastore_id": "datastore-1"}]
            }),
        ),
    )
    .await;
}

#[tokio::test]
async fn a_url_import_waits_for_the_vcenter_to_fetch_the_file() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    mount_existing_library(&server).await;
    expect_rest(&server, F, "POST", "/api/content/library/item", None, Some(json!({
        "library_id": "lib-1", "name": "tools", "description": "uploaded by hybrid", "type": "iso"
    })), answer(F, 201, json!(ITEM))).await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/update-session",
        None,
        Some(json!({"library_item_id": ITEM})),
        answer(F, 201, json!("us-2")),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/update-session/us-2/file",
        None,
        Some(json!({"name": "tools.iso", "source_type": "PULL",
            "source_endpoint": {"uri": "https://images.example/tools.iso"}})),
        answer(
            F,
            201,
            json!({"name": "tools.iso", "source_type": "PULL", "status": "WAITING_FOR_TRANSFER"}),
        ),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library/item/update-session/us-2/file"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"name": "tools.iso", "status": "TRANSFERRING", "bytes_transferred": 5, "size": 10}
        ])))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library/item/update-session/us-2/file"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"name": "tools.iso", "status": "READY", "bytes_transferred": 10, "size": 10}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/update-session/us-2/file",
        Some("action=validate"),
        None,
        answer(F, 200, json!({"has_errors": false})),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/update-session/us-2",
        Some("action=complete"),
        None,
        no_content(),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/api/content/library/item/update-session/us-2",
        None,
        None,
        answer(
            F,
            200,
            json!({"id": "us-2", "library_item_id": ITEM, "state": "DONE"}),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}"),
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": ITEM, "library_id": "lib-1", "name": "tools", "type": "iso", "size": 10
            }),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}/file"),
        None,
        None,
        answer(F, 200, json!([{"name": "tools.iso", "size": 10}])),
    )
    .await;
    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let img = p
        .create_image(
            &CreateImage::new("tools", "iso", "bare"),
            ImageData::Url("https://images.example/tools.iso".into()),
        )
        .await
        .unwrap()
        .with_options(hybrid_core::WaitOptions {
            initial_delay: std::time::Duration::from_millis(5),
            ..Default::default()
        })
        .on_progress(move |p| seen.lock().unwrap().push(p.percent))
        .await
        .unwrap();
    assert_eq!(
        (img.status, img.size_bytes),
        (ImageStatus::Active, Some(10))
    );
    assert_eq!(img.disk_format.as_deref(), Some("iso"));
    assert!(progress.lock().unwrap().contains(&Some(50)));
}

#[tokio::test]
async fn a_download_prepares_streams_and_ends_its_session() {
    let server = MockServer::start().await;
    let p = provider(&server).await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}"),
        None,
        None,
        answer(
            F,
            200,
            json!({
                "id": ITEM, "library_id": "lib-1", "name": "web", "type": ""
            }),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        &format!("/api/content/library/item/{ITEM}/file"),
        None,
        None,
        answer(F, 200, json!([{"name": "web.raw", "size": 6}])),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/download-session",
        None,
        Some(json!({"library_item_id": ITEM})),
        answer(F, 201, json!("dl-1")),
    )
    .await;
    expect_rest(
        &server,
        F,
        "POST",
        "/api/content/library/item/download-session/dl-1/file",
        Some("action=prepare"),
        Some(json!({"file_name": "web.raw", "endpoint_type": "HTTPS"})),
        answer(F, 200, json!({"name": "web.raw", "status": "PREPARING"})),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/api/content/library/item/download-session/dl-1/file",
        Some("file_name=web.raw"),
        None,
        answer(
            F,
            200,
            json!({"name": "web.raw", "status": "PREPARED",
            "download_endpoint": {"uri": format!("{}/cls/data/dl-1/web.raw", server.uri())}}),
        ),
    )
    .await;
    expect_rest(
        &server,
        F,
        "GET",
        "/cls/data/dl-1/web.raw",
        None,
        None,
        ResponseTemplate::new(200).set_body_bytes(b"abcdef".to_vec()),
    )
    .await;
    expect_rest(
        &server,
        F,
        "DELETE",
        "/api/content/library/item/download-session/dl-1",
        None,
        None,
        no_content(),
    )
    .await;
    let s = p.download_image(&ImageId::new(ITEM)).await.unwrap();
    let got: Vec<u8> =
        futures::TryStreamExt::try_concat(futures::TryStreamExt::map_ok(s, |b| b.to_vec()))
            .await
            .unwrap();
    assert_eq!(got, b"abcdef");

    // A template is no byte stream.
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(wiremock::matchers::body_string_contains(r#"<obj type="VirtualMachine">vm-5</obj>"#))
        .respond_with(ok_xml(r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-5</obj><propSet><name>config.template</name><val xsi:type="xsd:boolean">true</val></propSet></objects></returnval></RetrievePropertiesExResponse>"#))
        .mount(&server)
        .await;
    let Err(e) = p.download_image(&ImageId::new("vm-5")).await else {
        panic!("a template was downloaded");
    };
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

/// A VM object of a listing page, no template.
fn listed_vm(id: &str) -> String {
    format!(
        r#"<objects><obj type="VirtualMachine">{id}</obj><propSet><name>name</name><val xsi:type="xsd:string">name-{id}</val></propSet><propSet><name>config.template</name><val xsi:type="xsd:boolean">false</val></propSet><propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet></objects>"#
    )
}

fn vm_page(method: &str, ids: &[&str], token: Option<&str>) -> ResponseTemplate {
    let objects: String = ids.iter().map(|id| listed_vm(id)).collect();
    let token = token
        .map(|t| format!("<token>{t}</token>"))
        .unwrap_or_default();
    ok_xml(&format!(
        r#"<{method}Response xmlns="urn:vim25"><returnval>{token}{objects}</returnval></{method}Response>"#
    ))
}

/// Records when a request arrived and answers `answer`.
struct Stamp(
    std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    ResponseTemplate,
);

impl wiremock::Respond for Stamp {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        *self.0.lock().unwrap() = Some(std::time::Instant::now());
        self.1.clone()
    }
}

type Arrival = std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>;

/// Four VMs in pages of two, one and one (`tok-1`, `tok-2`), the server-tag category
/// with tag `web`; the tag call of each page answers `tags[page]`. Returns when the
/// second page was asked for and when the first page's tags were.
async fn mount_paged_listing(
    server: &MockServer,
    tags: [ResponseTemplate; 3],
) -> (Arrival, Arrival) {
    let (second_page, first_tags) = (Arrival::default(), Arrival::default());
    Mock::given(Soap("CreateContainerView"))
        .and(wiremock::matchers::body_string_contains("<type>VirtualMachine</type>"))
        .respond_with(ok_xml(r#"<CreateContainerViewResponse xmlns="urn:vim25"><returnval type="ContainerView">session[1]vms</returnval></CreateContainerViewResponse>"#))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(Soap("RetrievePropertiesEx"))
        .and(wiremock::matchers::body_string_contains(
            "<maxObjects>2</maxObjects>",
        ))
        .respond_with(vm_page(
            "RetrievePropertiesEx",
            &["vm-1", "vm-2"],
            Some("tok-1"),
        ))
        .expect(1)
        .mount(server)
        .await;
    for (token, ids, next, stamp) in [
        ("tok-1", &["vm-3"], Some("tok-2"), Some(second_page.clone())),
        ("tok-2", &["vm-4"], None, None),
    ] {
        let page = vm_page("ContinueRetrievePropertiesEx", ids, next);
        let m = Mock::given(Soap("ContinueRetrievePropertiesEx")).and(
            wiremock::matchers::body_string_contains(format!("<token>{token}</token>")),
        );
        match stamp {
            Some(s) => m.respond_with(Stamp(s, page)),
            None => m.respond_with(page),
        }
        .up_to_n_times(1)
        .mount(server)
        .await;
    }
    expect_rest(
        server,
        F,
        "GET",
        "/api/cis/tagging/category",
        None,
        None,
        answer(F, 200, json!(["cat-1"])),
    )
    .await;
    expect_rest(
        server,
        F,
        "GET",
        "/api/cis/tagging/category/cat-1",
        None,
        None,
        answer(
            F,
            200,
            json!({"id": "cat-1", "name": "hybrid", "cardinality": "MULTIPLE", "associable_types": []}),
        ),
    )
    .await;
    expect_rest(
        server,
        F,
        "POST",
        "/api/cis/tagging/tag",
        Some("action=list-tags-for-category"),
        Some(json!({"category_id": "cat-1"})),
        answer(F, 200, json!(["tag-1"])),
    )
    .await;
    expect_rest(
        server,
        F,
        "GET",
        "/api/cis/tagging/tag/tag-1",
        None,
        None,
        answer(
            F,
            200,
            json!({"id": "tag-1", "category_id": "cat-1", "name": "web", "description": ""}),
        ),
    )
    .await;
    let [t1, t2, t3] = tags;
    for (ids, t, stamp) in [
        (vec!["vm-1", "vm-2"], t1, Some(first_tags.clone())),
        (vec!["vm-3"], t2, None),
        (vec!["vm-4"], t3, None),
    ] {
        let objects: Vec<_> = ids
            .iter()
            .map(|id| json!({"type": "VirtualMachine", "id": id}))
            .collect();
        let m = Mock::given(method("POST"))
            .and(path("/api/cis/tagging/tag-association"))
            .and(Query(Some("action=list-attached-tags-on-objects")))
            .and(header("vmware-api-session-id", "sess-api-1"))
            .and(body_json(json!({ "object_ids": objects })));
        match stamp {
            Some(s) => m.respond_with(Stamp(s, t)),
            None => m.respond_with(t),
        }
        .up_to_n_times(1)
        .mount(server)
        .await;
    }
    (second_page, first_tags)
}

fn attached(pairs: &[(&str, &[&str])]) -> ResponseTemplate {
    let v: Vec<_> = pairs
        .iter()
        .map(|(id, tags)| json!({"object_id": {"type": "VirtualMachine", "id": id}, "tag_ids": tags}))
        .collect();
    answer(F, 200, json!(v))
}

/// `list_servers` reads every page with its tags, and asks for the next page before
/// the current page's tags have come back (the tag call of page 1 is answered a
/// second late; page 2 is asked for right away, not after it).
#[tokio::test]
async fn list_servers_fetches_the_next_page_while_this_page_is_tagged() {
    use futures::StreamExt;
    let server = MockServer::start().await;
    let p = provider(&server).await;
    let late = std::time::Duration::from_secs(1);
    let (second_page, first_tags) = mount_paged_listing(
        &server,
        [
            attached(&[("vm-1", &["tag-1"]), ("vm-2", &[])]).set_delay(late),
            attached(&[("vm-3", &["tag-1"])]),
            attached(&[]),
        ],
    )
    .await;
    let servers: Vec<_> = p
        .list_servers(ListOptions::new().with_page_size(2))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<hybrid_core::Result<_>>()
        .unwrap();
    let got: Vec<(&str, &str, Vec<String>)> = servers
        .iter()
        .map(|s| (s.id.as_str(), s.name.as_str(), s.tags.clone()))
        .collect();
    let web = || vec!["web".to_owned()];
    assert_eq!(
        got,
        vec![
            ("vm-1", "name-vm-1", web()),
            ("vm-2", "name-vm-2", vec![]),
            ("vm-3", "name-vm-3", web()),
            ("vm-4", "name-vm-4", vec![]),
        ]
    );
    let (asked, tagged) = (
        second_page.lock().unwrap().expect("page 2 was asked for"),
        first_tags.lock().unwrap().expect("page 1 was tagged"),
    );
    assert!(
        asked < tagged + late / 2,
        "page 2 was asked for {:?} after page 1's tags, which took {late:?}",
        asked - tagged
    );
    // With a tag filter, only the tagged servers, in order.
    let (second_page, _) = (second_page, first_tags);
    drop(second_page);
}

/// A failed tag call ends the listing with its error after the servers before it:
/// the page after it is never tagged, the one after that never asked for.
#[tokio::test]
async fn list_servers_ends_at_a_failed_tag_call() {
    use futures::StreamExt;
    let server = MockServer::start().await;
    let p = provider(&server).await;
    mount_paged_listing(
        &server,
        [
            attached(&[("vm-1", &["tag-1"])]),
            answer(
                F,
                400,
                json!({"error_type": "INVALID_ARGUMENT", "messages": []}),
            ),
            attached(&[]),
        ],
    )
    .await;
    let out: Vec<_> = p
        .list_servers(ListOptions::new().with_page_size(2))
        .collect()
        .await;
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0].as_ref().unwrap().id.as_str(), "vm-1");
    assert_eq!(out[0].as_ref().unwrap().tags, vec!["web".to_owned()]);
    assert_eq!(out[1].as_ref().unwrap().id.as_str(), "vm-2");
    assert_eq!(out[2].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    let reqs = server.received_requests().await.unwrap();
    let bodies: Vec<String> = reqs
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        !bodies.iter().any(|b| b.contains("\"vm-4\"")),
        "page 3 was tagged: {bodies:#?}"
    );
    // Page 3 (tok-2) may have been asked for ahead, at most once.
    assert!(
        bodies
            .iter()
            .filter(|b| b.contains("<token>tok-2</token>"))
            .count()
            <= 1
    );
}
