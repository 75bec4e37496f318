//! VM listings against the stateful fake of ARM (`hybrid-fake-azure`): the power
//! states come with the pages (`$expand=instanceView`), so a listing costs one request
//! per ARM page and none per VM; only the listing by location, which has no expansion,
//! reads each VM's instance view.

use std::time::Duration;

use futures::TryStreamExt;
use hybrid_azure::http::ClientOptions;
use hybrid_azure::throttle::ThrottleOptions;
use hybrid_azure::{AzureBuilder, AzureProvider, CloudEnvironment};
use hybrid_core::model::{Server, ServerStatus};
use hybrid_core::operation::WaitOptions;
use hybrid_core::provider::Compute;
use hybrid_core::ListOptions;
use hybrid_fake_azure::{FakeAzure, FakeAzureBuilder};

const SECRET: &str = "Az-listing-Secret~3kP0";
const CLIENT: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const VMS: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines";
const ALL_VMS: &str = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/virtualMachines";
const BY_LOCATION: &str =
    "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/virtualMachines";
const VIEW: &str = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines/{name}/instanceView";

async fn fake(b: FakeAzureBuilder) -> FakeAzure {
    b.client(CLIENT, SECRET)
        .start()
        .await
        .expect("the fake starts")
}

fn provider(fake: &FakeAzure) -> AzureProvider {
    let config = AzureBuilder::new(
        fake.subscription_id(),
        fake.resource_group(),
        fake.location(),
    )
    .with_cloud(CloudEnvironment {
        authority_host: fake.url(),
        resource_manager: fake.url(),
    })
    .with_throttle(ThrottleOptions::disabled())
    .with_http(ClientOptions::new().with_env_proxy(false))
    .with_client_secret(fake.tenant_id(), CLIENT, SECRET)
    .build()
    .expect("a valid configuration");
    AzureProvider::new(config).expect("the provider")
}

/// Operations polled fast, within 20 s.
fn fast_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(20),
        initial_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        ..WaitOptions::default()
    }
}

async fn stop(p: &AzureProvider, id: &hybrid_core::model::ServerId) {
    let op = p.stop_server(id).await.unwrap();
    let s = op.with_options(fast_wait()).wait().await.unwrap();
    assert_eq!(s.status, ServerStatus::Stopped);
}

async fn list(p: &AzureProvider, options: ListOptions) -> Vec<Server> {
    p.list_servers(options).try_collect().await.unwrap()
}

#[tokio::test]
async fn a_listing_costs_one_request_per_page_and_none_per_vm() {
    let fake = fake(FakeAzure::builder().servers(25).page_size(10)).await;
    let p = provider(&fake);
    let all = list(&p, ListOptions::new()).await;
    assert_eq!(all.len(), 25);
    assert!(all.iter().all(|s| s.status == ServerStatus::Active));
    assert_eq!(fake.route_count("GET", VMS), 3, "{:?}", fake.route_counts());
    assert_eq!(
        fake.route_count("GET", VIEW),
        0,
        "{:?}",
        fake.route_counts()
    );
    // the raw document is the VM as listed, with its instance view
    let raw = all[0]
        .raw
        .as_ref()
        .unwrap()
        .as_json()
        .unwrap()
        .to_value()
        .unwrap();
    assert!(
        raw["properties"]["instanceView"]["statuses"].is_array(),
        "{raw}"
    );

    // A VM stopped meanwhile shows as stopped in the next listing, still without a
    // read of its own.
    let id = all[7].id.clone();
    stop(&p, &id).await;
    fake.reset_counters();
    let again = list(&p, ListOptions::new()).await;
    let stopped: Vec<_> = again
        .iter()
        .filter(|s| s.status == ServerStatus::Stopped)
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(stopped, vec![id]);
    assert_eq!(fake.route_count("GET", VMS), 3);
    assert_eq!(fake.route_count("GET", VIEW), 0);

    // The whole subscription, the same way.
    let sub = list(&p, ListOptions::new().with_filter("scope", "subscription")).await;
    assert_eq!(sub.len(), 25);
    assert_eq!(fake.route_count("GET", ALL_VMS), 3);
    assert_eq!(fake.route_count("GET", VIEW), 0);
}

#[tokio::test]
async fn a_listing_by_location_reads_each_instance_view() {
    let fake = fake(FakeAzure::builder().servers(12).page_size(5)).await;
    let p = provider(&fake);
    let loc = fake.location().to_owned();
    let id = list(&p, ListOptions::new()).await[3].id.clone();
    stop(&p, &id).await;
    fake.reset_counters();
    let got = list(&p, ListOptions::new().with_filter("location", &loc)).await;
    assert_eq!(got.len(), 12);
    assert_eq!(fake.route_count("GET", BY_LOCATION), 3);
    assert_eq!(fake.route_count("GET", VIEW), 12);
    for s in &got {
        let want = if s.id == id {
            ServerStatus::Stopped
        } else {
            ServerStatus::Active
        };
        assert_eq!(s.status, want, "{}", s.name);
    }
}
