//! Tracing: one span per request with its facts, and no secret in any log line.

use hybrid_http::{RetryPolicy, SecretString};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{bounded, client, LogCapture};

#[tokio::test]
async fn spans_carry_request_facts_and_logs_carry_no_secrets() {
    let logs = LogCapture::default();
    let guard = logs.install(tracing::Level::TRACE);
    let server = MockServer::start().await;
    bounded(async {
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-openstack-request-id", "req-log-1")
                    .insert_header("set-cookie", "session=COOKIE-SECRET")
                    .insert_header("x-subject-token", "SUBJECT-SECRET"),
            )
            .mount(&server)
            .await;
        client()
            .get(format!(
                "{}/v2.1/servers?sig=SIG-SECRET&limit=5",
                server.uri()
            ))
            .header("authorization", "Bearer BEARER-SECRET")
            .header("x-auth-token", "AUTH-SECRET")
            .header("cookie", "c=COOKIE-REQ-SECRET")
            .secret_header(
                "x-api-key",
                &SecretString::from("APIKEY-SECRET".to_string()),
            )
            .operation("list_servers")
            .retry(RetryPolicy::new().with_backoff(crate::common::ms(10), crate::common::ms(10)))
            .send()
            .await
            .unwrap();
    })
    .await;
    drop(guard);
    let text = logs.text();
    for secret in [
        "SIG-SECRET",
        "BEARER-SECRET",
        "AUTH-SECRET",
        "COOKIE-REQ-SECRET",
        "APIKEY-SECRET",
        "COOKIE-SECRET",
        "SUBJECT-SECRET",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the logs:\n{text}"
        );
    }
    let port = server.address().port();
    for fact in [
        "http.request{".to_owned(),
        "method=GET".to_owned(),
        format!("host=127.0.0.1:{port}"),
        "path=/v2.1/servers".to_owned(),
        "operation=list_servers".to_owned(),
        "attempt=2".to_owned(),
        "status=200".to_owned(),
        "request_id=req-log-1".to_owned(),
        "retrying request".to_owned(),
        "x-openstack-request-id".to_owned(),
        "REDACTED".to_owned(),
    ] {
        assert!(text.contains(&fact), "missing `{fact}` in:\n{text}");
    }
}
