//! Every OpenStack response decoder and its conversion into the core model, run on one
//! input. Used by the property tests (`tests/decoders_prop.rs`) and by the cargo-fuzz
//! target `openstack_decoders` (`fuzz/`), so both exercise the same list.

use hybrid_openstack::capabilities::{Microversion, VersionDoc};
use hybrid_openstack::protocol::{cinder, glance, keystone, neutron, nova};
use serde_json::Value;

/// Runs every decoder (and its conversion) on `c`; returns how many accepted it.
pub(crate) fn decode_one(c: &Value) -> usize {
    let mut ok = 0;
    let doc = || Some(c.clone());
    macro_rules! attempt {
        ($t:ty, $conv:expr) => {
            if let Ok(x) = serde_json::from_value::<$t>(c.clone()) {
                #[allow(clippy::redundant_closure_call)]
                let _ = ($conv)(x);
                ok += 1;
            }
        };
    }
    attempt!(nova::NovaServer, |x: nova::NovaServer| x.into_core(doc()));
    attempt!(nova::NovaFlavor, |x: nova::NovaFlavor| x.into_core(doc()));
    attempt!(nova::NovaKeyPair, |x: nova::NovaKeyPair| x.into_core());
    attempt!(nova::HypervisorList, |x: nova::HypervisorList| x
        .hypervisors
        .iter()
        .map(nova::Hypervisor::is_vmware)
        .count());
    attempt!(nova::ServerList, |x: nova::ServerList| x.servers.len());
    attempt!(nova::FlavorList, |x: nova::FlavorList| x.flavors.len());
    attempt!(nova::KeyPairList, |x: nova::KeyPairList| x.keypairs.len());
    attempt!(neutron::NeutronNetwork, |x: neutron::NeutronNetwork| x
        .into_core(doc()));
    attempt!(neutron::NeutronSubnet, |x: neutron::NeutronSubnet| x
        .into_core(doc()));
    attempt!(neutron::NeutronPort, |x: neutron::NeutronPort| x
        .into_core(doc()));
    attempt!(neutron::NeutronRule, |x: neutron::NeutronRule| x
        .into_core());
    attempt!(
        neutron::NeutronSecurityGroup,
        |x: neutron::NeutronSecurityGroup| x.into_core(doc())
    );
    attempt!(neutron::NeutronRouter, |x: neutron::NeutronRouter| x
        .into_core(Vec::new(), doc()));
    attempt!(
        neutron::NeutronFloatingIp,
        |x: neutron::NeutronFloatingIp| x.into_core(doc())
    );
    attempt!(neutron::ExtensionList, |x: neutron::ExtensionList| x
        .extensions
        .len());
    attempt!(cinder::CinderVolume, |x: cinder::CinderVolume| x
        .into_core(doc()));
    attempt!(cinder::CinderSnapshot, |x: cinder::CinderSnapshot| x
        .into_core(doc()));
    attempt!(glance::GlanceImage, |x: glance::GlanceImage| x.into_core(
        Some("r"),
        true,
        doc()
    ));
    attempt!(glance::ImageList, |x: glance::ImageList| x.images.len());
    attempt!(keystone::TokenResponse, |x: keystone::TokenResponse| {
        let catalog = x.token.catalog;
        keystone::has_service(&catalog, "compute", Some("RegionOne"))
    });
    attempt!(VersionDoc, |x: VersionDoc| x.range("v2.1"));
    if let Some(s) = c.as_str() {
        let _ = Microversion::parse(s);
    }
    ok
}

/// Decodes `bytes` as JSON and runs every decoder on the document, on each member
/// of it and on each element of its arrays (the envelopes' insides).
pub(crate) fn decode_all(bytes: &[u8]) -> usize {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return 0;
    };
    let mut ok = decode_one(&v);
    if let Value::Object(m) = &v {
        for inner in m.values() {
            ok += decode_one(inner);
            if let Value::Array(items) = inner {
                for item in items.iter().take(8) {
                    ok += decode_one(item);
                }
            }
        }
    }
    ok
}
