//! Placement, resolution, image locality and provisioning over the dual-mode mock
//! fleet: every rule, the ranking, and the exact explanation texts.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use hybrid_core::fleet::{
    Constraint, Environment, EnvironmentMatch, Fleet, ImageAction, Policy, Rule, WorkloadMatch,
    WorkloadSpec,
};
use hybrid_core::mock::{Fault, Profile};
use hybrid_core::{Error, ErrorKind, Feature, ImagesExt, Provider, ReasonKind};

const NO_NSX_SG: &str = "security groups need the NSX distributed firewall: this vCenter has no NSX; without NSX vSphere offers only flat VLAN (port group) or flat DHCP networks";
const NO_NSX_FIP: &str = "floating IPs need NSX NAT: this vCenter has no NSX; without NSX vSphere offers only flat VLAN (port group) or flat DHCP networks";
const NO_MASAKARI: &str = "Nova does not restart instances of a failed host by itself; that needs Masakari or an external monitor";
const PROD_POLICY: &str = "policy \"production-on-production-tier\" requires tier=production; it has tier=dev (production runs on the production estate)";

#[tokio::test]
async fn oracle_goes_to_vmware_with_every_rejection_explained() {
    let (fleet, _) = fleet();
    let p = fleet.place(&oracle()).await.unwrap();
    assert_eq!(p.chosen().unwrap().environment, "vsphere-prod");
    assert_eq!(
        p.explanation(),
        [
            "oracle-db → vsphere-prod: meets policy \"production-on-production-tier\" (tier=production); certified for oracle; offers high availability; offers live migration; size vm-16cpu-256gb (16 vCPU, 256 GiB RAM, 500 GiB disk) is the smallest of 4 sizes that fits 8 vCPU, 64 GiB RAM, 200 GiB disk; image rhel-9-template is already there (bound to datastore1); network dvpg-prod-120 (VLAN 120)",
            &format!("  openstack-dev: rejected: {PROD_POLICY}; not certified for oracle (certified for nothing); needs high availability: {NO_MASAKARI}; no flavor fits 8 vCPU, 64 GiB RAM, 200 GiB disk: the largest is m1.xlarge (8 vCPU, 16 GiB RAM, 160 GiB disk); needs flat VLAN 120; it has no such network"),
            "  azure-public: rejected: not certified for oracle (certified for nothing); needs live migration: Azure offers no user-initiated live migration; the platform live-migrates during its own maintenance only; needs flat VLAN 120; it has no such network",
        ]
        .join("\n")
    );
    assert_eq!(p.to_string(), p.explanation());
    // Every finding names its rule.
    let os = p.rejection("openstack-dev").unwrap();
    let rules: Vec<Constraint> = os.findings.iter().map(|f| f.constraint.clone()).collect();
    assert_eq!(
        rules,
        [
            Constraint::Policy("production-on-production-tier".into()),
            Constraint::Certified,
            Constraint::HighAvailability,
            Constraint::Size,
            Constraint::Network,
        ]
    );
    let ha = &os.findings[2];
    assert_eq!(
        ha.reason.as_ref().unwrap().kind,
        ReasonKind::DeploymentDependent
    );
    let az = p.rejection("azure-public").unwrap();
    assert_eq!(az.findings[1].constraint, Constraint::LiveMigration);
    assert_eq!(
        az.findings[1].reason.as_ref().unwrap().kind,
        ReasonKind::PlatformNever
    );
    // The resolution is concrete.
    let r = &p.chosen().unwrap().resolution;
    assert_eq!(r.flavor.id.as_str(), "vm-16cpu-256gb");
    assert_eq!(r.image.action, ImageAction::Present);
    assert_eq!(r.network.segmentation_id, Some(120));
}

#[tokio::test]
async fn public_site_goes_to_azure_and_vmware_is_refused_for_want_of_nsx() {
    let (fleet, _) = fleet();
    let p = fleet.place(&shop()).await.unwrap();
    assert_eq!(
        p.explanation(),
        [
            "shop-web → azure-public: meets policy \"production-on-production-tier\" (tier=production); meets policy \"public-sites-need-bandwidth\" (public_bandwidth=high); size Standard_B2s (2 vCPU, 4 GiB RAM, 8 GiB disk) is the smallest of 5 sizes that fits 2 vCPU, 4 GiB RAM (the 30 GiB OS disk is a managed disk, sized apart); it has no image ubuntu-22.04; its linux image Canonical:ubuntu-24_04-lts:server will do (bound to westeurope); network vnet-default (overlay); security group web will be created; a public IP will be mapped to its port",
            &format!("  vsphere-prod: rejected: policy \"public-sites-need-bandwidth\" requires public_bandwidth=high; it has public_bandwidth unset; needs security groups (web): {NO_NSX_SG}; needs a public IP: {NO_NSX_FIP}"),
            &format!("  openstack-dev: rejected: {PROD_POLICY}; policy \"public-sites-need-bandwidth\" requires public_bandwidth=high; it has public_bandwidth unset"),
        ]
        .join("\n")
    );
    let sg = &p.rejection("vsphere-prod").unwrap().findings[1];
    assert_eq!(sg.constraint, Constraint::SecurityGroups);
    assert_eq!(
        sg.reason.as_ref().unwrap().kind,
        ReasonKind::DeploymentDependent
    );
}

#[tokio::test]
async fn prefer_rules_rank_and_the_loser_is_told_why() {
    let (fleet, _) = fleet();
    let p = fleet.place(&wiki()).await.unwrap();
    assert_eq!(
        p.explanation(),
        [
            "wiki → openstack-dev: preferred by policy \"internal-web-on-openstack\" (role internal-web); flavor m1.medium (2 vCPU, 4 GiB RAM, 40 GiB disk) is the smallest of 5 flavors that fits 2 vCPU, 4 GiB RAM, 20 GiB disk; image ubuntu-22.04 is already there (bound to glance (RegionOne)); network private (overlay); security group web will be created",
            &format!("  vsphere-prod: rejected: needs security groups (web): {NO_NSX_SG}"),
            "  azure-public: eligible, ranked lower: openstack-dev is preferred by policy \"internal-web-on-openstack\"",
        ]
        .join("\n")
    );
    assert_eq!(p.chosen().unwrap().score, 1);
    assert_eq!(p.candidate("azure-public").unwrap().score, 0);
    assert_eq!(p.ranked.len(), 2);
}

#[tokio::test]
async fn a_negative_weight_ranks_down_without_forbidding() {
    let (b, _) = builder();
    let fleet = b
        .with_policy(Policy::new().with_rule(
            Rule::prefer("openstack-is-busy", EnvironmentMatch::tag("tier", "dev")).with_weight(-5),
        ))
        .build()
        .unwrap();
    let spec = WorkloadSpec::new("batch", 1, 1024).with_os_family("linux");
    let p = fleet.place(&spec).await.unwrap();
    // Standard_B1s fits 1 vCPU, 1 GiB exactly; vSphere's smallest has 2 GiB.
    assert_eq!(p.chosen().unwrap().environment, "azure-public");
    let os = p.candidate("openstack-dev").unwrap();
    assert_eq!(os.score, -5);
    assert_eq!(
        os.reasons[0],
        "ranked down by policy \"openstack-is-busy\" (tier=dev)"
    );
    assert_eq!(
        os.ranked_lower.as_deref(),
        Some("policy ranks azure-public higher (score 0 against -5)")
    );
    assert_eq!(
        p.candidate("vsphere-prod").unwrap().ranked_lower.as_deref(),
        Some("size vm-1cpu-2gb leaves more unused than azure-public's size Standard_B1s")
    );
}

#[tokio::test]
async fn forbid_rules_reject() {
    let (fleet, _) = fleet();
    let p = fleet.place(&ci()).await.unwrap();
    assert_eq!(
        p.explanation(),
        [
            "ci-runner → openstack-dev: flavor m1.large (4 vCPU, 8 GiB RAM, 80 GiB disk) is the smallest of 5 flavors that fits 4 vCPU, 8 GiB RAM, 40 GiB disk; image ubuntu-22.04 is already there (bound to glance (RegionOne)); network private (overlay)",
            "  vsphere-prod: rejected: policy \"dev-off-production\" forbids tier=production; it has tier=production",
            "  azure-public: rejected: policy \"dev-off-production\" forbids tier=production; it has tier=production",
        ]
        .join("\n")
    );
}

#[tokio::test]
async fn no_eligible_environment_is_unsupported_with_every_reason() {
    let (fleet, m) = fleet();
    let spec = WorkloadSpec::new("sap-dispatcher", 2, 4096)
        .with_image("rhel-9-template")
        .with_security_group("dmz")
        .with_certification("sap")
        .with_tag("production");
    let p = fleet.place(&spec).await.unwrap();
    assert!(p.chosen().is_none());
    let e = p.require().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let r = e.unsupported_reason().unwrap();
    assert_eq!(r.kind, ReasonKind::DeploymentDependent);
    assert_eq!(
        r.message,
        format!("no environment can run sap-dispatcher: vsphere-prod: needs security groups (dmz): {NO_NSX_SG}; openstack-dev: {PROD_POLICY}; not certified for sap (certified for nothing); azure-public: not certified for sap (certified for nothing)")
    );
    assert_eq!(e.context().operation.as_deref(), Some("place"));
    assert_eq!(e.context().resource.as_deref(), Some("sap-dispatcher"));
    // provision refuses before creating anything
    let e = fleet.provision(&spec).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    for mock in [&m.vsphere, &m.openstack, &m.azure] {
        assert_eq!(mock.request_count("create_server"), 0);
        assert_eq!(mock.request_count("create_security_group"), 0);
    }
}

#[tokio::test]
async fn provision_on_a_refusing_environment_fails_fast_with_the_capability_reason() {
    let (fleet, m) = fleet();
    let spec = WorkloadSpec::new("sap-dispatcher", 2, 4096)
        .with_image("rhel-9-template")
        .with_security_group("dmz")
        .with_certification("sap")
        .with_tag("production");
    let before = m.vsphere.total_requests();
    let e = fleet.provision_on(&spec, "vsphere-prod").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        format!("provision on vsphere-prod failed: unsupported: needs security groups (dmz): {NO_NSX_SG} [resource sap-dispatcher]")
    );
    let r = e.unsupported_reason().unwrap();
    assert_eq!(r.kind, ReasonKind::DeploymentDependent);
    // Only the evaluation's listings were made: no create of any kind.
    let counts = m.vsphere.request_counts();
    assert!(counts.keys().all(|k| k.starts_with("list_")), "{counts:?}");
    assert!(m.vsphere.total_requests() > before);
    let e = fleet.provision_on(&spec, "nowhere").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "not_found: the fleet has no environment \"nowhere\" (it has vsphere-prod, openstack-dev, azure-public) [resource environment nowhere]"
    );
}

#[tokio::test]
async fn when_every_finding_is_a_platform_limit_the_reason_says_so() {
    let fleet = Fleet::builder()
        .with_environment(Environment::new(
            "azure-a",
            mock(Profile::Azure, "azure-a").into_provider(),
        ))
        .build()
        .unwrap();
    let spec = WorkloadSpec::new("vm", 1, 1024)
        .with_os_family("linux")
        .with_live_migration();
    let e = fleet.place(&spec).await.unwrap().require().unwrap_err();
    assert_eq!(
        e.unsupported_reason().unwrap().kind,
        ReasonKind::PlatformNever
    );
}

#[tokio::test]
async fn public_ip_needs_a_port_where_the_platform_has_none() {
    let fleet = Fleet::builder()
        .with_environment(Environment::new(
            "vsphere-nsx",
            mock(Profile::VsphereNsx, "vsphere-nsx").into_provider(),
        ))
        .build()
        .unwrap();
    let spec = WorkloadSpec::new("dmz-proxy", 1, 2048)
        .with_image("rhel-9-template")
        .with_security_group("dmz")
        .with_public_ip();
    let p = fleet.place(&spec).await.unwrap();
    assert_eq!(
        p.explanation(),
        "dmz-proxy → no environment\n  vsphere-nsx: rejected: needs a port to map its public IP to: vSphere has no standalone ports: a vNIC exists only as part of a VM; attach networks when creating the VM"
    );
    assert_eq!(p.rejected[0].findings[0].constraint, Constraint::PublicIp);
}

#[tokio::test]
async fn servers_and_flavors_capabilities_and_image_import_are_rules_too() {
    let fleet = Fleet::builder()
        .with_environment(Environment::new(
            "no-servers",
            Limited::without(
                mock(Profile::OpenstackKvm, "no-servers"),
                &[Feature::Servers, Feature::Flavors, Feature::Networks],
                "this project has no compute quota",
            ),
        ))
        .with_environment(Environment::new(
            "no-import",
            Limited::without(
                mock(Profile::Azure, "no-import"),
                &[Feature::ImageUpload, Feature::ImageImportUrl],
                "image imports are disabled here",
            ),
        ))
        .with_environment(Environment::new(
            "no-images",
            Limited::without(
                mock(Profile::OpenstackKvm, "no-images"),
                &[Feature::Images],
                "this region has no image service",
            ),
        ))
        .build()
        .unwrap();
    let spec = WorkloadSpec::new("app", 1, 1024).with_image("cirros-0.6.2");
    let p = fleet.place(&spec).await.unwrap();
    assert_eq!(
        p.explanation(),
        [
            "app → no environment",
            "  no-servers: rejected: cannot create servers: this project has no compute quota; cannot list flavors: this project has no compute quota; cannot list networks: this project has no compute quota",
            "  no-import: rejected: needs image cirros-0.6.2, which it does not have, and it cannot import images: image imports are disabled here",
            "  no-images: rejected: it has no images: this region has no image service",
        ]
        .join("\n")
    );
    let missing = WorkloadSpec::new("app", 1, 1024).with_image("no-such-image");
    let p = fleet.place(&missing).await.unwrap();
    assert_eq!(
        p.rejection("no-import").unwrap().explanation(),
        "needs image no-such-image, and no environment of the fleet has it"
    );
}

#[tokio::test]
async fn network_rules() {
    let fleet = Fleet::builder()
        .with_environment(Environment::new(
            "os",
            mock(Profile::OpenstackKvm, "os").into_provider(),
        ))
        .with_environment(Environment::new(
            "vc",
            mock(Profile::Vsphere, "vc").into_provider(),
        ))
        .build()
        .unwrap();
    let named = WorkloadSpec::new("a", 1, 1024)
        .with_os_family("linux")
        .with_network("dvpg-prod-120");
    let p = fleet.place(&named).await.unwrap();
    assert_eq!(
        p.rejection("os").unwrap().explanation(),
        "needs network dvpg-prod-120; it has no network of that name"
    );
    assert_eq!(p.chosen().unwrap().resolution.network.name, "dvpg-prod-120");
    let flat = WorkloadSpec::new("b", 1, 1024)
        .with_os_family("linux")
        .with_flat_vlan();
    let p = fleet.place(&flat).await.unwrap();
    assert_eq!(
        p.rejection("os").unwrap().explanation(),
        "needs a flat VLAN network; it has none"
    );
    assert_eq!(
        p.chosen().unwrap().resolution.reasons[2],
        "network VM Network (VLAN 0)"
    );
    let vlan = WorkloadSpec::new("c", 1, 1024)
        .with_os_family("linux")
        .with_vlan(999);
    let p = fleet.place(&vlan).await.unwrap();
    assert_eq!(
        p.rejection("vc").unwrap().explanation(),
        "needs flat VLAN 999; it has no such network"
    );
}

#[tokio::test]
async fn ranking_prefers_a_present_image_then_the_closest_fit_then_fleet_order() {
    // Two KVM regions; only the second has the image.
    let a = mock(Profile::OpenstackKvm, "kvm-a");
    let b = mock(Profile::OpenstackKvm, "kvm-b");
    let img = b
        .provider()
        .images()
        .find_image("cirros-0.6.2")
        .await
        .unwrap()
        .unwrap();
    a.provider()
        .images()
        .delete_image(&img.id)
        .await
        .unwrap()
        .await
        .unwrap();
    let fleet = Fleet::builder()
        .with_environment(Environment::new("kvm-a", a.provider()))
        .with_environment(Environment::new("kvm-b", b.provider()))
        .with_environment(Environment::new(
            "azure",
            mock(Profile::Azure, "azure").into_provider(),
        ))
        .build()
        .unwrap();
    let spec = WorkloadSpec::new("tiny", 1, 512).with_image("cirros-0.6.2");
    let p = fleet.place(&spec).await.unwrap();
    assert_eq!(p.chosen().unwrap().environment, "kvm-b");
    assert_eq!(
        p.candidate("kvm-a").unwrap().ranked_lower.as_deref(),
        Some("its image must be imported first, while kvm-b has it")
    );
    assert_eq!(
        p.candidate("azure").unwrap().ranked_lower.as_deref(),
        Some("its image must be converted first, while kvm-b has it")
    );
    let plan = &p.candidate("kvm-a").unwrap().resolution.image;
    assert_eq!(plan.action, ImageAction::Import);
    assert_eq!(plan.source.as_deref(), Some("kvm-b"));
    assert_eq!(
        plan.explanation,
        "image cirros-0.6.2 must be imported from kvm-b first as qcow2"
    );

    // Same image readiness: the closer fit wins, then fleet order.
    let spec = WorkloadSpec::new("web", 2, 4096).with_os_family("linux");
    let fleet = Fleet::builder()
        .with_environment(Environment::new(
            "azure",
            mock(Profile::Azure, "azure").into_provider(),
        ))
        .with_environment(Environment::new(
            "kvm-1",
            mock(Profile::OpenstackKvm, "kvm-1").into_provider(),
        ))
        .with_environment(Environment::new(
            "kvm-2",
            mock(Profile::OpenstackKvm, "kvm-2").into_provider(),
        ))
        .with_environment(Environment::new(
            "vc",
            mock(Profile::Vsphere, "vc").into_provider(),
        ))
        .build()
        .unwrap();
    let p = fleet.place(&spec).await.unwrap();
    // Standard_B2s, m1.medium and vm-2cpu-4gb all fit exactly: fleet order decides.
    assert_eq!(p.chosen().unwrap().environment, "azure");
    assert_eq!(
        p.candidate("kvm-1").unwrap().ranked_lower.as_deref(),
        Some("azure comes first in the fleet")
    );
    let spec = WorkloadSpec::new("big", 4, 12 * 1024).with_os_family("linux");
    let p = fleet.place(&spec).await.unwrap();
    // kvm: m1.xlarge (8 vCPU, 16 GiB), azure: Standard_D4s_v5 (4, 16 GiB), vc: vm-4cpu-16gb (4, 16 GiB)
    assert_eq!(p.chosen().unwrap().environment, "azure");
    assert_eq!(
        p.candidate("kvm-1").unwrap().ranked_lower.as_deref(),
        Some("flavor m1.xlarge leaves more unused than azure's size Standard_D4s_v5")
    );
    assert_eq!(
        p.candidate("vc").unwrap().ranked_lower.as_deref(),
        Some("azure comes first in the fleet")
    );
}

#[tokio::test]
async fn image_locality_answers() {
    let (fleet, _) = fleet();
    let ubuntu = WorkloadSpec::new("x", 1, 1024).with_image("ubuntu-22.04");
    let here = fleet.image_plan(&ubuntu, "openstack-dev").await.unwrap();
    assert_eq!(here.action, ImageAction::Present);
    assert_eq!(
        here.to_string(),
        "image ubuntu-22.04 is already there (bound to glance (RegionOne))"
    );
    let azure = fleet.image_plan(&ubuntu, "azure-public").await.unwrap();
    assert_eq!(azure.action, ImageAction::Convert);
    assert_eq!(azure.target_format.as_deref(), Some("vhd"));
    assert_eq!(
        azure.explanation,
        "image ubuntu-22.04 must be converted from qcow2 to vhd and imported from openstack-dev first"
    );
    // VMware templates are bound to the datastore: never shared, always copied.
    let rhel = WorkloadSpec::new("x", 1, 1024).with_image("rhel-9-template");
    let os = fleet.image_plan(&rhel, "openstack-dev").await.unwrap();
    assert_eq!(os.action, ImageAction::Convert);
    assert_eq!(os.source.as_deref(), Some("vsphere-prod"));
    assert!(!os.image.as_ref().unwrap().locality.shareable);
    assert_eq!(
        os.explanation,
        "image rhel-9-template must be converted from vmdk to qcow2 and imported from vsphere-prod first (it is bound to datastore1 there and cannot be shared, so it is copied)"
    );
    let windows = WorkloadSpec::new("x", 1, 1024).with_os_family("windows");
    let vc = fleet.image_plan(&windows, "vsphere-prod").await.unwrap();
    assert_eq!(
        vc.explanation,
        "windows image windows-2022-template is already there (bound to datastore1)"
    );
    let os = fleet.image_plan(&windows, "openstack-dev").await.unwrap();
    assert_eq!(os.action, ImageAction::Convert);
    assert_eq!(
        os.explanation,
        "a windows image must be converted from vmdk to qcow2 and imported from vsphere-prod first (it is bound to datastore1 there and cannot be shared, so it is copied)"
    );
    assert_eq!(
        fleet.image_plan(&windows, "nope").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn resolve_is_technical_and_resolve_on_refuses_with_reasons() {
    let (fleet, _) = fleet();
    // ci-runner is forbidden on vsphere-prod by policy, but technically it fits there.
    let all = fleet.resolve(&ci()).await.unwrap();
    assert_eq!(all.len(), 3);
    let vc = all[0].as_ref().unwrap();
    assert_eq!(vc.environment, "vsphere-prod");
    assert_eq!(
        vc.explanation(),
        "size vm-4cpu-16gb (4 vCPU, 16 GiB RAM, 100 GiB disk) is the smallest of 4 sizes that fits 4 vCPU, 8 GiB RAM, 40 GiB disk; image ubuntu-22.04 must be converted from qcow2 to vmdk and imported from openstack-dev first; network VM Network (VLAN 0)"
    );
    assert_eq!(
        all[2].as_ref().unwrap().flavor.id.as_str(),
        "Standard_D4s_v5"
    );
    let r = fleet.resolve_on(&wiki(), "openstack-dev").await.unwrap();
    assert_eq!(r.flavor.name, "m1.medium");
    assert_eq!(r.security_groups[0].name, "web");
    assert!(r.security_groups[0].existing.is_none());
    let e = fleet.resolve_on(&wiki(), "vsphere-prod").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        format!("resolve on vsphere-prod failed: unsupported: needs security groups (web): {NO_NSX_SG} [resource wiki]")
    );
    let bad = WorkloadSpec::new("nothing", 1, 1024);
    assert_eq!(
        fleet.resolve(&bad).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_or_slow_environment_is_rejected_not_fatal() {
    let (b, _) = builder();
    let slow = common::mock(Profile::OpenstackKvm, "slow-region");
    slow.inject(Fault::latency(Duration::from_secs(60)).on("list_flavors"))
        .unwrap();
    let fleet = b
        .with_environment(
            Environment::new("slow-region", slow.provider()).with_deadline(Duration::from_secs(2)),
        )
        .with_environment(Environment::lazy("broken", || async {
            Err::<Arc<dyn Provider>, _>(Error::new(
                ErrorKind::Unauthenticated,
                "the password was refused",
            ))
        }))
        .build()
        .unwrap();
    let p = fleet.place(&ci()).await.unwrap();
    assert_eq!(p.chosen().unwrap().environment, "openstack-dev");
    assert_eq!(
        p.rejection("slow-region").unwrap().explanation(),
        "could not be evaluated: evaluate on slow-region failed: timeout: did not answer within 2s"
    );
    assert_eq!(
        p.rejection("broken").unwrap().explanation(),
        "could not be evaluated: broken: unauthenticated: the password was refused"
    );
    assert_eq!(
        p.rejection("broken").unwrap().findings[0].error_kind,
        Some(ErrorKind::Unauthenticated)
    );
    // Pinned to an unreachable environment: its own error kind, not Unsupported.
    let e = fleet.provision_on(&ci(), "slow-region").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    // Only unreachable environments: Unavailable.
    let only_broken = Fleet::builder()
        .with_environment(Environment::lazy("broken", || async {
            Err::<Arc<dyn Provider>, _>(Error::new(ErrorKind::Transport, "connection refused"))
        }))
        .build()
        .unwrap();
    let e = only_broken
        .place(&ci())
        .await
        .unwrap()
        .require()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(
        e.to_string(),
        "place failed: unavailable: no environment can run ci-runner: broken: could not be evaluated: broken: transport: connection refused"
    );
}

#[tokio::test]
async fn environments_open_lazily_once_and_retry_after_a_failure() {
    let opens = Arc::new(AtomicUsize::new(0));
    let fail_first = Arc::new(AtomicUsize::new(0));
    let (o, f) = (opens.clone(), fail_first.clone());
    let env = Environment::lazy("lazy-os", move || {
        let o = o.clone();
        let f = f.clone();
        async move {
            if f.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(Error::new(ErrorKind::Unavailable, "keystone is restarting"));
            }
            o.fetch_add(1, Ordering::SeqCst);
            Ok(mock(Profile::OpenstackKvm, "lazy-os").into_provider())
        }
    })
    .with_role("dev-test");
    let fleet = Fleet::builder().with_environment(env).build().unwrap();
    let env = fleet.environment("lazy-os").unwrap();
    assert!(!env.is_open());
    let e = env.provider().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "lazy-os: unavailable: keystone is restarting"
    );
    assert!(!env.is_open());
    let spec = ci();
    let (a, b, c) = tokio::join!(env.provider(), env.provider(), fleet.place(&spec));
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(c.unwrap().chosen().unwrap().environment, "lazy-os");
    assert!(env.is_open());
    assert_eq!(opens.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn provisioning_places_creates_and_awaits() {
    let (fleet, m) = fleet();
    let made = fleet.provision(&oracle()).await.unwrap();
    assert_eq!(made.candidate.environment, "vsphere-prod");
    assert_eq!(made.server.status.as_str(), "ACTIVE");
    assert_eq!(
        made.server.flavor.as_ref().unwrap().as_str(),
        "vm-16cpu-256gb"
    );
    assert_eq!(made.server.tags, ["production"]);
    assert_eq!(made.server.metadata["hybrid-workload"], "oracle-db");
    assert_eq!(made.server.addresses[0].network, "dvpg-prod-120");
    assert_eq!(
        made.to_string(),
        "oracle-db is ACTIVE on vsphere-prod (vm-16cpu-256gb)"
    );
    assert!(made.placement.as_ref().unwrap().chosen().is_some());
    assert_eq!(m.vsphere.request_count("create_server"), 1);
    assert_eq!(m.openstack.request_count("create_server"), 0);

    // A public site on Azure: a security group, a port and a public IP.
    let made = fleet.provision(&shop()).await.unwrap();
    assert_eq!(made.candidate.environment, "azure-public");
    assert_eq!(made.created_security_groups.len(), 1);
    assert_eq!(made.created_security_groups[0].name, "web");
    let port = made.port.as_ref().unwrap();
    assert_eq!(
        port.security_groups,
        [made.created_security_groups[0].id.clone()]
    );
    let fip = made.floating_ip.as_ref().unwrap();
    assert_eq!(fip.port_id.as_ref(), Some(&port.id));
    assert_eq!(
        made.to_string(),
        format!(
            "shop-web is ACTIVE on azure-public (Standard_B2s), public IP {}",
            fip.address
        )
    );
    // The group exists now: a second site reuses it.
    let again = WorkloadSpec {
        name: "shop-web-2".into(),
        ..shop()
    };
    let made = fleet.provision(&again).await.unwrap();
    assert!(made.created_security_groups.is_empty());
    assert!(made
        .candidate
        .reasons
        .contains(&"security group web exists".to_owned()));
    assert_eq!(m.azure.request_count("create_security_group"), 1);
}

#[tokio::test]
async fn provisioning_imports_an_image_by_streaming_it_but_never_converts() {
    let a = mock(Profile::OpenstackKvm, "kvm-a");
    let b = mock(Profile::OpenstackKvm, "kvm-b");
    let img = a
        .provider()
        .images()
        .find_image("cirros-0.6.2")
        .await
        .unwrap()
        .unwrap();
    a.provider()
        .images()
        .delete_image(&img.id)
        .await
        .unwrap()
        .await
        .unwrap();
    let fleet = Fleet::builder()
        .with_environment(Environment::new("kvm-a", a.provider()).with_role("target"))
        .with_environment(Environment::new("kvm-b", b.provider()))
        .with_policy(
            Policy::new().with_rule(
                Rule::require("only-a", EnvironmentMatch::roles(["target"]))
                    .when(WorkloadMatch::tags(["pinned"])),
            ),
        )
        .build()
        .unwrap();
    let spec = WorkloadSpec::new("tiny", 1, 512)
        .with_image("cirros-0.6.2")
        .with_tag("pinned");
    let made = fleet.provision(&spec).await.unwrap();
    assert_eq!(made.candidate.environment, "kvm-a");
    let imported = made.imported_image.as_ref().unwrap();
    assert_eq!(imported.name, "cirros-0.6.2");
    assert_eq!(made.server.image.as_ref(), Some(&imported.id));
    let source = b
        .provider()
        .images()
        .find_image("cirros-0.6.2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(imported.checksum, source.checksum);
    assert_eq!(b.request_count("download_image"), 1);

    // vmdk to qcow2: refused before any create.
    let rhel = WorkloadSpec::new("rhel", 1, 1024).with_image("rhel-9-template");
    let fleet = Fleet::builder()
        .with_environment(Environment::new("kvm-a", a.provider()))
        .with_environment(Environment::new(
            "vc",
            mock(Profile::Vsphere, "vc").into_provider(),
        ))
        .build()
        .unwrap();
    let e = fleet.provision_on(&rhel, "kvm-a").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.unsupported_reason().unwrap().kind,
        ReasonKind::NotImplemented
    );
    assert_eq!(
        e.to_string(),
        "provision on kvm-a failed: unsupported: image rhel-9-template must be converted from vmdk to qcow2 and imported from vc first (it is bound to datastore1 there and cannot be shared, so it is copied); hybrid does not convert disk images: convert rhel-9-template to qcow2 (for example with qemu-img) and import it into kvm-a"
    );
    assert_eq!(a.request_count("create_server"), 1);
    assert_eq!(a.request_count("create_image"), 1);
}

#[tokio::test]
async fn builder_and_lookup_errors() {
    let p = || mock(Profile::OpenstackKvm, "x").into_provider();
    let e = Fleet::builder().build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = Fleet::builder()
        .with_environment(Environment::new("a", p()))
        .with_environment(Environment::new("a", p()))
        .build()
        .unwrap_err();
    assert_eq!(e.to_string(), "config: two environments are named \"a\"");
    let e = Fleet::builder()
        .with_environment(Environment::new("a", p()))
        .with_policy(Policy::new().with_rule(Rule::require("r", EnvironmentMatch::default())))
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "config: policy rule \"r\": its require names no role and no tag"
    );
    let (fleet, _) = fleet();
    assert_eq!(
        fleet.environments().map(|e| e.name()).collect::<Vec<_>>(),
        ["vsphere-prod", "openstack-dev", "azure-public"]
    );
    assert_eq!(
        fleet
            .environment("vsphere-prod")
            .unwrap()
            .tags()
            .get("certified"),
        ["oracle", "sap"]
    );
    assert_eq!(fleet.policy().rules.len(), 4);
}

#[tokio::test]
async fn secrets_stay_out_of_debug() {
    let keyed = hybrid_core::mock::MockProvider::builder()
        .with_api_key("fleet-secret-4411")
        .build()
        .unwrap();
    let fleet = Fleet::builder()
        .with_environment(Environment::new("keyed", keyed.into_provider()))
        .build()
        .unwrap();
    let shown = format!("{fleet:?}");
    assert!(shown.contains("keyed"), "{shown}");
    assert!(!shown.contains("fleet-secret-4411"), "{shown}");
    fleet
        .environment("keyed")
        .unwrap()
        .provider()
        .await
        .unwrap();
    let shown = format!("{fleet:?}");
    assert!(shown.contains("MockProvider"), "{shown}");
    assert!(!shown.contains("fleet-secret-4411"), "{shown}");
}
