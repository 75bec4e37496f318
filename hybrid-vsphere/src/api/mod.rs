//! One function per vim25 call or vAPI REST call. Each serializes its request, sends
//! it through the session (or, before login, the transport) or the vAPI transport, and
//! reads the typed answer.

pub(crate) mod library;
pub(crate) mod network;
pub(crate) mod property;
pub(crate) mod session;
pub(crate) mod tagging;
pub(crate) mod vm;
pub(crate) mod vslm;

use hybrid_core::Result;

use crate::error::shape_error;
use crate::protocol::types::Mor;
use crate::protocol::xml::Node;

/// The `returnval` of a response, as a managed-object reference (a `…_Task` method's
/// task).
pub(crate) fn returned_mor(method: &str, resp: &Node) -> Result<Mor> {
    let rv = resp.req("returnval").map_err(|e| shape_error(method, e))?;
    Mor::from_node(rv).map_err(|e| shape_error(method, e))
}

/// An id as one URL path segment: everything but unreserved characters and `:`/`@`
/// percent-encoded (vAPI ids such as `urn:vmomi:InventoryServiceTag:…:GLOBAL` keep
/// their colons).
pub(crate) fn seg(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(
            super::seg("urn:vmomi:InventoryServiceTag:1-2:GLOBAL"),
            "urn:vmomi:InventoryServiceTag:1-2:GLOBAL"
        );
        assert_eq!(super::seg("a/b c?d"), "a%2Fb%20c%3Fd");
    }
}
