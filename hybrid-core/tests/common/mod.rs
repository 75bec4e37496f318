//! The dual-mode fleet the fleet tests share: vSphere without NSX for production
//! (certified for Oracle and SAP), OpenStack on KVM for dev/test and internal web
//! apps, Azure for public sites with high bandwidth; mocks with instant lifecycles.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use hybrid_core::capabilities::Capabilities;
use hybrid_core::fleet::{
    Environment, EnvironmentMatch, Fleet, FleetBuilder, Policy, Rule, WorkloadMatch, WorkloadSpec,
};
use hybrid_core::mock::{Delays, MockProvider, Profile};
use hybrid_core::{Capability, Compute, Feature, Images, Network, Provider, ProviderInfo, Storage};

/// A mock named `name` with three servers and instant lifecycles.
pub fn mock(profile: Profile, name: &str) -> MockProvider {
    MockProvider::builder()
        .with_profile(profile)
        .with_name(name)
        .with_servers(3)
        .with_delays(Delays::instant())
        .build()
        .unwrap()
}

/// The three mocks of the dual-mode fleet.
pub struct Mocks {
    pub vsphere: MockProvider,
    pub openstack: MockProvider,
    pub azure: MockProvider,
}

pub fn policy() -> Policy {
    Policy::new()
        .with_rule(
            Rule::require(
                "production-on-production-tier",
                EnvironmentMatch::tag("tier", "production"),
            )
            .when(WorkloadMatch::tags(["production"]))
            .because("production runs on the production estate"),
        )
        .with_rule(
            Rule::require(
                "public-sites-need-bandwidth",
                EnvironmentMatch::tag("public_bandwidth", "high"),
            )
            .when(WorkloadMatch::tags(["public"])),
        )
        .with_rule(
            Rule::forbid(
                "dev-off-production",
                EnvironmentMatch::tag("tier", "production"),
            )
            .when(WorkloadMatch::tags(["dev"])),
        )
        .with_rule(
            Rule::prefer(
                "internal-web-on-openstack",
                EnvironmentMatch::roles(["internal-web"]),
            )
            .when(WorkloadMatch::tags(["internal"])),
        )
}

pub fn vsphere_env(p: Arc<dyn Provider>) -> Environment {
    Environment::new("vsphere-prod", p)
        .with_role("traditional")
        .with_tag("tier", "production")
        .with_tag("certified", "oracle")
        .with_tag("certified", "sap")
}

pub fn openstack_env(p: Arc<dyn Provider>) -> Environment {
    Environment::new("openstack-dev", p)
        .with_roles(["dev-test", "internal-web"])
        .with_tag("tier", "dev")
}

pub fn azure_env(p: Arc<dyn Provider>) -> Environment {
    Environment::new("azure-public", p)
        .with_role("public-web")
        .with_tag("tier", "production")
        .with_tag("public_bandwidth", "high")
}

/// The builder of the dual-mode fleet, to add to.
pub fn builder() -> (FleetBuilder, Mocks) {
    let m = Mocks {
        vsphere: mock(Profile::Vsphere, "vsphere-prod"),
        openstack: mock(Profile::OpenstackKvm, "openstack-dev"),
        azure: mock(Profile::Azure, "azure-public"),
    };
    let b = Fleet::builder()
        .with_environment(vsphere_env(m.vsphere.provider()))
        .with_environment(openstack_env(m.openstack.provider()))
        .with_environment(azure_env(m.azure.provider()))
        .with_policy(policy());
    (b, m)
}

pub fn fleet() -> (Fleet, Mocks) {
    let (b, m) = builder();
    (b.build().unwrap(), m)
}

pub fn oracle() -> WorkloadSpec {
    WorkloadSpec::new("oracle-db", 8, 64 * 1024)
        .with_disk_gib(200)
        .with_image("rhel-9-template")
        .with_vlan(120)
        .with_high_availability()
        .with_live_migration()
        .with_certification("oracle")
        .with_tag("production")
}

pub fn shop() -> WorkloadSpec {
    WorkloadSpec::new("shop-web", 2, 4096)
        .with_disk_gib(30)
        .with_image("ubuntu-22.04")
        .with_os_family("linux")
        .with_security_group("web")
        .with_public_ip()
        .with_tag("public")
        .with_tag("production")
}

pub fn wiki() -> WorkloadSpec {
    WorkloadSpec::new("wiki", 2, 4096)
        .with_disk_gib(20)
        .with_image("ubuntu-22.04")
        .with_security_group("web")
        .with_tag("internal")
}

pub fn ci() -> WorkloadSpec {
    WorkloadSpec::new("ci-runner", 4, 8192)
        .with_disk_gib(40)
        .with_image("ubuntu-22.04")
        .with_tag("dev")
}

/// A mock whose capabilities are changed: to test rules no profile exercises.
#[derive(Debug)]
pub struct Limited {
    pub inner: MockProvider,
    pub caps: Arc<Capabilities>,
}

impl Limited {
    /// `inner` with `feature` unsupported for `why` (deployment dependent).
    pub fn without(inner: MockProvider, features: &[Feature], why: &str) -> Arc<dyn Provider> {
        let mut caps = (*Provider::capabilities(&inner)).clone();
        for f in features {
            *caps.get_mut(*f) = Capability::deployment(why);
        }
        Arc::new(Limited {
            inner,
            caps: Arc::new(caps),
        })
    }
}

#[hybrid_core::async_trait]
impl Provider for Limited {
    fn info(&self) -> ProviderInfo {
        Provider::info(&self.inner)
    }
    fn capabilities(&self) -> Arc<Capabilities> {
        self.caps.clone()
    }
    async fn check(&self) -> hybrid_core::Result<()> {
        Provider::check(&self.inner).await
    }
    fn compute(&self) -> &dyn Compute {
        Provider::compute(&self.inner)
    }
    fn network(&self) -> &dyn Network {
        Provider::network(&self.inner)
    }
    fn storage(&self) -> &dyn Storage {
        Provider::storage(&self.inner)
    }
    fn images(&self) -> &dyn Images {
        Provider::images(&self.inner)
    }
}
