//! Shared pieces of the wiremock tests: a provider pointed at a mock server that plays
//! both Entra ID and ARM, and matchers for exact ARM requests.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use hybrid_azure::http::{ClientOptions, RetryPolicy};
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_azure::{AzureBuilder, AzureConfig, AzureProvider, CloudEnvironment};
use hybrid_core::WaitOptions;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const SUB: &str = "00000000-1111-2222-3333-444444444444";
pub const RG: &str = "rg-test";
pub const LOC: &str = "westeurope";
pub const TENANT: &str = "tenant-1";
pub const CLIENT: &str = "client-1";
pub const SECRET: &str = "s3cr3t-Value-9Zq";
pub const TOKEN: &str = "arm-token-AbC123";

/// `/subscriptions/{SUB}/resourceGroups/{RG}/providers/{rest}`.
pub fn rg_path(rest: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/{rest}")
}

/// `/subscriptions/{SUB}/providers/{rest}`.
pub fn sub_path(rest: &str) -> String {
    format!("/subscriptions/{SUB}/providers/{rest}")
}

/// A full resource id in the test resource group.
pub fn rg_id(rest: &str) -> String {
    rg_path(rest)
}

/// A config whose Entra ID and ARM are `uri`, with a client secret, no HTTP retries
/// and no throttle.
pub fn config(uri: &str) -> AzureConfig {
    AzureBuilder::new(SUB, RG, LOC)
        .with_client_secret(TENANT, CLIENT, SECRET)
        .with_cloud(CloudEnvironment {
            authority_host: uri.to_owned(),
            resource_manager: uri.to_owned(),
        })
        .with_http(ClientOptions::new().with_retry(RetryPolicy::none()))
        .with_throttle(ThrottleOptions::disabled())
        .build()
        .expect("valid test config")
}

/// Retries fast (for tests of retries).
pub fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::new()
        .with_max_attempts(attempts)
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
        .with_jitter(0.0)
}

/// Waits that poll fast.
pub fn fast_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(20),
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..WaitOptions::default()
    }
}

/// The token endpoint answering the client secret grant.
pub async fn mount_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN
        })))
        .named("token")
        .mount(server)
        .await;
}

/// A mock server with the token endpoint, and a provider on it.
pub async fn setup() -> (MockServer, AzureProvider) {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let p = AzureProvider::new(config(&server.uri())).expect("provider");
    (server, p)
}

/// Matches when the query is exactly these pairs (any order).
pub struct ExactQuery(pub Vec<(String, String)>);

impl Match for ExactQuery {
    fn matches(&self, req: &Request) -> bool {
        let mut got: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        got.sort();
        let mut want = self.0.clone();
        want.sort();
        got == want
    }
}

/// Matches a request carrying a UUID `x-ms-correlation-request-id`.
pub struct HasCorrelationId;

impl Match for HasCorrelationId {
    fn matches(&self, req: &Request) -> bool {
        req.headers
            .get("x-ms-correlation-request-id")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.len() == 36
                    && v.chars().filter(|c| *c == '-').count() == 4
                    && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            })
    }
}

/// Matches a request without a body.
pub struct NoBody;

impl Match for NoBody {
    fn matches(&self, req: &Request) -> bool {
        req.body.is_empty()
    }
}

/// An exact ARM request: method, path, exactly these query pairs, the bearer token and
/// a correlation id.
pub fn arm(m: &str, p: &str, query: &[(&str, &str)]) -> MockBuilder {
    Mock::given(method(m))
        .and(path(p.to_owned()))
        .and(ExactQuery(
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(HasCorrelationId)
}

/// `api-version` only.
pub fn v(version: &str) -> Vec<(&str, &str)> {
    vec![("api-version", version)]
}

/// A JSON response.
pub fn ok(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// An ARM error response with ids.
pub fn arm_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-ms-request-id", "req-0001")
        .insert_header("x-ms-correlation-request-id", "corr-0001")
        .set_body_json(json!({"error": {"code": code, "message": message}}))
}

/// Requests the server received at `path` with `method`.
pub async fn received(server: &MockServer, m: &str, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .collect()
}
