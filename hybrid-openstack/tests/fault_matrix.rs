//! The fault matrix for the OpenStack backend, on the stateful fake
//! (`hybrid-fake-openstack`): every case ends in success or in the right typed error
//! within its deadline, with the requests it cost counted. No panic, no hang: every
//! case runs under a hard bound. Summarised in `docs/fault-matrix.md`.

use hybrid_http::test_util::LogCapture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hybrid_core::model::CreateServer;
use hybrid_core::model::ServerStatus;
use hybrid_core::operation::WaitOptions;
use hybrid_core::provider::{Compute, Images};
use hybrid_core::{ErrorKind, ListOptions};
use hybrid_fake_openstack::{FakeOpenStack, FakeOpenStackBuilder, Lifecycle};
use hybrid_http::{ClientOptions, RetryPolicy};
use hybrid_openstack::config::ConfigLoader;
use hybrid_openstack::OpenStackProvider;

const SERVERS: &str = "/compute/v2.1/servers";
const TOKENS: &str = "/identity/v3/auth/tokens";
const LIST: (&str, &str) = ("GET", "/compute/v2.1/servers/detail");

/// Fast, deterministic retries: 4 attempts, 10 ms doubling to 50 ms, 10 s in all; one
/// attempt may take 1 s.
fn options() -> ClientOptions {
    ClientOptions::new()
        .with_env_proxy(false)
        .with_request_timeout(Duration::from_secs(1))
        .with_retry(
            RetryPolicy::new()
                .with_max_attempts(4)
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50))
                .with_jitter(0.0)
                .with_total_deadline(Duration::from_secs(10)),
        )
}

async fn fake(b: FakeOpenStackBuilder) -> FakeOpenStack {
    b.start().await.expect("the fake starts")
}

/// The fake's clouds.yaml entry, loaded the way users load theirs.
fn cloud_of(fake: &FakeOpenStack) -> hybrid_openstack::config::CloudConfig {
    let dir = std::env::temp_dir().join(format!(
        "hybrid-faults-{}-{}",
        std::process::id(),
        fake.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clouds.yaml");
    std::fs::write(&file, fake.clouds_yaml("faults")).unwrap();
    let cloud = ConfigLoader::new()
        .with_clouds_file(&file)
        .load(Some("faults"))
        .unwrap();
    std::fs::remove_dir_all(dir).ok();
    cloud
}

async fn try_connect(
    fake: &FakeOpenStack,
    opts: ClientOptions,
) -> hybrid_core::Result<OpenStackProvider> {
    OpenStackProvider::connect_ungated(&cloud_of(fake), opts).await
}

async fn connect(fake: &FakeOpenStack) -> OpenStackProvider {
    try_connect(fake, options()).await.expect("connects")
}

/// Runs a case under a hard bound, so a hang fails instead of blocking CI.
async fn bounded<F: std::future::Future>(limit: Duration, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .expect("the case did not end within its bound")
}

/// The first image the fake serves.
async fn first_image(p: &OpenStackProvider) -> hybrid_core::model::Image {
    p.list_images_page(&ListOptions::new(), None)
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("the fake has an image")
}

async fn list(p: &OpenStackProvider) -> hybrid_core::Result<usize> {
    p.list_servers_page(&ListOptions::new(), None)
        .await
        .map(|page| page.items.len())
}

fn gets(fake: &FakeOpenStack) -> u64 {
    fake.route_count(LIST.0, LIST.1)
}

#[tokio::test]
async fn token_expiry_mid_run_reauthenticates_once() {
    let fake = fake(FakeOpenStack::builder().servers(3)).await;
    let p = connect(&fake).await;
    assert_eq!(list(&p).await.unwrap(), 3);
    let tokens = fake.token_requests();
    fake.revoke_tokens();
    assert_eq!(bounded(Duration::from_secs(5), list(&p)).await.unwrap(), 3);
    assert_eq!(fake.token_requests() - tokens, 1);
    // The first list, the refused one and its retry.
    assert_eq!(gets(&fake), 3);
}

#[tokio::test]
async fn a_401_storm_ends_in_unauthenticated_after_one_reauthentication() {
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    let tokens = fake.token_requests();
    fake.fail_next(LIST.0, LIST.1, 401, 100, None);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(gets(&fake), 2, "one retry with a new token, no more");
    assert_eq!(fake.token_requests() - tokens, 1);
}

#[tokio::test]
async fn rate_limited_with_retry_after_seconds_waits_then_succeeds() {
    let fake = fake(FakeOpenStack::builder().servers(1)).await;
    let p = connect(&fake).await;
    fake.fail_next(LIST.0, LIST.1, 429, 1, Some(Duration::from_secs(1)));
    let started = Instant::now();
    assert_eq!(bounded(Duration::from_secs(8), list(&p)).await.unwrap(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured ({:?})",
        started.elapsed()
    );
    assert_eq!(gets(&fake), 2);
}

#[tokio::test]
async fn rate_limited_with_retry_after_http_date_waits_then_succeeds() {
    let fake = fake(FakeOpenStack::builder().servers(1)).await;
    let p = connect(&fake).await;
    // An HTTP date has whole seconds: 2 s ahead is at least 1 s ahead.
    fake.fail_next_retry_at(LIST.0, LIST.1, 429, 1, Duration::from_secs(2));
    let started = Instant::now();
    assert_eq!(bounded(Duration::from_secs(8), list(&p)).await.unwrap(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "the HTTP-date Retry-After was honoured ({:?})",
        started.elapsed()
    );
    assert_eq!(gets(&fake), 2);
}

#[tokio::test]
async fn a_503_storm_then_recovery_succeeds_within_the_attempts() {
    let fake = fake(FakeOpenStack::builder().servers(2)).await;
    let p = connect(&fake).await;
    fake.fail_next(LIST.0, LIST.1, 503, 3, None);
    assert_eq!(bounded(Duration::from_secs(5), list(&p)).await.unwrap(), 2);
    assert_eq!(gets(&fake), 4);
}

#[tokio::test]
async fn a_503_storm_longer_than_the_attempts_is_unavailable() {
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    fake.fail_next(LIST.0, LIST.1, 503, 100, None);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
    assert_eq!(gets(&fake), 4, "max_attempts, no more");
}

#[tokio::test]
async fn a_create_under_503_is_sent_exactly_once() {
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    fake.fail_next("POST", SERVERS, 503, 100, None);
    let spec = CreateServer::new("faults-once", "1").with_image("any-image");
    let err = bounded(Duration::from_secs(5), p.create_server(&spec))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(fake.route_count("POST", "/compute/v2.1/servers"), 1);
    assert_eq!(fake.server_count(), 0);
}

#[tokio::test]
async fn a_create_under_429_is_sent_again_after_the_hint_and_creates_one_server() {
    // Nova's rate limit refused the POST before it ran: sending it again is safe.
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    let image = first_image(&p).await;
    fake.fail_next("POST", SERVERS, 429, 1, Some(Duration::from_secs(1)));
    let spec = CreateServer::new("faults-429", "1").with_image(image.id);
    let started = std::time::Instant::now();
    let op = bounded(Duration::from_secs(8), p.create_server(&spec))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    drop(op);
    assert_eq!(fake.route_count("POST", "/compute/v2.1/servers"), 2);
    assert_eq!(fake.server_count(), 1);
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_transport_error() {
    let fake = fake(FakeOpenStack::builder().servers(50)).await;
    let p = connect(&fake).await;
    fake.reset_mid_body_next(LIST.0, LIST.1, 1);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(gets(&fake), 1);
    // The connection pool recovers: the next call succeeds.
    assert_eq!(list(&p).await.unwrap(), 50);
}

#[tokio::test]
async fn a_body_that_stalls_past_the_deadline_times_out_on_time() {
    let fake = fake(FakeOpenStack::builder().servers(50)).await;
    let p = connect(&fake).await;
    fake.stall_mid_body_next(LIST.0, LIST.1, Duration::from_secs(30), 1);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the 1 s request timeout bounds the body ({:?})",
        started.elapsed()
    );
    assert_eq!(gets(&fake), 1);
}

#[tokio::test]
async fn truncated_and_malformed_json_are_invalid_responses() {
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    for body in [
        &br#"{"servers": [{"id": "4f1c"#[..],
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        br#"{"servers": "not a list"}"#,
        br#"{"servers": [{"id": 42, "name": null}]}"#,
    ] {
        fake.respond_next(LIST.0, LIST.1, 200, body.to_vec(), 1);
        let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidResponse,
            "{}: {err}",
            String::from_utf8_lossy(body)
        );
    }
    // Not retried: a malformed answer is not a transient failure.
    assert_eq!(gets(&fake), 5);
}

#[tokio::test]
async fn unknown_enum_values_and_extra_fields_are_kept_not_fatal() {
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    let body = serde_json::json!({
        "servers": [{
            "id": "5b3c4bd1-7b7e-4bcb-9b5c-6f0c3e9a0001",
            "name": "from-the-future",
            "status": "HIBERNATED",
            "OS-EXT-STS:power_state": 9,
            "OS-EXT-STS:vm_state": "hibernated",
            "flavor": {"original_name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
            "image": "",
            "addresses": {},
            "metadata": {},
            "created": "2026-11-24T10:00:00Z",
            "updated": "2026-11-24T10:00:00Z",
            "tenant_id": "p",
            "user_id": "u",
            "a-field-from-2030": {"nested": [1, 2, 3]}
        }],
        "servers_links": []
    });
    fake.respond_next(LIST.0, LIST.1, 200, body.to_string(), 1);
    let page = bounded(
        Duration::from_secs(5),
        p.list_servers_page(&ListOptions::new(), None),
    )
    .await
    .expect("unknown values and extra fields decode");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].name, "from-the-future");
    assert_eq!(
        page.items[0].status,
        ServerStatus::Other("HIBERNATED".into())
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_reading_it_all() {
    let fake = fake(FakeOpenStack::builder().servers(400)).await;
    let p = try_connect(&fake, options().with_max_body(64 * 1024))
        .await
        .expect("discovery fits in 64 KiB");
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.to_string().contains("65536-byte limit"), "{err}");
}

#[tokio::test]
async fn a_build_that_ends_in_error_is_operation_failed() {
    let fake = fake(FakeOpenStack::builder()).await;
    let p = connect(&fake).await;
    let image = first_image(&p).await;
    fake.fail_next_builds(1);
    let op = p
        .create_server(&CreateServer::new("faults-novalidhost", "1").with_image(image.id))
        .await
        .expect("Nova accepts the build");
    let err = bounded(
        Duration::from_secs(10),
        op.with_options(WaitOptions {
            timeout: Duration::from_secs(5),
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..WaitOptions::default()
        })
        .wait(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OperationFailed, "{err}");
    assert!(err.to_string().contains("No valid host"), "{err}");
}

#[tokio::test]
async fn the_token_endpoint_down_fails_the_connect_with_a_typed_error() {
    let fake = fake(FakeOpenStack::builder()).await;
    fake.fail_next("POST", TOKENS, 503, 100, None);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), try_connect(&fake, options()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(fake.token_requests() <= 4, "{}", fake.token_requests());

    let fake = self::fake(FakeOpenStack::builder()).await;
    fake.drop_next("POST", TOKENS, 100);
    let err = bounded(Duration::from_secs(5), try_connect(&fake, options()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
}

#[tokio::test]
async fn dropping_a_call_mid_request_holds_nothing() {
    let fake = fake(FakeOpenStack::builder().servers(5)).await;
    let p = Arc::new(connect(&fake).await);
    fake.set_latency(Duration::from_millis(500));
    // Dropped while the request is in flight (and, after revocation, while the token
    // is being refreshed).
    fake.revoke_tokens();
    let dropped = tokio::time::timeout(Duration::from_millis(100), list(&p)).await;
    assert!(dropped.is_err(), "the call was cut short");
    fake.set_latency(Duration::ZERO);
    // Nothing is held: the next call re-authenticates and succeeds at once.
    assert_eq!(bounded(Duration::from_secs(3), list(&p)).await.unwrap(), 5);
}

#[tokio::test]
async fn dropping_a_wait_mid_poll_leaves_no_poller_behind() {
    let fake = fake(FakeOpenStack::builder().server_build(Lifecycle {
        polls: 1_000_000,
        delay: Duration::from_secs(3600),
    }))
    .await;
    let p = connect(&fake).await;
    let image = first_image(&p).await;
    let op = p
        .create_server(&CreateServer::new("faults-dropped-wait", "1").with_image(image.id))
        .await
        .expect("Nova accepts the build");
    let waiting = op
        .with_options(WaitOptions {
            timeout: Duration::from_secs(60),
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..WaitOptions::default()
        })
        .wait();
    // The server stays in BUILD: the wait is cut short after several polls.
    assert!(tokio::time::timeout(Duration::from_millis(300), waiting)
        .await
        .is_err());
    let polls = fake.route_count("GET", "/compute/v2.1/servers/{id}");
    assert!(
        polls >= 2,
        "the wait polled before it was dropped ({polls})"
    );
    // Dropped means stopped: no poll is sent afterwards, by anyone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.route_count("GET", "/compute/v2.1/servers/{id}"),
        polls,
        "no background poller"
    );
    // And nothing is held: the next call succeeds at once.
    assert_eq!(bounded(Duration::from_secs(3), list(&p)).await.unwrap(), 1);
}

/// The matrix again with a known password, every log line captured at TRACE: no
/// password or token appears in a log line, an error's Display or Debug, or the Debug
/// of the config and the provider.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_reach_logs_errors_or_debug() {
    const PASSWORD: &str = "Pw-matrix-Zr7q1x9LkT";
    let logs = LogCapture::default();
    let _guard = logs.install(tracing::Level::TRACE);
    let fake = fake(
        FakeOpenStack::builder()
            .user("matrix", PASSWORD)
            .project("matrix")
            .servers(3),
    )
    .await;
    let cloud = cloud_of(&fake);
    let p = OpenStackProvider::connect_ungated(&cloud, options())
        .await
        .unwrap();
    let mut texts = vec![format!("{cloud:?}"), format!("{p:?}")];
    let mut record = |r: hybrid_core::Result<usize>| {
        if let Err(e) = r {
            texts.push(format!("{e} {e:?}"));
        }
    };
    record(list(&p).await);
    fake.revoke_tokens();
    record(list(&p).await);
    fake.fail_next(LIST.0, LIST.1, 401, 10, None);
    record(list(&p).await);
    fake.fail_next(LIST.0, LIST.1, 503, 10, None);
    record(list(&p).await);
    fake.fail_next(LIST.0, LIST.1, 429, 1, Some(Duration::from_secs(0)));
    record(list(&p).await);
    fake.respond_next(LIST.0, LIST.1, 200, &b"{\"servers\": [{"[..], 1);
    record(list(&p).await);
    fake.reset_mid_body_next(LIST.0, LIST.1, 1);
    record(list(&p).await);
    fake.revoke_tokens();
    fake.fail_next("POST", TOKENS, 401, 10, None);
    record(list(&p).await);
    fake.clear_faults();
    // A wrong password: Keystone's refusal must not echo it either.
    let mut wrong = cloud.clone();
    wrong.auth.password = Some(hybrid_http::SecretString::from("Wrong-pw-Qe4Vn8Ys2"));
    if let Err(e) = OpenStackProvider::connect_ungated(&wrong, options()).await {
        texts.push(format!("{e} {e:?}"));
    }
    drop(_guard);

    let tokens = fake.issued_tokens();
    assert!(tokens.len() >= 3, "the run re-authenticated ({tokens:?})");
    let logged = logs.text();
    assert!(logged.lines().count() > 50, "TRACE logs were captured");
    // Headers were logged — with the token redacted, not left out.
    assert!(
        logged.to_ascii_lowercase().contains("x-auth-token"),
        "the token header was traced"
    );
    assert!(texts.len() >= 6, "errors were produced: {texts:?}");
    let mut secrets = vec![PASSWORD.to_owned(), "Wrong-pw-Qe4Vn8Ys2".to_owned()];
    secrets.extend(tokens);
    for secret in &secrets {
        for line in logged.lines() {
            assert!(
                !line.contains(secret.as_str()),
                "a secret in a log line: {line}"
            );
        }
        for t in &texts {
            assert!(!t.contains(secret.as_str()), "a secret in {t}");
        }
    }
}
