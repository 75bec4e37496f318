//! Keystone authentication against a wiremock Keystone on 127.0.0.1: the exact token
//! request, the token and catalog taken from the answer, and the error paths.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hybrid_core::ErrorKind;
use hybrid_http::{ClientOptions, ExposeSecret, HttpClient, RetryPolicy, TokenCache, TokenSource};
use hybrid_openstack::auth::KeystoneAuth;
use hybrid_openstack::config::ConfigLoader;
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "correct-horse-battery-staple";

fn token_body() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keystone/auth-tokens-password-project-scoped-resp-full-catalog.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    v["token"]["expires_at"] = json!("2099-01-01T00:00:00.000000Z");
    v
}

fn client() -> HttpClient {
    ClientOptions::new()
        .with_retry(RetryPolicy::none())
        .build()
        .unwrap()
}

fn cloud(server: &MockServer, extra: &[(&str, &str)]) -> hybrid_openstack::config::CloudConfig {
    let mut env: BTreeMap<String, String> = [
        ("OS_AUTH_URL", format!("{}/v3", server.uri())),
        ("OS_USERNAME", "admin".into()),
        ("OS_USER_DOMAIN_NAME", "Default".into()),
        ("OS_PASSWORD", PASSWORD.into()),
        ("OS_PROJECT_NAME", "admin".into()),
        ("OS_PROJECT_DOMAIN_ID", "default".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    ConfigLoader::new()
        .with_env(env)
        .with_search_dirs(Vec::new())
        .load(None)
        .unwrap()
}

#[tokio::test]
async fn password_token_request_is_exact_and_the_session_is_kept() {
    let server = MockServer::start().await;
    let expected = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}
    }});
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "gAAAAA-the-token")
                .set_body_json(token_body()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let auth = KeystoneAuth::new(client(), &cloud(&server, &[])).unwrap();
    let cache = Arc::new(TokenCache::new(auth.clone()));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let c = cache.clone();
        tasks.push(tokio::spawn(async move {
            c.token()
                .await
                .map(|t| t.secret().expose_secret().to_owned())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "gAAAAA-the-token");
    }
    let s = auth.session().expect("a session after the token");
    assert_eq!(
        s.project_id.as_deref(),
        Some("a6944d763bf64ee6a275f1263fae0352")
    );
    assert_eq!(s.catalog.len(), 13);
    assert!(!format!("{auth:?}").contains(PASSWORD));
}

#[tokio::test]
async fn rejected_credentials_are_unauthenticated_and_echo_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "code": 401, "title": "Unauthorized",
            "message": format!("The request you have made requires authentication. password={PASSWORD}")}})))
        .expect(1)
        .mount(&server)
        .await;
    let auth = KeystoneAuth::new(client(), &cloud(&server, &[])).unwrap();
    let err = auth.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(err.http_status(), Some(401));
    let all = format!("{err} {err:?}");
    assert!(!all.contains(PASSWORD), "{all}");
}

#[tokio::test]
async fn answers_without_token_or_with_bad_bodies_are_invalid_responses() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(token_body()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let auth = KeystoneAuth::new(client(), &cloud(&server, &[])).unwrap();
    assert_eq!(
        auth.fetch_token().await.unwrap_err().kind(),
        ErrorKind::InvalidResponse
    );

    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "t")
                .set_body_string("{\"token\": {\"expires_at\": \"2099-01-"),
        )
        .mount(&server)
        .await;
    let err = auth.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn application_credentials_send_no_scope() {
    let server = MockServer::start().await;
    let expected = json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": "ac-1", "secret": "ac-secret"}}}});
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .and(body_json(&expected))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "tok-ac")
                .set_body_json(token_body()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let env: BTreeMap<String, String> = [
        ("OS_AUTH_URL", format!("{}/v3", server.uri())),
        ("OS_APPLICATION_CREDENTIAL_ID", "ac-1".into()),
        ("OS_APPLICATION_CREDENTIAL_SECRET", "ac-secret".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let cfg = ConfigLoader::new()
        .with_env(env)
        .with_search_dirs(Vec::new())
        .load(None)
        .unwrap();
    let auth = KeystoneAuth::new(client(), &cfg).unwrap();
    let t = auth.fetch_token().await.unwrap();
    assert_eq!(t.secret().expose_secret(), "tok-ac");
    assert!(t.expires_at().is_some());
}
