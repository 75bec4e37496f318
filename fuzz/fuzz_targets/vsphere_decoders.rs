//! Every vim25 SOAP decoder and every vAPI REST decoder (with their core conversions)
//! on arbitrary bytes, through `hybrid_vsphere::decode`, as the property tests do.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hybrid_vsphere::decode::soap(data);
    for status in [200, 201, 400, 401, 404, 500] {
        let _ = hybrid_vsphere::decode::vapi(status, data);
    }
});
