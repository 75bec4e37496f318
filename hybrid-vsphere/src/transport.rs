//! SOAP over HTTPS: one POST per vim25 call, the session cookie, retries, tracing.
//!
//! Every attempt goes through [`hybrid_http::HttpClient`] (the one the vAPI transport
//! uses too), so the [`ClientOptions`](hybrid_http::ClientOptions) the provider was
//! built with hold for SOAP as they do for REST: TLS (rustls, an extra CA bundle,
//! insecure only by explicit opt-in with a warning), the per-attempt request timeout,
//! the retry policy (attempts, backoff, total deadline), `Retry-After`, the
//! [`max_body`](hybrid_http::ClientOptions::max_body) bound on a buffered answer,
//! redaction (the cookie header is sensitive; bodies, which hold the password at login,
//! are never logged) and the `http.request` spans.
//!
//! The retry *decision* is made here, one attempt at a time, because a vim25 fault
//! comes back as HTTP 500 with the fault's type only in the XML body: the HTTP layer
//! would retry every 500 of a read, but a fault (`ManagedObjectNotFound`,
//! `NotAuthenticated`, …) is an answer, not a transient failure. So: a connect error is
//! retried for every call, and so is a `429` (refused before it ran); a timeout, a
//! broken connection, and `408`/`5xx` *without* a SOAP fault are retried only for [`Idempotency::ReadOnly`] calls (a
//! mutating call such as `CreateVM_Task` is never sent twice once it may have reached
//! the vCenter); the delay is the answer's `Retry-After` (seconds or HTTP date) when it
//! has one, else the policy's backoff; no attempt starts after the policy's total
//! deadline.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use secrecy::SecretString;
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use hybrid_core::{Error, ErrorKind, Result};
use hybrid_http::header::{HeaderMap, COOKIE, SET_COOKIE};
use hybrid_http::{Bytes, ExposeSecret, HttpClient, RetryPolicy, StatusCode};

use crate::config::VsphereConfig;
use crate::error::soap_error;
use crate::protocol::soap::{parse_response, SoapError};
use crate::protocol::xml::Node;

/// The session cookie vCenter sets at login.
pub(crate) const SESSION_COOKIE: &str = "vmware_soap_session";

/// The vim25 version announced before the server's own is known.
pub(crate) const BASELINE_VERSION: &str = "6.5";

/// Whether a call only reads: such calls are retried after a timeout, a broken
/// connection or a 408/429/5xx without a SOAP fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    ReadOnly,
    Mutating,
}

/// The HTTP client of a vCenter (shared by SOAP and vAPI) over `options`, naming the
/// provider in its errors.
pub(crate) fn http_client(
    cfg: &VsphereConfig,
    options: hybrid_http::ClientOptions,
) -> Result<HttpClient> {
    Ok(HttpClient::new(options)?.with_provider(cfg.name.clone()))
}

pub(crate) struct Transport {
    http: HttpClient,
    url: Url,
    cookie: RwLock<Option<SecretString>>,
    version: RwLock<String>,
    calls: AtomicU64,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("url", &hybrid_http::redact::redact_url(&self.url))
            .field("calls", &self.calls.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for the SDK URL of `cfg` over `http`.
    pub(crate) fn with_client(cfg: &VsphereConfig, http: HttpClient) -> Result<Transport> {
        let url = Url::parse(&cfg.url)
            .map_err(|e| Error::config("the vCenter URL is not a valid URL").with_source(e))?;
        Ok(Transport {
            http,
            url,
            cookie: RwLock::new(None),
            version: RwLock::new(BASELINE_VERSION.to_owned()),
            calls: AtomicU64::new(0),
        })
    }

    /// SOAP calls sent so far (each attempt counts).
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn set_version(&self, v: &str) {
        if let Ok(mut g) = self.version.write() {
            *g = v.to_owned();
        }
    }

    pub(crate) fn clear_cookie(&self) {
        if let Ok(mut g) = self.cookie.write() {
            *g = None;
        }
    }

    pub(crate) fn has_cookie(&self) -> bool {
        self.cookie.read().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Sends `envelope` as vim25 method `method` and returns its `…Response` element.
    pub(crate) async fn call(
        &self,
        method: &str,
        envelope: String,
        idem: Idempotency,
    ) -> Result<Node> {
        let span = tracing::debug_span!(
            target: "hybrid_vsphere",
            "vsphere.soap",
            method,
            host = self.url.host_str().unwrap_or(""),
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        self.call_inner(method, Bytes::from(envelope), idem)
            .instrument(span)
            .await
    }

    async fn call_inner(&self, method: &str, envelope: Bytes, idem: Idempotency) -> Result<Node> {
        let policy = self.http.options().retry.clone();
        let deadline = Instant::now() + policy.total_deadline;
        let mut backoff = policy.backoff();
        let mut attempt = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            let remaining = deadline.saturating_duration_since(Instant::now());
            let failure = match self.attempt(method, &envelope, idem, remaining).await {
                Ok(node) => return Ok(node),
                Err(f) => f,
            };
            let (retry, requested) = match &failure {
                // The HTTP layer knows whether a retry is safe: a connect error always
                // is, a timeout or a broken connection only for a read (the request is
                // marked idempotent then), a failed certificate check never.
                Attempt::Http(e) => (e.is_retryable(), None),
                // The answer was cut or stalled: the call reached the vCenter.
                Attempt::Body(e) => (idem == Idempotency::ReadOnly && e.is_retryable(), None),
                // A 429 was refused before it ran, so even a mutating call is sent again.
                Attempt::Status {
                    status, headers, ..
                } => (
                    hybrid_http::retry::is_retryable_status_for(
                        *status,
                        idem == Idempotency::ReadOnly,
                    ),
                    hybrid_http::retry::retry_after(headers, std::time::SystemTime::now()),
                ),
                Attempt::Done(_) => (false, None),
            };
            if !retry || attempt >= policy.max_attempts {
                return Err(self.to_error(method, failure, attempt, idem));
            }
            let delay = backoff.next_delay(requested);
            if Instant::now() + delay >= deadline {
                tracing::debug!(target: "hybrid_vsphere", method, delay_ms = delay.as_millis() as u64, "the next attempt would start after the deadline; giving up");
                return Err(self.to_error(method, failure, attempt, idem));
            }
            tracing::info!(target: "hybrid_vsphere", method, attempt, delay_ms = delay.as_millis() as u64, "retrying SOAP call");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        method: &str,
        envelope: &Bytes,
        idem: Idempotency,
        remaining: Duration,
    ) -> std::result::Result<Node, Attempt> {
        let version = self
            .version
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|_| BASELINE_VERSION.to_owned());
        let mut req = self
            .http
            .post(self.url.as_str())
            .body(envelope.clone(), "text/xml; charset=utf-8")
            .header("SOAPAction", format!("urn:vim25/{version}"))
            .idempotent(idem == Idempotency::ReadOnly)
            .retry(RetryPolicy::none())
            .deadline(remaining)
            .auth_endpoint(method == "Login")
            .operation(method.to_owned());
        let cookie = self.cookie.read().ok().and_then(|g| g.clone());
        if let Some(c) = cookie {
            let value = SecretString::from(format!("{SESSION_COOKIE}={}", c.expose_secret()));
            req = req.secret_header(COOKIE, &value);
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let resp = req.send_raw().await.map_err(Attempt::Http)?;
        let status = resp.status();
        tracing::Span::current().record("status", status.as_u16());
        for v in resp.headers().get_all(SET_COOKIE) {
            if let Some(secret) = v.to_str().ok().and_then(session_cookie) {
                if let Ok(mut g) = self.cookie.write() {
                    *g = Some(secret);
                }
            }
        }
        let headers = resp.headers().clone();
        // Bounded by `ClientOptions::max_body` and the attempt's timeout.
        let body = resp.bytes().await.map_err(Attempt::Body)?;
        // Valid UTF-8 (every vCenter answer) is checked at full speed and borrowed.
        let body = match std::str::from_utf8(&body) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(&body),
        };
        match parse_response(method, &body) {
            Ok(n) if status.is_success() => Ok(n),
            Err(SoapError::Fault { fault, message }) => {
                Err(Attempt::Done(SoapError::Fault { fault, message }))
            }
            Err(SoapError::Malformed(m)) if status.is_success() => {
                Err(Attempt::Done(SoapError::Malformed(m)))
            }
            _ => Err(Attempt::Status {
                status,
                headers,
                // The login's answer is never echoed.
                hint: (method != "Login").then(|| body_hint(&body)),
            }),
        }
    }

    fn to_error(&self, method: &str, f: Attempt, attempts: u32, idem: Idempotency) -> Error {
        let target = hybrid_http::redact::redact_url(&self.url);
        let note = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        match f {
            Attempt::Done(e) => soap_error(method, e),
            Attempt::Http(e) => wrap(method, e, &note, None),
            Attempt::Body(e) => {
                // A cut answer of a mutating call: it may have been carried out.
                let safe = idem == Idempotency::ReadOnly && e.is_retryable();
                wrap(method, e, &note, Some(safe))
            }
            Attempt::Status {
                status,
                headers,
                hint,
            } => {
                let s = status.as_u16();
                let kind = ErrorKind::from_http_status(s).unwrap_or(ErrorKind::InvalidResponse);
                let mut msg =
                    format!("{method}: HTTP {s} from {target} without a SOAP fault{note}");
                if let Some(h) = hint.filter(|h| !h.is_empty()) {
                    msg.push_str(": ");
                    msg.push_str(&h);
                }
                let mut e = Error::new(kind, msg).with_http_status(s);
                if let Some(after) =
                    hybrid_http::retry::retry_after(&headers, std::time::SystemTime::now())
                {
                    e = e.with_retry_after(after);
                }
                if idem == Idempotency::Mutating && status.is_server_error() {
                    // The call may have been carried out: retrying it blindly is unsafe.
                    e = e.with_retryable(false);
                }
                e
            }
        }
    }
}

/// The HTTP layer's error `e` of `method`, with the method named first.
fn wrap(method: &str, e: Error, note: &str, retryable: Option<bool>) -> Error {
    let mut out = Error::new(e.kind(), format!("{method}: {}{note}", e.message()))
        .with_retryable(retryable.unwrap_or_else(|| e.is_retryable()));
    if let Some(s) = e.http_status() {
        out = out.with_http_status(s);
    }
    out.with_source(e)
}

enum Attempt {
    /// The HTTP layer's error: no answer (connect, TLS, timeout, broken connection).
    Http(Error),
    /// The answer's body could not be read: too large, cut, or too slow.
    Body(Error),
    /// An HTTP error status without a SOAP fault (a proxy's or load balancer's page).
    Status {
        status: StatusCode,
        headers: HeaderMap,
        hint: Option<String>,
    },
    /// A SOAP fault, or a success status whose body is not the method's answer.
    Done(SoapError),
}

/// The value of `vmware_soap_session` in a `Set-Cookie` header.
fn session_cookie(header: &str) -> Option<SecretString> {
    let first = header.split(';').next()?.trim();
    let (name, value) = first.split_once('=')?;
    (name.trim() == SESSION_COOKIE && !value.trim().is_empty())
        .then(|| SecretString::from(value.trim().to_owned()))
}

/// A short, printable hint from a non-SOAP error body (a proxy's page).
fn body_hint(body: &str) -> String {
    let text: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_parsing() {
        let c =
            session_cookie(r#"vmware_soap_session="52a1-b2"; Path=/; HttpOnly; Secure;"#).unwrap();
        assert_eq!(c.expose_secret(), r#""52a1-b2""#);
        assert!(session_cookie("other=1; Path=/").is_none());
        assert!(session_cookie("vmware_soap_session=; Path=/").is_none());
    }
}
