//! Mock provider tests: lifecycles on the paused tokio clock, profiles, faults,
//! counters, scale and secrets.

use std::time::Duration;

use futures::TryStreamExt;

use super::*;
use crate::capabilities::{Feature, ReasonKind};
use crate::ext::ComputeExt;
use crate::model::*;
use crate::paging::ListOptions;
use crate::provider::Provider;

fn spec(p: &dyn Provider, name: &str) -> CreateServer {
    let st = p.capabilities();
    assert!(st.supports(Feature::Servers));
    CreateServer::new(name, "2").with_image("img-0000000001")
}

#[tokio::test(start_paused = true)]
async fn server_lifecycle_follows_the_tokio_clock() {
    let mock = MockProvider::new(Profile::OpenstackKvm);
    let p = mock.provider();
    let op = p
        .compute()
        .create_server(&spec(p.as_ref(), "web-1"))
        .await
        .unwrap();
    let id = ServerId::new(op.resource().unwrap());
    assert_eq!(
        p.compute().get_server(&id).await.unwrap().status,
        ServerStatus::Building
    );
    tokio::time::advance(Duration::from_millis(199)).await;
    assert_eq!(
        p.compute().get_server(&id).await.unwrap().status,
        ServerStatus::Building
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(
        p.compute().get_server(&id).await.unwrap().status,
        ServerStatus::Active
    );
    let s = op.await.unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(s.name, "web-1");

    let stopped = p.compute().stop_server(&id).await.unwrap().await.unwrap();
    assert_eq!(stopped.status, ServerStatus::Stopped);
    let err = p.compute().stop_server(&id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("SHUTOFF"), "{err}");

    let start = tokio::time::Instant::now();
    p.compute().delete_server(&id).await.unwrap().await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(
        p.compute().get_server(&id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn false_capability_makes_zero_requests() {
    let mock = MockProvider::new(Profile::Vsphere);
    let p = mock.provider();
    let err = p
        .network()
        .create_security_group(&CreateSecurityGroup {
            name: "web".into(),
            description: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let reason = err.unsupported_reason().unwrap();
    assert_eq!(reason.kind, ReasonKind::DeploymentDependent);
    assert!(reason.message.contains("NSX"), "{reason}");
    assert_eq!(
        err.context().operation.as_deref(),
        Some("create_security_group")
    );
    // A server spec that asks for a security group is refused the same way.
    let err = p
        .compute()
        .create_server(&spec(p.as_ref(), "x").with_security_group("web"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    // So is a list, as its stream's only item.
    let listed: Vec<_> =
        futures::StreamExt::collect::<Vec<_>>(p.network().list_routers(ListOptions::new())).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].as_ref().unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(mock.total_requests(), 0, "{:?}", mock.request_counts());
}

#[tokio::test]
async fn every_false_capability_of_every_profile_makes_zero_requests() {
    for profile in Profile::ALL {
        let mock = MockProvider::new(profile);
        let p = mock.provider();
        for (feature, _) in p.capabilities().unsupported() {
            let err = crate::gate::probe_feature(p.as_ref(), feature)
                .await
                .unwrap();
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{profile:?} {feature}");
        }
        assert_eq!(
            mock.total_requests(),
            0,
            "{profile:?}: {:?}",
            mock.request_counts()
        );
    }
}

#[test]
fn profiles_tell_the_truth_about_vmware() {
    let v = Profile::Vsphere.capabilities();
    for f in [
        Feature::Sdn,
        Feature::SecurityGroups,
        Feature::Routers,
        Feature::FloatingIps,
    ] {
        let c = v.get(f);
        assert!(!c.supported, "{f}");
        assert_eq!(
            c.reason.as_ref().unwrap().kind,
            ReasonKind::DeploymentDependent,
            "{f}"
        );
    }
    assert!(
        v.supports(Feature::Networks),
        "flat VLAN networks are always there"
    );
    assert!(!v.platform.object_storage.supported);
    assert_eq!(
        v.platform.object_storage.reason.as_ref().unwrap().kind,
        ReasonKind::PlatformNever
    );
    assert!(!v.platform.image_sharing.supported);

    let nsx = Profile::VsphereNsx.capabilities();
    for f in [
        Feature::Sdn,
        Feature::SecurityGroups,
        Feature::Routers,
        Feature::FloatingIps,
    ] {
        assert!(nsx.supports(f), "{f} through NSX");
    }
    assert!(!nsx.platform.object_storage.supported);

    let osv = Profile::OpenstackOnVsphere.capabilities();
    assert!(!osv.supports(Feature::SecurityGroups));
    assert!(
        osv.supports(Feature::KeyPairs),
        "Nova key pairs work in any region"
    );
    assert!(!osv.platform.image_sharing.supported);

    let kvm = Profile::OpenstackKvm.capabilities();
    assert_eq!(kvm.unsupported().count(), 0);
    assert!(kvm.platform.image_sharing.supported);
}

#[tokio::test]
async fn vmware_images_are_bound_and_not_shareable() {
    for (profile, shareable) in [
        (Profile::Vsphere, false),
        (Profile::OpenstackOnVsphere, false),
        (Profile::OpenstackKvm, true),
    ] {
        let p = MockProvider::new(profile).provider();
        let images: Vec<Image> = p
            .images()
            .list_images(ListOptions::new())
            .try_collect()
            .await
            .unwrap();
        assert!(!images.is_empty());
        for i in images {
            assert_eq!(i.locality.shareable, shareable, "{profile:?} {}", i.name);
            assert!(i.locality.bound_to.is_some());
        }
    }
}

#[tokio::test]
async fn vsphere_networks_are_flat_vlans_only() {
    let p = MockProvider::new(Profile::Vsphere).provider();
    let nets: Vec<crate::model::Network> = p
        .network()
        .list_networks(ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(nets.iter().all(|n| n.kind == NetworkKind::Vlan));
    let mut vlan = CreateNetwork::new("pg-300", NetworkKind::Vlan);
    vlan.segmentation_id = Some(300);
    let n = p
        .network()
        .create_network(&vlan)
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(n.segmentation_id, Some(300));
    let dup = p.network().create_network(&vlan).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict);
    let overlay = p
        .network()
        .create_network(&CreateNetwork::new("tenant", NetworkKind::Overlay))
        .await
        .unwrap_err();
    assert_eq!(overlay.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn seeded_faults_are_deterministic_and_counted() {
    let outcomes = |seed| async move {
        let mock = MockProvider::builder()
            .with_seed(seed)
            .with_fault(
                Fault::error(ErrorKind::Unavailable)
                    .on("get_flavor")
                    .with_probability(0.5),
            )
            .build()
            .unwrap();
        let p = mock.provider();
        let mut v = Vec::new();
        for _ in 0..64 {
            v.push(p.compute().get_flavor(&FlavorId::new("1")).await.is_ok());
        }
        assert_eq!(mock.request_count("get_flavor"), 64);
        assert_eq!(mock.total_requests(), 64);
        v
    };
    let a = outcomes(42).await;
    assert_eq!(a, outcomes(42).await);
    assert_ne!(a, outcomes(43).await);
    assert!(a.iter().any(|ok| *ok) && a.iter().any(|ok| !*ok));
}

#[tokio::test(start_paused = true)]
async fn throttling_is_honoured_by_operations() {
    let mock = MockProvider::builder()
        .with_delays(Delays::instant())
        .build()
        .unwrap();
    let p = mock.provider();
    let op = p
        .compute()
        .create_server(&spec(p.as_ref(), "t"))
        .await
        .unwrap();
    mock.inject(
        Fault::throttle(Duration::from_secs(3))
            .on("get_server")
            .times(2),
    )
    .unwrap();
    let start = tokio::time::Instant::now();
    let s = op.await.unwrap();
    assert_eq!(s.status, ServerStatus::Active);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(6),
        "two Retry-After waits of 3 s"
    );
    assert_eq!(mock.request_count("get_server"), 3);

    mock.inject(
        Fault::error(ErrorKind::PermissionDenied)
            .on("delete_server")
            .times(1),
    )
    .unwrap();
    let err = p.compute().delete_server(&s.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(err.context().operation.as_deref(), Some("delete_server"));
    mock.clear_faults();
    p.compute()
        .delete_server(&s.id)
        .await
        .unwrap()
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn latency_is_added_on_the_clock() {
    let mock = MockProvider::builder()
        .with_fault(Fault::latency(Duration::from_millis(250)).on("list_flavors"))
        .build()
        .unwrap();
    let p = mock.provider();
    let start = tokio::time::Instant::now();
    let all: Vec<Flavor> = p
        .compute()
        .list_flavors(ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(start.elapsed(), Duration::from_millis(250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_servers_stream_in_pages() {
    let mock = MockProvider::builder()
        .with_servers(100_000)
        .build()
        .unwrap();
    let p = mock.provider();
    let n = p.compute().count_servers(ListOptions::new()).await.unwrap();
    assert_eq!(n, 100_000);
    assert_eq!(mock.request_count("list_servers"), 100, "1000 per page");
    let page = p
        .compute()
        .list_servers_page(&ListOptions::new().with_page_size(10), None)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 10);
    let next = p
        .compute()
        .list_servers_page(&ListOptions::new().with_page_size(10), page.next.clone())
        .await
        .unwrap();
    assert_ne!(next.items[0].id, page.items[9].id);
    assert!(page.items[9].id < next.items[0].id);
    let found = p
        .compute()
        .find_server("seed-054321")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, ServerStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn volumes_attach_and_detach_on_the_clock() {
    let mock = MockProvider::new(Profile::Azure);
    let p = mock.provider();
    let s = p
        .compute()
        .create_server(&CreateServer::new("vm", "Standard_B1s").with_image("img-0000000001"))
        .await
        .unwrap()
        .await
        .unwrap();
    let v = p
        .storage()
        .create_volume(&CreateVolume::new("data", 10))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(v.status, VolumeStatus::Available);
    let a = p.storage().attach_volume(&v.id, &s.id, None).await.unwrap();
    assert_eq!(
        p.storage().get_volume(&v.id).await.unwrap().status,
        VolumeStatus::Attaching
    );
    let a = a.await.unwrap();
    assert_eq!(a.server_id, s.id);
    assert_eq!(
        p.storage().get_volume(&v.id).await.unwrap().status,
        VolumeStatus::InUse
    );
    // Deleting the server releases its volumes.
    p.compute()
        .delete_server(&s.id)
        .await
        .unwrap()
        .await
        .unwrap();
    let after = p.storage().get_volume(&v.id).await.unwrap();
    assert_eq!(after.status, VolumeStatus::Available);
    assert!(after.attachments.is_empty());
}

#[tokio::test]
async fn image_upload_checks_announced_size_and_round_trips() {
    let p = MockProvider::builder()
        .with_delays(Delays::instant())
        .build()
        .unwrap()
        .provider();
    let spec = CreateImage::new("img", "raw", "bare");
    let short = ImageData::Upload {
        stream: Box::pin(futures::stream::iter(vec![Ok(bytes::Bytes::from_static(
            b"abc",
        ))])),
        size: Some(10),
    };
    let err = p.images().create_image(&spec, short).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let failing = ImageData::Upload {
        stream: Box::pin(futures::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"abc")),
            Err(Error::new(ErrorKind::Transport, "reader broke")),
        ])),
        size: None,
    };
    let err = p.images().create_image(&spec, failing).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    let data = vec![7u8; 200_000];
    let img = p
        .images()
        .create_image(&spec, ImageData::bytes(data.clone()))
        .await
        .unwrap()
        .await
        .unwrap();
    let back = crate::ext::ImagesExt::download_image_to_vec(p.images(), &img.id, 1 << 20)
        .await
        .unwrap();
    assert_eq!(back, data);
    let too_small = crate::ext::ImagesExt::download_image_to_vec(p.images(), &img.id, 1000)
        .await
        .unwrap_err();
    assert_eq!(too_small.kind(), ErrorKind::InvalidResponse);
}

#[tokio::test]
async fn secrets_stay_out_of_debug_and_errors() {
    let secret = "s3cr3t-api-key-value";
    let mock = MockProvider::builder()
        .with_api_key(secret)
        .with_fault(Fault::error(ErrorKind::Unauthenticated).on("get_server"))
        .build()
        .unwrap();
    let cfg = MockConfig {
        api_key: Some(secret.to_owned().into()),
        ..MockConfig::default()
    };
    let p = mock.provider();
    let err = p
        .compute()
        .get_server(&ServerId::new("x"))
        .await
        .unwrap_err();
    let texts = [
        format!("{mock:?}"),
        format!("{p:?}"),
        format!("{cfg:?}"),
        serde_json::to_string(&cfg).unwrap(),
        format!("{err}"),
        format!("{err:?}"),
    ];
    for t in texts {
        assert!(!t.contains(secret), "secret leaked in {t}");
    }
    let empty = MockProvider::builder()
        .with_api_key("")
        .build()
        .unwrap()
        .provider();
    assert_eq!(
        empty.check().await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
}

#[test]
fn config_from_json_and_bad_fault() {
    let cfg: MockConfig = serde_json::from_str(
        r#"{"profile": "vsphere_nsx", "servers": 3, "seed": 9,
            "faults": [{"operation": "get_server", "kind": "rate_limited", "probability": 0.25, "retry_after_ms": 100}]}"#,
    )
    .unwrap();
    assert_eq!(cfg.profile, Profile::VsphereNsx);
    let m = MockProvider::from_config(cfg).unwrap();
    assert_eq!(m.server_count(), 3);
    assert_eq!(
        m.provider().info().kind,
        crate::provider::ProviderKind::Vsphere
    );
    let bad = MockBuilder::new()
        .with_fault(Fault::error(ErrorKind::Other).with_probability(2.0))
        .build()
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Config);
    assert_eq!(Profile::parse("azure").unwrap(), Profile::Azure);
    assert_eq!(
        Profile::parse("esxi").unwrap_err().kind(),
        ErrorKind::Config
    );
}
