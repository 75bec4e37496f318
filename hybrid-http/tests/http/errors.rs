//! Error bodies of every service style, request ids, bounded reads.

use hybrid_core::ErrorKind;
use hybrid_http::{ClientOptions, HttpClient, RetryPolicy};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{bounded, client};

struct Case {
    name: &'static str,
    status: u16,
    response: ResponseTemplate,
    kind: ErrorKind,
    message: &'static str,
    request_id: Option<&'static str>,
}

fn json_case(
    name: &'static str,
    status: u16,
    id_header: (&'static str, &'static str),
    body: serde_json::Value,
    kind: ErrorKind,
    message: &'static str,
) -> Case {
    Case {
        name,
        status,
        response: ResponseTemplate::new(status)
            .insert_header(id_header.0, id_header.1)
            .set_body_json(body),
        kind,
        message,
        request_id: Some(id_header.1),
    }
}

#[tokio::test]
async fn every_body_style_maps_to_a_clean_message_with_request_id() {
    bounded(async {
        let cases = vec![
            json_case(
                "nova",
                404,
                ("x-compute-request-id", "req-nova-1"),
                json!({"itemNotFound": {"message": "Instance 9f3c could not be found.", "code": 404}}),
                ErrorKind::NotFound,
                ": itemNotFound: Instance 9f3c could not be found.",
            ),
            json_case(
                "nova-bad-request",
                400,
                ("x-openstack-request-id", "req-nova-2"),
                json!({"badRequest": {"message": "Invalid flavorRef provided.", "code": 400}}),
                ErrorKind::InvalidInput,
                ": badRequest: Invalid flavorRef provided.",
            ),
            json_case(
                "nova-quota",
                403,
                ("x-openstack-request-id", "req-nova-3"),
                json!({"forbidden": {"message": "Quota exceeded for cores: Requested 8, but already used 60 of 64 cores", "code": 403}}),
                ErrorKind::QuotaExceeded,
                "Quota exceeded for cores",
            ),
            json_case(
                "neutron",
                404,
                ("x-openstack-request-id", "req-neutron-1"),
                json!({"NeutronError": {"type": "NetworkNotFound", "message": "Network 42 could not be found.", "detail": ""}}),
                ErrorKind::NotFound,
                ": NetworkNotFound: Network 42 could not be found.",
            ),
            json_case(
                "keystone",
                409,
                ("x-openstack-request-id", "req-ks-1"),
                json!({"error": {"message": "Conflict occurred attempting to store project - Duplicate entry.", "code": 409, "title": "Conflict"}}),
                ErrorKind::Conflict,
                ": Conflict occurred attempting to store project - Duplicate entry.",
            ),
            json_case(
                "azure",
                404,
                ("x-ms-request-id", "ms-req-1"),
                json!({"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg1' could not be found.", "details": []}}),
                ErrorKind::NotFound,
                ": ResourceGroupNotFound: Resource group 'rg1' could not be found.",
            ),
            json_case(
                "azure-conflict-exists",
                409,
                ("x-ms-correlation-request-id", "corr-1"),
                json!({"error": {"code": "StorageAccountAlreadyTaken", "message": "The storage account named x already exists."}}),
                ErrorKind::AlreadyExists,
                "already exists",
            ),
            Case {
                name: "glance-html",
                status: 404,
                response: ResponseTemplate::new(404)
                    .insert_header("x-openstack-request-id", "req-glance-1")
                    .set_body_raw(
                        "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID 77aa<br /><br />\n\n\n </body>\n</html>",
                        "text/html",
                    ),
                kind: ErrorKind::NotFound,
                message: ": No image found with ID 77aa",
                request_id: Some("req-glance-1"),
            },
            Case {
                name: "glance-text",
                status: 409,
                response: ResponseTemplate::new(409)
                    .insert_header("x-request-id", "req-generic")
                    .set_body_raw("Image status transition from active to queued is not allowed\n", "text/plain"),
                kind: ErrorKind::Conflict,
                message: ": Image status transition from active to queued is not allowed",
                request_id: Some("req-generic"),
            },
            Case {
                name: "empty",
                status: 503,
                response: ResponseTemplate::new(503),
                kind: ErrorKind::Unavailable,
                message: ": 503 Service Unavailable",
                request_id: None,
            },
            Case {
                name: "malformed-json",
                status: 500,
                response: ResponseTemplate::new(500).set_body_raw("{\"computeFault\": {\"message\": ", "application/json"),
                kind: ErrorKind::Unavailable,
                message: ": {\"computeFault\": {\"message\":",
                request_id: None,
            },
        ];
        let server = MockServer::start().await;
        for case in &cases {
            Mock::given(path(format!("/{}", case.name)))
                .respond_with(case.response.clone())
                .mount(&server)
                .await;
        }
        let c = HttpClient::new(
            ClientOptions::new()
                .with_env_proxy(false)
                .with_retry(RetryPolicy::none()),
        )
        .unwrap()
        .with_provider("test-cloud");
        for case in &cases {
            let url = format!("{}/{}", server.uri(), case.name);
            let err = c
                .get(&url)
                .operation("get_thing")
                .resource("thing 1")
                .send()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), case.kind, "{}: {err}", case.name);
            assert_eq!(err.http_status(), Some(case.status), "{}", case.name);
            assert_eq!(err.request_id(), case.request_id, "{}", case.name);
            assert!(err.message().starts_with(&format!("GET {url}")), "{}: {err}", case.name);
            assert!(err.message().contains(case.message), "{}: {}", case.name, err.message());
            assert_eq!(err.context().provider.as_deref(), Some("test-cloud"));
            assert_eq!(err.context().operation.as_deref(), Some("get_thing"));
            assert_eq!(err.context().resource.as_deref(), Some("thing 1"));
            let shown = err.to_string();
            assert!(shown.starts_with("get_thing on test-cloud failed: "), "{shown}");
            if let Some(id) = case.request_id {
                assert!(shown.contains(&format!("request id {id}")), "{shown}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn oversize_error_bodies_are_bounded() {
    bounded(async {
        let server = MockServer::start().await;
        // 4 MiB of padding before the message: with a 64 KiB bound the JSON cannot be
        // parsed, the tail is never seen, and the message stays short.
        let mut body = String::from("{\"pad\": \"");
        body.push_str(&"x".repeat(4 * 1024 * 1024));
        body.push_str("\", \"message\": \"TAIL-NEVER-READ\"}");
        Mock::given(path("/big"))
            .respond_with(ResponseTemplate::new(500).set_body_raw(body, "application/json"))
            .mount(&server)
            .await;
        let big_text = "word ".repeat(100_000);
        Mock::given(path("/big-text"))
            .respond_with(ResponseTemplate::new(400).set_body_raw(big_text, "text/plain"))
            .mount(&server)
            .await;
        let c = HttpClient::new(
            ClientOptions::new()
                .with_env_proxy(false)
                .with_retry(RetryPolicy::none())
                .with_max_error_body(64 * 1024),
        )
        .unwrap();
        let err = c
            .get(format!("{}/big", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(!err.message().contains("TAIL-NEVER-READ"));
        assert!(
            err.message().chars().count() < 1200,
            "{} chars",
            err.message().len()
        );

        let err = c
            .get(format!("{}/big-text", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().ends_with('…'));
        assert!(err.message().chars().count() < 1200);
    })
    .await;
}

#[tokio::test]
async fn secret_query_parameters_never_reach_errors() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(path("/container/blob"))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": "AuthenticationFailed", "message": "Signature did not match."}})))
            .mount(&server)
            .await;
        let err = client()
            .get(format!("{}/container/blob?sv=2024-01-01&sig=c2lnbmF0dXJl-SECRET&se=2030", server.uri()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("sig=REDACTED"), "{shown}");
        assert!(shown.contains("Signature did not match."), "{shown}");
    })
    .await;
}

#[tokio::test]
async fn success_bodies_are_bounded_by_max_body() {
    bounded(async {
        let server = MockServer::start().await;
        let body = format!("{{\"items\": \"{}\"}}", "x".repeat(4096));
        Mock::given(path("/large"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"))
            .mount(&server)
            .await;
        let small = HttpClient::new(crate::common::options().with_max_body(1024)).unwrap();
        let err = small
            .get(format!("{}/large", server.uri()))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert!(err.message().contains("1024-byte limit"), "{err}");
        assert!(!err.message().contains("xxxx"), "{err}");
        // Exactly at the limit is fine; the default limit is far above it.
        let exact = HttpClient::new(crate::common::options().with_max_body(body.len())).unwrap();
        let v: serde_json::Value = exact
            .get(format!("{}/large", server.uri()))
            .send_json()
            .await
            .unwrap();
        assert_eq!(v["items"].as_str().unwrap().len(), 4096);
        assert_eq!(ClientOptions::new().max_body, 64 * 1024 * 1024);
    })
    .await;
}
