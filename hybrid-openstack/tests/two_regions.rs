//! One `clouds.yaml` entry, two regions: a KVM region and a vSphere-backed region
//! (Nova's hypervisors report "VMware vCenter Server", Neutron has the DVS plugin and
//! no NSX). `connect_regions` yields two providers whose capabilities differ, and the
//! same call succeeds in one region and is refused, with the reason and without a
//! request, in the other. Runs on the multi-region fake (`hybrid-fake-openstack`).

use std::sync::Arc;

use hybrid_core::model::CreateSecurityGroup;
use hybrid_core::provider::Provider;
use hybrid_core::{ErrorKind, Feature, ListOptions};
use hybrid_fake_openstack::{FakeOpenStack, RegionSpec, VSPHERE_DVS_EXTENSIONS};
use hybrid_http::ClientOptions;
use hybrid_openstack::config::ConfigLoader;
use hybrid_openstack::OpenStackProvider;

async fn two_region_fake() -> (FakeOpenStack, Vec<Arc<dyn Provider>>) {
    let fake = FakeOpenStack::builder()
        .region("kvm-region")
        .hypervisor_type("QEMU")
        .add_region(
            RegionSpec::new("vmware-region")
                .hypervisor_type("VMware vCenter Server")
                .neutron_extensions(VSPHERE_DVS_EXTENSIONS.iter().copied()),
        )
        .start()
        .await
        .expect("the fake starts");
    let dir = std::env::temp_dir().join(format!(
        "hybrid-two-regions-{}-{}",
        std::process::id(),
        fake.addr().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clouds.yaml");
    let yaml = fake.clouds_yaml("dual");
    assert!(
        yaml.contains("regions:\n      - kvm-region\n      - vmware-region\n"),
        "{yaml}"
    );
    std::fs::write(&file, yaml).unwrap();
    let cloud = ConfigLoader::new()
        .with_clouds_file(&file)
        .load(Some("dual"))
        .unwrap();
    assert_eq!(cloud.regions, ["kvm-region", "vmware-region"]);
    let providers = OpenStackProvider::connect_regions(&cloud, ClientOptions::default())
        .await
        .expect("both regions connect");
    (fake, providers)
}

#[tokio::test]
async fn one_entry_two_regions_two_different_providers() {
    let (fake, providers) = two_region_fake().await;
    assert_eq!(providers.len(), 2);
    let (kvm, vmware) = (&providers[0], &providers[1]);
    assert_eq!(kvm.info().region.as_deref(), Some("kvm-region"));
    assert_eq!(vmware.info().region.as_deref(), Some("vmware-region"));
    // One token serves both regions.
    assert_eq!(fake.token_requests(), 1);

    let (k, v) = (kvm.capabilities(), vmware.capabilities());
    assert_ne!(*k, *v, "the regions' capabilities must differ");

    // KVM with ML2/OVS: SDN, security groups, routers, floating IPs, shareable images.
    for f in [
        Feature::Sdn,
        Feature::SecurityGroups,
        Feature::Routers,
        Feature::FloatingIps,
    ] {
        assert!(k.supports(f), "kvm-region must support {f}");
    }
    assert!(k.platform.image_sharing.supported);

    // vSphere-backed without NSX: VMware's limits, each with its reason.
    for f in [
        Feature::Sdn,
        Feature::SecurityGroups,
        Feature::Routers,
        Feature::FloatingIps,
    ] {
        assert!(!v.supports(f), "vmware-region must not support {f}");
        let reason = v.get(f).reason.as_ref().expect("a reason").to_string();
        assert!(reason.contains("NSX"), "{f}: {reason}");
    }
    assert!(!v.platform.image_sharing.supported);
    let sharing = v
        .platform
        .image_sharing
        .reason
        .as_ref()
        .unwrap()
        .to_string();
    assert!(sharing.contains("datastore"), "{sharing}");
    // What both regions do alike stays supported in both.
    assert!(v.supports(Feature::Servers) && v.supports(Feature::Volumes));
    assert!(v.supports(Feature::Networks));
    fake.shutdown().await;
}

#[tokio::test]
async fn the_same_call_succeeds_in_one_region_and_is_refused_in_the_other() {
    let (fake, providers) = two_region_fake().await;
    let (kvm, vmware) = (&providers[0], &providers[1]);
    let spec = CreateSecurityGroup {
        name: "two-regions-web".into(),
        description: "web tier".into(),
    };

    let created = kvm
        .network()
        .create_security_group(&spec)
        .await
        .expect("kvm-region accepts security groups")
        .wait()
        .await
        .unwrap();
    assert_eq!(created.name, "two-regions-web");

    let before = fake.request_count();
    let err = vmware
        .network()
        .create_security_group(&spec)
        .await
        .expect_err("vmware-region refuses security groups");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("NSX"), "{err}");
    assert_eq!(fake.request_count(), before, "refused before any request");

    // Each region has its own resources: the group exists only where it was made.
    let in_kvm = kvm
        .network()
        .list_security_groups_page(&ListOptions::default().with_name("two-regions-web"), None)
        .await
        .unwrap();
    assert_eq!(in_kvm.items.len(), 1);
    let in_vmware = vmware
        .network()
        .list_networks_page(&ListOptions::default(), None)
        .await
        .unwrap();
    assert!(in_vmware.items.iter().all(|n| n.name != "two-regions-web"));
    fake.shutdown().await;
}
