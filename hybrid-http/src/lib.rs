//! # hybrid-http
//!
//! The HTTP plumbing every hybrid backend shares, so that TLS, retries, tokens, paging,
//! error mapping, redaction and tracing behave the same against OpenStack, vSphere and
//! Azure.
//!
//! - [`ClientOptions`] → [`HttpClient`]: rustls only, connect/request/read timeouts, a
//!   proxy, extra CA bundles, insecure TLS only by explicit (and logged) opt-in.
//! - [`RequestBuilder`]: method, URL, headers, JSON or streamed body, idempotency, the
//!   auth-endpoint flag, the operation name for errors, per-request timeout and deadline;
//!   [`send`](RequestBuilder::send) retries as the [`retry`] rules allow and maps every
//!   failure to a [`hybrid_core::Error`] ([`errors`]).
//! - [`TokenSource`] + [`TokenCache`]: tokens refreshed before expiry, single-flight,
//!   invalidated and retried once on `401`.
//! - [`pagination`]: marker, next-link and continuation-token listings as
//!   [`hybrid_core::Page`]s and lazy streams.
//! - [`redact`]: what is never logged; every request runs in an `http.request`
//!   [`tracing`] span with method, host, path, operation, attempt, status and request id.
//!
//! Secrets are [`SecretString`]s end to end; sensitive headers are marked with
//! [`HeaderValue::set_sensitive`](header::HeaderValue::set_sensitive), and bodies of
//! authentication responses never appear in errors.

pub mod auth;
mod client;
pub mod errors;
pub mod options;
pub mod pagination;
pub mod redact;
pub mod retry;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use auth::{AuthHeader, Authorizer, Token, TokenCache, TokenHeader, TokenSource};
pub use client::{HttpClient, RequestBuilder, Response};
pub use options::ClientOptions;
pub use pagination::{PageStyle, PagedRequest};
pub use retry::RetryPolicy;

/// Re-exported so that backends use the same versions without depending on them.
pub use async_trait::async_trait;
pub use bytes::Bytes;
pub use reqwest::{header, Method, StatusCode};
pub use secrecy::{ExposeSecret, SecretString};
pub use url::Url;
