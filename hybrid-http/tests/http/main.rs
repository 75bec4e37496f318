//! Integration tests of hybrid-http against local wiremock servers (127.0.0.1 only).

#![allow(missing_docs, unreachable_pub)]

mod auth;
mod common;
mod errors;
mod logging;
mod paging;
mod request;
mod retry;
mod tls;
