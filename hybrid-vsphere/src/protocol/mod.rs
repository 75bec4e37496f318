//! The wire protocol: vim25 SOAP envelopes, request bodies and typed views of answers,
//! and the vSphere Automation (vAPI) REST documents. No I/O here.

pub(crate) mod requests;
pub(crate) mod soap;
pub(crate) mod types;
pub(crate) mod vapi;
pub(crate) mod xml;
