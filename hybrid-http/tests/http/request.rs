//! Request shape, responses, bodies, redirects.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use hybrid_core::ErrorKind;
use hybrid_http::{SecretString, StatusCode};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{bounded, client, requests};

#[tokio::test]
async fn exact_request_shape_and_json_response() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v2.1/servers"))
            .and(query_param("dry", "no"))
            .and(header("content-type", "application/json"))
            .and(header("accept", "application/json"))
            .and(header("openstack-api-version", "compute 2.79"))
            .and(header("x-api-key", "k-123"))
            .and(body_json(
                json!({"server": {"name": "web-1", "flavorRef": "m1"}}),
            ))
            .respond_with(
                ResponseTemplate::new(202)
                    .insert_header("x-openstack-request-id", "req-abc")
                    .set_body_json(json!({"server": {"id": "s-1"}})),
            )
            .expect(1)
            .mount(&server)
            .await;

        let v: serde_json::Value = client()
            .post(format!("{}/v2.1/servers", server.uri()))
            .query("dry", "no")
            .header("OpenStack-API-Version", "compute 2.79")
            .secret_header("x-api-key", &SecretString::from("k-123".to_string()))
            .json(&json!({"server": {"name": "web-1", "flavorRef": "m1"}}))
            .operation("create_server")
            .send_json()
            .await
            .unwrap();
        assert_eq!(v["server"]["id"], "s-1");

        let reqs = requests(&server).await;
        assert_eq!(reqs.len(), 1);
        let ua = reqs[0].headers.get("user-agent").unwrap().to_str().unwrap();
        assert!(ua.starts_with("hybrid/"), "{ua}");
    })
    .await;
}

#[tokio::test]
async fn response_accessors() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v3/auth/tokens"))
            .respond_with(
                ResponseTemplate::new(201)
                    .insert_header("x-subject-token", "gAAAA-subject")
                    .insert_header("x-openstack-request-id", "req-tok")
                    .set_body_string("{\"token\": {}}"),
            )
            .mount(&server)
            .await;
        let resp = client()
            .post(format!("{}/v3/auth/tokens", server.uri()))
            .auth_endpoint(true)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.request_id(), Some("req-tok"));
        assert!(resp.headers()["x-subject-token"].is_sensitive());
        let secret = resp.secret_header("x-subject-token").unwrap();
        assert_eq!(
            hybrid_http::ExposeSecret::expose_secret(&secret),
            "gAAAA-subject"
        );
        let shown = format!("{resp:?}");
        assert!(!shown.contains("gAAAA"), "{shown}");
        assert!(resp.url().as_str().ends_with("/v3/auth/tokens"));
        assert_eq!(resp.content_length(), Some(13));
        assert_eq!(resp.text().await.unwrap(), "{\"token\": {}}");
    })
    .await;
}

#[tokio::test]
async fn json_decoding_error_is_invalid_response_with_serde_source() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-ms-request-id", "ms-1")
                    .set_body_string("{\"count\": \"many\"}"),
            )
            .mount(&server)
            .await;
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Count {
            count: u32,
        }
        let err = client()
            .get(format!("{}/x", server.uri()))
            .operation("count_things")
            .send_json::<Count>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert_eq!(err.http_status(), Some(200));
        assert_eq!(err.request_id(), Some("ms-1"));
        assert_eq!(err.context().operation.as_deref(), Some("count_things"));
        let source = std::error::Error::source(&err).unwrap();
        assert!(
            source.downcast_ref::<serde_json::Error>().is_some(),
            "{source:?}"
        );
        assert!(
            !err.to_string().contains("invalid type"),
            "Display never repeats the source: {err}"
        );
    })
    .await;
}

#[tokio::test]
async fn streaming_upload_and_download() {
    bounded(async {
        let server = MockServer::start().await;
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        Mock::given(method("PUT"))
            .and(path("/v2/images/img-1/file"))
            .and(header("content-type", "application/octet-stream"))
            .and(header("content-length", "200000"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v2/images/img-1/file"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(data.clone()))
            .mount(&server)
            .await;

        let chunks: Vec<hybrid_core::Result<Bytes>> = data
            .chunks(65_536)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let stream = futures::stream::iter(chunks).boxed();
        let c = client();
        let resp = c
            .put(format!("{}/v2/images/img-1/file", server.uri()))
            .body_stream(stream, Some(data.len() as u64), "application/octet-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(requests(&server).await[0].body, data);

        let got: Vec<Bytes> = c
            .get(format!("{}/v2/images/img-1/file", server.uri()))
            .send()
            .await
            .unwrap()
            .bytes_stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.concat(), data);
    })
    .await;
}

#[tokio::test]
async fn streamed_upload_is_never_retried() {
    bounded(async {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        let stream = futures::stream::once(async { Ok(Bytes::from_static(b"abc")) }).boxed();
        let err = client()
            .put(format!("{}/file", server.uri()))
            .body_stream(stream, None, "application/octet-stream")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(requests(&server).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn redirects_only_within_the_same_origin() {
    bounded(async {
        let a = MockServer::start().await;
        let b = MockServer::start().await;
        Mock::given(path("/same"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/target"))
            .mount(&a)
            .await;
        Mock::given(path("/target"))
            .respond_with(ResponseTemplate::new(200).set_body_string("here"))
            .mount(&a)
            .await;
        Mock::given(path("/away"))
            .respond_with(
                ResponseTemplate::new(302).insert_header("location", format!("{}/stolen", b.uri())),
            )
            .mount(&a)
            .await;
        let c = client();
        let same = c.get(format!("{}/same", a.uri())).send().await.unwrap();
        assert_eq!(same.status(), StatusCode::OK);
        assert_eq!(same.text().await.unwrap(), "here");

        let away = c
            .get(format!("{}/away", a.uri()))
            .header("x-auth-token", "tok")
            .send()
            .await
            .unwrap();
        assert_eq!(
            away.status(),
            StatusCode::FOUND,
            "cross-origin redirects are handed back"
        );
        assert!(
            requests(&b).await.is_empty(),
            "the token never reached the other server"
        );
    })
    .await;
}

#[tokio::test]
async fn builder_errors_are_invalid_input_without_secrets() {
    bounded(async {
        let c = client().with_provider("openstack");
        let e = c
            .get("not a url ?token=s3cret")
            .operation("list")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(e.context().provider.as_deref(), Some("openstack"));
        assert!(!format!("{e} {e:?}").contains("s3cret"));

        let e = c.get("ftp://127.0.0.1/x").send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);

        let e = c
            .get("http://127.0.0.1:1/x")
            .header("x-auth-token", "bad\nvalue-s3cret")
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(!format!("{e} {e:?}").contains("s3cret"));

        let b = c
            .get("http://127.0.0.1:1/x?sig=s3cret")
            .header("authorization", "Bearer s3cret")
            .secret_header("x-api-key", &SecretString::from("s3cret".to_string()));
        let shown = format!("{b:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    })
    .await;
}

#[tokio::test]
async fn send_raw_returns_error_statuses_after_retrying_them() {
    bounded(async {
        let server = MockServer::start().await;
        // A 400 is final: returned as it is, body intact, one request.
        Mock::given(method("POST"))
            .and(path("/rest/tag"))
            .respond_with(ResponseTemplate::new(400).set_body_json(
                json!({"type": "com.vmware.vapi.std.errors.already_exists", "value": {"messages": []}}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let r = client()
            .post(format!("{}/rest/tag", server.uri()))
            .send_raw()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["type"], "com.vmware.vapi.std.errors.already_exists");

        // A 503 of an idempotent request is retried (4 attempts); the last answer is returned.
        Mock::given(method("GET"))
            .and(path("/busy"))
            .respond_with(ResponseTemplate::new(503).set_body_string("later"))
            .expect(4)
            .mount(&server)
            .await;
        let r = client()
            .get(format!("{}/busy", server.uri()))
            .retry(crate::common::fast_retry())
            .send_raw()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.text().await.unwrap(), "later");

        // A transport failure is still an error.
        let err = client()
            .get(format!(
                "http://127.0.0.1:{}/x",
                crate::common::closed_port()
            ))
            .retry(crate::common::fast_retry())
            .send_raw()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport);
    })
    .await;
}
