//! Every call of the `api` stratum against a wiremock cloud on 127.0.0.1 (Keystone,
//! Nova, Neutron, Cinder and Glance on one server, the catalog pointing back at it):
//! the exact request (method, path, whole query, token, microversion headers or their
//! absence, body), the decoded answer, each service's error bodies, version
//! negotiation, and the behaviours the provider composes from several calls.
//!
//! Response documents are the official API samples in `tests/fixtures/` where one
//! exists; request bodies are compared with literal JSON as the API references
//! document it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use hybrid_core::model::{
    CreateFloatingIp, CreateImage, CreateKeyPair, CreateNetwork, CreatePort, CreateRouter,
    CreateSecurityGroup, CreateSecurityGroupRule, CreateServer, CreateSnapshot, CreateSubnet,
    CreateVolume, Direction, FixedIp, FlavorId, ImageId, ImageStatus, IpVersion, Metadata,
    NetworkAttachment, NetworkId, NetworkKind, PortId, RebootKind, RuleRemote, SecurityGroupId,
    ServerId, ServerStatus, SnapshotId, SubnetId, VolumeId,
};
use hybrid_core::provider::{ByteStream, Compute as _, ImageData, Images as _, Network as _};
use hybrid_core::{Error, ErrorKind, ListOptions, PageToken, WaitOptions};
use hybrid_http::{ClientOptions, RetryPolicy};
use hybrid_openstack::api::{
    self, block_storage as cinder, compute as nova, image as glance, network as neutron, Api,
    Negotiated, Query,
};
use hybrid_openstack::capabilities::Microversion;
use hybrid_openstack::config::ConfigLoader;
use hybrid_openstack::protocol::requests as rq;
use hybrid_openstack::session::Session;
use hybrid_openstack::OpenStackProvider;
use serde_json::{json, Value};
use wiremock::matchers::{body_bytes, body_json, header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// ---------------------------------------------------------------------------------
// The cloud
// ---------------------------------------------------------------------------------

const TOKEN: &str = "tok-1";
const NOVA: Microversion = Microversion::new(2, 93);
const CINDER: Microversion = Microversion::new(3, 70);
const ALL: &[&str] = &["compute", "network", "block-storage", "image"];

fn fixture(p: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A token whose catalog has the services named in `services`: Nova's endpoint with
/// its version, Neutron's and Glance's without (the api adds `v2.0/` and `v2/`),
/// Cinder's with version and project.
fn token_doc(base: &str, services: &[&str]) -> Value {
    let catalog: Vec<Value> = services
        .iter()
        .map(|t| {
            let url = match *t {
                "compute" => format!("{base}/compute/v2.1"),
                "network" => format!("{base}/network"),
                "block-storage" => format!("{base}/volume/v3/p1"),
                "image" => format!("{base}/image"),
                other => panic!("no endpoint for {other}"),
            };
            json!({"type": t, "name": t, "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": url}
            ]})
        })
        .collect();
    json!({"token": {
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "methods": ["password"],
        "user": {"id": "u1", "name": "admin"},
        "project": {"id": "p1", "name": "admin"},
        "catalog": catalog
    }})
}

async fn setup_with(services: &[&str], retry: RetryPolicy) -> (MockServer, Session) {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", TOKEN)
                .set_body_json(token_doc(&base, services)),
        )
        .named("keystone")
        .mount(&server)
        .await;
    let env: BTreeMap<String, String> = [
        ("OS_AUTH_URL", format!("{base}/identity")),
        ("OS_USER_ID", "u1".to_owned()),
        ("OS_PASSWORD", "pw-secret".to_owned()),
        ("OS_PROJECT_ID", "p1".to_owned()),
        ("OS_REGION_NAME", "RegionOne".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let cfg = ConfigLoader::new()
        .with_env(env)
        .with_search_dirs(Vec::new())
        .load(None)
        .unwrap();
    let client = ClientOptions::new().with_retry(retry).build().unwrap();
    (server, Session::new(client, &cfg).unwrap())
}

/// The whole cloud, no retries.
async fn setup() -> (MockServer, Session) {
    setup_with(ALL, RetryPolicy::none()).await
}

fn api_at(session: &Session, nova: Microversion) -> Api {
    Api::new(
        session.clone(),
        Negotiated {
            nova,
            cinder: CINDER,
        },
    )
}

/// The API at Nova 2.93 and Cinder 3.70.
async fn cloud() -> (MockServer, Api) {
    let (server, session) = setup().await;
    let api = api_at(&session, NOVA);
    (server, api)
}

fn q(pairs: &[(&str, &str)]) -> Query {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------
// Matchers
// ---------------------------------------------------------------------------------

fn values(r: &Request, name: &str) -> Vec<String> {
    r.headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or("<binary>").to_owned())
        .collect()
}

/// The token once, and exactly the microversion headers of the service: both Nova
/// headers, Cinder's `OpenStack-API-Version: volume x`, or none at all (Neutron,
/// Glance, version discovery).
struct Dressed {
    service: Option<&'static str>,
    version: String,
}

impl Match for Dressed {
    fn matches(&self, r: &Request) -> bool {
        let (generic, nova): (Vec<String>, Vec<String>) = match self.service {
            Some("compute") => (
                vec![format!("compute {}", self.version)],
                vec![self.version.clone()],
            ),
            Some(s) => (vec![format!("{s} {}", self.version)], vec![]),
            None => (vec![], vec![]),
        };
        values(r, "x-auth-token") == [TOKEN]
            && values(r, "openstack-api-version") == generic
            && values(r, "x-openstack-nova-api-version") == nova
    }
}

fn nova_headers(v: &str) -> Dressed {
    Dressed {
        service: Some("compute"),
        version: v.to_owned(),
    }
}

fn cinder_headers() -> Dressed {
    Dressed {
        service: Some("volume"),
        version: "3.70".to_owned(),
    }
}

/// The token and no microversion header.
fn plain_headers() -> Dressed {
    Dressed {
        service: None,
        version: String::new(),
    }
}

/// The whole query string, pair by pair, in order.
struct QueryIs(Vec<(String, String)>);

impl Match for QueryIs {
    fn matches(&self, r: &Request) -> bool {
        let got: Vec<(String, String)> = r
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        got == self.0
    }
}

/// No body at all.
struct NoBody;

impl Match for NoBody {
    fn matches(&self, r: &Request) -> bool {
        r.body.is_empty() && values(r, "content-type").is_empty()
    }
}

/// Shorthands for the parts of a request every test pins down.
trait Exactly {
    /// Exactly this query (none for `&[]`).
    fn with_query(self, pairs: &[(&str, &str)]) -> MockBuilder;
    /// A JSON body equal to `v`, sent as `application/json`.
    fn with_json(self, v: &Value) -> MockBuilder;
    /// No body.
    fn without_body(self) -> MockBuilder;
}

impl Exactly for MockBuilder {
    fn with_query(self, pairs: &[(&str, &str)]) -> MockBuilder {
        self.and(QueryIs(q(pairs)))
    }
    fn with_json(self, v: &Value) -> MockBuilder {
        self.and(header("content-type", "application/json"))
            .and(body_json(v))
    }
    fn without_body(self) -> MockBuilder {
        self.and(NoBody)
    }
}

fn nova_call_at(m: &str, p: &str, v: &str) -> MockBuilder {
    Mock::given(method(m))
        .and(path(format!("/compute/v2.1/{p}")))
        .and(nova_headers(v))
}

fn nova_call(m: &str, p: &str) -> MockBuilder {
    nova_call_at(m, p, "2.93")
}

fn neutron_call(m: &str, p: &str) -> MockBuilder {
    Mock::given(method(m))
        .and(path(format!("/network/v2.0/{p}")))
        .and(plain_headers())
}

fn cinder_call(m: &str, p: &str) -> MockBuilder {
    Mock::given(method(m))
        .and(path(format!("/volume/v3/p1/{p}")))
        .and(cinder_headers())
}

fn glance_call(m: &str, p: &str) -> MockBuilder {
    Mock::given(method(m))
        .and(path(format!("/image/v2/{p}")))
        .and(plain_headers())
}

fn json_status(status: u16, v: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(v)
}

fn ok(v: Value) -> ResponseTemplate {
    json_status(200, v)
}

/// An error answer with the service's body and request id.
fn fault(status: u16, body: Value, request_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-openstack-request-id", request_id)
        .set_body_json(body)
}

/// Glance's plain-text error page.
fn glance_fault(status: u16, text: &str, request_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-openstack-request-id", request_id)
        .set_body_raw(text.as_bytes().to_vec(), "text/plain; charset=UTF-8")
}

/// The error carries the kind, status, request id, the service's message, and names the
/// operation that failed.
fn assert_service_error(
    err: &Error,
    kind: ErrorKind,
    status: u16,
    request_id: &str,
    message: &str,
    operation: &str,
) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.http_status(), Some(status), "{err}");
    assert_eq!(err.request_id(), Some(request_id), "{err}");
    assert!(err.message().contains(message), "{err}");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("{operation} failed: {kind}: ")),
        "{shown}"
    );
    assert!(shown.contains(message), "{shown}");
    assert!(
        shown.ends_with(&format!("(HTTP {status}, request id {request_id})")),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------------
// Version discovery
// ---------------------------------------------------------------------------------

fn discovery_call(p: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(p))
        .and(plain_headers())
        .and(QueryIs(Vec::new()))
        .and(NoBody)
}

#[tokio::test]
async fn negotiate_asks_nova_at_its_endpoint_and_cinder_at_the_root() {
    let (server, session) = setup().await;
    // Nova's version document (2.1–2.104) at the compute endpoint itself.
    discovery_call("/compute/v2.1/")
        .respond_with(ok(fixture("nova/version-v2.1-resp.json")))
        .expect(1)
        .mount(&server)
        .await;
    // Cinder's root answers 300 Multiple Choices with its versions (3.0–3.71).
    discovery_call("/volume/")
        .respond_with(json_status(300, fixture("cinder/versions-resp.json")))
        .expect(1)
        .mount(&server)
        .await;
    let n = api::negotiate(&session).await.unwrap();
    assert_eq!(
        n,
        Negotiated {
            nova: Microversion::new(2, 96),
            cinder: Microversion::new(3, 70),
        }
    );
    assert_eq!(api::NOVA_RANGE.1, Microversion::new(2, 96));
}

#[tokio::test]
async fn negotiate_takes_the_lower_maximum_and_reads_the_versions_list_form() {
    let (server, session) = setup().await;
    discovery_call("/compute/v2.1/")
        .respond_with(ok(json!({"version": {
            "id": "v2.1", "status": "CURRENT", "version": "2.60", "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z", "links": []
        }})))
        .expect(1)
        .mount(&server)
        .await;
    discovery_call("/volume/")
        .respond_with(ok(json!({"versions": [
            {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": ""},
            {"id": "v3.0", "status": "CURRENT", "version": "3.59", "min_version": "3.0"}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let n = api::negotiate(&session).await.unwrap();
    assert_eq!(n.nova, Microversion::new(2, 60));
    assert_eq!(n.cinder, Microversion::new(3, 59));
}

#[tokio::test]
async fn a_cinder_root_that_fails_means_3_0() {
    for answer in [
        ResponseTemplate::new(500).set_body_string("Internal Server Error"),
        ResponseTemplate::new(404),
        ResponseTemplate::new(200).set_body_raw("<html>welcome</html>", "text/html"),
    ] {
        let (server, session) = setup().await;
        discovery_call("/compute/v2.1/")
            .respond_with(ok(fixture("nova/version-v2.1-resp.json")))
            .expect(1)
            .mount(&server)
            .await;
        discovery_call("/volume/")
            .respond_with(answer)
            .expect(1)
            .mount(&server)
            .await;
        let n = api::negotiate(&session).await.unwrap();
        assert_eq!(n.cinder, Microversion::new(3, 0));
        assert_eq!(n.nova, Microversion::new(2, 96));
    }
}

#[tokio::test]
async fn a_nova_range_that_does_not_meet_ours_is_unsupported() {
    let (server, session) = setup().await;
    discovery_call("/compute/v2.1/")
        .respond_with(ok(json!({"version": {
            "id": "v2.1", "status": "CURRENT", "version": "2.120", "min_version": "2.100"
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let err = api::negotiate(&session).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("2.100–2.120"), "{err}");
    assert!(err.message().contains("2.1–2.96"), "{err}");
}

#[tokio::test]
async fn a_nova_without_microversions_speaks_2_1_and_missing_services_their_minimum() {
    // An old Nova reports an empty range; the catalog has no block storage at all.
    let (server, session) = setup_with(&["compute"], RetryPolicy::none()).await;
    discovery_call("/compute/v2.1/")
        .respond_with(ok(json!({"version": {
            "id": "v2.1", "status": "CURRENT", "version": "", "min_version": ""
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let n = api::negotiate(&session).await.unwrap();
    assert_eq!(
        n,
        Negotiated {
            nova: Microversion::new(2, 1),
            cinder: Microversion::new(3, 0),
        }
    );
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2, "one token, one Nova document: {reqs:?}");
}

// ---------------------------------------------------------------------------------
// Nova
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn nova_list_servers_sends_filters_limit_marker_and_follows_servers_links() {
    let (server, api) = cloud().await;
    let page1 = fixture("nova/servers-detail-resp-v2.90.json");
    let id = page1["servers"][0]["id"].as_str().unwrap().to_owned();
    nova_call("GET", "servers/detail")
        .and(header("openstack-api-version", "compute 2.93"))
        .and(header("x-openstack-nova-api-version", "2.93"))
        .and(header("x-auth-token", TOKEN))
        .and(header("accept", "application/json"))
        .with_query(&[
            ("name", "^new-server-test$"),
            ("status", "ACTIVE"),
            ("limit", "5"),
        ])
        .without_body()
        .respond_with(ok(page1.clone()))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "servers/detail")
        .with_query(&[
            ("name", "^new-server-test$"),
            ("status", "ACTIVE"),
            ("limit", "5"),
            ("marker", &id),
        ])
        .without_body()
        .respond_with(ok(json!({"servers": []})))
        .expect(1)
        .mount(&server)
        .await;
    let filters = q(&[("name", "^new-server-test$"), ("status", "ACTIVE")]);
    // One item on a page of five: only the `servers_links` next says there is more.
    let first = nova::list_servers(&api, filters.clone(), Some(5), None)
        .await
        .unwrap();
    assert_eq!(first.items, page1["servers"].as_array().unwrap().clone());
    assert_eq!(first.next, Some(PageToken::new(id.clone())));
    let second = nova::list_servers(&api, filters, Some(5), first.next)
        .await
        .unwrap();
    assert!(second.items.is_empty());
    assert_eq!(second.next, None);
}

#[tokio::test]
async fn nova_list_servers_raw_keeps_each_server_as_its_text_and_pages_the_same() {
    let (server, api) = cloud().await;
    let page1 = fixture("nova/servers-detail-resp-v2.90.json");
    let id = page1["servers"][0]["id"].as_str().unwrap().to_owned();
    nova_call("GET", "servers/detail")
        .and(header("x-auth-token", TOKEN))
        .and(header("accept", "application/json"))
        .and(header("x-openstack-nova-api-version", "2.93"))
        .with_query(&[("status", "ACTIVE"), ("limit", "5")])
        .without_body()
        .respond_with(ok(page1.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let first = nova::list_servers_raw(&api, q(&[("status", "ACTIVE")]), Some(5), None)
        .await
        .unwrap();
    let docs: Vec<Value> = first.items.iter().map(|d| d.to_value().unwrap()).collect();
    assert_eq!(docs, page1["servers"].as_array().unwrap().clone());
    assert_eq!(first.next, Some(PageToken::new(id)));
}

#[tokio::test]
async fn nova_list_servers_raw_refuses_a_listing_without_a_server_array() {
    for (body, what) in [
        (r#"{"servers": {"id": "a"}}"#, "an object"),
        (r#"{"server": []}"#, "the wrong key"),
        (r#"{"servers": [{"id": "a"}, "#, "a truncated body"),
        (r#"[]"#, "a bare array"),
    ] {
        let (server, api) = cloud().await;
        nova_call("GET", "servers/detail")
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string(body),
            )
            .expect(1)
            .mount(&server)
            .await;
        let e = nova::list_servers_raw(&api, Vec::new(), None, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{what}: {e}");
    }
}

#[tokio::test]
async fn provider_list_servers_names_the_listed_item_that_does_not_decode() {
    let (server, p) = provider().await;
    nova_call("GET", "servers/detail")
        .respond_with(ok(json!({"servers": [listed("a"), {"id": 7}]})))
        .expect(1)
        .mount(&server)
        .await;
    // The page fails as a whole before any flavor is looked up.
    mount_flavors(&server, "2.93", 0).await;
    let e = p
        .list_servers(ListOptions::new())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    assert!(
        e.to_string().contains("item 1 of the `servers` listing"),
        "{e}"
    );
}

#[tokio::test]
async fn nova_get_server_returns_the_server_document() {
    let (server, api) = cloud().await;
    let doc = fixture("nova/server-get-resp-v2.90.json");
    nova_call("GET", "servers/0e44cc9c-e052-415d-afbf-469b0d384170")
        .with_query(&[])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let got = nova::get_server(&api, "0e44cc9c-e052-415d-afbf-469b0d384170")
        .await
        .unwrap();
    assert_eq!(got, doc["server"]);
    assert_eq!(got["flavor"]["original_name"], "m1.tiny");
}

#[tokio::test]
async fn nova_create_server_posts_the_documented_body() {
    let (server, api) = cloud().await;
    let spec = CreateServer {
        name: "new-server-test".into(),
        flavor: FlavorId::new("1"),
        image: Some(ImageId::new("70a599e0-31e7-49b7-b260-868f441e862b")),
        boot_volume: None,
        networks: vec![
            NetworkAttachment::Network {
                network: NetworkId::new("ff608d40-75e9-48cb-b745-77bb55b5eaf2"),
                fixed_ip: Some("192.168.0.3".into()),
            },
            NetworkAttachment::Port {
                port: PortId::new("ce705c24-c1ef-408a-bda3-7bbd946164ab"),
            },
        ],
        security_groups: vec!["default".into()],
        key_name: Some("keypair-1".into()),
        user_data: Some("#!/bin/bash\n/bin/su\necho \"I am in you!\"\n".into()),
        availability_zone: Some("us-west".into()),
        metadata: [("My Server Name".to_owned(), "Apache1".to_owned())]
            .into_iter()
            .collect(),
        tags: vec!["web".into(), "prod".into()],
    };
    let expected = json!({"server": {
        "name": "new-server-test",
        "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
        "flavorRef": "1",
        "availability_zone": "us-west",
        "key_name": "keypair-1",
        "metadata": {"My Server Name": "Apache1"},
        "security_groups": [{"name": "default"}],
        "user_data": "IyEvYmluL2Jhc2gKL2Jpbi9zdQplY2hvICJJIGFtIGluIHlvdSEiCg==",
        "networks": [
            {"uuid": "ff608d40-75e9-48cb-b745-77bb55b5eaf2", "fixed_ip": "192.168.0.3"},
            {"port": "ce705c24-c1ef-408a-bda3-7bbd946164ab"}
        ],
        "tags": ["web", "prod"]
    }});
    let resp = fixture("nova/servers-create-resp-v2.47.json");
    nova_call("POST", "servers")
        .with_query(&[])
        .with_json(&expected)
        .respond_with(json_status(202, resp.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let body = rq::create_server(&spec, NOVA);
    assert_eq!(body, expected);
    let got = nova::create_server(&api, &body).await.unwrap();
    assert_eq!(got, resp["server"]);
    assert_eq!(got["id"], "97108291-2fd7-4dc2-a909-eaae0306a6a9");
    assert_eq!(got["adminPass"], "S5wqy9sPYUvU");
}

#[tokio::test]
async fn nova_create_server_without_networks_says_none_and_an_answer_without_server_is_invalid() {
    let (server, api) = cloud().await;
    let expected = json!({"server": {"name": "bare", "flavorRef": "1", "networks": "none"}});
    nova_call("POST", "servers")
        .with_json(&expected)
        .respond_with(json_status(202, json!({"reservation_id": "r-1"})))
        .expect(1)
        .mount(&server)
        .await;
    let body = rq::create_server(&CreateServer::new("bare", "1"), NOVA);
    assert_eq!(body, expected);
    let err = nova::create_server(&api, &body).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.message().contains("`server`"), "{err}");
}

#[tokio::test]
async fn nova_delete_server() {
    let (server, api) = cloud().await;
    nova_call("DELETE", "servers/s%201")
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    nova::delete_server(&api, "s 1").await.unwrap();
}

#[tokio::test]
async fn nova_server_actions_send_the_documented_bodies() {
    let (server, api) = cloud().await;
    let id = "9168b536-cd40-4630-b43f-b259807c6e87";
    let cases = [
        (rq::start(), json!({"os-start": null}), "start_server"),
        (rq::stop(), json!({"os-stop": null}), "stop_server"),
        (
            rq::reboot(RebootKind::Hard),
            json!({"reboot": {"type": "HARD"}}),
            "reboot_server",
        ),
        (
            rq::reboot(RebootKind::Soft),
            json!({"reboot": {"type": "SOFT"}}),
            "reboot_server",
        ),
        (
            rq::resize(&FlavorId::new("2")),
            json!({"resize": {"flavorRef": "2"}}),
            "resize_server",
        ),
        (
            rq::confirm_resize(),
            json!({"confirmResize": null}),
            "confirm_resize",
        ),
    ];
    for (built, literal, _) in &cases {
        assert_eq!(built, literal);
        nova_call("POST", &format!("servers/{id}/action"))
            .with_query(&[])
            .with_json(literal)
            .respond_with(ResponseTemplate::new(202))
            .expect(1)
            .mount(&server)
            .await;
    }
    for (built, _, op) in &cases {
        nova::server_action(&api, id, built, op).await.unwrap();
    }
}

#[tokio::test]
async fn nova_list_flavors_pages_by_id_when_the_page_is_full() {
    let (server, api) = cloud().await;
    let all = fixture("nova/flavors-detail-resp-v2.75.json");
    let first_two = json!({"flavors": all["flavors"].as_array().unwrap()[..2]});
    nova_call("GET", "flavors/detail")
        .with_query(&[("limit", "2")])
        .without_body()
        .respond_with(ok(first_two.clone()))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "flavors/detail")
        .with_query(&[("limit", "10"), ("marker", "2")])
        .without_body()
        .respond_with(ok(
            json!({"flavors": all["flavors"].as_array().unwrap()[2..]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let page = nova::list_flavors(&api, Vec::new(), Some(2), None)
        .await
        .unwrap();
    assert_eq!(page.items, first_two["flavors"].as_array().unwrap().clone());
    assert_eq!(page.next, Some(PageToken::new("2")));
    let rest = nova::list_flavors(&api, Vec::new(), Some(10), page.next)
        .await
        .unwrap();
    let names: Vec<&str> = rest
        .items
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "m1.medium",
            "m1.large",
            "m1.xlarge",
            "m1.tiny.specs",
            "m1.small.description"
        ]
    );
    assert_eq!(rest.next, None, "five of ten: the last page");
}

#[tokio::test]
async fn nova_get_flavor() {
    let (server, api) = cloud().await;
    let doc = fixture("nova/flavor-get-resp-v2.75.json");
    nova_call("GET", "flavors/7")
        .with_query(&[])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let got = nova::get_flavor(&api, "7").await.unwrap();
    assert_eq!(got, doc["flavor"]);
    assert_eq!(got["name"], "m1.small.description");
}

#[tokio::test]
async fn nova_key_pairs_page_from_2_35() {
    let (server, api) = cloud().await;
    let doc = fixture("nova/keypairs-list-resp-v2.35.json");
    let name = doc["keypairs"][0]["keypair"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    nova_call("GET", "os-keypairs")
        .with_query(&[("limit", "1")])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "os-keypairs")
        .with_query(&[("limit", "1"), ("marker", &name)])
        .without_body()
        .respond_with(ok(json!({"keypairs": []})))
        .expect(1)
        .mount(&server)
        .await;
    let page = nova::list_key_pairs(&api, Some(1), None).await.unwrap();
    assert_eq!(page.items, doc["keypairs"].as_array().unwrap().clone());
    // The marker is the name inside the `{"keypair": {..}}` wrapper.
    assert_eq!(page.next, Some(PageToken::new(name)));
    let last = nova::list_key_pairs(&api, Some(1), page.next)
        .await
        .unwrap();
    assert!(last.items.is_empty());
    assert_eq!(last.next, None);
}

#[tokio::test]
async fn nova_key_pairs_below_2_35_are_one_page_without_limit_or_marker() {
    let (server, session) = setup().await;
    let api = api_at(&session, Microversion::new(2, 30));
    let doc = fixture("nova/keypairs-list-resp-v2.2.json");
    nova_call_at("GET", "os-keypairs", "2.30")
        .with_query(&[])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let page = nova::list_key_pairs(&api, Some(1), Some(PageToken::new("earlier")))
        .await
        .unwrap();
    assert_eq!(page.items, doc["keypairs"].as_array().unwrap().clone());
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn nova_get_key_pair_encodes_the_name() {
    let (server, api) = cloud().await;
    let doc = fixture("nova/keypairs-get-resp-v2.2.json");
    nova_call("GET", "os-keypairs/me%40home%20key")
        .with_query(&[])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let got = nova::get_key_pair(&api, "me@home key").await.unwrap();
    assert_eq!(got, doc["keypair"]);
    assert_eq!(
        got["fingerprint"],
        "44:fe:29:6e:23:14:b9:53:5b:65:82:58:1c:fe:5a:c3"
    );
}

#[tokio::test]
async fn nova_create_key_pair_imports_the_public_key() {
    let (server, api) = cloud().await;
    let sample = fixture("nova/keypairs-import-req-v2.1.json");
    let spec = CreateKeyPair {
        name: "keypair-d20a3d59-9433-4b79-8726-20b431d89c78".into(),
        public_key: sample["keypair"]["public_key"].as_str().unwrap().into(),
    };
    let expected = json!({"keypair": {
        "name": "keypair-d20a3d59-9433-4b79-8726-20b431d89c78",
        "public_key": spec.public_key,
    }});
    assert_eq!(expected, sample);
    let resp = fixture("nova/keypairs-import-resp-v2.92.json");
    nova_call("POST", "os-keypairs")
        .with_query(&[])
        .with_json(&expected)
        .respond_with(ok(resp.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let body = rq::import_key_pair(&spec);
    assert_eq!(body, expected);
    let got = nova::create_key_pair(&api, &body).await.unwrap();
    assert_eq!(got, resp["keypair"]);
}

#[tokio::test]
async fn nova_delete_key_pair() {
    let (server, api) = cloud().await;
    nova_call("DELETE", "os-keypairs/keypair-1")
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    nova::delete_key_pair(&api, "keypair-1").await.unwrap();
}

#[tokio::test]
async fn nova_server_tags_replace_add_and_delete() {
    let (server, api) = cloud().await;
    let id = "d3a4d8bc-2b5b-4dd4-a50a-9d84a5ba2e46";
    let tags = vec!["tag1".to_owned(), "web tier".to_owned()];
    assert_eq!(
        rq::replace_tags(&tags),
        json!({"tags": ["tag1", "web tier"]})
    );
    nova_call("PUT", &format!("servers/{id}/tags"))
        .with_query(&[])
        .with_json(&json!({"tags": ["tag1", "web tier"]}))
        .respond_with(ok(json!({"tags": ["web tier", "tag1"]})))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("PUT", &format!("servers/{id}/tags/web%20tier"))
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("DELETE", &format!("servers/{id}/tags/web%20tier"))
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let set = nova::replace_server_tags(&api, id, &tags).await.unwrap();
    assert_eq!(set, ["web tier", "tag1"], "Nova's answer, in its order");
    nova::add_server_tag(&api, id, "web tier").await.unwrap();
    nova::delete_server_tag(&api, id, "web tier").await.unwrap();
}

#[tokio::test]
async fn nova_server_metadata_merge_and_delete_one() {
    let (server, api) = cloud().await;
    let id = "d3a4d8bc-2b5b-4dd4-a50a-9d84a5ba2e46";
    let mut md = Metadata::new();
    md.insert("foo".into(), "Foo Value".into());
    nova_call("POST", &format!("servers/{id}/metadata"))
        .with_query(&[])
        .with_json(&json!({"metadata": {"foo": "Foo Value"}}))
        .respond_with(ok(json!({"metadata": {"foo": "Foo Value", "bar": "kept"}})))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("DELETE", &format!("servers/{id}/metadata/a%2Fb"))
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let all = nova::merge_server_metadata(&api, id, &md).await.unwrap();
    let expected: Metadata = [("bar", "kept"), ("foo", "Foo Value")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(all, expected);
    nova::delete_server_metadata_item(&api, id, "a/b")
        .await
        .unwrap();
}

#[tokio::test]
async fn nova_attach_and_detach_volume() {
    let (server, api) = cloud().await;
    let sid = "b7f4b6a8-5d3f-4c1b-9d4e-2f0a5c6e7d81";
    let vid = "a07f71dc-8151-4e7d-a0cc-cd24a3f11113";
    let expected = fixture("nova/os-volume-attachments-create-req-v2.1.json");
    let answer = json!({"volumeAttachment": {
        "device": "/dev/sdb", "id": vid, "serverId": sid, "volumeId": vid,
        "tag": null, "delete_on_termination": false
    }});
    nova_call("POST", &format!("servers/{sid}/os-volume_attachments"))
        .with_query(&[])
        .with_json(&expected)
        .respond_with(ok(answer.clone()))
        .expect(1)
        .mount(&server)
        .await;
    nova_call(
        "DELETE",
        &format!("servers/{sid}/os-volume_attachments/{vid}"),
    )
    .with_query(&[])
    .without_body()
    .respond_with(ResponseTemplate::new(202))
    .expect(1)
    .mount(&server)
    .await;
    let body = rq::attach_volume(&VolumeId::new(vid), Some("/dev/sdb"));
    assert_eq!(body, expected);
    let got = nova::attach_volume(&api, sid, &body).await.unwrap();
    assert_eq!(got, answer["volumeAttachment"]);
    nova::detach_volume(&api, sid, vid).await.unwrap();
}

/// The sample's first page (with its `hypervisors_links` next link) and the empty
/// page its marker leads to.
async fn mount_hypervisors(server: &MockServer, v: &str) {
    let first = fixture("nova/hypervisors-detail-resp-v2.88.json");
    let last = first["hypervisors"][0]["id"].as_str().unwrap().to_owned();
    nova_call_at("GET", "os-hypervisors/detail", v)
        .with_query(&[])
        .without_body()
        .respond_with(ok(first))
        .expect(1)
        .mount(server)
        .await;
    nova_call_at("GET", "os-hypervisors/detail", v)
        .with_query(&[("marker", &last)])
        .without_body()
        .respond_with(ok(json!({"hypervisors": []})))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn nova_list_hypervisors_decodes_types() {
    let (server, api) = cloud().await;
    mount_hypervisors(&server, "2.93").await;
    let list = nova::list_hypervisors(&api).await.unwrap();
    assert_eq!(list.hypervisors.len(), 1);
    let h = &list.hypervisors[0];
    assert_eq!(h.hypervisor_type.as_deref(), Some("fake"));
    assert_eq!(h.hypervisor_hostname.as_deref(), Some("host2"));
    assert_eq!(h.status.as_deref(), Some("enabled"));
}

// ---------------------------------------------------------------------------------
// Neutron
// ---------------------------------------------------------------------------------

/// Each resource with its list and show samples.
fn neutron_resources() -> Vec<(neutron::Resource, &'static str, &'static str)> {
    vec![
        (
            neutron::NETWORKS,
            "neutron/networks-list-resp.json",
            "neutron/network-show-resp.json",
        ),
        (
            neutron::SUBNETS,
            "neutron/subnets-list-resp.json",
            "neutron/subnet-show-resp.json",
        ),
        (
            neutron::PORTS,
            "neutron/ports-list-resp.json",
            "neutron/port-show-resp.json",
        ),
        (
            neutron::SECURITY_GROUPS,
            "neutron/security-groups-list-resp.json",
            "neutron/security-group-show-resp.json",
        ),
        (
            neutron::SECURITY_GROUP_RULES,
            "neutron/security-group-rules-list-resp.json",
            "neutron/security-group-rule-show-resp.json",
        ),
        (
            neutron::ROUTERS,
            "neutron/routers-list-resp.json",
            "neutron/router-show-resp.json",
        ),
        (
            neutron::FLOATING_IPS,
            "neutron/floating-ips-list-resp.json",
            "neutron/floatingip-show-resp.json",
        ),
    ]
}

#[test]
fn neutron_resources_are_named_as_the_api_reference_names_them() {
    let names: Vec<(&str, &str, &str)> = neutron_resources()
        .iter()
        .map(|(r, _, _)| (r.path, r.singular, r.plural))
        .collect();
    assert_eq!(
        names,
        [
            ("networks", "network", "networks"),
            ("subnets", "subnet", "subnets"),
            ("ports", "port", "ports"),
            ("security-groups", "security_group", "security_groups"),
            (
                "security-group-rules",
                "security_group_rule",
                "security_group_rules"
            ),
            ("routers", "router", "routers"),
            ("floatingips", "floatingip", "floatingips"),
        ]
    );
}

#[tokio::test]
async fn neutron_list_every_resource_with_filters_and_a_full_page() {
    let (server, api) = cloud().await;
    for (r, list, _) in neutron_resources() {
        let doc = fixture(list);
        let items = doc[r.plural].as_array().unwrap().clone();
        let n = items.len().to_string();
        neutron_call("GET", r.path)
            .with_query(&[("tags", "a,b"), ("project_id", "p1"), ("limit", &n)])
            .without_body()
            .respond_with(ok(doc.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let page = neutron::list(
            &api,
            &r,
            q(&[("tags", "a,b"), ("project_id", "p1")]),
            Some(items.len() as u32),
            None,
        )
        .await
        .unwrap();
        let last = items.last().unwrap()["id"].as_str().unwrap().to_owned();
        assert_eq!(page.items, items, "{}", r.path);
        assert_eq!(page.next, Some(PageToken::new(last)), "{}", r.path);
    }
}

#[tokio::test]
async fn neutron_list_follows_the_links_and_ends_on_a_short_page() {
    let (server, api) = cloud().await;
    let mut doc = fixture("neutron/networks-list-resp.json");
    doc["networks_links"] = json!([{"rel": "next",
        "href": format!("{}/network/v2.0/networks?marker=db193ab3-96e3-4cb3-8fc5-05f4296d0324", server.uri())}]);
    neutron_call("GET", "networks")
        .with_query(&[])
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("GET", "networks")
        .with_query(&[
            ("limit", "1000"),
            ("marker", "db193ab3-96e3-4cb3-8fc5-05f4296d0324"),
        ])
        .respond_with(ok(fixture("neutron/networks-list-resp.json")))
        .expect(1)
        .mount(&server)
        .await;
    let first = neutron::list(&api, &neutron::NETWORKS, Vec::new(), None, None)
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(
        first.next,
        Some(PageToken::new("db193ab3-96e3-4cb3-8fc5-05f4296d0324"))
    );
    let short = neutron::list(&api, &neutron::NETWORKS, Vec::new(), Some(1000), first.next)
        .await
        .unwrap();
    assert_eq!(short.items.len(), 2);
    assert_eq!(short.next, None);
}

#[tokio::test]
async fn neutron_a_page_that_repeats_the_marker_is_refused() {
    let (server, api) = cloud().await;
    let doc = fixture("neutron/networks-list-resp.json");
    neutron_call("GET", "networks")
        .with_query(&[
            ("limit", "2"),
            ("marker", "db193ab3-96e3-4cb3-8fc5-05f4296d0324"),
        ])
        .respond_with(ok(doc))
        .expect(1)
        .mount(&server)
        .await;
    let err = neutron::list(
        &api,
        &neutron::NETWORKS,
        Vec::new(),
        Some(2),
        Some(PageToken::new("db193ab3-96e3-4cb3-8fc5-05f4296d0324")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
}

#[tokio::test]
async fn neutron_get_every_resource() {
    let (server, api) = cloud().await;
    for (r, _, show) in neutron_resources() {
        let doc = fixture(show);
        let id = doc[r.singular]["id"].as_str().unwrap().to_owned();
        neutron_call("GET", &format!("{}/{id}", r.path))
            .with_query(&[])
            .without_body()
            .respond_with(ok(doc.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let got = neutron::get(&api, &r, &id).await.unwrap();
        assert_eq!(got, doc[r.singular], "{}", r.path);
    }
}

#[tokio::test]
async fn neutron_delete_every_resource() {
    let (server, api) = cloud().await;
    for (r, _, _) in neutron_resources() {
        neutron_call("DELETE", &format!("{}/id-of-{}", r.path, r.singular))
            .with_query(&[])
            .without_body()
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        neutron::delete(&api, &r, &format!("id-of-{}", r.singular))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn neutron_create_every_resource_with_the_documented_bodies() {
    let (server, api) = cloud().await;
    let net = CreateNetwork {
        name: "net1".into(),
        kind: NetworkKind::Vlan,
        segmentation_id: Some(2),
        physical_network: Some("public".into()),
        tags: Vec::new(),
    };
    let subnet = CreateSubnet {
        network_id: NetworkId::new("d32019d3-bc6e-4319-9c1d-6722fc136a22"),
        name: "sub1".into(),
        cidr: "192.168.199.0/24".into(),
        ip_version: IpVersion::V4,
        gateway_ip: Some("192.168.199.1".into()),
        dhcp_enabled: true,
        dns_nameservers: vec!["8.8.8.8".into()],
    };
    let port = CreatePort {
        network_id: NetworkId::new("a87cc70a-3e15-4acf-8205-9b711a3531b7"),
        name: "private-port".into(),
        fixed_ips: vec![FixedIp {
            subnet_id: Some(SubnetId::new("a0304c3a-4f08-4c43-88af-d796509c97d2")),
            ip_address: "10.0.0.2".into(),
        }],
        security_groups: vec![SecurityGroupId::new("f0ac4394-7e4a-4409-9701-ba8be283dbc3")],
    };
    let group = CreateSecurityGroup {
        name: "new-webservers".into(),
        description: "security group for webservers".into(),
    };
    let rule = CreateSecurityGroupRule {
        group_id: SecurityGroupId::new("a7734e61-b545-452d-a3cd-0189cbd9747a"),
        direction: Direction::Ingress,
        ip_version: IpVersion::V4,
        protocol: Some("tcp".into()),
        port_min: Some(80),
        port_max: Some(80),
        remote: Some(RuleRemote::Group(SecurityGroupId::new(
            "85cc3048-abc3-43cc-89b3-377341426ac5",
        ))),
    };
    let router = CreateRouter {
        name: "router1".into(),
        external_network: Some(NetworkId::new("ae34051f-aa6c-4c75-abf5-50dc9ac99ef3")),
    };
    let fip = CreateFloatingIp {
        network_id: None,
        port_id: Some(PortId::new("ce705c24-c1ef-408a-bda3-7bbd946164ab")),
    };
    let cases = vec![
        (
            neutron::NETWORKS,
            rq::create_network(&net),
            json!({"network": {
                "name": "net1",
                "provider:network_type": "vlan",
                "provider:physical_network": "public",
                "provider:segmentation_id": 2
            }}),
            "neutron/network-provider-create-resp.json",
        ),
        (
            neutron::SUBNETS,
            rq::create_subnet(&subnet),
            json!({"subnet": {
                "network_id": "d32019d3-bc6e-4319-9c1d-6722fc136a22",
                "name": "sub1",
                "ip_version": 4,
                "cidr": "192.168.199.0/24",
                "gateway_ip": "192.168.199.1",
                "enable_dhcp": true,
                "dns_nameservers": ["8.8.8.8"]
            }}),
            "neutron/subnet-create-resp.json",
        ),
        (
            neutron::PORTS,
            rq::create_port(&port),
            json!({"port": {
                "network_id": "a87cc70a-3e15-4acf-8205-9b711a3531b7",
                "name": "private-port",
                "fixed_ips": [{"subnet_id": "a0304c3a-4f08-4c43-88af-d796509c97d2", "ip_address": "10.0.0.2"}],
                "security_groups": ["f0ac4394-7e4a-4409-9701-ba8be283dbc3"]
            }}),
            "neutron/port-create-resp.json",
        ),
        (
            neutron::SECURITY_GROUPS,
            rq::create_security_group(&group),
            json!({"security_group": {
                "name": "new-webservers",
                "description": "security group for webservers"
            }}),
            "neutron/security-group-create-resp.json",
        ),
        (
            neutron::SECURITY_GROUP_RULES,
            rq::create_security_group_rule(&rule),
            json!({"security_group_rule": {
                "direction": "ingress",
                "port_range_min": 80,
                "ethertype": "IPv4",
                "port_range_max": 80,
                "protocol": "tcp",
                "remote_group_id": "85cc3048-abc3-43cc-89b3-377341426ac5",
                "security_group_id": "a7734e61-b545-452d-a3cd-0189cbd9747a"
            }}),
            "neutron/security-group-rule-create-resp.json",
        ),
        (
            neutron::ROUTERS,
            rq::create_router(&router),
            json!({"router": {
                "name": "router1",
                "external_gateway_info": {"network_id": "ae34051f-aa6c-4c75-abf5-50dc9ac99ef3"}
            }}),
            "neutron/router-create-resp.json",
        ),
        (
            neutron::FLOATING_IPS,
            rq::create_floating_ip(&fip, "376da547-b977-4cfe-9cba-275c80debf57"),
            json!({"floatingip": {
                "floating_network_id": "376da547-b977-4cfe-9cba-275c80debf57",
                "port_id": "ce705c24-c1ef-408a-bda3-7bbd946164ab"
            }}),
            "neutron/floatingip-create-resp.json",
        ),
    ];
    for (r, built, literal, resp) in cases {
        assert_eq!(built, literal, "{}", r.path);
        let answer = fixture(resp);
        neutron_call("POST", r.path)
            .with_query(&[])
            .with_json(&literal)
            .respond_with(json_status(201, answer.clone()))
            .expect(1)
            .mount(&server)
            .await;
        let got = neutron::create(&api, &r, &built).await.unwrap();
        assert_eq!(got, answer[r.singular], "{}", r.path);
    }
}

#[tokio::test]
async fn neutron_update_associates_and_disassociates_a_floating_ip() {
    let (server, api) = cloud().await;
    let id = "2f245a7b-796b-4f26-9cf9-9e82d248fda7";
    let associate = fixture("neutron/floatingip-update-req.json");
    let disassociate = fixture("neutron/floatingip-disassociate-req.json");
    let port = PortId::new("fc861431-0e6c-4842-a0ed-e2363f9bc3a8");
    assert_eq!(rq::associate_floating_ip(Some(&port)), associate);
    assert_eq!(rq::associate_floating_ip(None), disassociate);
    for (body, resp) in [
        (&associate, "neutron/floatingip-update-resp.json"),
        (&disassociate, "neutron/floatingip-disassociate-resp.json"),
    ] {
        neutron_call("PUT", &format!("floatingips/{id}"))
            .with_query(&[])
            .with_json(body)
            .respond_with(ok(fixture(resp)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let got = neutron::update(&api, &neutron::FLOATING_IPS, id, &associate)
        .await
        .unwrap();
    assert_eq!(
        got,
        fixture("neutron/floatingip-update-resp.json")["floatingip"]
    );
    assert_eq!(got["port_id"], "fc861431-0e6c-4842-a0ed-e2363f9bc3a8");
    let got = neutron::update(&api, &neutron::FLOATING_IPS, id, &disassociate)
        .await
        .unwrap();
    assert_eq!(got["port_id"], Value::Null);
}

#[tokio::test]
async fn neutron_router_interfaces_add_and_remove() {
    let (server, api) = cloud().await;
    let router = "915a14a6-867b-4af7-83d1-70efceb146f9";
    let body = fixture("neutron/router-add-interface-req.json");
    assert_eq!(
        rq::router_interface(&SubnetId::new("a2f1f29d-571b-4533-907f-5803ab96ead1")),
        body
    );
    assert_eq!(body, fixture("neutron/router-remove-interface-req.json"));
    let answer = json!({
        "id": router,
        "network_id": "e69f6f8a-1a3a-4ad3-b9b5-2bd8f5b1f3a8",
        "port_id": "3a44f4e5-1694-493a-a1fb-393881c673a4",
        "subnet_id": "a2f1f29d-571b-4533-907f-5803ab96ead1",
        "subnet_ids": ["a2f1f29d-571b-4533-907f-5803ab96ead1"],
        "project_id": "b7445f221cc14a7e9bb1ad6a6c8b7f4e",
        "tenant_id": "b7445f221cc14a7e9bb1ad6a6c8b7f4e",
        "tags": ["tag1,tag2"]
    });
    for op in ["add_router_interface", "remove_router_interface"] {
        neutron_call("PUT", &format!("routers/{router}/{op}"))
            .with_query(&[])
            .with_json(&body)
            .respond_with(ok(answer.clone()))
            .expect(1)
            .mount(&server)
            .await;
    }
    let added = neutron::add_router_interface(&api, router, &body)
        .await
        .unwrap();
    assert_eq!(added, answer);
    let removed = neutron::remove_router_interface(&api, router, &body)
        .await
        .unwrap();
    assert_eq!(removed["port_id"], "3a44f4e5-1694-493a-a1fb-393881c673a4");
}

#[tokio::test]
async fn neutron_list_extensions() {
    let (server, api) = cloud().await;
    let doc = fixture("neutron/extensions-list-resp.json");
    neutron_call("GET", "extensions")
        .with_query(&[])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let list = neutron::list_extensions(&api).await.unwrap();
    let aliases: Vec<&str> = list.extensions.iter().map(|e| e.alias.as_str()).collect();
    let expected: Vec<&str> = doc["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, expected);
    assert!(aliases.contains(&"security-group"));
}

// ---------------------------------------------------------------------------------
// Cinder
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn cinder_list_volumes_with_filters_limit_and_marker() {
    let (server, api) = cloud().await;
    let doc = fixture("cinder/volumes-list-detailed-resp-v3.69.json");
    cinder_call("GET", "volumes/detail")
        .and(header("openstack-api-version", "volume 3.70"))
        .with_query(&[("status", "available"), ("limit", "1"), ("marker", "prev")])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let page = cinder::list_volumes(
        &api,
        q(&[("status", "available")]),
        Some(1),
        Some(PageToken::new("prev")),
    )
    .await
    .unwrap();
    assert_eq!(page.items, doc["volumes"].as_array().unwrap().clone());
    assert_eq!(
        page.next,
        Some(PageToken::new("cb49b381-9012-40cb-b8ee-80c19a4801b5"))
    );
}

#[tokio::test]
async fn cinder_get_create_extend_and_delete_a_volume() {
    let (server, api) = cloud().await;
    let show = fixture("cinder/volume-show-resp-v3.69.json");
    let created = fixture("cinder/volume-create-resp-v3.69.json");
    let spec = CreateVolume {
        name: "vol-001".into(),
        size_gib: 10,
        volume_type: Some("lvmdriver-1".into()),
        availability_zone: Some("nova".into()),
        snapshot_id: Some(SnapshotId::new("3fbbcccf-d058-4502-8844-6feeffdf4cb5")),
        metadata: [("contents".to_owned(), "junk".to_owned())]
            .into_iter()
            .collect(),
    };
    let expected = json!({"volume": {
        "size": 10,
        "availability_zone": "nova",
        "snapshot_id": "3fbbcccf-d058-4502-8844-6feeffdf4cb5",
        "name": "vol-001",
        "volume_type": "lvmdriver-1",
        "metadata": {"contents": "junk"}
    }});
    let body = rq::create_volume(&spec);
    assert_eq!(body, expected);
    cinder_call("POST", "volumes")
        .with_query(&[])
        .with_json(&expected)
        .respond_with(json_status(202, created.clone()))
        .expect(1)
        .mount(&server)
        .await;
    cinder_call("GET", "volumes/f7223234-1afc-4d19-bfa3-d19deb6235ef")
        .with_query(&[])
        .without_body()
        .respond_with(ok(show.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let extend = fixture("cinder/volume-action-extend-req.json");
    assert_eq!(rq::extend_volume(3), extend);
    cinder_call(
        "POST",
        "volumes/f7223234-1afc-4d19-bfa3-d19deb6235ef/action",
    )
    .with_query(&[])
    .with_json(&extend)
    .respond_with(ResponseTemplate::new(202))
    .expect(1)
    .mount(&server)
    .await;
    cinder_call("DELETE", "volumes/f7223234-1afc-4d19-bfa3-d19deb6235ef")
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let got = cinder::create_volume(&api, &body).await.unwrap();
    assert_eq!(got, created["volume"]);
    let got = cinder::get_volume(&api, "f7223234-1afc-4d19-bfa3-d19deb6235ef")
        .await
        .unwrap();
    assert_eq!(got, show["volume"]);
    cinder::volume_action(
        &api,
        "f7223234-1afc-4d19-bfa3-d19deb6235ef",
        &extend,
        "extend_volume",
    )
    .await
    .unwrap();
    cinder::delete_volume(&api, "f7223234-1afc-4d19-bfa3-d19deb6235ef")
        .await
        .unwrap();
}

#[tokio::test]
async fn cinder_snapshots_list_get_create_and_delete() {
    let (server, api) = cloud().await;
    let list = fixture("cinder/snapshots-list-detailed-resp-v3.65.json");
    let show = fixture("cinder/snapshot-show-resp-v3.65.json");
    let created = fixture("cinder/snapshot-create-resp-v3.65.json");
    cinder_call("GET", "snapshots/detail")
        .with_query(&[("volume_id", "7acd675e-4e06-4653-af9f-2ecd546342d6")])
        .without_body()
        .respond_with(ok(list.clone()))
        .expect(1)
        .mount(&server)
        .await;
    cinder_call("GET", "snapshots/4a584cae-e4ce-429b-9154-d4c9eb8fda4c")
        .with_query(&[])
        .without_body()
        .respond_with(ok(show.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let spec = CreateSnapshot {
        volume_id: VolumeId::new("5aa119a8-d25b-45a7-8d1b-88e127885635"),
        name: "snap-001".into(),
        force: true,
    };
    // The Api under test speaks 3.70: no `force` (Cinder rejects it from 3.66).
    let expected = json!({"snapshot": {
        "name": "snap-001",
        "volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635"
    }});
    assert_eq!(rq::create_snapshot(&spec, CINDER), expected);
    cinder_call("POST", "snapshots")
        .with_query(&[])
        .with_json(&expected)
        .respond_with(json_status(202, created.clone()))
        .expect(1)
        .mount(&server)
        .await;
    cinder_call("DELETE", "snapshots/b36476e5-d18b-47f9-ac69-4818cb43ee21")
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let page = cinder::list_snapshots(
        &api,
        q(&[("volume_id", "7acd675e-4e06-4653-af9f-2ecd546342d6")]),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(page.items, list["snapshots"].as_array().unwrap().clone());
    assert_eq!(page.next, None, "no limit, no link: one page");
    let got = cinder::get_snapshot(&api, "4a584cae-e4ce-429b-9154-d4c9eb8fda4c")
        .await
        .unwrap();
    assert_eq!(got, show["snapshot"]);
    let got = cinder::create_snapshot(&api, &rq::create_snapshot(&spec, CINDER))
        .await
        .unwrap();
    assert_eq!(got, created["snapshot"]);
    assert_eq!(got["status"], "creating");
    cinder::delete_snapshot(&api, "b36476e5-d18b-47f9-ac69-4818cb43ee21")
        .await
        .unwrap();
}

#[tokio::test]
async fn cinder_list_volume_types() {
    let (server, api) = cloud().await;
    let types = json!({"volume_types": [
        {"id": "6685584b-1eac-4da6-b5c3-555430cf68ff", "name": "lvmdriver-1",
         "description": null, "is_public": true,
         "extra_specs": {"volume_backend_name": "lvmdriver-1"}, "qos_specs_id": null},
        {"id": "8eb69a46-df97-4e41-9586-9a40a7533803", "name": "__DEFAULT__",
         "description": "Default Volume Type", "is_public": true, "extra_specs": {}}
    ]});
    cinder_call("GET", "types")
        .with_query(&[])
        .without_body()
        .respond_with(ok(types.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let got = cinder::list_volume_types(&api).await.unwrap();
    assert_eq!(got, types["volume_types"].as_array().unwrap().clone());
}

#[tokio::test]
async fn cinder_volume_types_without_the_array_are_an_invalid_response() {
    let (server, api) = cloud().await;
    cinder_call("GET", "types")
        .respond_with(ok(json!({"types": []})))
        .expect(1)
        .mount(&server)
        .await;
    let err = cinder::list_volume_types(&api).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
}

// ---------------------------------------------------------------------------------
// Glance
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn glance_list_images_repeats_tag_and_follows_next() {
    let (server, api) = cloud().await;
    let mut doc = fixture("glance/images-list-resp.json");
    doc["next"] = json!("/v2/images?marker=781b3762-9469-4cec-b58d-3349e5de4e9c&limit=2");
    glance_call("GET", "images")
        .and(header("accept", "application/json"))
        .with_query(&[
            ("name", "cirros"),
            ("tag", "a"),
            ("tag", "b"),
            ("limit", "2"),
        ])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("GET", "images")
        .with_query(&[
            ("name", "cirros"),
            ("tag", "a"),
            ("tag", "b"),
            ("limit", "3"),
            ("marker", "781b3762-9469-4cec-b58d-3349e5de4e9c"),
        ])
        .without_body()
        .respond_with(ok(fixture("glance/images-list-resp.json")))
        .expect(1)
        .mount(&server)
        .await;
    let filters = q(&[("name", "cirros"), ("tag", "a"), ("tag", "b")]);
    let page = glance::list_images(&api, filters.clone(), Some(2), None)
        .await
        .unwrap();
    assert_eq!(page.items, doc["images"].as_array().unwrap().clone());
    assert_eq!(
        page.next,
        Some(PageToken::new("781b3762-9469-4cec-b58d-3349e5de4e9c"))
    );
    // Only `first`, no `next`, and two of three: the end.
    let last = glance::list_images(&api, filters, Some(3), page.next)
        .await
        .unwrap();
    assert_eq!(last.items.len(), 2);
    assert_eq!(last.next, None);
}

#[tokio::test]
async fn glance_get_image_is_unwrapped() {
    let (server, api) = cloud().await;
    let doc = fixture("glance/image-show-resp.json");
    glance_call("GET", "images/1bea47ed-f6a9-463b-b423-14b9cca9ad27")
        .with_query(&[])
        .without_body()
        .respond_with(ok(doc.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let got = glance::get_image(&api, "1bea47ed-f6a9-463b-b423-14b9cca9ad27")
        .await
        .unwrap();
    assert_eq!(got, doc);
}

#[tokio::test]
async fn glance_create_image_posts_the_record() {
    let (server, api) = cloud().await;
    let mut spec = CreateImage::new("Ubuntu", "raw", "bare");
    spec.min_disk_gib = 1;
    spec.min_ram_mib = 512;
    spec.os_family = Some("linux".into());
    spec.tags = vec!["ubuntu".into(), "22.04".into()];
    spec.properties.insert("hw_disk_bus".into(), "scsi".into());
    let expected = json!({
        "name": "Ubuntu",
        "disk_format": "raw",
        "container_format": "bare",
        "min_disk": 1,
        "min_ram": 512,
        "os_type": "linux",
        "tags": ["ubuntu", "22.04"],
        "hw_disk_bus": "scsi"
    });
    let built = rq::create_image(&spec);
    assert_eq!(built, expected);
    // The minimal record is the sample request less its client-chosen id.
    let mut sample = fixture("glance/image-create-req.json");
    sample.as_object_mut().unwrap().remove("id");
    assert_eq!(
        rq::create_image(&CreateImage::new("Ubuntu", "raw", "bare")),
        sample
    );
    let created = fixture("glance/image-create-resp.json");
    glance_call("POST", "images")
        .with_query(&[])
        .with_json(&expected)
        .respond_with(json_status(201, created.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let got = glance::create_image(&api, &built).await.unwrap();
    assert_eq!(got, created);
    assert_eq!(got["status"], "queued");
}

fn chunks(parts: &[&'static str]) -> ByteStream {
    let items: Vec<hybrid_core::Result<Bytes>> = parts
        .iter()
        .map(|p| Ok(Bytes::from_static(p.as_bytes())))
        .collect();
    Box::pin(futures::stream::iter(items))
}

/// The request's body came as a stream (chunked), not buffered with a length.
struct Chunked;

impl Match for Chunked {
    fn matches(&self, r: &Request) -> bool {
        values(r, "transfer-encoding") == ["chunked"] && values(r, "content-length").is_empty()
    }
}

#[tokio::test]
async fn glance_upload_streams_octets_with_or_without_a_length() {
    let (server, api) = cloud().await;
    let id = "b2173dd3-7ad6-4362-baa6-a68bce3565cb";
    glance_call("PUT", &format!("images/{id}/file"))
        .and(header("content-type", "application/octet-stream"))
        .and(header("content-length", "21"))
        .and(body_bytes(b"chunk-1chunk-2chunk-3".to_vec()))
        .with_query(&[])
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    glance::upload_image_data(
        &api,
        id,
        chunks(&["chunk-1", "chunk-2", "chunk-3"]),
        Some(21),
    )
    .await
    .unwrap();
    glance_call("PUT", &format!("images/{id}/file"))
        .and(header("content-type", "application/octet-stream"))
        .and(Chunked)
        .and(body_bytes(b"abcdef".to_vec()))
        .with_query(&[])
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    glance::upload_image_data(&api, id, chunks(&["abc", "def"]), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn glance_download_streams_the_data_and_204_is_a_conflict() {
    let (server, api) = cloud().await;
    glance_call("GET", "images/img-1/file")
        .and(header("accept", "application/octet-stream"))
        .with_query(&[])
        .without_body()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(b"\x00\x01disk-bytes".to_vec(), "application/octet-stream"),
        )
        .expect(1)
        .mount(&server)
        .await;
    glance_call("GET", "images/img-2/file")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let stream = glance::download_image_data(&api, "img-1").await.unwrap();
    let parts: Vec<Bytes> = stream.try_collect().await.unwrap();
    assert_eq!(parts.concat(), b"\x00\x01disk-bytes");
    let err = match glance::download_image_data(&api, "img-2").await {
        Err(e) => e,
        Ok(_) => panic!("a 204 download succeeded"),
    };
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(err.http_status(), Some(204));
    assert!(err.message().contains("img-2 has no data"), "{err}");
}

#[tokio::test]
async fn glance_import_and_delete() {
    let (server, api) = cloud().await;
    let id = "b2173dd3-7ad6-4362-baa6-a68bce3565cb";
    let url = "https://download.cirros-cloud.net/0.4.0/cirros-0.4.0-ppc64le-disk.img";
    let expected = json!({"method": {"name": "web-download", "uri": url}});
    let mut sample = fixture("glance/image-import-w-d-req.json");
    assert_eq!(sample["method"], expected["method"]);
    sample.as_object_mut().unwrap().remove("all_stores");
    sample
        .as_object_mut()
        .unwrap()
        .remove("all_stores_must_succeed");
    assert_eq!(rq::import_web_download(url), sample);
    glance_call("POST", &format!("images/{id}/import"))
        .with_query(&[])
        .with_json(&expected)
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("DELETE", &format!("images/{id}"))
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    glance::import_image(&api, id, &rq::import_web_download(url))
        .await
        .unwrap();
    glance::delete_image(&api, id).await.unwrap();
}

#[tokio::test]
async fn glance_import_methods_and_stores() {
    let (server, api) = cloud().await;
    glance_call("GET", "info/import")
        .with_query(&[])
        .without_body()
        .respond_with(ok(json!({"import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": ["glance-direct", "web-download", "copy-image"]
        }})))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("GET", "info/stores")
        .with_query(&[])
        .without_body()
        .respond_with(ok(json!({"stores": [
            {"id": "reliable", "description": "Reliable filesystem backend"},
            {"id": "fast", "description": "Fast access to rbd store", "default": true}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let methods = glance::import_methods(&api).await.unwrap();
    assert_eq!(methods, ["glance-direct", "web-download", "copy-image"]);
    let stores = glance::list_stores(&api).await.unwrap();
    let got: Vec<(&str, Option<&str>, bool)> = stores
        .iter()
        .map(|s| (s.id.as_str(), s.description.as_deref(), s.default))
        .collect();
    assert_eq!(
        got,
        [
            ("reliable", Some("Reliable filesystem backend"), false),
            ("fast", Some("Fast access to rbd store"), true)
        ]
    );
}

// ---------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn nova_error_bodies() {
    let (server, api) = cloud().await;
    nova_call("GET", "servers/x")
        .respond_with(
            fault(
                404,
                json!({"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}),
                "req-nova-404",
            )
            .insert_header("x-compute-request-id", "req-nova-404"),
        )
        .expect(1)
        .mount(&server)
        .await;
    nova_call("POST", "servers/x/action")
        .respond_with(fault(
            409,
            json!({"conflictingRequest": {"code": 409,
                "message": "Cannot 'stop' instance x while it is in vm_state stopped"}}),
            "req-nova-409",
        ))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("POST", "servers")
        .and(body_json(
            json!({"server": {"name": "a", "flavorRef": "nope", "networks": "none"}}),
        ))
        .respond_with(fault(
            400,
            json!({"badRequest": {"code": 400, "message": "Invalid flavorRef provided."}}),
            "req-nova-400",
        ))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("POST", "servers")
        .and(body_json(json!({"server": {"name": "b", "flavorRef": "1", "networks": "none"}})))
        .respond_with(fault(
            403,
            json!({"forbidden": {"code": 403,
                "message": "Quota exceeded for cores: Requested 1, but already used 20 of 20 cores"}}),
            "req-nova-403",
        ))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("POST", "os-keypairs")
        .respond_with(fault(
            409,
            json!({"conflictingRequest": {"code": 409, "message": "Key pair 'k' already exists."}}),
            "req-nova-409b",
        ))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "servers/detail")
        .respond_with(
            fault(
                429,
                json!({"overLimit": {"code": 429, "message": "This request was rate-limited.", "retryAfter": "7"}}),
                "req-nova-429",
            )
            .insert_header("retry-after", "7"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = nova::get_server(&api, "x").await.unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::NotFound,
        404,
        "req-nova-404",
        "itemNotFound: Instance x could not be found.",
        "get_server",
    );
    let err = nova::server_action(&api, "x", &rq::stop(), "stop_server")
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::Conflict,
        409,
        "req-nova-409",
        "Cannot 'stop' instance x while it is in vm_state stopped",
        "stop_server",
    );
    let err = nova::create_server(
        &api,
        &rq::create_server(&CreateServer::new("a", "nope"), NOVA),
    )
    .await
    .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::InvalidInput,
        400,
        "req-nova-400",
        "Invalid flavorRef provided.",
        "create_server",
    );
    let err = nova::create_server(&api, &rq::create_server(&CreateServer::new("b", "1"), NOVA))
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::QuotaExceeded,
        403,
        "req-nova-403",
        "Quota exceeded for cores",
        "create_server",
    );
    let spec = CreateKeyPair {
        name: "k".into(),
        public_key: "ssh-ed25519 AAAA k".into(),
    };
    let err = nova::create_key_pair(&api, &rq::import_key_pair(&spec))
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::AlreadyExists,
        409,
        "req-nova-409b",
        "Key pair 'k' already exists.",
        "create_key_pair",
    );
    let err = nova::list_servers(&api, Vec::new(), None, None)
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::RateLimited,
        429,
        "req-nova-429",
        "This request was rate-limited.",
        "list_servers",
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn neutron_error_bodies() {
    let (server, api) = cloud().await;
    neutron_call("GET", "networks/x")
        .respond_with(fault(
            404,
            json!({"NeutronError": {"type": "NetworkNotFound",
                "message": "Network x could not be found.", "detail": ""}}),
            "req-neutron-404",
        ))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("DELETE", "networks/x")
        .respond_with(fault(
            409,
            json!({"NeutronError": {"type": "NetworkInUse",
                "message": "Unable to complete operation on network x. There are one or more ports still in use on the network.",
                "detail": ""}}),
            "req-neutron-409",
        ))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("POST", "subnets")
        .respond_with(fault(
            400,
            json!({"NeutronError": {"type": "HTTPBadRequest",
                "message": "Invalid input for cidr. Reason: '10.0.0.0/33' is not a valid IP subnet.",
                "detail": ""}}),
            "req-neutron-400",
        ))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("POST", "floatingips")
        .respond_with(fault(
            409,
            json!({"NeutronError": {"type": "OverQuota",
                "message": "Quota exceeded for resources: ['floatingip'].", "detail": ""}}),
            "req-neutron-quota",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = neutron::get(&api, &neutron::NETWORKS, "x")
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::NotFound,
        404,
        "req-neutron-404",
        "NetworkNotFound: Network x could not be found.",
        "get_network",
    );
    let err = neutron::delete(&api, &neutron::NETWORKS, "x")
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::Conflict,
        409,
        "req-neutron-409",
        "NetworkInUse: Unable to complete operation on network x.",
        "delete_network",
    );
    let bad = CreateSubnet {
        network_id: NetworkId::new("n"),
        name: "s".into(),
        cidr: "10.0.0.0/33".into(),
        ip_version: IpVersion::V4,
        gateway_ip: None,
        dhcp_enabled: true,
        dns_nameservers: Vec::new(),
    };
    let err = neutron::create(&api, &neutron::SUBNETS, &rq::create_subnet(&bad))
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::InvalidInput,
        400,
        "req-neutron-400",
        "'10.0.0.0/33' is not a valid IP subnet.",
        "create_subnet",
    );
    let err = neutron::create(
        &api,
        &neutron::FLOATING_IPS,
        &rq::create_floating_ip(&CreateFloatingIp::default(), "ext"),
    )
    .await
    .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::QuotaExceeded,
        409,
        "req-neutron-quota",
        "OverQuota: Quota exceeded for resources: ['floatingip'].",
        "create_floating_ip",
    );
}

#[tokio::test]
async fn cinder_error_bodies() {
    let (server, api) = cloud().await;
    cinder_call("GET", "volumes/x")
        .respond_with(fault(
            404,
            json!({"itemNotFound": {"code": 404, "message": "Volume x could not be found."}}),
            "req-cinder-404",
        ))
        .expect(1)
        .mount(&server)
        .await;
    cinder_call("DELETE", "volumes/x")
        .respond_with(fault(
            400,
            json!({"badRequest": {"code": 400,
                "message": "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer."}}),
            "req-cinder-400",
        ))
        .expect(1)
        .mount(&server)
        .await;
    cinder_call("POST", "volumes/x/action")
        .respond_with(fault(
            409,
            json!({"conflictingRequest": {"code": 409,
                "message": "Volume x status must be available or in-use to extend, but current status is: extending."}}),
            "req-cinder-409",
        ))
        .expect(1)
        .mount(&server)
        .await;
    cinder_call("POST", "volumes")
        .respond_with(fault(
            413,
            json!({"overLimit": {"code": 413,
                "message": "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 100G, quota is 1000G and 990G has been consumed.",
                "retryAfter": "0"}}),
            "req-cinder-413",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = cinder::get_volume(&api, "x").await.unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::NotFound,
        404,
        "req-cinder-404",
        "itemNotFound: Volume x could not be found.",
        "get_volume",
    );
    let err = cinder::delete_volume(&api, "x").await.unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::InvalidInput,
        400,
        "req-cinder-400",
        "Invalid volume: Volume status must be available",
        "delete_volume",
    );
    let err = cinder::volume_action(&api, "x", &rq::extend_volume(20), "extend_volume")
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::Conflict,
        409,
        "req-cinder-409",
        "current status is: extending.",
        "extend_volume",
    );
    let err = cinder::create_volume(&api, &rq::create_volume(&CreateVolume::new("big", 100)))
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::QuotaExceeded,
        413,
        "req-cinder-413",
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota.",
        "create_volume",
    );
}

#[tokio::test]
async fn glance_error_bodies() {
    let (server, api) = cloud().await;
    glance_call("GET", "images/x")
        .respond_with(glance_fault(
            404,
            "404 Not Found\n\nNo image found with ID x\n\n   ",
            "req-glance-404",
        ))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("PUT", "images/x/file")
        .respond_with(glance_fault(
            409,
            "409 Conflict\n\nImage status transition from active to saving is not allowed\n\n   ",
            "req-glance-409",
        ))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("POST", "images")
        .respond_with(glance_fault(
            400,
            "400 Bad Request\n\nProvided object does not match schema 'image': 'rawr' is not one of ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop']\n\n   ",
            "req-glance-400",
        ))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("PUT", "images/y/file")
        .respond_with(glance_fault(
            413,
            "413 Request Entity Too Large\n\nImage exceeds the storage quota: The size of the data 21 will exceed the limit. 0 bytes remaining.\n\n   ",
            "req-glance-413",
        ))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("DELETE", "images/z")
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("x-openstack-request-id", "req-glance-html")
                .set_body_raw(
                    "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID z<br /><br />\n\n\n </body>\n</html>",
                    "text/html; charset=UTF-8",
                ),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = glance::get_image(&api, "x").await.unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::NotFound,
        404,
        "req-glance-404",
        "No image found with ID x",
        "get_image",
    );
    let err = glance::upload_image_data(&api, "x", chunks(&["data"]), Some(4))
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::Conflict,
        409,
        "req-glance-409",
        "Image status transition from active to saving is not allowed",
        "upload_image",
    );
    let err = glance::create_image(
        &api,
        &rq::create_image(&CreateImage::new("bad", "rawr", "bare")),
    )
    .await
    .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::InvalidInput,
        400,
        "req-glance-400",
        "Provided object does not match schema 'image': 'rawr' is not one of",
        "create_image",
    );
    let err = glance::upload_image_data(&api, "y", chunks(&["0123456789", "01234567890"]), None)
        .await
        .unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::QuotaExceeded,
        413,
        "req-glance-413",
        "Image exceeds the storage quota",
        "upload_image",
    );
    let err = glance::delete_image(&api, "z").await.unwrap_err();
    assert_service_error(
        &err,
        ErrorKind::NotFound,
        404,
        "req-glance-html",
        "No image found with ID z",
        "delete_image",
    );
    assert!(!err.message().contains('<'), "{err}");
}

#[tokio::test]
async fn a_create_server_answered_503_is_sent_once_but_a_get_is_retried() {
    let retry = RetryPolicy::new()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    let (server, session) = setup_with(ALL, retry).await;
    let api = api_at(&session, NOVA);
    nova_call("POST", "servers")
        .respond_with(fault(
            503,
            json!({"computeFault": {"code": 503, "message": "Service Unavailable"}}),
            "req-503",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let body = rq::create_server(&CreateServer::new("once", "1"), NOVA);
    let err = nova::create_server(&api, &body).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(err.http_status(), Some(503));
    assert!(!err.is_retryable(), "the server may exist: {err}");

    nova_call("GET", "servers/s1")
        .respond_with(fault(503, json!({}), "req-503-get"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "servers/s1")
        .respond_with(ok(json!({"server": {"id": "s1", "status": "ACTIVE"}})))
        .expect(1)
        .mount(&server)
        .await;
    let got = nova::get_server(&api, "s1").await.unwrap();
    assert_eq!(got["status"], "ACTIVE");
}

// ---------------------------------------------------------------------------------
// Through the provider
// ---------------------------------------------------------------------------------

const SERVER_ID: &str = "97108291-2fd7-4dc2-a909-eaae0306a6a9";

/// Mounts what `OpenStackProvider::from_session` asks, once each: Nova's version
/// document (up to `nova_max`), Cinder's root, Neutron's extensions, the hypervisors
/// and Glance's import methods.
async fn mount_discovery(server: &MockServer, nova_max: &str) {
    discovery_call("/compute/v2.1/")
        .respond_with(ok(json!({"version": {
            "id": "v2.1", "status": "CURRENT", "version": nova_max, "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z", "links": []
        }})))
        .expect(1)
        .mount(server)
        .await;
    discovery_call("/volume/")
        .respond_with(json_status(300, fixture("cinder/versions-resp.json")))
        .expect(1)
        .mount(server)
        .await;
    neutron_call("GET", "extensions")
        .with_query(&[])
        .respond_with(ok(fixture("neutron/extensions-list-resp.json")))
        .expect(1)
        .mount(server)
        .await;
    mount_hypervisors(server, nova_max).await;
    glance_call("GET", "info/import")
        .with_query(&[])
        .respond_with(ok(json!({"import-methods": {
            "description": "Import methods available.", "type": "array",
            "value": ["glance-direct", "web-download"]
        }})))
        .expect(1)
        .mount(server)
        .await;
}

async fn provider_at(nova_max: &str) -> (MockServer, OpenStackProvider) {
    let (server, session) = setup().await;
    mount_discovery(&server, nova_max).await;
    let p = OpenStackProvider::from_session("test".into(), session)
        .await
        .unwrap();
    (server, p)
}

async fn provider() -> (MockServer, OpenStackProvider) {
    provider_at("2.93").await
}

fn fast() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(20),
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        multiplier: 1.5,
        jitter: 0.0,
    }
}

/// A server as Nova 2.47+ shows it: the flavor by name, not by id.
fn server_doc(status: &str, task: Option<&str>, flavor: &str) -> Value {
    json!({"server": {
        "id": SERVER_ID, "name": "web-1", "status": status,
        "OS-EXT-STS:task_state": task,
        "flavor": {"original_name": flavor, "vcpus": 1, "ram": 512, "disk": 1,
                   "ephemeral": 0, "swap": 0, "extra_specs": {}},
        "image": {"id": "70a599e0-31e7-49b7-b260-868f441e862b", "links": []},
        "addresses": {}, "metadata": {}, "tags": ["web"],
        "created": "2024-01-01T00:00:00Z"
    }})
}

async fn mount_flavors(server: &MockServer, v: &str, times: u64) {
    nova_call_at("GET", "flavors/detail", v)
        .with_query(&[("is_public", "None")])
        .respond_with(ok(fixture("nova/flavors-detail-resp-v2.75.json")))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn provider_discovery_asks_each_service_once() {
    let (_server, p) = provider().await;
    let facts = p.facts();
    assert_eq!(facts.nova_microversion, Some(NOVA));
    assert_eq!(
        p.api().negotiated(),
        Negotiated {
            nova: NOVA,
            cinder: CINDER
        }
    );
    assert_eq!(
        facts.hypervisor_types.as_deref(),
        Some(&["fake".to_owned()][..])
    );
    assert!(facts
        .neutron_extensions
        .as_ref()
        .unwrap()
        .contains(&"security-group".to_owned()));
    assert_eq!(
        facts.glance_import_methods.as_deref(),
        Some(&["glance-direct".to_owned(), "web-download".to_owned()][..])
    );
    assert_eq!(facts.region.as_deref(), Some("RegionOne"));
}

#[tokio::test]
async fn provider_create_server_below_2_52_posts_then_puts_the_tags() {
    let (server, p) = provider_at("2.50").await;
    let spec = CreateServer::new("web-1", "1")
        .with_image("70a599e0-31e7-49b7-b260-868f441e862b")
        .with_tag("web")
        .with_tag("prod");
    let expected = json!({"server": {
        "name": "web-1", "flavorRef": "1",
        "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
        "networks": "none"
    }});
    nova_call_at("POST", "servers", "2.50")
        .with_json(&expected)
        .respond_with(json_status(
            202,
            fixture("nova/servers-create-resp-v2.47.json"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    nova_call_at("PUT", &format!("servers/{SERVER_ID}/tags"), "2.50")
        .with_json(&json!({"tags": ["web", "prod"]}))
        .respond_with(ok(json!({"tags": ["prod", "web"]})))
        .expect(1)
        .mount(&server)
        .await;
    nova_call_at("GET", &format!("servers/{SERVER_ID}"), "2.50")
        .respond_with(ok(server_doc("BUILD", Some("spawning"), "m1.tiny")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    nova_call_at("GET", &format!("servers/{SERVER_ID}"), "2.50")
        .respond_with(ok(server_doc("ACTIVE", None, "m1.tiny")))
        .expect(1)
        .mount(&server)
        .await;
    mount_flavors(&server, "2.50", 1).await;
    let op = p.create_server(&spec).await.unwrap();
    let s = op.with_options(fast()).wait().await.unwrap();
    assert_eq!(s.id, ServerId::new(SERVER_ID));
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(s.flavor, Some(FlavorId::new("1")));
    // The POST came before the PUT.
    let reqs = server.received_requests().await.unwrap();
    let order: Vec<String> = reqs
        .iter()
        .filter(|r| r.url.path().contains("/servers"))
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        order[..2],
        [
            "POST /compute/v2.1/servers".to_owned(),
            format!("PUT /compute/v2.1/servers/{SERVER_ID}/tags")
        ]
    );
}

#[tokio::test]
async fn provider_create_server_from_2_52_sends_tags_in_the_body_only() {
    let (server, p) = provider().await;
    let spec = CreateServer::new("web-1", "1").with_tag("web");
    nova_call("POST", "servers")
        .with_json(&json!({"server": {
            "name": "web-1", "flavorRef": "1", "networks": "none", "tags": ["web"]
        }}))
        .respond_with(json_status(
            202,
            fixture("nova/servers-create-resp-v2.47.json"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let op = p.create_server(&spec).await.unwrap();
    assert_eq!(op.resource(), Some(SERVER_ID));
}

#[tokio::test]
async fn provider_resize_confirms_at_verify_resize_and_ends_active() {
    let (server, p) = provider().await;
    nova_call("POST", &format!("servers/{SERVER_ID}/action"))
        .with_json(&json!({"resize": {"flavorRef": "2"}}))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("POST", &format!("servers/{SERVER_ID}/action"))
        .with_json(&json!({"confirmResize": null}))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    for (status, task, flavor) in [
        ("RESIZE", Some("resize_migrating"), "m1.tiny"),
        ("VERIFY_RESIZE", None, "m1.small"),
        // Nova confirms asynchronously: one more look at VERIFY_RESIZE must not confirm
        // again.
        ("VERIFY_RESIZE", None, "m1.small"),
    ] {
        nova_call("GET", &format!("servers/{SERVER_ID}"))
            .respond_with(ok(server_doc(status, task, flavor)))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    nova_call("GET", &format!("servers/{SERVER_ID}"))
        .respond_with(ok(server_doc("ACTIVE", None, "m1.small")))
        .expect(1)
        .mount(&server)
        .await;
    mount_flavors(&server, "2.93", 1).await;
    let op = p
        .resize_server(&ServerId::new(SERVER_ID), &FlavorId::new("2"))
        .await
        .unwrap();
    let s = op.with_options(fast()).wait().await.unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(s.flavor, Some(FlavorId::new("2")));
}

#[tokio::test]
async fn provider_resolves_the_flavor_name_of_nova_2_47_to_its_id_once() {
    let (server, p) = provider().await;
    let doc = fixture("nova/server-get-resp-v2.90.json");
    let id = doc["server"]["id"].as_str().unwrap().to_owned();
    nova_call("GET", &format!("servers/{id}"))
        .respond_with(ok(doc.clone()))
        .expect(2)
        .mount(&server)
        .await;
    let mut gone = doc.clone();
    gone["server"]["id"] = json!("old-1");
    gone["server"]["flavor"]["original_name"] = json!("m1.deleted");
    nova_call("GET", "servers/old-1")
        .respond_with(ok(gone))
        .expect(1)
        .mount(&server)
        .await;
    // Loaded for the first server, cached for the second; the miss within the
    // table's lifetime does not reload it.
    mount_flavors(&server, "2.93", 1).await;
    let s = p.get_server(&ServerId::new(id.clone())).await.unwrap();
    assert_eq!(s.flavor, Some(FlavorId::new("1")), "m1.tiny is flavor 1");
    let again = p.get_server(&ServerId::new(id)).await.unwrap();
    assert_eq!(again.flavor, Some(FlavorId::new("1")));
    let old = p.get_server(&ServerId::new("old-1")).await.unwrap();
    assert_eq!(
        old.flavor,
        Some(FlavorId::new("m1.deleted")),
        "a name no flavor carries is kept"
    );
}

fn listed(id: &str) -> Value {
    let mut v = server_doc("ACTIVE", None, "m1.tiny")["server"].clone();
    v["id"] = json!(id);
    v
}

#[tokio::test]
async fn provider_list_servers_follows_servers_links_then_stops() {
    let (server, p) = provider().await;
    let href = format!("{}/compute/v2.1/servers/detail?marker=b", server.uri());
    nova_call("GET", "servers/detail")
        .with_query(&[])
        .respond_with(ok(json!({
            "servers": [listed("a"), listed("b")],
            "servers_links": [{"rel": "next", "href": href}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "servers/detail")
        .with_query(&[("marker", "b")])
        .respond_with(ok(json!({"servers": [listed("c")]})))
        .expect(1)
        .mount(&server)
        .await;
    mount_flavors(&server, "2.93", 1).await;
    let ids: Vec<String> = p
        .list_servers(ListOptions::new())
        .map_ok(|s| s.id.into_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[tokio::test]
async fn provider_list_servers_with_a_page_size_stops_on_a_short_page() {
    let (server, p) = provider().await;
    nova_call("GET", "servers/detail")
        .with_query(&[("name", "^web\\-1$"), ("limit", "2")])
        .respond_with(ok(json!({"servers": [listed("a"), listed("b")]})))
        .expect(1)
        .mount(&server)
        .await;
    nova_call("GET", "servers/detail")
        .with_query(&[("name", "^web\\-1$"), ("limit", "2"), ("marker", "b")])
        .respond_with(ok(json!({"servers": [listed("c")]})))
        .expect(1)
        .mount(&server)
        .await;
    mount_flavors(&server, "2.93", 1).await;
    let ids: Vec<String> = p
        .list_servers(ListOptions::new().with_name("web-1").with_page_size(2))
        .map_ok(|s| s.id.into_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[tokio::test]
async fn provider_create_image_streams_the_upload_then_waits_for_active() {
    let (server, p) = provider().await;
    let id = "b2173dd3-7ad6-4362-baa6-a68bce3565cb";
    glance_call("POST", "images")
        .with_json(&json!({"name": "Ubuntu", "disk_format": "raw", "container_format": "bare"}))
        .respond_with(json_status(201, fixture("glance/image-create-resp.json")))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("PUT", &format!("images/{id}/file"))
        .and(header("content-type", "application/octet-stream"))
        .and(Chunked)
        .and(body_bytes(b"chunk-1chunk-2chunk-3".to_vec()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let mut saving = fixture("glance/image-create-resp.json");
    saving["status"] = json!("saving");
    let mut active = fixture("glance/image-create-resp.json");
    active["status"] = json!("active");
    active["size"] = json!(21);
    glance_call("GET", &format!("images/{id}"))
        .respond_with(ok(saving))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    glance_call("GET", &format!("images/{id}"))
        .respond_with(ok(active))
        .expect(1)
        .mount(&server)
        .await;
    let data = ImageData::Upload {
        stream: chunks(&["chunk-1", "chunk-2", "chunk-3"]),
        size: None,
    };
    let op = p
        .create_image(&CreateImage::new("Ubuntu", "raw", "bare"), data)
        .await
        .unwrap();
    let image = op.with_options(fast()).wait().await.unwrap();
    assert_eq!(image.id, ImageId::new(id));
    assert_eq!(image.status, ImageStatus::Active);
    assert_eq!(image.name, "Ubuntu");
}

#[tokio::test]
async fn provider_a_failed_upload_deletes_the_queued_record() {
    let (server, p) = provider().await;
    let id = "b2173dd3-7ad6-4362-baa6-a68bce3565cb";
    glance_call("POST", "images")
        .respond_with(json_status(201, fixture("glance/image-create-resp.json")))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("PUT", &format!("images/{id}/file"))
        .respond_with(glance_fault(
            413,
            "413 Request Entity Too Large\n\nImage exceeds the storage quota: The size of the data 21 will exceed the limit. 0 bytes remaining.\n\n   ",
            "req-up-413",
        ))
        .expect(1)
        .mount(&server)
        .await;
    glance_call("DELETE", &format!("images/{id}"))
        .with_query(&[])
        .without_body()
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let err = p
        .create_image(
            &CreateImage::new("Ubuntu", "raw", "bare"),
            ImageData::bytes(&b"chunk-1chunk-2chunk-3"[..]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert_eq!(err.request_id(), Some("req-up-413"));
    assert_eq!(err.context().resource.as_deref(), Some(id));
    // The record was deleted after the failed upload, not before.
    let reqs = server.received_requests().await.unwrap();
    let order: Vec<String> = reqs
        .iter()
        .filter(|r| r.url.path().starts_with("/image/v2/images"))
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(order, ["POST", "PUT", "DELETE"]);
}

#[tokio::test]
async fn provider_download_answered_204_is_a_conflict() {
    let (server, p) = provider().await;
    glance_call("GET", "images/img-1/file")
        .and(header("accept", "application/octet-stream"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let err = match p.download_image(&ImageId::new("img-1")).await {
        Err(e) => e,
        Ok(_) => panic!("a download without data succeeded"),
    };
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert_eq!(err.http_status(), Some(204));
}

fn port(id: &str, device: &str, owner: &str, subnets: &[&str]) -> Value {
    let ips: Vec<Value> = subnets
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"subnet_id": s, "ip_address": format!("10.0.{i}.1")}))
        .collect();
    json!({"id": id, "name": "", "network_id": "n", "device_id": device,
           "device_owner": owner, "fixed_ips": ips, "status": "ACTIVE"})
}

#[tokio::test]
async fn provider_router_interfaces_come_from_one_ports_query() {
    let (server, p) = provider().await;
    neutron_call("GET", "routers")
        .with_query(&[])
        .respond_with(ok(json!({"routers": [
            {"id": "r1", "name": "edge", "status": "ACTIVE",
             "external_gateway_info": {"network_id": "ext"}},
            {"id": "r2", "name": "ha", "status": "ACTIVE", "external_gateway_info": null}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("GET", "ports")
        .with_query(&[("device_id", "r1"), ("device_id", "r2")])
        .without_body()
        .respond_with(ok(json!({"ports": [
            port("p1", "r1", "network:router_interface", &["s1"]),
            port("p2", "r1", "network:router_gateway", &["ext-subnet"]),
            port("p3", "r2", "network:ha_router_replicated_interface", &["s2"]),
            port("p4", "r2", "network:router_interface_distributed", &["s3", "s3"]),
            port("p5", "r2", "network:router_ha_interface", &["ha-net"])
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let page = p
        .list_routers_page(&ListOptions::new(), None)
        .await
        .unwrap();
    let got: Vec<(String, Option<String>, Vec<String>)> = page
        .items
        .into_iter()
        .map(|r| {
            (
                r.id.into_string(),
                r.external_network.map(NetworkId::into_string),
                r.interfaces
                    .into_iter()
                    .map(SubnetId::into_string)
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "r1".to_owned(),
                Some("ext".to_owned()),
                vec!["s1".to_owned()]
            ),
            (
                "r2".to_owned(),
                None,
                vec!["s2".to_owned(), "s3".to_owned()]
            ),
        ]
    );
}

#[tokio::test]
async fn provider_floating_ip_without_a_network_uses_the_external_one() {
    let (server, p) = provider().await;
    neutron_call("GET", "networks")
        .with_query(&[("router:external", "true"), ("limit", "1")])
        .respond_with(ok(json!({"networks": [
            {"id": "376da547-b977-4cfe-9cba-275c80debf57", "name": "public",
             "router:external": true, "status": "ACTIVE"}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let answer = fixture("neutron/floatingip-create-resp.json");
    neutron_call("POST", "floatingips")
        .with_json(&json!({"floatingip": {
            "floating_network_id": "376da547-b977-4cfe-9cba-275c80debf57",
            "port_id": "ce705c24-c1ef-408a-bda3-7bbd946164ab"
        }}))
        .respond_with(json_status(201, answer))
        .expect(1)
        .mount(&server)
        .await;
    let spec = CreateFloatingIp {
        network_id: None,
        port_id: Some(PortId::new("ce705c24-c1ef-408a-bda3-7bbd946164ab")),
    };
    let f = p
        .create_floating_ip(&spec)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(f.address, "172.24.4.228");
    assert_eq!(
        f.network_id,
        Some(NetworkId::new("376da547-b977-4cfe-9cba-275c80debf57"))
    );
    assert_eq!(f.fixed_address.as_deref(), Some("10.0.0.3"));
}

#[tokio::test]
async fn provider_floating_ip_without_any_external_network_is_not_found() {
    let (server, p) = provider().await;
    neutron_call("GET", "networks")
        .with_query(&[("router:external", "true"), ("limit", "1")])
        .respond_with(ok(json!({"networks": []})))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("POST", "floatingips")
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let err = p
        .create_floating_ip(&CreateFloatingIp::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("external network"), "{err}");
}

#[tokio::test]
async fn api_urls_add_the_version_prefix_neutron_and_glance_leave_out() {
    use hybrid_openstack::session::Service;
    let (server, api) = cloud().await;
    let base = server.uri();
    let url = |s, p| {
        let api = api.clone();
        async move { api.url(s, p).await.unwrap().to_string() }
    };
    assert_eq!(
        url(Service::Compute, "servers").await,
        format!("{base}/compute/v2.1/servers")
    );
    assert_eq!(
        url(Service::Network, "/networks").await,
        format!("{base}/network/v2.0/networks")
    );
    assert_eq!(
        url(Service::BlockStorage, "volumes").await,
        format!("{base}/volume/v3/p1/volumes")
    );
    assert_eq!(
        url(Service::Image, "images").await,
        format!("{base}/image/v2/images")
    );
}

// ---------------------------------------------------------------------------------
// Bugs found while writing these tests, fixed since
// ---------------------------------------------------------------------------------

/// Neutron behind eventlet (`MAX_REQUEST_LINE` 8192), Apache (`LimitRequestLine` 8190)
/// or a proxy refuses longer request lines with `414`; otherwise each router listed in
/// a `device_id` gets one interface port on subnet `s-<router>`.
struct PortsOfRouters;

impl wiremock::Respond for PortsOfRouters {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let target = r.url.path().len() + r.url.query().map_or(0, |q| q.len() + 1);
        if "GET ".len() + target + " HTTP/1.1".len() > 8190 {
            return ResponseTemplate::new(414).set_body_string("Request URI Too Long");
        }
        let ports: Vec<Value> = r
            .url
            .query_pairs()
            .filter(|(k, _)| k == "device_id")
            .map(|(_, id)| {
                port(
                    &format!("p-{id}"),
                    &id,
                    "network:router_interface",
                    &[&format!("s-{id}")],
                )
            })
            .collect();
        ok(json!({ "ports": ports }))
    }
}

#[tokio::test]
async fn provider_router_interfaces_of_a_large_page_stay_under_the_request_line_limit() {
    let (server, p) = provider().await;
    let ids: Vec<String> = (0..200)
        .map(|i| format!("{i:08}-0000-4000-8000-{i:012}"))
        .collect();
    let routers: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "name": format!("r{id}"), "status": "ACTIVE"}))
        .collect();
    neutron_call("GET", "routers")
        .with_query(&[])
        .respond_with(ok(json!({ "routers": routers })))
        .expect(1)
        .mount(&server)
        .await;
    neutron_call("GET", "ports")
        .respond_with(PortsOfRouters)
        .mount(&server)
        .await;
    let page = p
        .list_routers_page(&ListOptions::new(), None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 200);
    for r in &page.items {
        assert_eq!(
            r.interfaces,
            [SubnetId::new(format!("s-{}", r.id))],
            "{}",
            r.id
        );
    }
}

#[tokio::test]
async fn provider_a_deleted_flavor_name_does_not_reload_flavors_for_every_server() {
    let (server, p) = provider().await;
    let on_deleted = |id: &str| {
        let mut v = listed(id);
        v["flavor"]["original_name"] = json!("m1.deleted");
        v
    };
    nova_call("GET", "servers/detail")
        .with_query(&[])
        .respond_with(ok(json!({"servers": [
            on_deleted("a"), on_deleted("b"), on_deleted("c"), on_deleted("d")
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    // One load, and at most one reload for the name it lacks: not one per server.
    nova_call("GET", "flavors/detail")
        .with_query(&[("is_public", "None")])
        .respond_with(ok(fixture("nova/flavors-detail-resp-v2.75.json")))
        .expect(1..=2)
        .mount(&server)
        .await;
    let page = p
        .list_servers_page(&ListOptions::new(), None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 4);
    assert!(page
        .items
        .iter()
        .all(|s| s.flavor == Some(FlavorId::new("m1.deleted"))));
}

/// Cinder's `400 Invalid volume` for a call the volume's state forbids is a Conflict
/// through the provider (found by the live run: deleting an attached volume), while
/// a 400 about the request itself stays InvalidInput.
#[tokio::test]
async fn provider_cinder_state_errors_are_conflicts() {
    use hybrid_core::provider::Storage as _;
    let (server, p) = provider().await;
    let vid = "3bc7812c-9bad-47fd-af0b-aaa69bae52f7";
    cinder_call("DELETE", &format!("volumes/{vid}"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-openstack-request-id", "req-state")
                .set_body_json(json!({"badRequest": {"code": 400, "message":
                    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer."}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = p
        .delete_volume(&VolumeId::new(vid))
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert_eq!(e.http_status(), Some(400));
    assert_eq!(e.request_id(), Some("req-state"));
    assert!(e.to_string().contains("must not be"), "{e}");

    cinder_call("POST", &format!("volumes/{vid}/action"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"badRequest": {"code": 400, "message": "New size for extend must be greater than current size. (current: 2, extended: 1)."}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = p
        .extend_volume(&VolumeId::new(vid), 1)
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}
