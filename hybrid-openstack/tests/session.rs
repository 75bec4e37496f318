//! The authenticated session against a wiremock Keystone and Nova on 127.0.0.1:
//! endpoint selection from the catalog, token and microversion headers, and one
//! re-authentication on 401.

use std::collections::BTreeMap;

use hybrid_core::ErrorKind;
use hybrid_http::{ClientOptions, Method, RetryPolicy};
use hybrid_openstack::capabilities::Microversion;
use hybrid_openstack::config::ConfigLoader;
use hybrid_openstack::session::{Service, Session};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn token_doc(base: &str) -> serde_json::Value {
    json!({"token": {
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "methods": ["password"],
        "user": {"id": "u1", "name": "admin"},
        "project": {"id": "p1", "name": "admin"},
        "catalog": [
            {"type": "compute", "name": "nova", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/compute/v2.1")},
                {"interface": "public", "region_id": "RegionTwo", "region": "RegionTwo", "url": "http://127.0.0.1:9/other"}
            ]},
            {"type": "volumev3", "name": "cinder", "endpoints": [
                {"interface": "public", "region_id": "RegionOne", "url": format!("{base}/volume/v3/p1")}
            ]}
        ]
    }})
}

async fn setup(region: &str) -> (MockServer, Session) {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "tok-1")
                .set_body_json(token_doc(&base)),
        )
        .named("keystone")
        .mount(&server)
        .await;
    let env: BTreeMap<String, String> = [
        ("OS_AUTH_URL", format!("{base}/identity")),
        ("OS_USER_ID", "u1".to_owned()),
        ("OS_PASSWORD", "pw-secret".to_owned()),
        ("OS_PROJECT_ID", "p1".to_owned()),
        ("OS_REGION_NAME", region.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let cfg = ConfigLoader::new()
        .with_env(env)
        .with_search_dirs(Vec::new())
        .load(None)
        .unwrap();
    let client = ClientOptions::new()
        .with_retry(RetryPolicy::none())
        .build()
        .unwrap();
    (server, Session::new(client, &cfg).unwrap())
}

#[tokio::test]
async fn requests_carry_token_and_microversion_to_the_catalog_endpoint() {
    let (server, session) = setup("RegionOne").await;
    Mock::given(method("GET"))
        .and(path("/compute/v2.1/servers/detail"))
        .and(header("x-auth-token", "tok-1"))
        .and(header("openstack-api-version", "compute 2.60"))
        .and(header("x-openstack-nova-api-version", "2.60"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"servers": []})))
        .expect(1)
        .mount(&server)
        .await;
    let ep = session.endpoint(Service::Compute).await.unwrap();
    assert_eq!(ep.as_str(), format!("{}/compute/v2.1/", server.uri()));
    let resp = session
        .request(
            Service::Compute,
            Method::GET,
            "servers/detail",
            Some(Microversion::new(2, 60)),
            "list_servers",
        )
        .await
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let cinder = session.endpoint(Service::BlockStorage).await.unwrap();
    assert!(cinder.as_str().ends_with("/volume/v3/p1/"), "{cinder}");
    let err = session.endpoint(Service::Image).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let tokens = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/auth/tokens"))
        .count();
    assert_eq!(tokens, 1, "one token for every call");
}

#[tokio::test]
async fn a_rejected_token_is_renewed_once() {
    let (server, session) = setup("RegionOne").await;
    Mock::given(method("GET"))
        .and(path("/compute/v2.1/flavors/detail"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"code": 401, "message": "expired"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/compute/v2.1/flavors/detail"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"flavors": []})))
        .mount(&server)
        .await;
    let resp = session
        .request(
            Service::Compute,
            Method::GET,
            "flavors/detail",
            None,
            "list_flavors",
        )
        .await
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let reqs = server.received_requests().await.unwrap();
    let tokens = reqs
        .iter()
        .filter(|r| r.url.path().ends_with("/auth/tokens"))
        .count();
    let calls = reqs
        .iter()
        .filter(|r| r.url.path().ends_with("/flavors/detail"))
        .count();
    assert_eq!((tokens, calls), (2, 2));
}

#[tokio::test]
async fn a_region_without_the_service_is_unsupported() {
    let (_server, session) = setup("RegionThree").await;
    let err = session.endpoint(Service::Compute).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("RegionThree"), "{err}");
}
