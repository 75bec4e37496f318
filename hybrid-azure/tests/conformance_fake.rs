//! The conformance suite against the stateful fake of Entra ID and ARM
//! (`hybrid-fake-azure`, on 127.0.0.1), through the whole stack: configuration, the
//! client-secret credential, the token cache, the ARM client, long-running operations
//! and the provider. Also the token cache's promise proven with the fake's counts.

use std::sync::Arc;
use std::time::Duration;

use hybrid_azure::http::{ClientOptions, RetryPolicy};
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_azure::{AzureBuilder, AzureProvider, CloudEnvironment};
use hybrid_core::gate::gate;
use hybrid_core::operation::WaitOptions;
use hybrid_core::provider::Compute;
use hybrid_core::testkit::Harness;
use hybrid_core::ListOptions;
use hybrid_fake_azure::FakeAzure;

const SECRET: &str = "fake-azure-Secret-7Qz9xK";

async fn start() -> (Arc<FakeAzure>, AzureProvider) {
    let fake = FakeAzure::builder()
        .client("11111111-aaaa-4bbb-8ccc-222222222222", SECRET)
        .page_size(2)
        .start()
        .await
        .expect("the fake starts");
    let config = AzureBuilder::new(
        fake.subscription_id(),
        fake.resource_group(),
        fake.location(),
    )
    .with_client_secret(fake.tenant_id(), fake.client_id(), SECRET)
    .with_cloud(CloudEnvironment {
        authority_host: fake.url(),
        resource_manager: fake.url(),
    })
    .with_throttle(ThrottleOptions::default())
    .with_http(ClientOptions::new().with_retry(
        RetryPolicy::new().with_backoff(Duration::from_millis(5), Duration::from_millis(50)),
    ))
    .build()
    .expect("a valid configuration");
    let p = AzureProvider::new(config).expect("the provider");
    (Arc::new(fake), p)
}

async fn harness() -> Harness {
    let (fake, p) = start().await;
    Harness::new(gate(Arc::new(p)))
        .with_secret(SECRET)
        .with_request_counter(move || fake.request_count())
        .with_timeout(Duration::from_secs(60))
        .with_wait_options(WaitOptions {
            timeout: Duration::from_secs(60),
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..WaitOptions::default()
        })
}

hybrid_core::conformance_tests!(harness().await);

/// 100 concurrent calls after every token was revoked: the first calls' 401s make one
/// new token request, not 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_calls_after_revocation_make_one_token_request() {
    let (fake, p) = start().await;
    p.list_flavors_page(&ListOptions::new(), None)
        .await
        .unwrap();
    let before = fake.token_requests();
    fake.revoke_tokens();
    let p = Arc::new(p);
    let calls = (0..100).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { hybrid_core::Provider::check(p.as_ref()).await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().expect("each call succeeds after one new token");
    }
    assert_eq!(
        fake.token_requests() - before,
        1,
        "one token request for 100 callers"
    );
}
