//! The facade's `azure` feature: a `CloudConfig` of kind `azure` (inline, named
//! sovereign cloud, or from the environment) and a fleet environment of that kind,
//! connected to the stateful fake ARM + Entra ID server.

use hybrid::fleet::FleetConfig;
use hybrid::{Cloud, CloudConfig, ComputeExt, ErrorKind, ListOptions, ProviderKind};
use hybrid_fake_azure::FakeAzure;

const SECRET: &str = "facade-azure-Secret-4fT8";

async fn fake() -> FakeAzure {
    FakeAzure::builder()
        .client("33333333-aaaa-4bbb-8ccc-444444444444", SECRET)
        .servers(3)
        .page_size(2)
        .start()
        .await
        .expect("the fake starts")
}

fn config_json(fake: &FakeAzure, secret: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "kind": "azure",
        "name": "az-facade",
        "subscription_id": fake.subscription_id(),
        "resource_group": fake.resource_group(),
        "location": fake.location(),
        "tenant_id": fake.tenant_id(),
        "client_id": fake.client_id(),
        "cloud": {"authority_host": fake.url(), "resource_manager": fake.url()},
    });
    if let Some(s) = secret {
        v["client_secret"] = s.into();
    }
    v
}

#[tokio::test]
async fn an_azure_config_connects_lists_and_tells_its_limits() {
    let fake = fake().await;
    let cfg = CloudConfig::from_json(&config_json(&fake, Some(SECRET)).to_string()).unwrap();
    let cloud = Cloud::connect(cfg).await.unwrap();
    let info = cloud.info();
    assert_eq!(info.kind, ProviderKind::Azure);
    assert_eq!(info.name, "az-facade");
    assert_eq!(info.region.as_deref(), Some(fake.location()));
    // Three VMs over two pages.
    let servers = cloud
        .compute()
        .collect_servers(ListOptions::default())
        .await
        .unwrap();
    assert_eq!(servers.len(), 3, "{servers:?}");
    // The capability gate refuses what Azure has not, before any request.
    let before = fake.request_count();
    let err = cloud
        .network()
        .create_network(&hybrid::model::CreateNetwork {
            segmentation_id: Some(100),
            physical_network: Some("physnet1".into()),
            ..hybrid::model::CreateNetwork::new("vlan100", hybrid::model::NetworkKind::Vlan)
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.unsupported_reason().is_some());
    assert_eq!(fake.request_count(), before);
}

#[tokio::test]
async fn a_wrong_secret_is_an_authentication_error_without_the_secret() {
    let fake = fake().await;
    let cfg =
        CloudConfig::from_json(&config_json(&fake, Some("not-the-Secret-9x")).to_string()).unwrap();
    let err = Cloud::connect(cfg).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(!format!("{err} {err:?}").contains("not-the-Secret-9x"));
}

#[test]
fn azure_configs_validate_name_clouds_and_never_show_the_secret() {
    let cfg = CloudConfig::from_json(
        r#"{"kind": "azure", "subscription_id": "00000000-0000-0000-0000-000000000001",
            "resource_group": "web", "location": "chinaeast2", "cloud": "china",
            "tenant_id": "contoso.onmicrosoft.com", "client_id": "app", "client_secret": "s3cr3t-Value",
            "credentials": ["managed", "client-secret"]}"#,
    )
    .unwrap();
    let CloudConfig::Azure(settings) = &cfg else {
        panic!("not an azure config: {cfg:?}")
    };
    let c = settings.config().unwrap();
    assert_eq!(c.cloud, hybrid::azure::CloudEnvironment::china());
    assert!(!format!("{cfg:?}").contains("s3cr3t-Value"));
    let out = serde_json::to_value(&cfg).unwrap();
    assert!(!out.to_string().contains("s3cr3t-Value"), "{out}");
    assert_eq!(out["kind"], "azure");
    assert_eq!(out["resource_group"], "web");
    // The chain's order, by the names the config reads back.
    assert_eq!(
        out["credentials"],
        serde_json::json!(["managed_identity", "client_secret"])
    );
    let back: Vec<hybrid::azure::CredentialKind> =
        serde_json::from_value(out["credentials"].clone()).unwrap();
    assert_eq!(back, c.credentials);
    assert_eq!(
        out["cloud"]["resource_manager"],
        hybrid::azure::CloudEnvironment::china().resource_manager
    );

    for (json, needle) in [
        (
            r#"{"kind": "azure", "subscription_id": "00000000-0000-0000-0000-000000000001", "resource_group": "web", "location": "westeurope", "client_secret": "x"}"#,
            "tenant",
        ),
        (
            r#"{"kind": "azure", "subscription_id": "00000000-0000-0000-0000-000000000001", "resource_group": "web", "location": "westeurope", "cloud": "mars"}"#,
            "mars",
        ),
        (
            r#"{"kind": "azure", "resource_grup": "web"}"#,
            "resource_grup",
        ),
    ] {
        let e = CloudConfig::from_json(json).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }
    // No field at all: the AZURE_* variables, read when connecting.
    let CloudConfig::Azure(env) = CloudConfig::from_json(r#"{"kind": "azure"}"#).unwrap() else {
        panic!()
    };
    assert!(env.config().is_none());
}

#[tokio::test]
async fn a_fleet_environment_of_kind_azure_reads_its_secret_from_a_variable() {
    let fake = fake().await;
    let var = "HYBRID_FACADE_TEST_AZURE_SECRET";
    // Only this test reads this variable.
    std::env::set_var(var, SECRET);
    let yaml = format!(
        "environments:\n  azure-public:\n    kind: azure\n    roles: [public]\n    subscription_id: {}\n    resource_group: {}\n    location: {}\n    tenant_id: {}\n    client_id: {}\n    client_secret_from: {{env: {var}}}\n    cloud: {{authority_host: \"{}\", resource_manager: \"{}\"}}\n",
        fake.subscription_id(),
        fake.resource_group(),
        fake.location(),
        fake.tenant_id(),
        fake.client_id(),
        fake.url(),
        fake.url(),
    );
    let fleet = FleetConfig::from_yaml(&yaml).unwrap();
    assert!(!format!("{fleet:?}").contains(SECRET));
    let fleet = fleet.open().unwrap();
    let p = fleet
        .environment("azure-public")
        .unwrap()
        .provider()
        .await
        .unwrap();
    assert_eq!(p.info().kind, ProviderKind::Azure);
    // Named after its environment, as reports and errors say.
    assert_eq!(p.info().name, "azure-public");
    let n = p
        .compute()
        .count_servers(ListOptions::default())
        .await
        .unwrap();
    assert_eq!(n, 3);
}
