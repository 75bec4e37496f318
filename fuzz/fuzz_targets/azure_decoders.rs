//! Every ARM and Entra ID response decoder (with its core conversion), the string
//! parsers, the error-body parser, `nextLink` handling and the start of a long-running
//! operation on arbitrary bytes, through the same list the property tests use.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../hybrid-azure/tests/support/decoders.rs"]
#[allow(dead_code)]
mod decoders;

fuzz_target!(|data: &[u8]| {
    decoders::decode_all(data);
});
