//! SOAP over HTTPS: one POST per vim25 call, the session cookie, retries, tracing.
//!
//! This uses reqwest directly rather than `hybrid_http::HttpClient`: a vim25 fault comes
//! back as HTTP 500 with the fault's type only in the XML body, and `HttpClient` turns
//! every status of 400 or more into an error whose body has been reduced to text. TLS
//! follows the same rules (rustls, an extra CA bundle, insecure only by explicit opt-in
//! with a warning), URLs are redacted with `hybrid_http::redact`, the cookie header is
//! marked sensitive, and bodies (which hold the password at login) are never logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE, COOKIE, SET_COOKIE};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;
use url::Url;

use hybrid_core::operation::{Backoff, WaitOptions};
use hybrid_core::{Error, ErrorKind, Result};

use crate::config::VsphereConfig;
use crate::error::soap_error;
use crate::protocol::soap::{parse_response, SoapError};
use crate::protocol::xml::Node;

/// The session cookie vCenter sets at login.
pub(crate) const SESSION_COOKIE: &str = "vmware_soap_session";

/// The vim25 version announced before the server's own is known.
pub(crate) const BASELINE_VERSION: &str = "6.5";

const MAX_ATTEMPTS: u32 = 3;

/// Whether a call only reads: such calls are retried after a timeout or a 502/503/504.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    ReadOnly,
    Mutating,
}

pub(crate) struct Transport {
    http: reqwest::Client,
    url: Url,
    cookie: RwLock<Option<SecretString>>,
    version: RwLock<String>,
    calls: AtomicU64,
    timeout: Duration,
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
    pub(crate) fn new(cfg: &VsphereConfig) -> Result<Transport> {
        let url = Url::parse(&cfg.url)
            .map_err(|e| Error::config("the vCenter URL is not a valid URL").with_source(e))?;
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("hybrid-vsphere/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Error::config(format!("cannot read the CA bundle {}", path.display()))
                    .with_source(e)
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::config(format!(
                    "{} is not a PEM certificate bundle",
                    path.display()
                ))
                .with_source(e)
            })?;
            if certs.is_empty() {
                return Err(Error::config(format!(
                    "{} holds no PEM certificate",
                    path.display()
                )));
            }
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if cfg.insecure {
            tracing::warn!(
                target: "hybrid_vsphere",
                "TLS certificate verification is DISABLED for the vCenter (insecure): \
                 connections can be intercepted and credentials stolen; use a CA file instead"
            );
            b = b.danger_accept_invalid_certs(true);
        }
        let http = b.build().map_err(|e| {
            Error::config("cannot set up the HTTP client (TLS or certificate error)")
                .with_source(e.without_url())
        })?;
        Ok(Transport {
            http,
            url,
            cookie: RwLock::new(None),
            version: RwLock::new(BASELINE_VERSION.to_owned()),
            calls: AtomicU64::new(0),
            timeout: cfg.request_timeout(),
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
        self.call_inner(method, envelope, idem)
            .instrument(span)
            .await
    }

    async fn call_inner(&self, method: &str, envelope: String, idem: Idempotency) -> Result<Node> {
        let mut backoff = Backoff::new(WaitOptions {
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            ..WaitOptions::default()
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            tracing::Span::current().record("attempt", attempt);
            let failure = match self.attempt(method, &envelope).await {
                Ok(node) => return Ok(node),
                Err(f) => f,
            };
            let retry = match &failure {
                Attempt::Connect(_) => true,
                Attempt::Timeout | Attempt::Broken(_) => idem == Idempotency::ReadOnly,
                Attempt::Status(s, _) => idem == Idempotency::ReadOnly && matches!(s, 502..=504),
                Attempt::Done(_) => false,
            };
            if !retry || attempt >= MAX_ATTEMPTS {
                return Err(self.to_error(method, failure, attempt));
            }
            let delay = backoff.next_delay(None);
            tracing::info!(target: "hybrid_vsphere", method, attempt, delay_ms = delay.as_millis() as u64, "retrying SOAP call");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, method: &str, envelope: &str) -> std::result::Result<Node, Attempt> {
        let version = self
            .version
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|_| BASELINE_VERSION.to_owned());
        let mut req = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", format!("urn:vim25/{version}"))
            .body(envelope.to_owned());
        let cookie = self.cookie.read().ok().and_then(|g| g.clone());
        if let Some(c) = cookie {
            if let Ok(mut v) =
                HeaderValue::from_str(&format!("{SESSION_COOKIE}={}", c.expose_secret()))
            {
                v.set_sensitive(true);
                req = req.header(COOKIE, v);
            }
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Err(Attempt::Connect(e.without_url())),
            Err(e) if e.is_timeout() => return Err(Attempt::Timeout),
            Err(e) => return Err(Attempt::Broken(e.without_url())),
        };
        let status = resp.status().as_u16();
        tracing::Span::current().record("status", status);
        for v in resp.headers().get_all(SET_COOKIE) {
            if let Some(secret) = v.to_str().ok().and_then(session_cookie) {
                if let Ok(mut g) = self.cookie.write() {
                    *g = Some(secret);
                }
            }
        }
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => return Err(Attempt::Timeout),
            Err(e) => return Err(Attempt::Broken(e.without_url())),
        };
        match parse_response(method, &body) {
            Ok(n) if status < 300 => Ok(n),
            Ok(_) => Err(Attempt::Status(status, None)),
            Err(SoapError::Fault { fault, message }) => {
                Err(Attempt::Done(SoapError::Fault { fault, message }))
            }
            Err(SoapError::Malformed(m)) if status < 300 => {
                Err(Attempt::Done(SoapError::Malformed(m)))
            }
            Err(SoapError::Malformed(_)) => Err(Attempt::Status(status, Some(body_hint(&body)))),
        }
    }

    fn to_error(&self, method: &str, f: Attempt, attempts: u32) -> Error {
        let target = hybrid_http::redact::redact_url(&self.url);
        let note = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        match f {
            Attempt::Done(e) => soap_error(method, e),
            Attempt::Connect(e) => Error::new(
                ErrorKind::Transport,
                format!("{method}: could not connect to {target}{note}"),
            )
            .with_source(e),
            Attempt::Broken(e) => Error::new(
                ErrorKind::Transport,
                format!("{method}: the connection to {target} failed{note}"),
            )
            .with_source(e),
            Attempt::Timeout => Error::new(
                ErrorKind::Timeout,
                format!(
                    "{method}: no answer from {target} within {:?}{note}",
                    self.timeout
                ),
            ),
            Attempt::Status(s, hint) => {
                let kind = ErrorKind::from_http_status(s).unwrap_or(ErrorKind::InvalidResponse);
                let mut msg =
                    format!("{method}: HTTP {s} from {target} without a SOAP fault{note}");
                if let Some(h) = hint {
                    msg.push_str(": ");
                    msg.push_str(&h);
                }
                Error::new(kind, msg).with_http_status(s)
            }
        }
    }
}

enum Attempt {
    Connect(reqwest::Error),
    Timeout,
    Broken(reqwest::Error),
    Status(u16, Option<String>),
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
