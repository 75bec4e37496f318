//! The conformance suite against the stateful fake of the OpenStack APIs
//! (`hybrid-fake-openstack`, on 127.0.0.1), through the whole stack: `clouds.yaml`,
//! Keystone, discovery, the `api` stratum and the provider. Also the token cache's
//! promises proven with the fake's request counts.

use std::sync::Arc;
use std::time::Duration;

use hybrid_core::gate::gate;
use hybrid_core::operation::WaitOptions;
use hybrid_core::provider::Compute;
use hybrid_core::testkit::Harness;
use hybrid_core::ListOptions;
use hybrid_fake_openstack::FakeOpenStack;
use hybrid_http::ClientOptions;
use hybrid_openstack::config::ConfigLoader;
use hybrid_openstack::OpenStackProvider;

const PASSWORD: &str = "fake-pw-7Qz9xK";

async fn start() -> (Arc<FakeOpenStack>, OpenStackProvider) {
    let fake = FakeOpenStack::builder()
        .user("conformance", PASSWORD)
        .project("conformance")
        .start()
        .await
        .expect("the fake starts");
    let dir = std::env::temp_dir().join(format!(
        "hybrid-fake-{}-{}",
        std::process::id(),
        fake.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clouds.yaml");
    std::fs::write(&file, fake.clouds_yaml("fake")).unwrap();
    let cloud = ConfigLoader::new()
        .with_clouds_file(&file)
        .load(Some("fake"))
        .unwrap();
    let p = OpenStackProvider::connect_ungated(&cloud, ClientOptions::default())
        .await
        .expect("connects to the fake");
    std::fs::remove_dir_all(dir).ok();
    (Arc::new(fake), p)
}

async fn harness() -> Harness {
    let (fake, p) = start().await;
    // The web-download source the fake's Glance fetches from (loopback only).
    let source = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/conformance.img"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_bytes(vec![7u8; 4096]))
        .mount(&source)
        .await;
    let url = format!("{}/conformance.img", source.uri());
    Harness::new(gate(Arc::new(p)))
        .with_secret(PASSWORD)
        .with_request_counter(move || {
            let _keep_alive = &source;
            fake.request_count()
        })
        .with_import_url(url)
        .with_timeout(Duration::from_secs(60))
        .with_wait_options(WaitOptions {
            timeout: Duration::from_secs(60),
            initial_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
            ..WaitOptions::default()
        })
}

hybrid_core::conformance_tests!(harness().await);

/// 100 concurrent calls after every token was revoked: the first call's 401s make
/// one new token request, not 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_calls_after_revocation_make_one_token_request() {
    let (fake, p) = start().await;
    let before = fake.token_requests();
    fake.revoke_tokens();
    let p = Arc::new(p);
    let calls = (0..100).map(|_| {
        let p = p.clone();
        tokio::spawn(async move { p.list_flavors_page(&ListOptions::new(), None).await })
    });
    for r in futures::future::join_all(calls).await {
        let page = r
            .unwrap()
            .expect("each call succeeds after re-authenticating");
        assert!(!page.items.is_empty());
    }
    assert_eq!(
        fake.token_requests() - before,
        1,
        "one token request for 100 callers"
    );
}
