//! Every OpenStack response decoder (and its conversion into the core model) on
//! arbitrary bytes, through the same list the property tests use.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../hybrid-openstack/tests/support/decoders.rs"]
#[allow(dead_code)]
mod decoders;

fuzz_target!(|data: &[u8]| {
    decoders::decode_all(data);
});
