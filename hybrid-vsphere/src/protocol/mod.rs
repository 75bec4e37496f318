//! The wire protocol: vim25 SOAP envelopes, request bodies and typed views of answers.
//! No I/O here.

pub(crate) mod requests;
pub(crate) mod soap;
pub(crate) mod types;
pub(crate) mod xml;
