//! One function per vim25 call. Each serializes its request, sends it through the
//! session (or, before login, the transport) and reads the typed answer.

pub(crate) mod network;
pub(crate) mod property;
pub(crate) mod session;
pub(crate) mod vm;

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
