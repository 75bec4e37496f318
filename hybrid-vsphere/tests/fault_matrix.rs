//! The fault matrix for the vSphere backend, on an in-test fake vCenter (vim25 SOAP at
//! `/sdk`, the vSphere Automation API at `/api`; `tests/common`): every case ends in
//! success or in the right typed error within its deadline, with the requests it cost
//! counted. No panic, no hang: every case runs under a hard bound. Summarised in
//! `docs/fault-matrix.md`.
//!
//! vSphere's own shapes of the generic cases: an expired vim25 session is a SOAP
//! `NotAuthenticated` fault (HTTP 500), not a 401; a vAPI session expires with a 401;
//! long-running work is a vim25 Task whose `info.state` ends `error`.

mod common;

use hybrid_http::test_util::LogCapture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fixture, vm_object, FakeVcenter, RetryAfter, TaskEnd, USER};
use hybrid_core::model::{CreateServer, ServerId, ServerStatus};
use hybrid_core::operation::WaitOptions;
use hybrid_core::provider::Compute;
use hybrid_core::{ErrorKind, ListOptions};
use hybrid_http::{ClientOptions, RetryPolicy};
use hybrid_vsphere::{VsphereConfig, VsphereProvider};

const PASSWORD: &str = "Pw-vsphere-Mx7q2Lk9Zt";
const RPE: &str = "RetrievePropertiesEx";
const LOGIN: &str = "Login";
const CATEGORIES: &str = "GET /api/cis/tagging/category";
const VAPI_LOGIN: &str = "POST /api/session";

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

/// The fake's settings, read the way `GOVC_*` variables are.
fn config_with(fake: &FakeVcenter, password: &str) -> VsphereConfig {
    VsphereConfig::from_lookup(|k| match k {
        "GOVC_URL" => Some(fake.sdk_url()),
        "GOVC_USERNAME" => Some(USER.to_owned()),
        "GOVC_PASSWORD" => Some(password.to_owned()),
        _ => None,
    })
    .unwrap()
}

fn config(fake: &FakeVcenter) -> VsphereConfig {
    config_with(fake, PASSWORD)
}

async fn try_connect(
    fake: &FakeVcenter,
    opts: ClientOptions,
) -> hybrid_core::Result<VsphereProvider> {
    VsphereProvider::connect_with_options(config(fake), opts).await
}

async fn connect(fake: &FakeVcenter) -> VsphereProvider {
    try_connect(fake, options()).await.expect("connects")
}

/// Runs a case under a hard bound, so a hang fails instead of blocking CI.
async fn bounded<F: std::future::Future>(limit: Duration, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .expect("the case did not end within its bound")
}

async fn list(p: &VsphereProvider) -> hybrid_core::Result<usize> {
    p.list_servers_page(&ListOptions::new(), None)
        .await
        .map(|page| page.items.len())
}

async fn categories(p: &VsphereProvider) -> hybrid_core::Result<usize> {
    p.list_tag_categories().await.map(|c| c.len())
}

/// Counts of `routes` now, to take differences against.
fn counts<const N: usize>(fake: &FakeVcenter, routes: [&str; N]) -> [u64; N] {
    routes.map(|r| fake.count(r))
}

fn quick_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(5),
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..WaitOptions::default()
    }
}

#[tokio::test]
async fn soap_session_expiry_mid_run_logs_in_exactly_once() {
    let fake = FakeVcenter::start(PASSWORD, 3).await;
    let p = connect(&fake).await;
    assert_eq!(list(&p).await.unwrap(), 3);
    let [logins, rpe] = counts(&fake, [LOGIN, RPE]);
    fake.expire_soap_sessions();
    assert_eq!(bounded(Duration::from_secs(5), list(&p)).await.unwrap(), 3);
    assert_eq!(fake.count(LOGIN) - logins, 1, "one re-login");
    // The refused call (NotAuthenticated) and its repetition.
    assert_eq!(fake.count(RPE) - rpe, 2);
}

#[tokio::test]
async fn vapi_session_expiry_recreates_the_session_once() {
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    let p = connect(&fake).await;
    assert_eq!(categories(&p).await.unwrap(), 0);
    let [logins, gets] = counts(&fake, [VAPI_LOGIN, CATEGORIES]);
    fake.expire_vapi_sessions();
    assert_eq!(
        bounded(Duration::from_secs(5), categories(&p))
            .await
            .unwrap(),
        0
    );
    assert_eq!(fake.count(VAPI_LOGIN) - logins, 1, "one new session");
    assert_eq!(fake.count(CATEGORIES) - gets, 2, "the 401 and its retry");
}

#[tokio::test]
async fn a_not_authenticated_storm_ends_in_unauthenticated_after_one_login() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    let [logins, rpe] = counts(&fake, [LOGIN, RPE]);
    fake.respond_next(
        RPE,
        500,
        "text/xml",
        fixture("vcsim-fault-NotAuthenticated.resp.xml"),
        100,
    );
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(fake.count(LOGIN) - logins, 1, "one re-login, no more");
    assert_eq!(fake.count(RPE) - rpe, 2, "the call and its one repetition");
}

#[tokio::test]
async fn a_vapi_401_storm_ends_in_unauthenticated_after_one_new_session() {
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    let p = connect(&fake).await;
    let [logins, gets] = counts(&fake, [VAPI_LOGIN, CATEGORIES]);
    fake.fail_next(CATEGORIES, 401, 100, None);
    let err = bounded(Duration::from_secs(5), categories(&p))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(fake.count(VAPI_LOGIN) - logins, 1);
    assert_eq!(fake.count(CATEGORIES) - gets, 2);
}

#[tokio::test]
async fn rate_limited_with_retry_after_seconds_waits_then_succeeds() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    let [rpe, gets] = counts(&fake, [RPE, CATEGORIES]);
    fake.fail_next(RPE, 429, 1, Some(RetryAfter::Seconds(1)));
    let started = Instant::now();
    assert_eq!(bounded(Duration::from_secs(8), list(&p)).await.unwrap(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured ({:?})",
        started.elapsed()
    );
    assert_eq!(fake.count(RPE) - rpe, 2);

    // The same on the vAPI side.
    fake.fail_next(CATEGORIES, 429, 1, Some(RetryAfter::Seconds(1)));
    let started = Instant::now();
    bounded(Duration::from_secs(8), categories(&p))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(fake.count(CATEGORIES) - gets, 2);
}

#[tokio::test]
async fn rate_limited_with_retry_after_http_date_waits_then_succeeds() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    let rpe = fake.count(RPE);
    // An HTTP date has whole seconds: 2 s ahead is at least 1 s ahead.
    fake.fail_next(
        RPE,
        429,
        1,
        Some(RetryAfter::DateIn(Duration::from_secs(2))),
    );
    let started = Instant::now();
    assert_eq!(bounded(Duration::from_secs(8), list(&p)).await.unwrap(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "the HTTP-date Retry-After was honoured ({:?})",
        started.elapsed()
    );
    assert_eq!(fake.count(RPE) - rpe, 2);
}

#[tokio::test]
async fn a_503_storm_then_recovery_succeeds_within_the_attempts() {
    let fake = FakeVcenter::start(PASSWORD, 2).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    let rpe = fake.count(RPE);
    fake.fail_next(RPE, 503, 3, None);
    assert_eq!(bounded(Duration::from_secs(5), list(&p)).await.unwrap(), 2);
    assert_eq!(fake.count(RPE) - rpe, 4);
}

#[tokio::test]
async fn a_503_storm_longer_than_the_attempts_is_unavailable() {
    let fake = FakeVcenter::start(PASSWORD, 2).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    let [rpe, gets] = counts(&fake, [RPE, CATEGORIES]);
    fake.fail_next(RPE, 503, 100, None);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(fake.count(RPE) - rpe, 4, "max_attempts, no more");

    fake.clear_faults();
    fake.fail_next(CATEGORIES, 503, 100, None);
    let err = bounded(Duration::from_secs(5), categories(&p))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(fake.count(CATEGORIES) - gets, 4);
}

#[tokio::test]
async fn mutating_calls_under_503_are_sent_exactly_once() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    // PowerOnVM_Task (the VM reads as powered off).
    fake.fail_next("PowerOnVM_Task", 503, 100, None);
    let err = bounded(
        Duration::from_secs(5),
        p.start_server(&ServerId::new("vm-100")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(!err.is_retryable(), "it may have been carried out: {err:?}");
    assert_eq!(fake.count("PowerOnVM_Task"), 1);

    // CreateVM_Task.
    fake.fail_next("CreateVM_Task", 503, 100, None);
    let spec = CreateServer::new("faults-once", "vm-1cpu-2gb");
    let err = bounded(Duration::from_secs(5), p.create_server(&spec))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(fake.count("CreateVM_Task"), 1);

    // A vAPI POST that creates something.
    fake.fail_next("POST /api/cis/tagging/category", 503, 100, None);
    let err = bounded(
        Duration::from_secs(5),
        p.create_tag_category("faults", "", true, &["VirtualMachine"]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(fake.count("POST /api/cis/tagging/category"), 1);
}

#[tokio::test]
async fn mutating_calls_under_429_are_sent_again_after_the_hint() {
    // A 429 is a refusal before anything ran, so even a mutating call is sent again.
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    fake.fail_next("PowerOnVM_Task", 429, 1, Some(RetryAfter::Seconds(1)));
    let started = Instant::now();
    let op = bounded(
        Duration::from_secs(8),
        p.start_server(&ServerId::new("vm-100")),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(fake.count("PowerOnVM_Task"), 2);
    drop(op);

    fake.fail_next(
        "POST /api/cis/tagging/category",
        429,
        1,
        Some(RetryAfter::Seconds(0)),
    );
    bounded(
        Duration::from_secs(8),
        p.create_tag_category("faults-429", "", true, &["VirtualMachine"]),
    )
    .await
    .unwrap();
    assert_eq!(fake.count("POST /api/cis/tagging/category"), 2);
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_retried_for_reads_only() {
    let fake = FakeVcenter::start(PASSWORD, 50).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    // A read: the cut answer is asked for again.
    let rpe = fake.count(RPE);
    fake.reset_mid_body_next(RPE, 1);
    assert_eq!(bounded(Duration::from_secs(5), list(&p)).await.unwrap(), 50);
    assert_eq!(fake.count(RPE) - rpe, 2);

    // A mutating call: it reached the vCenter, so it is not sent again.
    fake.reset_mid_body_next("PowerOnVM_Task", 1);
    let err = bounded(
        Duration::from_secs(5),
        p.start_server(&ServerId::new("vm-100")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(fake.count("PowerOnVM_Task"), 1);
    // The connection pool recovers: the next call succeeds.
    assert_eq!(list(&p).await.unwrap(), 50);
}

#[tokio::test]
async fn a_body_that_stalls_past_the_deadline_times_out_on_time() {
    let fake = FakeVcenter::start(PASSWORD, 50).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    // A read stalls once: the 1 s attempt timeout cuts it, the repetition succeeds.
    let rpe = fake.count(RPE);
    fake.stall_mid_body_next(RPE, Duration::from_secs(30), 1);
    let started = Instant::now();
    assert_eq!(bounded(Duration::from_secs(5), list(&p)).await.unwrap(), 50);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.count(RPE) - rpe, 2);

    // A mutating call stalls: Timeout after the one attempt.
    fake.stall_mid_body_next("PowerOnVM_Task", Duration::from_secs(30), 1);
    let started = Instant::now();
    let err = bounded(
        Duration::from_secs(5),
        p.start_server(&ServerId::new("vm-100")),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.count("PowerOnVM_Task"), 1);

    // A vAPI answer stalls (its body is read after the HTTP layer's retries): Timeout.
    let gets = fake.count(CATEGORIES);
    fake.stall_mid_body_next(CATEGORIES, Duration::from_secs(30), 1);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), categories(&p))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(fake.count(CATEGORIES) - gets, 1);
}

#[tokio::test]
async fn truncated_malformed_empty_and_mistyped_answers_are_invalid_responses() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    list(&p).await.unwrap();
    let good = common::envelope(&format!(
        r#"<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>{}</returnval></RetrievePropertiesExResponse>"#,
        vm_object("vm-1", "a", "poweredOn")
    ));
    let soap_bodies: Vec<(&'static str, String)> = vec![
        ("text/xml", good[..good.len() / 2].to_owned()),
        (
            "text/html",
            "<html><body>502 Bad Gateway</body></html>".to_owned(),
        ),
        ("text/xml", String::new()),
        ("application/json", r#"{"returnval": []}"#.to_owned()),
        (
            "text/xml",
            common::envelope(r#"<LoginResponse xmlns="urn:vim25"><returnval/></LoginResponse>"#),
        ),
        ("text/xml", good.replace(">1</val>", ">many</val>")),
        ("text/xml", good.replace(">vm-1</obj>", "></obj>")),
    ];
    let rpe = fake.count(RPE);
    for (ct, body) in &soap_bodies {
        fake.respond_next(RPE, 200, ct, body.clone(), 1);
        let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{body}: {err}");
    }
    // Not retried: a malformed answer is not a transient failure.
    assert_eq!(fake.count(RPE) - rpe, soap_bodies.len() as u64);

    let gets = fake.count(CATEGORIES);
    let vapi_bodies = [
        &br#"["urn:vmomi:Inven"#[..],
        b"<html><body>502 Bad Gateway</body></html>",
        br#"{"value": "not a list"}"#,
        br#"[42, null]"#,
    ];
    for body in vapi_bodies {
        fake.respond_next(CATEGORIES, 200, "application/json", body, 1);
        let err = bounded(Duration::from_secs(5), categories(&p))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidResponse,
            "{}: {err}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(fake.count(CATEGORIES) - gets, vapi_bodies.len() as u64);
}

#[tokio::test]
async fn unknown_enum_values_and_extra_elements_are_kept_not_fatal() {
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    let p = connect(&fake).await;
    let vm = vm_object("vm-7", "from-the-future", "hibernating").replace(
        "</objects>",
        r#"<propSet><name>guest.net</name><val xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo xsi:type="GuestNicInfo"><network>VM Network</network><ipAddress>10.0.0.7</ipAddress><ipAddress>fe80::7</ipAddress><futureField><nested>1</nested></futureField><connected>true</connected></GuestNicInfo></val></propSet><propSet><name>guest.guestState</name><val xsi:type="VirtualMachineGuestState">dreaming</val></propSet><propSet><name>a.property.from.2030</name><val xsi:type="SomethingNew"><x>1</x></val></propSet><unknownElement>kept out</unknownElement></objects>"#,
    );
    fake.vm_objects_next(&format!("{vm}<objectsFromTheFuture/>"));
    let page = bounded(
        Duration::from_secs(5),
        p.list_servers_page(&ListOptions::new(), None),
    )
    .await
    .expect("unknown values and extra elements decode");
    assert_eq!(page.items.len(), 1);
    let s = &page.items[0];
    assert_eq!(s.name, "from-the-future");
    assert_eq!(s.status, ServerStatus::Other("hibernating".into()));
    let addrs: Vec<&str> = s.addresses.iter().map(|a| a.address.as_str()).collect();
    assert_eq!(addrs, ["10.0.0.7", "fe80::7"]);
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_reading_it_all() {
    let fake = FakeVcenter::start(PASSWORD, 400).await;
    let p = try_connect(&fake, options().with_max_body(64 * 1024))
        .await
        .expect("discovery fits in 64 KiB");
    let rpe = fake.count(RPE);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.to_string().contains("65536-byte limit"), "{err}");
    assert_eq!(fake.count(RPE) - rpe, 1, "not retried");
}

#[tokio::test]
async fn tasks_that_end_in_error_or_are_cancelled_are_typed_failures() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    let start = |end: TaskEnd| {
        fake.next_task_ends(end);
        let p = p.clone();
        async move {
            let op = p.start_server(&ServerId::new("vm-100")).await?;
            op.with_options(quick_wait()).wait().await
        }
    };
    let err = bounded(
        Duration::from_secs(10),
        start(TaskEnd::Error {
            fault: "SystemError".into(),
            message: "A general system error occurred: no space left on device".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OperationFailed, "{err}");
    assert!(err.to_string().contains("no space left on device"), "{err}");
    assert!(err.to_string().contains("SystemError"), "{err}");

    // A fault with a more precise kind keeps it, and its message.
    let err = bounded(
        Duration::from_secs(10),
        start(TaskEnd::Error {
            fault: "InsufficientResourcesFault".into(),
            message: "Insufficient resources to satisfy configured failover level".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert!(err.to_string().contains("failover level"), "{err}");

    let err = bounded(
        Duration::from_secs(10),
        start(TaskEnd::Error {
            fault: "RequestCanceled".into(),
            message: "The task was canceled by a user.".into(),
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(err.to_string().contains("canceled by a user"), "{err}");
    assert_eq!(fake.count("PowerOnVM_Task"), 3);
}

#[tokio::test]
async fn dropping_a_task_wait_mid_poll_leaves_no_poller_behind() {
    let fake = FakeVcenter::start(PASSWORD, 1).await;
    let p = connect(&fake).await;
    fake.next_task_ends(TaskEnd::Running);
    let op = p.start_server(&ServerId::new("vm-100")).await.unwrap();
    // The task never ends: the wait is cut short after several polls.
    let waiting = op.with_options(quick_wait()).wait();
    assert!(tokio::time::timeout(Duration::from_millis(300), waiting)
        .await
        .is_err());
    let polls = fake.count(RPE);
    assert!(
        polls >= 2,
        "the wait polled before it was dropped ({polls})"
    );
    // Dropped means stopped: no poll is sent afterwards, by anyone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.count(RPE), polls, "no background poller");
    // And nothing is held: the next call succeeds at once.
    bounded(Duration::from_secs(3), list(&p)).await.unwrap();
    assert_eq!(fake.count("PowerOnVM_Task"), 1);
}

#[tokio::test]
async fn the_login_endpoint_down_fails_the_connect_with_a_typed_error() {
    // Login answers 503: a mutating call, sent once.
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    fake.fail_next(LOGIN, 503, 100, None);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), try_connect(&fake, options()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(fake.count(LOGIN), 1);

    // Login's connection is dropped.
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    fake.drop_next(LOGIN, 100);
    let err = bounded(Duration::from_secs(5), try_connect(&fake, options()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(fake.count(LOGIN), 1);

    // The service content (a read, before any credential) answers 503: retried, bounded.
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    fake.fail_next("RetrieveServiceContent", 503, 100, None);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), try_connect(&fake, options()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(fake.count("RetrieveServiceContent"), 4);
    assert_eq!(fake.count(LOGIN), 0);

    // Nothing listens at all.
    let closed = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let cfg = VsphereConfig::from_lookup(|k| match k {
        "GOVC_URL" => Some(format!("http://{closed}/sdk")),
        "GOVC_USERNAME" => Some(USER.to_owned()),
        "GOVC_PASSWORD" => Some(PASSWORD.to_owned()),
        _ => None,
    })
    .unwrap();
    let started = Instant::now();
    let err = bounded(
        Duration::from_secs(5),
        VsphereProvider::connect_with_options(cfg, options()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // The vAPI session endpoint down: the vCenter is usable without tags and libraries,
    // and says why.
    let fake = FakeVcenter::start(PASSWORD, 0).await;
    fake.fail_next(VAPI_LOGIN, 503, 100, None);
    let p = bounded(Duration::from_secs(5), try_connect(&fake, options()))
        .await
        .expect("vim25 works without the Automation API");
    let d = p.discovery();
    assert!(d.automation_api.is_none());
    assert!(
        d.automation_api_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{d:?}"
    );
    assert_eq!(fake.count(VAPI_LOGIN), 1, "a POST is not repeated");
    let err = categories(&p).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
}

#[tokio::test]
async fn dropping_a_call_mid_request_or_mid_login_holds_nothing() {
    let fake = FakeVcenter::start(PASSWORD, 5).await;
    let p = Arc::new(connect(&fake).await);
    list(&p).await.unwrap();
    // Dropped while the request is in flight.
    fake.set_latency(Duration::from_millis(500));
    let dropped = tokio::time::timeout(Duration::from_millis(100), list(&p)).await;
    assert!(dropped.is_err(), "the call was cut short");
    fake.set_latency(Duration::ZERO);
    assert_eq!(bounded(Duration::from_secs(2), list(&p)).await.unwrap(), 5);

    // Dropped during the re-login after an expiry: the login's answer stalls.
    fake.expire_soap_sessions();
    fake.stall_mid_body_next(LOGIN, Duration::from_secs(30), 1);
    let logins = fake.count(LOGIN);
    let dropped = tokio::time::timeout(Duration::from_millis(500), list(&p)).await;
    assert!(dropped.is_err(), "the call was cut short");
    assert_eq!(fake.count(LOGIN) - logins, 1, "it was cut mid-login");
    // Nothing is held (the login lock, the cookie): the next call succeeds at once.
    assert_eq!(bounded(Duration::from_secs(2), list(&p)).await.unwrap(), 5);
    assert!(fake.count(LOGIN) - logins <= 2);

    // The same for a cut vAPI session login.
    fake.expire_vapi_sessions();
    fake.stall_mid_body_next(VAPI_LOGIN, Duration::from_secs(30), 1);
    let dropped = tokio::time::timeout(Duration::from_millis(500), categories(&p)).await;
    assert!(dropped.is_err(), "the call was cut short");
    assert_eq!(
        bounded(Duration::from_secs(2), categories(&p))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_calls_after_expiry_make_one_login() {
    let fake = FakeVcenter::start(PASSWORD, 2).await;
    let p = Arc::new(connect(&fake).await);
    list(&p).await.unwrap();
    categories(&p).await.unwrap();
    let [logins, vapi_logins] = counts(&fake, [LOGIN, VAPI_LOGIN]);

    fake.expire_soap_sessions();
    let calls = (0..100).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { list(&p).await })
    });
    let results = bounded(Duration::from_secs(20), futures::future::join_all(calls)).await;
    for r in results {
        assert_eq!(r.unwrap().unwrap(), 2);
    }
    assert_eq!(
        fake.count(LOGIN) - logins,
        1,
        "one vim25 login for 100 callers"
    );

    fake.expire_vapi_sessions();
    let calls = (0..100).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { categories(&p).await })
    });
    let results = bounded(Duration::from_secs(20), futures::future::join_all(calls)).await;
    for r in results {
        assert_eq!(r.unwrap().unwrap(), 0);
    }
    assert_eq!(
        fake.count(VAPI_LOGIN) - vapi_logins,
        1,
        "one vAPI session for 100 callers"
    );
}

/// The matrix again with a known password, every log line captured at TRACE: no
/// password (nor its basic-auth form) and no session id (vim25 cookie, `UserSession`
/// key, vAPI `vmware-api-session-id`) appears in a log line, an error's Display or
/// Debug, or the Debug of the config and the provider.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_reach_logs_errors_or_debug() {
    use base64::Engine as _;
    const WRONG: &str = "Wrong-pw-Qe4Vn8Ys2x";
    let logs = LogCapture::default();
    let _guard = logs.install(tracing::Level::TRACE);
    let fake = FakeVcenter::start(PASSWORD, 3).await;
    let cfg = config(&fake);
    let p = VsphereProvider::connect_with_options(cfg.clone(), options())
        .await
        .unwrap();
    let mut texts = vec![format!("{cfg:?}"), format!("{p:?}")];
    let mut record = |r: hybrid_core::Result<usize>| {
        if let Err(e) = r {
            texts.push(format!("{e} {e:?}"));
        }
    };
    record(list(&p).await);
    record(categories(&p).await);
    fake.expire_soap_sessions();
    fake.expire_vapi_sessions();
    record(list(&p).await);
    record(categories(&p).await);
    fake.respond_next(
        RPE,
        500,
        "text/xml",
        fixture("vcsim-fault-NotAuthenticated.resp.xml"),
        10,
    );
    record(list(&p).await);
    fake.fail_next(CATEGORIES, 401, 10, None);
    record(categories(&p).await);
    fake.fail_next(RPE, 503, 10, None);
    record(list(&p).await);
    fake.fail_next(RPE, 429, 1, Some(RetryAfter::Seconds(0)));
    record(list(&p).await);
    fake.respond_next(RPE, 200, "text/xml", "<soapenv:Envelope><soapenv:Bo", 1);
    record(list(&p).await);
    fake.reset_mid_body_next(RPE, 2);
    record(list(&p).await);
    fake.fail_next("PowerOnVM_Task", 503, 1, None);
    record(
        p.start_server(&ServerId::new("vm-100"))
            .await
            .map(|_| 0usize),
    );
    fake.expire_soap_sessions();
    fake.fail_next(LOGIN, 503, 10, None);
    record(list(&p).await);
    fake.clear_faults();
    record(list(&p).await);
    p.logout().await.unwrap();
    record(list(&p).await);
    // Wrong passwords: neither vim25's InvalidLogin nor anything else echoes them.
    if let Err(e) =
        VsphereProvider::connect_with_options(config_with(&fake, WRONG), options()).await
    {
        texts.push(format!("{e} {e:?}"));
    }
    drop(_guard);

    let issued = fake.issued_sessions();
    assert!(
        issued.iter().filter(|s| s.contains("-soap-")).count() >= 4
            && issued.iter().filter(|s| s.starts_with("vapi-")).count() >= 2,
        "the run logged in again several times ({issued:?})"
    );
    let logged = logs.text();
    assert!(logged.lines().count() > 100, "TRACE logs were captured");
    // Headers were logged — with the credentials redacted, not left out.
    let lower = logged.to_ascii_lowercase();
    for header in [
        "cookie",
        "set-cookie",
        "vmware-api-session-id",
        "authorization",
    ] {
        assert!(lower.contains(header), "the {header} header was traced");
    }
    assert!(texts.len() >= 8, "errors were produced: {texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Unauthenticated") || t.contains("unauthenticated")),
        "{texts:?}"
    );
    let mut secrets = vec![
        PASSWORD.to_owned(),
        WRONG.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}")),
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{WRONG}")),
    ];
    secrets.extend(issued);
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

/// `check()` rediscovers the inventory through new container views: the views it
/// replaces are destroyed (`DestroyView`), not left on the vCenter for the rest of the
/// session, and listing afterwards works through the new ones.
#[tokio::test]
async fn check_destroys_the_container_views_it_replaces() {
    use hybrid_core::Provider as _;
    let fake = FakeVcenter::start(PASSWORD, 3).await;
    let p = connect(&fake).await;
    assert_eq!(list(&p).await.unwrap(), 3);
    // Discovery's views and the VMs' one.
    let live = fake.live_views();
    assert!(live >= 2, "{live} views after connect and a listing");
    for round in 1..=3u64 {
        let destroyed = fake.count("DestroyView");
        bounded(Duration::from_secs(5), p.check()).await.unwrap();
        assert!(
            fake.count("DestroyView") - destroyed >= live as u64 - 1,
            "round {round}: the old views are destroyed"
        );
        assert!(
            fake.live_views() <= live,
            "round {round}: {} views live, {live} before",
            fake.live_views()
        );
        assert_eq!(list(&p).await.unwrap(), 3);
        assert_eq!(fake.live_views(), live, "round {round}");
    }
}
