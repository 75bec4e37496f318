//! The conformance suite against every mock profile.

use hybrid_core::mock::{Delays, MockProvider, Profile};
use hybrid_core::testkit::Harness;

const API_KEY: &str = "mock-api-key-4f1c9e2d-never-print-me";

fn harness(profile: Profile) -> Harness {
    let mock = MockProvider::builder()
        .with_profile(profile)
        .with_api_key(API_KEY)
        .with_delays(Delays {
            build_ms: 30,
            action_ms: 20,
            delete_ms: 10,
            import_bytes: 10_000,
        })
        .build()
        .expect("valid mock config");
    Harness::for_mock(&mock).with_secret(API_KEY)
}

mod vsphere {
    hybrid_core::conformance_tests!(super::harness(hybrid_core::mock::Profile::Vsphere));
}

mod vsphere_nsx {
    hybrid_core::conformance_tests!(super::harness(hybrid_core::mock::Profile::VsphereNsx));
}

mod openstack_kvm {
    hybrid_core::conformance_tests!(super::harness(hybrid_core::mock::Profile::OpenstackKvm));
}

mod openstack_on_vsphere {
    hybrid_core::conformance_tests!(super::harness(
        hybrid_core::mock::Profile::OpenstackOnVsphere
    ));
}

mod azure {
    hybrid_core::conformance_tests!(super::harness(hybrid_core::mock::Profile::Azure));
}

/// The whole suite through `run_all`, with the report checked: nothing fails, and
/// only behaviours whose capability the profile lacks are skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_reports_every_behaviour() {
    for profile in Profile::ALL {
        let report = hybrid_core::testkit::run_all(&harness(profile)).await;
        assert!(report.passed(), "{profile:?}:\n{report}");
        assert_eq!(
            report.results.len(),
            hybrid_core::testkit::behaviours::ALL.len()
        );
        let skipped: Vec<&str> = report
            .results
            .iter()
            .filter(|(_, r)| matches!(r, Ok(hybrid_core::testkit::Outcome::Skipped(_))))
            .map(|(n, _)| *n)
            .collect();
        let expected: &[&str] = match profile {
            Profile::Vsphere => &["key_pairs", "security_groups", "routers", "floating_ips"],
            Profile::VsphereNsx => &["key_pairs"],
            Profile::OpenstackKvm => &["unsupported_fails_fast"],
            Profile::OpenstackOnVsphere => &["security_groups", "routers", "floating_ips"],
            Profile::Azure => &["routers"],
        };
        assert_eq!(skipped, expected, "{profile:?}:\n{report}");
    }
}
