//! Throttling: ARM's remaining-request counts slow hybrid down before ARM throttles it
//! (proven by the throttle's record and a lower bound on the time taken, never by an
//! upper bound), and a `429` is retried as `Retry-After` says (proven by request counts).

mod common;

use std::time::{Duration, Instant};

use common::*;
use hybrid_azure::api::compute::{self, VmAction};
use hybrid_azure::http::ClientOptions;
use hybrid_azure::ids::ResourceId;
use hybrid_azure::throttle::{ThrottleOptions, ThrottleStats};
use hybrid_azure::{AzureBuilder, AzureProvider};
use hybrid_core::{ErrorKind, Provider};
use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

fn provider(server: &MockServer, throttle: ThrottleOptions, retries: u32) -> AzureProvider {
    let c = AzureBuilder::from_config(config(&server.uri()))
        .with_throttle(throttle)
        .with_http(ClientOptions::new().with_retry(fast_retries(retries)))
        .build()
        .unwrap();
    AzureProvider::new(c).unwrap()
}

fn throttle() -> ThrottleOptions {
    ThrottleOptions {
        enabled: true,
        low_watermark: 10,
        max_delay: Duration::from_millis(600),
        max_age: Duration::from_secs(60),
    }
}

fn rg_ok(remaining: &str) -> ResponseTemplate {
    ok(200, json!({"id": "/rg", "name": RG, "location": LOC}))
        .insert_header("x-ms-ratelimit-remaining-subscription-reads", remaining)
}

#[tokio::test]
async fn few_remaining_reads_slow_the_next_read_down() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let rg = format!("/subscriptions/{SUB}/resourcegroups/{RG}");
    arm("GET", &rg, &v("2021-04-01"))
        .respond_with(rg_ok("4"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &rg, &v("2021-04-01"))
        .respond_with(rg_ok("11000"))
        .with_priority(2)
        .mount(&server)
        .await;
    let p = provider(&server, throttle(), 1);

    p.check().await.unwrap();
    assert_eq!(
        p.throttle_stats(),
        ThrottleStats::default(),
        "nothing known yet: no delay"
    );
    let start = Instant::now();
    p.check().await.unwrap();
    let took = start.elapsed();
    // 4 of a watermark of 10 left: 6/10 of the 600 ms maximum
    assert_eq!(
        p.throttle_stats(),
        ThrottleStats {
            slowdowns: 1,
            total_delay: Duration::from_millis(360)
        }
    );
    assert!(
        took >= Duration::from_millis(360),
        "the second read waited {took:?}"
    );
    p.check().await.unwrap();
    assert_eq!(p.throttle_stats().slowdowns, 1, "11000 left: no delay");
    assert_eq!(received(&server, "GET", &rg).await.len(), 3);
}

#[tokio::test]
async fn counts_apply_to_their_class_and_provider() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let vm = rg_path("Microsoft.Compute/virtualMachines/vm1");
    let vnet = rg_path("Microsoft.Network/virtualNetworks/vn1");
    arm("GET", &vm, &v("2024-07-01"))
        .respond_with(
            ok(200, json!({"id": vm, "name": "vm1"}))
                .insert_header("x-ms-ratelimit-remaining-subscription-reads", "11999")
                .insert_header(
                    "x-ms-ratelimit-remaining-resource",
                    "Microsoft.Compute/GetVM3Min;0,Microsoft.Compute/GetVM30Min;700",
                ),
        )
        .mount(&server)
        .await;
    arm("GET", &vnet, &v("2024-05-01"))
        .respond_with(ok(200, json!({"id": vnet})))
        .mount(&server)
        .await;
    arm("POST", &format!("{vm}/start"), &v("2024-07-01"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let p = provider(&server, throttle(), 1);
    let vm_id = ResourceId::parse(&vm).unwrap();
    compute::get_vm(p.arm(), &vm_id, false).await.unwrap();
    // a network read and a compute write are not held back by the compute read budget
    hybrid_azure::api::network::get_vnet(p.arm(), &ResourceId::parse(&vnet).unwrap())
        .await
        .unwrap();
    compute::vm_action(p.arm(), &vm_id, VmAction::Start)
        .await
        .unwrap();
    assert_eq!(p.throttle_stats().slowdowns, 0);
    // the next compute read waits the whole maximum: its provider's budget is spent
    compute::get_vm(p.arm(), &vm_id, false).await.unwrap();
    assert_eq!(
        p.throttle_stats(),
        ThrottleStats {
            slowdowns: 1,
            total_delay: Duration::from_millis(600)
        }
    );
}

#[tokio::test]
async fn a_disabled_throttle_never_waits() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let rg = format!("/subscriptions/{SUB}/resourcegroups/{RG}");
    arm("GET", &rg, &v("2021-04-01"))
        .respond_with(rg_ok("0"))
        .mount(&server)
        .await;
    let p = provider(&server, ThrottleOptions::disabled(), 1);
    p.check().await.unwrap();
    p.check().await.unwrap();
    assert_eq!(p.throttle_stats().slowdowns, 0);
}

#[tokio::test]
async fn too_many_requests_is_retried_after_the_asked_delay() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let rg = format!("/subscriptions/{SUB}/resourcegroups/{RG}");
    arm("GET", &rg, &v("2021-04-01"))
        .respond_with(
            arm_error(429, "TooManyRequests", "The request is being throttled.")
                .insert_header("retry-after", "1"),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    arm("GET", &rg, &v("2021-04-01"))
        .respond_with(rg_ok("100"))
        .with_priority(2)
        .mount(&server)
        .await;
    let p = provider(&server, ThrottleOptions::disabled(), 4);
    let start = Instant::now();
    p.check().await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "two Retry-After: 1 waits, took {:?}",
        start.elapsed()
    );
    assert_eq!(
        received(&server, "GET", &rg).await.len(),
        3,
        "two throttled attempts and one that passed"
    );
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_rate_limited() {
    let server = MockServer::start().await;
    mount_token(&server).await;
    let vm = rg_path("Microsoft.Compute/virtualMachines/vm1");
    let throttled = || {
        arm_error(429, "TooManyRequests", "throttled").insert_header("x-ms-retry-after-ms", "10")
    };
    arm("GET", &vm, &v("2024-07-01"))
        .respond_with(throttled())
        .mount(&server)
        .await;
    arm("POST", &format!("{vm}/restart"), &v("2024-07-01"))
        .respond_with(throttled())
        .mount(&server)
        .await;
    arm("POST", &format!("{vm}/start"), &v("2024-07-01"))
        .respond_with(throttled())
        .mount(&server)
        .await;
    let p = provider(&server, ThrottleOptions::disabled(), 3);
    let id = ResourceId::parse(&vm).unwrap();
    let e = compute::get_vm(p.arm(), &id, false).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_millis(10)));
    assert!(e.is_retryable());
    assert_eq!(received(&server, "GET", &vm).await.len(), 3);
    // start converges: retried like an idempotent request
    assert_eq!(
        compute::vm_action(p.arm(), &id, VmAction::Start)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::RateLimited
    );
    assert_eq!(
        received(&server, "POST", &format!("{vm}/start"))
            .await
            .len(),
        3
    );
    // restart does not converge, but a 429 refused it unread: it is retried too
    assert_eq!(
        compute::vm_action(p.arm(), &id, VmAction::Restart)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::RateLimited
    );
    assert_eq!(
        received(&server, "POST", &format!("{vm}/restart"))
            .await
            .len(),
        3
    );
}
