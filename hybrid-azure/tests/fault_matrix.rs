//! The fault matrix for the Azure backend, on the stateful fake of Entra ID and ARM
//! (`hybrid-fake-azure`, on 127.0.0.1): every case ends in success or in the right
//! typed error within its deadline, with the requests it cost counted by the fake. No
//! panic, no hang: every case runs under a hard bound. Summarised in
//! `docs/fault-matrix.md`.
//!
//! What is retried, and why (ARM's contract, checked here with counts):
//! - `GET`, `PUT` and `DELETE` are retried on `408`/`429`/`5xx`, timeouts and lost
//!   connections: an ARM `PUT` is create-or-update with the whole desired state, so a
//!   repeated `PUT` converges on the same resource (a `PUT` whose first answer was lost
//!   and was sent again makes one VM, not two).
//! - `POST` power actions that converge on a state (`start`, `powerOff`, `deallocate`)
//!   are marked idempotent and retried the same way; `restart` (and a `PATCH` without
//!   an etag) is sent once: a `5xx` may come after the work began.
//! - A `401` gets one new token and one more try; a failed token request is retried by
//!   the same rules (Entra ID does not act twice on a token request).

use hybrid_http::test_util::LogCapture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hybrid_azure::http::{ClientOptions, RetryPolicy};
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_azure::{AzureBuilder, AzureConfig, AzureProvider, CloudEnvironment, CredentialKind};
use hybrid_core::model::{
    CreatePort, CreateServer, NetworkAttachment, NetworkId, RebootKind, Server, ServerId,
    ServerStatus,
};
use hybrid_core::operation::WaitOptions;
use hybrid_core::provider::{Compute, Network};
use hybrid_core::{ErrorKind, ListOptions, Provider};
use hybrid_fake_azure::{FakeAzure, FakeAzureBuilder, LroEnd, Mangle, RetryAfter};

const SECRET: &str = "Az-matrix-Secret~Q7v2Lr9Tz";
const CLIENT: &str = "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d";

const VMS: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines";
const VM: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{name}";
const GROUP: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}";
const TOKEN: &str = "/{tenantId}/oauth2/v2.0/token";
const COMPUTE_OP: &str = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}";

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

/// Operations polled fast, within 10 s.
fn fast_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(10),
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..WaitOptions::default()
    }
}

async fn fake(b: FakeAzureBuilder) -> FakeAzure {
    b.client(CLIENT, SECRET)
        .start()
        .await
        .expect("the fake starts")
}

/// The fake's scope and endpoints, without a credential yet.
fn base(fake: &FakeAzure, opts: ClientOptions) -> AzureBuilder {
    AzureBuilder::new(
        fake.subscription_id(),
        fake.resource_group(),
        fake.location(),
    )
    .with_cloud(CloudEnvironment {
        authority_host: fake.url(),
        resource_manager: fake.url(),
    })
    .with_throttle(ThrottleOptions::disabled())
    .with_http(opts)
}

fn config(fake: &FakeAzure, opts: ClientOptions) -> AzureConfig {
    base(fake, opts)
        .with_client_secret(fake.tenant_id(), CLIENT, SECRET)
        .build()
        .expect("a valid configuration")
}

fn provider_with(fake: &FakeAzure, opts: ClientOptions) -> AzureProvider {
    AzureProvider::new(config(fake, opts)).expect("the provider")
}

fn provider(fake: &FakeAzure) -> AzureProvider {
    provider_with(fake, options())
}

/// Runs a case under a hard bound, so a hang fails instead of blocking CI.
async fn bounded<F: std::future::Future>(limit: Duration, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .expect("the case did not end within its bound")
}

async fn list(p: &AzureProvider) -> hybrid_core::Result<Vec<Server>> {
    p.list_servers_page(&ListOptions::new(), None)
        .await
        .map(|page| page.items)
}

/// `GET`s of the VM listing.
fn lists(fake: &FakeAzure) -> u64 {
    fake.route_count("GET", VMS)
}

fn tokens(fake: &FakeAzure) -> u64 {
    fake.route_count("POST", TOKEN)
}

/// The path of the VM listing (fault prefixes match it and the paths under it).
fn vms_path(fake: &FakeAzure) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines",
        fake.subscription_id(),
        fake.resource_group()
    )
}

fn token_path(fake: &FakeAzure) -> String {
    format!("/{}/oauth2/v2.0/token", fake.tenant_id())
}

async fn first_server(p: &AzureProvider) -> ServerId {
    list(p).await.unwrap().remove(0).id
}

// ---- tokens --------------------------------------------------------------------------

#[tokio::test]
async fn token_revoked_mid_run_reauthenticates_once() {
    let fake = fake(FakeAzure::builder().servers(2)).await;
    let p = provider(&fake);
    assert_eq!(list(&p).await.unwrap().len(), 2);
    assert_eq!(tokens(&fake), 1);
    fake.revoke_tokens();
    assert_eq!(
        bounded(Duration::from_secs(5), list(&p))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(tokens(&fake), 2, "exactly one new token");
    // The first list, the refused one (401 ExpiredAuthenticationToken) and its retry.
    assert_eq!(lists(&fake), 3);
}

#[tokio::test]
async fn token_expiry_is_refreshed_before_use_without_a_401() {
    // Entra says `expires_in: 4`: the cache renews at half the lifetime; the token
    // has expired at the fake too when the next call comes.
    let fake = fake(FakeAzure::builder().token_ttl(Duration::from_secs(4))).await;
    let p = provider(&fake);
    p.check().await.unwrap();
    tokio::time::sleep(Duration::from_millis(4100)).await;
    bounded(Duration::from_secs(5), p.check()).await.unwrap();
    assert_eq!(tokens(&fake), 2, "exactly one new token");
    assert_eq!(
        fake.route_count("GET", GROUP),
        2,
        "no request went out with the expired token"
    );
}

/// 100 concurrent calls after the token expired make exactly one token request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_calls_after_expiry_make_one_token_request() {
    let fake = fake(FakeAzure::builder().token_ttl(Duration::from_secs(4))).await;
    let p = Arc::new(provider(&fake));
    p.check().await.unwrap();
    tokio::time::sleep(Duration::from_millis(4100)).await;
    let calls = (0..100).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { p.check().await })
    });
    for r in bounded(Duration::from_secs(20), futures::future::join_all(calls)).await {
        r.unwrap()
            .expect("each call succeeds with the one new token");
    }
    assert_eq!(tokens(&fake), 2, "one token request for 100 callers");
    assert_eq!(fake.route_count("GET", GROUP), 101, "and no 401 retries");
}

#[tokio::test]
async fn a_401_storm_ends_in_unauthenticated_after_one_new_token() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    list(&p).await.unwrap();
    fake.fail_next("GET", &vms_path(&fake), 401, 100);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(
        lists(&fake),
        3,
        "the first list, then 2: one retry with a new token"
    );
    assert_eq!(tokens(&fake), 2, "one new token, no more");

    // Entra ID refusing the credential: one token request per call, never retried.
    let fake = self::fake(FakeAzure::builder()).await;
    fake.fail_next("POST", &token_path(&fake), 401, 100);
    let p = provider(&fake);
    for n in 1..=2 {
        let err = bounded(Duration::from_secs(5), p.check())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
        assert_eq!(tokens(&fake), n);
    }
    assert_eq!(fake.route_count("GET", GROUP), 0, "ARM saw nothing");
}

// ---- throttling and unavailability -----------------------------------------------------

async fn rate_limited_case(after: RetryAfter, at_least: Duration) {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    p.check().await.unwrap();
    fake.fail_next_with("GET", &vms_path(&fake), 429, 1, after);
    let started = Instant::now();
    assert_eq!(
        bounded(Duration::from_secs(8), list(&p))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        started.elapsed() >= at_least,
        "{after:?} was honoured ({:?})",
        started.elapsed()
    );
    assert_eq!(lists(&fake), 2);
}

#[tokio::test]
async fn rate_limited_with_retry_after_seconds_waits_then_succeeds() {
    rate_limited_case(RetryAfter::Seconds(1), Duration::from_millis(950)).await;
}

#[tokio::test]
async fn rate_limited_with_retry_after_http_date_waits_then_succeeds() {
    // An HTTP date has whole seconds: 2 s ahead is at least 1 s ahead.
    rate_limited_case(RetryAfter::HttpDate(2), Duration::from_millis(950)).await;
}

#[tokio::test]
async fn rate_limited_with_x_ms_retry_after_ms_waits_then_succeeds() {
    // The backoff alone would wait 10 ms.
    rate_limited_case(RetryAfter::Millis(700), Duration::from_millis(690)).await;
}

#[tokio::test]
async fn a_503_storm_then_recovery_succeeds_within_the_attempts() {
    let fake = fake(FakeAzure::builder().servers(2)).await;
    let p = provider(&fake);
    fake.fail_next("GET", &vms_path(&fake), 503, 3);
    assert_eq!(
        bounded(Duration::from_secs(5), list(&p))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(lists(&fake), 4, "the 4th GET succeeds");
}

#[tokio::test]
async fn a_503_storm_longer_than_the_attempts_is_unavailable() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    fake.fail_next("GET", &vms_path(&fake), 503, 100);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("ServiceUnavailable"), "{err}");
    assert_eq!(lists(&fake), 4, "max_attempts, no more");
}

// ---- writes under faults -------------------------------------------------------------

/// A NIC to attach, so that a VM creation is one `PUT` and one operation.
async fn port(p: &AzureProvider, name: &str) -> hybrid_core::model::PortId {
    p.create_port(&CreatePort {
        network_id: NetworkId::new("hybrid-vnet"),
        name: name.into(),
        fixed_ips: Vec::new(),
        security_groups: Vec::new(),
    })
    .await
    .unwrap()
    .with_options(fast_wait())
    .await
    .unwrap()
    .id
}

fn vm_spec(name: &str, port: hybrid_core::model::PortId) -> CreateServer {
    let mut spec = CreateServer::new(name, "Standard_B1s").with_image("ubuntu-22.04-image");
    spec.networks.push(NetworkAttachment::Port { port });
    spec
}

fn vm_path(fake: &FakeAzure, name: &str) -> String {
    format!("{}/{name}", vms_path(fake))
}

#[tokio::test]
async fn a_vm_create_put_under_503_is_retried_and_makes_one_vm() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    let nic = port(&p, "faults-put-nic").await;
    fake.fail_next("PUT", &vm_path(&fake, "faults-put"), 503, 2);
    let op = bounded(
        Duration::from_secs(5),
        p.create_server(&vm_spec("faults-put", nic)),
    )
    .await
    .expect("ARM PUT is idempotent: retried after the 503s");
    let s = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(fake.route_count("PUT", VM), 3, "two 503s, then the PUT");
    assert_eq!(fake.vm_count(), 1);
}

#[tokio::test]
async fn a_vm_create_put_whose_answer_is_lost_is_sent_again_and_makes_one_vm() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    let nic = port(&p, "faults-lost-nic").await;
    // The first PUT is carried out, but its answer comes after the 1 s attempt timeout.
    fake.stall_next(
        "PUT",
        &vm_path(&fake, "faults-lost"),
        Duration::from_millis(1500),
        1,
    );
    let op = bounded(
        Duration::from_secs(8),
        p.create_server(&vm_spec("faults-lost", nic)),
    )
    .await
    .expect("the PUT is sent again");
    let s = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(fake.route_count("PUT", VM), 2);
    assert_eq!(fake.vm_count(), 1, "the second PUT updated the same VM");
}

#[tokio::test]
async fn a_vm_create_put_under_a_503_storm_is_unavailable_and_cleans_up() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    fake.fail_next("PUT", &vm_path(&fake, "faults-storm"), 503, 100);
    let spec = CreateServer::new("faults-storm", "Standard_B1s")
        .with_image("ubuntu-22.04-image")
        .with_network("hybrid-vnet");
    let err = bounded(Duration::from_secs(10), p.create_server(&spec))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(fake.route_count("PUT", VM), 4, "max_attempts, no more");
    assert_eq!(fake.vm_count(), 0);
    // The NIC made for it is deleted again.
    let nic = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/networkInterfaces/{name}";
    assert_eq!(fake.route_count("PUT", nic), 1);
    assert_eq!(fake.route_count("DELETE", nic), 1);
}

#[tokio::test]
async fn a_restart_post_under_503_is_sent_exactly_once() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    let restart = format!("{}/vm-00001/restart", vms_path(&fake));
    fake.fail_next("POST", &restart, 503, 100);
    let err = bounded(
        Duration::from_secs(5),
        p.reboot_server(&id, RebootKind::Soft),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        !err.is_retryable(),
        "the restart may have begun: not to be retried blindly"
    );
    assert_eq!(fake.route_count("POST", &format!("{VM}/restart")), 1);

    // Its answer lost (after the 1 s attempt timeout): not sent again either.
    fake.clear_faults();
    fake.stall_next("POST", &restart, Duration::from_secs(3), 1);
    let err = bounded(
        Duration::from_secs(5),
        p.reboot_server(&id, RebootKind::Soft),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(fake.route_count("POST", &format!("{VM}/restart")), 2);
}

#[tokio::test]
async fn a_restart_post_under_429_is_sent_again_after_the_hint() {
    // ARM refused the request before acting on it, so the POST is sent again once the
    // Retry-After has passed, and the restart happens once.
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    let restart = format!("{}/vm-00001/restart", vms_path(&fake));
    fake.fail_next_with("POST", &restart, 429, 1, RetryAfter::Seconds(1));
    let start = std::time::Instant::now();
    let op = bounded(
        Duration::from_secs(5),
        p.reboot_server(&id, RebootKind::Soft),
    )
    .await
    .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(990),
        "{:?}",
        start.elapsed()
    );
    let s = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(fake.route_count("POST", &format!("{VM}/restart")), 2);
}

#[tokio::test]
async fn a_restart_post_under_a_429_storm_ends_rate_limited_with_the_hint() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    let restart = format!("{}/vm-00001/restart", vms_path(&fake));
    fake.fail_next_with("POST", &restart, 429, 10, RetryAfter::Millis(20));
    let err = bounded(
        Duration::from_secs(5),
        p.reboot_server(&id, RebootKind::Soft),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_millis(20)));
    assert_eq!(fake.route_count("POST", &format!("{VM}/restart")), 4);
}

#[tokio::test]
async fn a_deallocate_post_under_503_is_retried_as_it_converges() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    let path = format!("{}/vm-00001/deallocate", vms_path(&fake));
    fake.fail_next("POST", &path, 503, 2);
    let op = bounded(Duration::from_secs(5), p.stop_server(&id))
        .await
        .unwrap();
    let s = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap();
    assert_eq!(s.status, ServerStatus::Stopped);
    assert_eq!(fake.route_count("POST", &format!("{VM}/deallocate")), 3);
}

// ---- broken bodies -------------------------------------------------------------------

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_transport_error() {
    let fake = fake(FakeAzure::builder().servers(20)).await;
    let p = provider(&fake);
    fake.mangle_next("GET", &vms_path(&fake), Mangle::TruncateBody, 1);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(lists(&fake), 1);
    // The connection pool recovers: the next call succeeds.
    assert_eq!(list(&p).await.unwrap().len(), 20);
    assert_eq!(lists(&fake), 2);
}

#[tokio::test]
async fn a_body_that_stalls_past_the_deadline_times_out_on_time() {
    let fake = fake(FakeAzure::builder().servers(20)).await;
    let p = provider(&fake);
    p.check().await.unwrap();
    fake.mangle_next(
        "GET",
        &vms_path(&fake),
        Mangle::StallBody(Duration::from_secs(30)),
        1,
    );
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the 1 s request timeout bounds the body ({:?})",
        started.elapsed()
    );
    assert_eq!(lists(&fake), 1);
}

#[tokio::test]
async fn a_response_that_stalls_before_its_head_is_retried_once() {
    let fake = fake(FakeAzure::builder().servers(2)).await;
    let p = provider(&fake);
    p.check().await.unwrap();
    fake.stall_next("GET", &vms_path(&fake), Duration::from_secs(30), 1);
    let started = Instant::now();
    let servers = bounded(Duration::from_secs(5), list(&p)).await.unwrap();
    assert_eq!(servers.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(lists(&fake), 2, "the stalled attempt timed out after 1 s");
}

#[tokio::test]
async fn truncated_malformed_empty_and_mistyped_json_are_invalid_responses() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let bodies: [&[u8]; 6] = [
        br#"{"value": [{"id": "/subscriptions/"#,
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        br#"{"value": "not a list"}"#,
        br#"{"value": [{"id": 42, "name": null}]}"#,
        b"[]",
    ];
    for body in bodies {
        fake.respond_next("GET", &vms_path(&fake), 200, body, 1);
        let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidResponse,
            "{}: {err}",
            String::from_utf8_lossy(body)
        );
        assert!(!err.is_retryable());
    }
    fake.mangle_next("GET", &vms_path(&fake), Mangle::MalformedJson, 1);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    // Not retried: a malformed answer is not a transient failure.
    assert_eq!(lists(&fake), 7);
    assert_eq!(
        list(&p).await.unwrap().len(),
        1,
        "and nothing is left broken"
    );
}

#[tokio::test]
async fn malformed_token_responses_are_invalid_responses_not_retried() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    let bodies: [&[u8]; 4] = [
        br#"{"token_type": "Bearer", "access_tok"#,
        b"",
        br#"{"token_type": "Bearer", "access_token": 42}"#,
        br#"{"token_type": "Bearer"}"#,
    ];
    for (n, body) in bodies.into_iter().enumerate() {
        fake.respond_next("POST", &token_path(&fake), 200, body, 1);
        let err = bounded(Duration::from_secs(5), p.check())
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidResponse,
            "{}: {err}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(tokens(&fake), n as u64 + 1);
    }
    assert_eq!(fake.route_count("GET", GROUP), 0);
    p.check().await.unwrap();
}

#[tokio::test]
async fn unknown_states_and_extra_fields_are_kept_not_fatal() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    let id = vm_path(&fake, "from-the-future");
    let vm = serde_json::json!({
        "value": [{
            "id": id,
            "name": "from-the-future",
            "type": "Microsoft.Compute/virtualMachines",
            "location": "westeurope",
            "tags": {"env": "faults"},
            "aFieldFrom2030": {"nested": [1, 2, 3]},
            "properties": {
                "vmId": "0f0e0d0c-0b0a-4908-8706-050403020100",
                "provisioningState": "Migrating",
                "hardwareProfile": {"vmSize": "Standard_Q64_v9", "quantumCores": 4},
                "storageProfile": {"osDisk": {"osType": "Plan9", "createOption": "Teleport"}},
                "networkProfile": {"networkInterfaces": []},
                "securityProfile": {"securityType": "FutureSecure"}
            }
        }]
    });
    let view = serde_json::json!({
        "computerName": "from-the-future",
        "statuses": [
            {"code": "ProvisioningState/migrating", "level": "Info"},
            {"code": "PowerState/hibernated", "level": "Info", "displayStatus": "VM hibernated"},
            {"code": "Quantum/entangled", "level": "Notice", "time": "2030-01-01T00:00:00Z"}
        ],
        "hyperVGeneration": "V9"
    });
    fake.respond_next("GET", &vms_path(&fake), 200, vm.to_string(), 1);
    fake.respond_next(
        "GET",
        &format!("{id}/instanceView"),
        200,
        view.to_string(),
        1,
    );
    let servers = bounded(Duration::from_secs(5), list(&p))
        .await
        .expect("unknown values and extra fields decode");
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].name, "from-the-future");
    assert_eq!(servers[0].status, ServerStatus::Other("hibernated".into()));
    assert_eq!(
        servers[0].flavor.as_ref().map(|f| f.as_str()),
        Some("Standard_Q64_v9")
    );
    assert_eq!(servers[0].fault, None, "a `Notice` level is not an error");

    // An operation status ARM has not documented yet is "still running".
    let fake = self::fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    let ops = format!(
        "/subscriptions/{}/providers/Microsoft.Compute/locations/{}/operations",
        fake.subscription_id(),
        fake.location()
    );
    fake.respond_next(
        "GET",
        &ops,
        200,
        r#"{"status": "Quiescing", "percentComplete": 140, "aFieldFrom2030": true}"#,
        1,
    );
    let op = p.stop_server(&id).await.unwrap();
    let s = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap();
    assert_eq!(s.status, ServerStatus::Stopped);
    // The unknown status, the real one (in progress once, then succeeded), then the
    // action's `Location` result.
    assert_eq!(fake.route_count("GET", COMPUTE_OP), 4);
}

#[tokio::test]
async fn an_oversized_body_is_refused_naming_the_limit() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider_with(&fake, options().with_max_body(64 * 1024));
    p.check().await.expect("small answers fit in 64 KiB");
    fake.mangle_next("GET", &vms_path(&fake), Mangle::Oversize(100_000), 1);
    let err = bounded(Duration::from_secs(5), list(&p)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert!(err.to_string().contains("65536-byte limit"), "{err}");
    assert_eq!(lists(&fake), 1, "not retried");
}

// ---- long-running operations -----------------------------------------------------------

#[tokio::test]
async fn a_vm_creation_that_ends_failed_is_operation_failed_with_arms_error() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    let nic = port(&p, "faults-alloc-nic").await;
    fake.lro_fail_next(LroEnd::Failed, 1);
    let op = p
        .create_server(&vm_spec("faults-alloc", nic))
        .await
        .expect("ARM accepts the PUT");
    let err = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OperationFailed, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("AllocationFailed") && text.contains("Allocation failed."),
        "ARM's code and message: {text}"
    );
    assert_eq!(fake.route_count("PUT", VM), 1);
    // Two status polls (in progress, failed), and nothing after the failure.
    assert_eq!(fake.route_count("GET", COMPUTE_OP), 2);
    let vm = p
        .get_server(&ServerId::new(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachines/faults-alloc",
            fake.subscription_id(),
            fake.resource_group()
        )))
        .await
        .unwrap();
    assert_eq!(vm.status, ServerStatus::Error);
}

#[tokio::test]
async fn an_operation_that_ends_canceled_is_cancelled_with_arms_error() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    fake.lro_fail_next(LroEnd::Canceled, 1);
    let op = p.stop_server(&id).await.unwrap();
    let err = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("OperationCanceled") && text.contains("The operation was canceled."),
        "{text}"
    );
    assert_eq!(fake.route_count("GET", COMPUTE_OP), 2);
}

#[tokio::test]
async fn a_malformed_operation_status_is_an_invalid_response() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    let ops = format!(
        "/subscriptions/{}/providers/Microsoft.Compute/locations/{}/operations",
        fake.subscription_id(),
        fake.location()
    );
    fake.respond_next("GET", &ops, 200, r#"{"status": 42}"#, 1);
    let op = p.stop_server(&id).await.unwrap();
    let err = bounded(Duration::from_secs(10), op.with_options(fast_wait()).wait())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err}");
    assert_eq!(fake.route_count("GET", COMPUTE_OP), 1, "not polled again");
}

// ---- the token endpoint down -------------------------------------------------------------

#[tokio::test]
async fn the_token_endpoint_down_is_a_typed_error_within_the_deadline() {
    let fake = fake(FakeAzure::builder()).await;
    fake.fail_next("POST", &token_path(&fake), 503, 100);
    let p = provider(&fake);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), p.check())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(tokens(&fake), 4, "max_attempts token requests, no more");
    assert_eq!(
        fake.route_count("GET", GROUP),
        0,
        "no ARM request without a token"
    );

    let fake = self::fake(FakeAzure::builder()).await;
    fake.drop_next("POST", &token_path(&fake), 100);
    let p = provider(&fake);
    let started = Instant::now();
    let err = bounded(Duration::from_secs(5), p.check())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        tokens(&fake),
        4,
        "dropped connections, retried to max_attempts"
    );
    assert_eq!(fake.route_count("GET", GROUP), 0);

    // The managed identity endpoint (IMDS) down: the same.
    let fake = self::fake(FakeAzure::builder()).await;
    fake.fail_next("GET", "/metadata/identity", 503, 100);
    let c = base(&fake, options())
        .with_managed_identity_endpoint(fake.url())
        .with_credentials([CredentialKind::ManagedIdentity])
        .build()
        .unwrap();
    let p = AzureProvider::new(c).unwrap();
    let err = bounded(Duration::from_secs(5), p.check())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert_eq!(fake.token_requests(), 4);
}

// ---- calls dropped mid-way -------------------------------------------------------------

#[tokio::test]
async fn a_call_dropped_mid_request_holds_nothing() {
    let fake = fake(FakeAzure::builder().servers(3)).await;
    let p = provider(&fake);
    p.check().await.unwrap();
    fake.stall_next("GET", &vms_path(&fake), Duration::from_secs(5), 1);
    let dropped = tokio::time::timeout(Duration::from_millis(200), list(&p)).await;
    assert!(dropped.is_err(), "the call was cut short");
    let total = fake.request_count();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.request_count(),
        total,
        "nothing is sent in the background"
    );
    let started = Instant::now();
    assert_eq!(
        bounded(Duration::from_secs(3), list(&p))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "at once, not after the 5 s stall"
    );
    assert_eq!(lists(&fake), 2);
}

#[tokio::test]
async fn a_call_dropped_mid_token_fetch_holds_nothing() {
    let fake = fake(FakeAzure::builder()).await;
    let p = provider(&fake);
    fake.stall_next("POST", &token_path(&fake), Duration::from_secs(5), 1);
    let dropped = tokio::time::timeout(Duration::from_millis(200), p.check()).await;
    assert!(dropped.is_err(), "the call was cut short");
    assert_eq!(tokens(&fake), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.request_count(), 1, "nothing is sent in the background");
    let started = Instant::now();
    bounded(Duration::from_secs(3), p.check()).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the token cache is not held by the dropped (5 s) fetch"
    );
    assert_eq!(tokens(&fake), 2);
    assert_eq!(fake.route_count("GET", GROUP), 1);
}

#[tokio::test]
async fn a_wait_dropped_mid_operation_leaves_no_poller_behind() {
    let fake = fake(FakeAzure::builder().servers(1)).await;
    let p = provider(&fake);
    let id = first_server(&p).await;
    fake.set_lro_polls(1_000_000);
    let op = p.stop_server(&id).await.unwrap();
    let dropped = tokio::time::timeout(
        Duration::from_millis(300),
        op.with_options(fast_wait()).wait(),
    )
    .await;
    assert!(dropped.is_err(), "the wait was cut short");
    let polls = fake.route_count("GET", COMPUTE_OP);
    assert!(polls >= 2, "it was polling ({polls})");
    // Let a poll that was on the wire when the wait was dropped arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let total = fake.request_count();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        fake.request_count(),
        total,
        "nothing polls in the background"
    );
    let started = Instant::now();
    bounded(Duration::from_secs(3), p.check()).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}

// ---- secrets -------------------------------------------------------------------------

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const SUBJECT: &str = "repo:hybrid/hybrid:ref:refs/heads/main";

/// A federated token as a workload identity platform writes it to a file.
fn federated_token() -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "exp": exp,
        "jti": "fed-matrix-Jx81Qp0",
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"federated-signature-bytes-Vq2m")
    )
}

fn credential_fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/credentials")
        .join(name)
}

/// The base64 lines of the private key in a PEM file.
fn private_key_lines(pem: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in pem.lines() {
        if line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY") {
            inside = true;
        } else if line.starts_with("-----END") {
            inside = false;
        } else if inside && line.len() >= 16 {
            out.push(line.to_owned());
        }
    }
    out
}

/// The matrix again with a known client secret, a certificate's private key and a
/// federated token, every log line captured at TRACE: none of them, nor any access
/// token the fake issued, appears in a log line, an error's Display or Debug, or the
/// Debug of the configurations, credentials and providers.
#[tokio::test(flavor = "current_thread")]
async fn secrets_never_reach_logs_errors_or_debug() {
    let logs = LogCapture::default();
    let _guard = logs.install(tracing::Level::TRACE);
    let fake = fake(
        FakeAzure::builder()
            .servers(2)
            .federated_credential(ISSUER, SUBJECT),
    )
    .await;
    let dir = std::env::temp_dir().join(format!(
        "hybrid-azure-faults-{}-{}",
        std::process::id(),
        fake.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let federated = federated_token();
    let token_file = dir.join("federated-token");
    std::fs::write(&token_file, &federated).unwrap();
    let pem_path = credential_fixture("client-pkcs8.pem");
    let pem = std::fs::read_to_string(&pem_path).unwrap();
    let key_lines = private_key_lines(&pem);
    assert!(key_lines.len() > 10, "the key is in the fixture");

    let secret_config = config(&fake, options());
    let cert_config = base(&fake, options())
        .with_client_certificate(fake.tenant_id(), CLIENT, &pem_path)
        .with_send_certificate_chain(true)
        .build()
        .unwrap();
    let workload_config = base(&fake, options())
        .with_federated_token_file(fake.tenant_id(), CLIENT, &token_file)
        .build()
        .unwrap();
    let mut texts = Vec::new();
    let mut providers = Vec::new();
    for c in [&secret_config, &cert_config, &workload_config] {
        let p = AzureProvider::new(c.clone()).unwrap();
        texts.push(format!("{c:?}"));
        texts.push(format!(
            "{p:?} {:?} {}",
            p.credential(),
            p.credential().describe()
        ));
        providers.push(p);
    }
    let vms = vms_path(&fake);
    let tokens_at = token_path(&fake);
    let mut errors = 0;
    for p in &providers {
        let mut record = |r: hybrid_core::Result<Vec<Server>>| {
            if let Err(e) = r {
                errors += 1;
                texts.push(format!("{e} {e:?}"));
            }
        };
        record(list(p).await);
        fake.revoke_tokens();
        record(list(p).await);
        fake.fail_next("GET", &vms, 401, 10);
        record(list(p).await);
        fake.clear_faults();
        fake.fail_next("GET", &vms, 503, 10);
        record(list(p).await);
        fake.clear_faults();
        fake.fail_next_with("GET", &vms, 429, 1, RetryAfter::Millis(5));
        record(list(p).await);
        fake.respond_next("GET", &vms, 200, &br#"{"value": [{"id": 7}"#[..], 1);
        record(list(p).await);
        fake.mangle_next("GET", &vms, Mangle::TruncateBody, 1);
        record(list(p).await);
        // Entra ID refusing, failing and garbling the token answer.
        fake.revoke_tokens();
        fake.fail_next("POST", &tokens_at, 401, 1);
        record(list(p).await);
        fake.revoke_tokens();
        fake.fail_next("POST", &tokens_at, 503, 10);
        record(list(p).await);
        fake.clear_faults();
        fake.revoke_tokens();
        fake.respond_next(
            "POST",
            &tokens_at,
            200,
            &br#"{"access_token": ["leak"], "expires_in": "soon"}"#[..],
            1,
        );
        record(list(p).await);
        fake.clear_faults();
        record(list(p).await);
    }
    // A wrong secret: Entra's refusal must not echo it either.
    const WRONG: &str = "Wrong-Az-secret~Pk4Vn8Ys2";
    let wrong = base(&fake, options())
        .with_client_secret(fake.tenant_id(), CLIENT, WRONG)
        .build()
        .unwrap();
    texts.push(format!("{wrong:?}"));
    match AzureProvider::connect(wrong).await {
        Err(e) => texts.push(format!("{e} {e:?}")),
        Ok(_) => panic!("a wrong secret is refused"),
    }
    drop(_guard);
    std::fs::remove_dir_all(&dir).ok();

    let issued = fake.issued_tokens();
    assert!(
        issued.len() >= 9,
        "the run re-authenticated ({})",
        issued.len()
    );
    assert!(errors >= 18, "errors were produced ({errors})");
    let logged = logs.text();
    assert!(logged.lines().count() > 200, "TRACE logs were captured");
    // Headers were logged — with the token redacted, not left out.
    assert!(
        logged.to_ascii_lowercase().contains("authorization"),
        "the authorization header was traced"
    );
    let mut secrets: Vec<String> = vec![SECRET.into(), WRONG.into(), federated.clone()];
    // The federated token's signature alone is a secret too.
    secrets.push(federated.rsplit('.').next().unwrap().to_owned());
    secrets.extend(key_lines);
    for t in &issued {
        secrets.push(t.clone());
        // The signature part of an issued token.
        secrets.push(t.rsplit('.').next().unwrap().to_owned());
    }
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
