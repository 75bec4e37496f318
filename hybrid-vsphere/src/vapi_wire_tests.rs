//! Wire tests of the vSphere Automation (vAPI) REST side: every call's exact request
//! (method, path, query, the `vmware-api-session-id` header, JSON body) in both path
//! flavours (`/api` and `/rest`), the session (login with fallback, re-login after a
//! `401`, logout), transfers, and vAPI error bodies.

use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use hybrid_core::ErrorKind;

use crate::api::{library, tagging};
use crate::config::VsphereConfig;
use crate::protocol::vapi::{
    CategoryCreateSpec, DeployRequest, DeploymentSpec, DeploymentTarget, DynamicId, FileAddSpec,
    FilterRequest, Flavour, ItemCreateSpec, LocalLibraryCreateSpec, PublishInfo, StorageBacking,
    TagCreateSpec,
};
use crate::vapi::Vapi;

pub(crate) const USER: &str = "wire-user";
pub(crate) const PASSWORD: &str = "wire-Rest-Secret-31";
const BASIC: &str = "Basic d2lyZS11c2VyOndpcmUtUmVzdC1TZWNyZXQtMzE="; // wire-user:wire-Rest-Secret-31

pub(crate) fn config(server: &MockServer) -> VsphereConfig {
    VsphereConfig::from_lookup(|k| match k {
        "GOVC_URL" => Some(format!("{}/sdk", server.uri())),
        "GOVC_USERNAME" => Some(USER.into()),
        "GOVC_PASSWORD" => Some(PASSWORD.into()),
        _ => None,
    })
    .unwrap()
}

/// The raw query string, exactly (`None`: no query at all).
pub(crate) struct Query(pub(crate) Option<&'static str>);

impl Match for Query {
    fn matches(&self, r: &Request) -> bool {
        r.url.query() == self.0
    }
}

/// No request body.
pub(crate) struct NoBody;

impl Match for NoBody {
    fn matches(&self, r: &Request) -> bool {
        r.body.is_empty()
    }
}

/// The session id of each flavour's login answer.
pub(crate) fn session_id(f: Flavour) -> &'static str {
    match f {
        Flavour::Api => "sess-api-1",
        Flavour::Rest => "sess-rest-1",
    }
}

/// Mounts the login of flavour `f` (each expected once): `/api` answers 201 with a JSON
/// string; for `/rest`, `/api/session` answers 404 first.
pub(crate) async fn mount_vapi_login(server: &MockServer, f: Flavour) {
    mount_vapi_login_with(server, f, BASIC).await
}

/// As [`mount_vapi_login`], for the credentials whose basic header is `basic`.
pub(crate) async fn mount_vapi_login_with(server: &MockServer, f: Flavour, basic: &'static str) {
    let api = Mock::given(method("POST"))
        .and(path("/api/session"))
        .and(Query(None))
        .and(header("authorization", basic))
        .and(header("vmware-use-header-authn", "true"))
        .and(NoBody);
    match f {
        Flavour::Api => {
            api.respond_with(ResponseTemplate::new(201).set_body_json(json!("sess-api-1")))
                .expect(1)
                .mount(server)
                .await
        }
        Flavour::Rest => {
            api.respond_with(ResponseTemplate::new(404).set_body_string("404 page not found"))
                .expect(1)
                .mount(server)
                .await;
            Mock::given(method("POST"))
                .and(path("/rest/com/vmware/cis/session"))
                .and(Query(None))
                .and(header("authorization", basic))
                .and(header("vmware-use-header-authn", "true"))
                .and(NoBody)
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header(
                            "set-cookie",
                            "vmware-api-session-id=sess-rest-1; Path=/rest",
                        )
                        .set_body_json(json!({ "value": "sess-rest-1" })),
                )
                .expect(1)
                .mount(server)
                .await
        }
    }
}

/// Expects exactly one request `verb path?query` carrying the session of `f` and
/// `body` (or none), answering `answer`.
pub(crate) async fn expect_rest(
    server: &MockServer,
    f: Flavour,
    verb: &str,
    p: &str,
    query: Option<&'static str>,
    body: Option<Value>,
    answer: ResponseTemplate,
) {
    let m = Mock::given(method(verb))
        .and(path(p))
        .and(Query(query))
        .and(header("vmware-api-session-id", session_id(f)));
    let m = match body {
        Some(b) => m.and(body_json(b)),
        None => m.and(NoBody),
    };
    m.respond_with(answer).expect(1).mount(server).await;
}

/// An answer of flavour `f`: bare on `/api`, `{"value": …}` on `/rest`.
pub(crate) fn answer(f: Flavour, status: u16, v: Value) -> ResponseTemplate {
    match f {
        Flavour::Api => ResponseTemplate::new(status).set_body_json(v),
        Flavour::Rest => ResponseTemplate::new(status).set_body_json(json!({ "value": v })),
    }
}

/// A 200 (`/rest`) or 204 (`/api`) without a body.
fn empty(f: Flavour) -> ResponseTemplate {
    match f {
        Flavour::Api => ResponseTemplate::new(204),
        Flavour::Rest => ResponseTemplate::new(200),
    }
}

async fn vapi(server: &MockServer, f: Flavour) -> Vapi {
    mount_vapi_login(server, f).await;
    let v = Vapi::new(&config(server)).unwrap();
    assert_eq!(v.flavour().await.unwrap(), f);
    v
}

fn vm1() -> DynamicId {
    DynamicId {
        kind: "VirtualMachine".into(),
        id: "vm-1".into(),
    }
}

#[tokio::test]
async fn login_prefers_api_and_falls_back_to_rest_then_logs_out() {
    for f in [Flavour::Api, Flavour::Rest] {
        let server = MockServer::start().await;
        let v = vapi(&server, f).await;
        let dbg = format!("{v:?}");
        assert!(
            !dbg.contains(PASSWORD) && !dbg.contains(session_id(f)),
            "{dbg}"
        );
        let list = match f {
            Flavour::Api => "/api/cis/tagging/category",
            Flavour::Rest => "/rest/com/vmware/cis/tagging/category",
        };
        expect_rest(
            &server,
            f,
            "GET",
            list,
            None,
            None,
            answer(f, 200, json!(["c-1"])),
        )
        .await;
        assert_eq!(tagging::list_categories(&v).await.unwrap(), vec!["c-1"]);
        let session = match f {
            Flavour::Api => "/api/session",
            Flavour::Rest => "/rest/com/vmware/cis/session",
        };
        expect_rest(&server, f, "DELETE", session, None, None, empty(f)).await;
        v.logout().await.unwrap();
        // A second logout has no session to end: no request.
        v.logout().await.unwrap();
        assert_eq!(v.calls(), if f == Flavour::Api { 3 } else { 4 });
    }
}

#[tokio::test]
async fn login_refused_or_missing_is_a_typed_error_without_the_password() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!(
            "{{\"error_type\":\"UNAUTHENTICATED\",\"echo\":\"{PASSWORD}\"}}"
        )))
        .expect(1)
        .mount(&server)
        .await;
    let v = Vapi::new(&config(&server)).unwrap();
    let e = v.flavour().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert!(!format!("{e} {e:?}").contains(PASSWORD), "{e:?}");
    assert!(e.message().contains("POST /api/session"), "{e}");

    // vCenter 6.x: no /api; /rest refuses.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/com/vmware/cis/session"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "type": "com.vmware.vapi.std.errors.unauthenticated",
            "value": {"messages": [{"id": "x", "default_message": PASSWORD}]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let v = Vapi::new(&config(&server)).unwrap();
    let e = v.flavour().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthenticated);
    assert!(!format!("{e} {e:?}").contains(PASSWORD), "{e:?}");

    // Neither path exists: the automation API is unavailable.
    let server = MockServer::start().await;
    let v = Vapi::new(&config(&server)).unwrap();
    let e = v.flavour().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");

    // A broken answer to the login.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(201).set_body_string("{not json"))
        .mount(&server)
        .await;
    let v = Vapi::new(&config(&server)).unwrap();
    assert_eq!(
        v.flavour().await.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
}

#[tokio::test]
async fn an_expired_session_is_recreated_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!("sess-old")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!("sess-new")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library"))
        .and(header("vmware-api-session-id", "sess-old"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error_type": "UNAUTHENTICATED", "messages": []
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library"))
        .and(header("vmware-api-session-id", "sess-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(["lib-1"])))
        .expect(2)
        .mount(&server)
        .await;
    let v = Vapi::new(&config(&server)).unwrap();
    assert_eq!(library::list_libraries(&v).await.unwrap(), vec!["lib-1"]);
    // The new session is kept.
    assert_eq!(library::list_libraries(&v).await.unwrap(), vec!["lib-1"]);

    // A session refused twice is Unauthenticated.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/session"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!("s")))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/content/library"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let v = Vapi::new(&config(&server)).unwrap();
    assert_eq!(
        library::list_libraries(&v).await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

fn tag_paths(f: Flavour) -> [&'static str; 8] {
    match f {
        Flavour::Api => [
            "/api/cis/tagging/category",
            "/api/cis/tagging/category/urn:vmomi:InventoryServiceCategory:c1:GLOBAL",
            "/api/cis/tagging/tag",
            "/api/cis/tagging/tag/urn:vmomi:InventoryServiceTag:t1:GLOBAL",
            "/api/cis/tagging/tag-association/urn:vmomi:InventoryServiceTag:t1:GLOBAL",
            "/api/cis/tagging/tag-association",
            "/api/cis/tagging/tag",
            "action",
        ],
        Flavour::Rest => [
            "/rest/com/vmware/cis/tagging/category",
            "/rest/com/vmware/cis/tagging/category/id:urn:vmomi:InventoryServiceCategory:c1:GLOBAL",
            "/rest/com/vmware/cis/tagging/tag",
            "/rest/com/vmware/cis/tagging/tag/id:urn:vmomi:InventoryServiceTag:t1:GLOBAL",
            "/rest/com/vmware/cis/tagging/tag-association/id:urn:vmomi:InventoryServiceTag:t1:GLOBAL",
            "/rest/com/vmware/cis/tagging/tag-association",
            "/rest/com/vmware/cis/tagging/tag/id:urn:vmomi:InventoryServiceCategory:c1:GLOBAL",
            "~action",
        ],
    }
}

fn q(f: Flavour, action: &'static str) -> Option<&'static str> {
    Some(match (f, action) {
        (Flavour::Api, "attach") => "action=attach",
        (Flavour::Api, "detach") => "action=detach",
        (Flavour::Api, "list-attached-tags") => "action=list-attached-tags",
        (Flavour::Api, "list-attached-tags-on-objects") => "action=list-attached-tags-on-objects",
        (Flavour::Api, "list-attached-objects") => "action=list-attached-objects",
        (Flavour::Api, "list-tags-for-category") => "action=list-tags-for-category",
        (Flavour::Api, "complete") => "action=complete",
        (Flavour::Api, "fail") => "action=fail",
        (Flavour::Api, "validate") => "action=validate",
        (Flavour::Api, "prepare") => "action=prepare",
        (Flavour::Api, "deploy") => "action=deploy",
        (Flavour::Api, "filter") => "action=filter",
        (Flavour::Rest, "attach") => "~action=attach",
        (Flavour::Rest, "detach") => "~action=detach",
        (Flavour::Rest, "list-attached-tags") => "~action=list-attached-tags",
        (Flavour::Rest, "list-attached-tags-on-objects") => "~action=list-attached-tags-on-objects",
        (Flavour::Rest, "list-attached-objects") => "~action=list-attached-objects",
        (Flavour::Rest, "list-tags-for-category") => "~action=list-tags-for-category",
        (Flavour::Rest, "complete") => "~action=complete",
        (Flavour::Rest, "fail") => "~action=fail",
        (Flavour::Rest, "validate") => "~action=validate",
        (Flavour::Rest, "prepare") => "~action=prepare",
        (Flavour::Rest, "get") => "~action=get",
        (Flavour::Rest, "add") => "~action=add",
        (Flavour::Rest, "deploy") => "~action=deploy",
        (Flavour::Rest, "filter") => "~action=filter",
        (Flavour::Rest, "create") => "~action=create",
        (f, a) => panic!("no action {a} for {f:?} in this table"),
    })
}

/// A create body: bare on `/api`, `{"create_spec": …}` on `/rest`.
fn create_spec(f: Flavour, v: Value) -> Value {
    match f {
        Flavour::Api => v,
        Flavour::Rest => json!({ "create_spec": v }),
    }
}

#[tokio::test]
async fn tagging_calls_have_exact_requests_in_both_flavours() {
    const CAT: &str = "urn:vmomi:InventoryServiceCategory:c1:GLOBAL";
    const TAG: &str = "urn:vmomi:InventoryServiceTag:t1:GLOBAL";
    for f in [Flavour::Api, Flavour::Rest] {
        let server = MockServer::start().await;
        let v = vapi(&server, f).await;
        let [cats, cat, tags, tag, assoc_tag, assoc, tags_of_cat, _] = tag_paths(f);

        let spec = json!({"name": "hybrid", "description": "d", "cardinality": "MULTIPLE", "associable_types": ["VirtualMachine"]});
        expect_rest(
            &server,
            f,
            "POST",
            cats,
            None,
            Some(create_spec(f, spec)),
            answer(f, 201, json!(CAT)),
        )
        .await;
        let id = tagging::create_category(
            &v,
            &CategoryCreateSpec {
                name: "hybrid".into(),
                description: "d".into(),
                cardinality: "MULTIPLE".into(),
                associable_types: vec!["VirtualMachine".into()],
            },
        )
        .await
        .unwrap();
        assert_eq!(id, CAT);

        expect_rest(
            &server,
            f,
            "GET",
            cat,
            None,
            None,
            answer(
                f,
                200,
                json!({
                    "id": CAT, "name": "hybrid", "description": "d", "cardinality": "MULTIPLE",
                    "associable_types": ["VirtualMachine"], "used_by": []
                }),
            ),
        )
        .await;
        let c = tagging::get_category(&v, CAT).await.unwrap();
        assert_eq!(
            (c.name.as_str(), c.cardinality.as_str()),
            ("hybrid", "MULTIPLE")
        );

        let tspec = json!({"name": "web", "description": "", "category_id": CAT});
        expect_rest(
            &server,
            f,
            "POST",
            tags,
            None,
            Some(create_spec(f, tspec)),
            answer(f, 201, json!(TAG)),
        )
        .await;
        let t = tagging::create_tag(
            &v,
            &TagCreateSpec {
                name: "web".into(),
                description: String::new(),
                category_id: CAT.into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(t, TAG);

        expect_rest(
            &server,
            f,
            "GET",
            tags,
            None,
            None,
            answer(f, 200, json!([TAG])),
        )
        .await;
        assert_eq!(tagging::list_tags(&v).await.unwrap(), vec![TAG]);

        expect_rest(
            &server,
            f,
            "GET",
            tag,
            None,
            None,
            answer(
                f,
                200,
                json!({
                    "id": TAG, "category_id": CAT, "name": "web", "description": "", "used_by": []
                }),
            ),
        )
        .await;
        assert_eq!(tagging::get_tag(&v, TAG).await.unwrap().name, "web");

        let (p, body) = match f {
            Flavour::Api => (tags, Some(json!({"category_id": CAT}))),
            Flavour::Rest => (tags_of_cat, None),
        };
        expect_rest(
            &server,
            f,
            "POST",
            p,
            q(f, "list-tags-for-category"),
            body,
            answer(f, 200, json!([TAG])),
        )
        .await;
        assert_eq!(
            tagging::list_tags_for_category(&v, CAT).await.unwrap(),
            vec![TAG]
        );

        let obj = json!({"object_id": {"type": "VirtualMachine", "id": "vm-1"}});
        expect_rest(
            &server,
            f,
            "POST",
            assoc_tag,
            q(f, "attach"),
            Some(obj.clone()),
            empty(f),
        )
        .await;
        tagging::attach(&v, TAG, &vm1()).await.unwrap();
        expect_rest(
            &server,
            f,
            "POST",
            assoc_tag,
            q(f, "detach"),
            Some(obj.clone()),
            empty(f),
        )
        .await;
        tagging::detach(&v, TAG, &vm1()).await.unwrap();
        expect_rest(
            &server,
            f,
            "POST",
            assoc,
            q(f, "list-attached-tags"),
            Some(obj),
            answer(f, 200, json!([TAG])),
        )
        .await;
        assert_eq!(
            tagging::list_attached_tags(&v, &vm1()).await.unwrap(),
            vec![TAG]
        );

        expect_rest(
            &server, f, "POST", assoc, q(f, "list-attached-tags-on-objects"),
            Some(json!({"object_ids": [{"type": "VirtualMachine", "id": "vm-1"}, {"type": "VirtualMachine", "id": "vm-2"}]})),
            answer(f, 200, json!([
                {"object_id": {"type": "VirtualMachine", "id": "vm-1"}, "tag_ids": [TAG]},
                {"object_id": {"type": "VirtualMachine", "id": "vm-2"}, "tag_ids": []}
            ])),
        ).await;
        let vm2 = DynamicId {
            kind: "VirtualMachine".into(),
            id: "vm-2".into(),
        };
        let on = tagging::list_attached_tags_on_objects(&v, &[vm1(), vm2])
            .await
            .unwrap();
        assert_eq!((on[0].tag_ids.len(), on[1].tag_ids.len()), (1, 0));

        expect_rest(
            &server,
            f,
            "POST",
            assoc_tag,
            q(f, "list-attached-objects"),
            Some(json!({})),
            answer(f, 200, json!([{"type": "VirtualMachine", "id": "vm-1"}])),
        )
        .await;
        assert_eq!(
            tagging::list_attached_objects(&v, TAG).await.unwrap(),
            vec![vm1()]
        );

        expect_rest(&server, f, "DELETE", tag, None, None, empty(f)).await;
        tagging::delete_tag(&v, TAG).await.unwrap();
        expect_rest(
            &server,
            f,
            "GET",
            cats,
            None,
            None,
            answer(f, 200, json!([CAT])),
        )
        .await;
        assert_eq!(tagging::list_categories(&v).await.unwrap(), vec![CAT]);
        expect_rest(&server, f, "DELETE", cat, None, None, empty(f)).await;
        tagging::delete_category(&v, CAT).await.unwrap();
    }
}

fn lib(f: Flavour, rest: &'static str, api: &'static str) -> &'static str {
    match f {
        Flavour::Api => api,
        Flavour::Rest => rest,
    }
}

#[tokio::test]
async fn library_calls_have_exact_requests_in_both_flavours() {
    const LIB: &str = "0527489b-d316-442e-8784-2e8e0234b35c";
    const ITEM: &str = "67ecae42-f7a1-4720-99f6-c0b01f769ec3";
    const US: &str = "f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10";
    for f in [Flavour::Api, Flavour::Rest] {
        let server = MockServer::start().await;
        let v = vapi(&server, f).await;

        expect_rest(
            &server,
            f,
            "GET",
            lib(
                f,
                "/rest/com/vmware/content/library",
                "/api/content/library",
            ),
            None,
            None,
            answer(f, 200, json!([LIB])),
        )
        .await;
        assert_eq!(library::list_libraries(&v).await.unwrap(), vec![LIB]);

        expect_rest(
            &server,
            f,
            "GET",
            lib(
                f,
                "/rest/com/vmware/content/library/id:0527489b-d316-442e-8784-2e8e0234b35c",
                "/api/content/library/0527489b-d316-442e-8784-2e8e0234b35c",
            ),
            None,
            None,
            answer(
                f,
                200,
                json!({
                    "id": LIB, "name": "hybrid", "type": "LOCAL",
                    "storage_backings": [{"type": "DATASTORE", "datastore_id": "datastore-12"}]
                }),
            ),
        )
        .await;
        let l = library::get_library(&v, LIB).await.unwrap();
        assert_eq!(
            l.storage_backings[0].datastore_id.as_deref(),
            Some("datastore-12")
        );

        let spec = json!({
            "name": "hybrid", "description": "d", "type": "LOCAL",
            "storage_backings": [{"type": "DATASTORE", "datastore_id": "datastore-12"}],
            "publish_info": {"authentication_method": "NONE", "published": false}
        });
        expect_rest(
            &server,
            f,
            "POST",
            lib(
                f,
                "/rest/com/vmware/content/local-library",
                "/api/content/local-library",
            ),
            None,
            Some(create_spec(f, spec)),
            answer(f, 201, json!(LIB)),
        )
        .await;
        let id = library::create_local_library(
            &v,
            &LocalLibraryCreateSpec {
                name: "hybrid".into(),
                description: "d".into(),
                kind: "LOCAL".into(),
                storage_backings: vec![StorageBacking {
                    kind: "DATASTORE".into(),
                    datastore_id: Some("datastore-12".into()),
                    storage_uri: None,
                }],
                publish_info: Some(PublishInfo {
                    authentication_method: "NONE".into(),
                    published: false,
                }),
            },
        )
        .await
        .unwrap();
        assert_eq!(id, LIB);

        expect_rest(
            &server,
            f,
            "GET",
            lib(
                f,
                "/rest/com/vmware/content/library/item",
                "/api/content/library/item",
            ),
            Some("library_id=0527489b-d316-442e-8784-2e8e0234b35c"),
            None,
            answer(f, 200, json!([ITEM])),
        )
        .await;
        assert_eq!(library::list_items(&v, LIB).await.unwrap(), vec![ITEM]);

        let item_path = lib(
            f,
            "/rest/com/vmware/content/library/item/id:67ecae42-f7a1-4720-99f6-c0b01f769ec3",
            "/api/content/library/item/67ecae42-f7a1-4720-99f6-c0b01f769ec3",
        );
        expect_rest(&server, f, "GET", item_path, None, None, answer(f, 200, json!({
            "id": ITEM, "library_id": LIB, "name": "web", "type": "ovf", "size": 1000, "cached": true
        }))).await;
        let it = library::get_item(&v, ITEM).await.unwrap();
        assert_eq!((it.kind.as_str(), it.size), ("ovf", Some(1000)));

        let ispec = json!({"library_id": LIB, "name": "web", "description": "d", "type": "ovf"});
        expect_rest(
            &server,
            f,
            "POST",
            lib(
                f,
                "/rest/com/vmware/content/library/item",
                "/api/content/library/item",
            ),
            None,
            Some(create_spec(f, ispec)),
            answer(f, 201, json!(ITEM)),
        )
        .await;
        assert_eq!(
            library::create_item(
                &v,
                &ItemCreateSpec {
                    library_id: LIB.into(),
                    name: "web".into(),
                    description: "d".into(),
                    kind: Some("ovf".into())
                }
            )
            .await
            .unwrap(),
            ITEM
        );

        let (fp, fq) = match f {
            Flavour::Api => (
                "/api/content/library/item/67ecae42-f7a1-4720-99f6-c0b01f769ec3/file",
                None,
            ),
            Flavour::Rest => (
                "/rest/com/vmware/content/library/item/file",
                Some("library_item_id=67ecae42-f7a1-4720-99f6-c0b01f769ec3"),
            ),
        };
        expect_rest(
            &server,
            f,
            "GET",
            fp,
            fq,
            None,
            answer(
                f,
                200,
                json!([{"name": "web.ovf", "size": 10, "cached": true, "version": "1"}]),
            ),
        )
        .await;
        assert_eq!(
            library::list_item_files(&v, ITEM).await.unwrap()[0].size,
            Some(10)
        );

        expect_rest(
            &server,
            f,
            "POST",
            lib(
                f,
                "/rest/com/vmware/content/library/item/update-session",
                "/api/content/library/item/update-session",
            ),
            None,
            Some(create_spec(f, json!({"library_item_id": ITEM}))),
            answer(f, 201, json!(US)),
        )
        .await;
        assert_eq!(library::create_update_session(&v, ITEM).await.unwrap(), US);

        let us_path = lib(f, "/rest/com/vmware/content/library/item/update-session/id:f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10", "/api/content/library/item/update-session/f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10");
        expect_rest(
            &server,
            f,
            "GET",
            us_path,
            None,
            None,
            answer(
                f,
                200,
                json!({
                    "id": US, "library_item_id": ITEM, "state": "ACTIVE", "client_progress": 0
                }),
            ),
        )
        .await;
        assert_eq!(
            library::get_update_session(&v, US).await.unwrap().state,
            "ACTIVE"
        );

        let add = json!({"name": "web.ovf", "source_type": "PUSH", "size": 10});
        let (ap, aq, ab) = match f {
            Flavour::Api => ("/api/content/library/item/update-session/f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10/file", None, add),
            Flavour::Rest => ("/rest/com/vmware/content/library/item/updatesession/file/id:f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10", q(f, "add"), json!({"file_spec": add})),
        };
        expect_rest(
            &server,
            f,
            "POST",
            ap,
            aq,
            Some(ab),
            answer(
                f,
                200,
                json!({
                    "name": "web.ovf", "source_type": "PUSH", "status": "WAITING_FOR_TRANSFER",
                    "upload_endpoint": {"uri": format!("{}/cls/data/x/web.ovf", server.uri())}
                }),
            ),
        )
        .await;
        let info = library::add_file(
            &v,
            US,
            &FileAddSpec {
                name: "web.ovf".into(),
                source_type: "PUSH".into(),
                size: Some(10),
                source_endpoint: None,
            },
        )
        .await
        .unwrap();
        assert!(info
            .upload_endpoint
            .unwrap()
            .uri
            .ends_with("/cls/data/x/web.ovf"));

        let (lp, lq) = match f {
            Flavour::Api => ("/api/content/library/item/update-session/f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10/file", None),
            Flavour::Rest => ("/rest/com/vmware/content/library/item/updatesession/file", Some("update_session_id=f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10")),
        };
        expect_rest(&server, f, "GET", lp, lq, None, answer(f, 200, json!([{"name": "web.ovf", "status": "READY", "bytes_transferred": 10, "size": 10}]))).await;
        assert_eq!(
            library::list_session_files(&v, US).await.unwrap()[0].status,
            "READY"
        );

        let vp = lib(f, "/rest/com/vmware/content/library/item/updatesession/file/id:f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10", "/api/content/library/item/update-session/f5bc7f4a-8a9e-4d44-96f4-5b3c4b7e2a10/file");
        expect_rest(
            &server,
            f,
            "POST",
            vp,
            q(f, "validate"),
            None,
            answer(
                f,
                200,
                json!({"has_errors": false, "missing_files": [], "invalid_files": []}),
            ),
        )
        .await;
        assert!(!library::validate(&v, US).await.unwrap().unwrap().has_errors);

        expect_rest(
            &server,
            f,
            "POST",
            us_path,
            q(f, "complete"),
            None,
            empty(f),
        )
        .await;
        library::complete(&v, US).await.unwrap();
        expect_rest(
            &server,
            f,
            "POST",
            us_path,
            q(f, "fail"),
            Some(json!({"client_error_message": "why"})),
            empty(f),
        )
        .await;
        library::fail(&v, US, "why").await.unwrap();
        expect_rest(&server, f, "DELETE", us_path, None, None, empty(f)).await;
        library::delete_update_session(&v, US).await.unwrap();

        const DL: &str = "0f0f0f0f-1111-4222-8333-444444444444";
        expect_rest(
            &server,
            f,
            "POST",
            lib(
                f,
                "/rest/com/vmware/content/library/item/download-session",
                "/api/content/library/item/download-session",
            ),
            None,
            Some(create_spec(f, json!({"library_item_id": ITEM}))),
            answer(f, 201, json!(DL)),
        )
        .await;
        assert_eq!(
            library::create_download_session(&v, ITEM).await.unwrap(),
            DL
        );
        let pp = lib(f, "/rest/com/vmware/content/library/item/downloadsession/file/id:0f0f0f0f-1111-4222-8333-444444444444", "/api/content/library/item/download-session/0f0f0f0f-1111-4222-8333-444444444444/file");
        expect_rest(
            &server,
            f,
            "POST",
            pp,
            q(f, "prepare"),
            Some(json!({"file_name": "web.ovf", "endpoint_type": "HTTPS"})),
            answer(
                f,
                200,
                json!({"name": "web.ovf", "status": "PREPARE_REQUESTED"}),
            ),
        )
        .await;
        assert_eq!(
            library::prepare_file(&v, DL, "web.ovf")
                .await
                .unwrap()
                .status,
            "PREPARE_REQUESTED"
        );
        match f {
            Flavour::Api => expect_rest(&server, f, "GET", pp, Some("file_name=web.ovf"), None,
                answer(f, 200, json!({"name": "web.ovf", "status": "PREPARED", "download_endpoint": {"uri": "https://vc/cls/data/d/web.ovf"}}))).await,
            Flavour::Rest => expect_rest(&server, f, "POST", pp, q(f, "get"), Some(json!({"file_name": "web.ovf"})),
                answer(f, 200, json!({"name": "web.ovf", "status": "PREPARED", "download_endpoint": {"uri": "https://vc/cls/data/d/web.ovf"}}))).await,
        }
        assert_eq!(
            library::get_download_file(&v, DL, "web.ovf")
                .await
                .unwrap()
                .status,
            "PREPARED"
        );
        expect_rest(&server, f, "DELETE", lib(f, "/rest/com/vmware/content/library/item/download-session/id:0f0f0f0f-1111-4222-8333-444444444444", "/api/content/library/item/download-session/0f0f0f0f-1111-4222-8333-444444444444"), None, None, empty(f)).await;
        library::delete_download_session(&v, DL).await.unwrap();

        expect_rest(&server, f, "DELETE", item_path, None, None, empty(f)).await;
        library::delete_item(&v, ITEM).await.unwrap();
        expect_rest(
            &server,
            f,
            "DELETE",
            lib(
                f,
                "/rest/com/vmware/content/local-library/id:0527489b-d316-442e-8784-2e8e0234b35c",
                "/api/content/local-library/0527489b-d316-442e-8784-2e8e0234b35c",
            ),
            None,
            None,
            empty(f),
        )
        .await;
        library::delete_local_library(&v, LIB).await.unwrap();

        // OVF: filter and deploy.
        let ovf = lib(
            f,
            "/rest/com/vmware/vcenter/ovf/library-item/id:67ecae42-f7a1-4720-99f6-c0b01f769ec3",
            "/api/vcenter/ovf/library-item/67ecae42-f7a1-4720-99f6-c0b01f769ec3",
        );
        let target = json!({"resource_pool_id": "resgroup-9", "folder_id": "group-v7"});
        expect_rest(
            &server,
            f,
            "POST",
            ovf,
            q(f, "filter"),
            Some(json!({"target": target.clone()})),
            answer(
                f,
                200,
                json!({"name": "web", "networks": ["frontend"], "EULAs": []}),
            ),
        )
        .await;
        let t = DeploymentTarget {
            resource_pool_id: "resgroup-9".into(),
            folder_id: Some("group-v7".into()),
            host_id: None,
        };
        assert_eq!(
            library::ovf_filter(&v, ITEM, &FilterRequest { target: t.clone() })
                .await
                .unwrap()
                .networks,
            vec!["frontend"]
        );
        let maps = match f {
            Flavour::Api => json!({"frontend": "network-7"}),
            Flavour::Rest => json!([{"key": "frontend", "value": "network-7"}]),
        };
        expect_rest(&server, f, "POST", ovf, q(f, "deploy"), Some(json!({
            "target": target,
            "deployment_spec": {"name": "web-1", "accept_all_EULA": true, "network_mappings": maps.clone(),
                "storage_provisioning": "thin", "default_datastore_id": "datastore-12"}
        })), answer(f, 200, json!({"succeeded": true, "resource_id": {"type": "VirtualMachine", "id": "vm-76"}}))).await;
        let r = library::ovf_deploy(
            &v,
            ITEM,
            &DeployRequest {
                target: t,
                deployment_spec: DeploymentSpec {
                    name: Some("web-1".into()),
                    annotation: None,
                    accept_all_eula: true,
                    network_mappings: Some(maps),
                    storage_provisioning: Some("thin".into()),
                    default_datastore_id: Some("datastore-12".into()),
                },
            },
        )
        .await
        .unwrap();
        assert!(r.succeeded);
        assert_eq!(r.resource_id.unwrap().id, "vm-76");
    }
}

#[tokio::test]
async fn transfers_stream_to_the_vcenter_only() {
    let server = MockServer::start().await;
    let v = vapi(&server, Flavour::Api).await;
    Mock::given(method("PUT"))
        .and(path("/cls/data/u-1/web.raw"))
        .and(header("vmware-api-session-id", "sess-api-1"))
        .and(header("content-type", "application/octet-stream"))
        .and(header("content-length", "6"))
        .and(wiremock::matchers::body_bytes(b"abcdef".to_vec()))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let chunks = futures::stream::iter(vec![
        Ok(bytes::Bytes::from_static(b"abc")),
        Ok(bytes::Bytes::from_static(b"def")),
    ]);
    v.upload(
        &format!("{}/cls/data/u-1/web.raw", server.uri()),
        Box::pin(chunks),
        Some(6),
    )
    .await
    .unwrap();
    Mock::given(method("GET"))
        .and(path("/cls/data/d-1/web.raw"))
        .and(header("vmware-api-session-id", "sess-api-1"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"abcdef".to_vec()))
        .expect(1)
        .mount(&server)
        .await;
    let s = v
        .download(&format!("{}/cls/data/d-1/web.raw", server.uri()))
        .await
        .unwrap();
    use futures::TryStreamExt;
    let got: Vec<u8> = s
        .try_fold(Vec::new(), |mut acc, b| async move {
            acc.extend_from_slice(&b);
            Ok(acc)
        })
        .await
        .unwrap();
    assert_eq!(got, b"abcdef");

    // An endpoint on another origin never sees the session.
    let other = MockServer::start().await;
    let e = v
        .upload(
            &format!("{}/cls/data/u-2/x", other.uri()),
            Box::pin(futures::stream::empty()),
            Some(0),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}");
    assert!(e.message().contains("another origin"), "{e}");
    assert!(other.received_requests().await.unwrap().is_empty());
    let Err(e) = v.download(&format!("{}/cls/data/d-2/x", other.uri())).await else {
        panic!("a download from another origin was started");
    };
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert!(other.received_requests().await.unwrap().is_empty());

    // A refused upload is a typed error.
    Mock::given(method("PUT"))
        .and(path("/cls/data/u-3/x"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error_type": "INVALID_ARGUMENT", "messages": [{"id": "i", "default_message": "size mismatch"}]
        })))
        .mount(&server)
        .await;
    let e = v
        .upload(
            &format!("{}/cls/data/u-3/x", server.uri()),
            Box::pin(futures::stream::empty()),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.message().contains("size mismatch"), "{e}");
}

#[tokio::test]
async fn vapi_error_bodies_become_typed_errors() {
    let server = MockServer::start().await;
    let v = vapi(&server, Flavour::Rest).await;
    let cases: Vec<(u16, Value, ErrorKind, &str)> = vec![
        (
            400,
            json!({"type": "com.vmware.vapi.std.errors.already_exists", "value": {"messages": [{"id": "a", "default_message": "Category hybrid already exists", "args": ["hybrid"]}]}}),
            ErrorKind::AlreadyExists,
            "Category hybrid already exists",
        ),
        (
            404,
            json!({"type": "com.vmware.vapi.std.errors.not_found", "value": {"messages": [{"id": "n", "default_message": "Not found", "args": []}]}}),
            ErrorKind::NotFound,
            "Not found",
        ),
        (
            400,
            json!({"type": "com.vmware.vapi.std.errors.invalid_argument", "value": {"messages": []}}),
            ErrorKind::InvalidInput,
            "invalid_argument",
        ),
        (
            400,
            json!({"type": "com.vmware.vapi.std.errors.not_allowed_in_current_state", "value": {}}),
            ErrorKind::Conflict,
            "not_allowed_in_current_state",
        ),
        (
            403,
            json!({"type": "com.vmware.vapi.std.errors.unauthorized", "value": {"messages": []}}),
            ErrorKind::PermissionDenied,
            "unauthorized",
        ),
        (
            400,
            json!({"type": "com.vmware.vapi.std.errors.resource_busy", "value": {"messages": []}}),
            ErrorKind::Conflict,
            "resource_busy",
        ),
        (
            500,
            json!({"type": "com.vmware.vapi.std.errors.service_unavailable", "value": {"messages": []}}),
            ErrorKind::Unavailable,
            "service_unavailable",
        ),
        (
            400,
            json!({"error_type": "UNABLE_TO_ALLOCATE_RESOURCE", "messages": [{"id": "q", "default_message": "out of space"}]}),
            ErrorKind::QuotaExceeded,
            "out of space",
        ),
    ];
    for (i, (status, body, kind, text)) in cases.into_iter().enumerate() {
        let p = format!("/rest/com/vmware/cis/tagging/tag/id:t-{i}");
        Mock::given(method("DELETE"))
            .and(path(p.as_str()))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let e = tagging::delete_tag(&v, &format!("t-{i}"))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert_eq!(e.http_status(), Some(status));
        assert!(e.message().starts_with("delete tag: HTTP"), "{e}");
        assert!(e.message().contains(text), "{e}");
    }
    // Plain text (vcsim's "404 page not found"), truncated and wrong-shaped answers.
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/cis/tagging/tag/id:gone"))
        .respond_with(ResponseTemplate::new(404).set_body_string("404 page not found\n"))
        .mount(&server)
        .await;
    assert_eq!(
        tagging::get_tag(&v, "gone").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/cis/tagging/tag/id:cut"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"value":{"id":"cut","na"#))
        .mount(&server)
        .await;
    assert_eq!(
        tagging::get_tag(&v, "cut").await.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/cis/tagging/tag/id:odd"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": {"id": 7}})))
        .mount(&server)
        .await;
    assert_eq!(
        tagging::get_tag(&v, "odd").await.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/cis/tagging/tag/id:null"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": null})))
        .mount(&server)
        .await;
    assert_eq!(
        tagging::get_tag(&v, "null").await.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );
    // vcsim answers an empty list as null: that is an empty list.
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/cis/tagging/tag"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": null})))
        .mount(&server)
        .await;
    assert!(tagging::list_tags(&v).await.unwrap().is_empty());
    // A read is retried after a 503; the second answer counts.
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/content/library"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/com/vmware/content/library"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": ["l"]})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(library::list_libraries(&v).await.unwrap(), vec!["l"]);
    // A create is never re-sent after a 5xx: it may have happened.
    Mock::given(method("POST"))
        .and(path("/rest/com/vmware/content/library/item"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "type": "com.vmware.vapi.std.errors.error", "value": {"messages": [{"id": "e", "default_message": "boom"}]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let e = library::create_item(
        &v,
        &ItemCreateSpec {
            library_id: "l".into(),
            name: "n".into(),
            description: String::new(),
            kind: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Other);
    assert!(!e.is_retryable());
}

/// A call with its own, longer timeout (an OVF deployment blocks until the VM exists)
/// is not cut short by the retry policy's total deadline.
#[tokio::test]
async fn a_longer_call_timeout_outlasts_the_total_deadline() {
    let server = MockServer::start().await;
    mount_vapi_login(&server, Flavour::Api).await;
    let cfg = config(&server);
    let opts = hybrid_http::ClientOptions::new()
        .with_request_timeout(std::time::Duration::from_millis(300))
        .with_retry(
            hybrid_http::RetryPolicy::none()
                .with_total_deadline(std::time::Duration::from_millis(300)),
        );
    let http = crate::transport::http_client(&cfg, cfg.apply_to(opts).unwrap()).unwrap();
    let v = Vapi::with_client(&cfg, http).unwrap();
    Mock::given(method("POST"))
        .and(path("/api/vcenter/ovf/library-item/item-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(std::time::Duration::from_millis(800))
                .set_body_json(json!({"succeeded": true, "resource_id": {"type": "VirtualMachine", "id": "vm-5"}})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let call = crate::vapi::Call::post("/api/vcenter/ovf/library-item/item-1".into(), "deploy")
        .timeout(std::time::Duration::from_secs(5));
    let r: crate::protocol::vapi::DeploymentResult = v.call_some(call).await.unwrap();
    assert!(r.succeeded);
    // Without its own timeout, the same wait is cut by the client's.
    let call = crate::vapi::Call::post("/api/vcenter/ovf/library-item/item-1".into(), "deploy");
    let e = v
        .call_some::<crate::protocol::vapi::DeploymentResult>(call)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}
