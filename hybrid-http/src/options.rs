//! Client configuration: timeouts, proxy, TLS trust, user agent and the retry policy.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::retry::RetryPolicy;

/// The default `User-Agent`: `hybrid/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("hybrid/", env!("CARGO_PKG_VERSION"));

/// The default bound on how much of an error response body is read (64 KiB).
pub const DEFAULT_MAX_ERROR_BODY: usize = 64 * 1024;

/// The default bound on a buffered (non-streamed) response body (64 MiB).
pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;

/// How an [`HttpClient`](crate::HttpClient) talks to services.
///
/// Build it with [`ClientOptions::new`] and the `with_*` methods, or deserialize it from a
/// configuration file (every field is optional; durations are numbers of seconds or
/// strings such as `"250ms"`, `"30s"`, `"5m"`):
///
/// ```
/// let opts: hybrid_http::ClientOptions = serde_json::from_str(
///     r#"{"connect_timeout": "5s", "request_timeout": 30, "ca_bundle": "/etc/pki/corp-ca.pem",
///         "retry": {"max_attempts": 3, "total_deadline": "2m"}}"#,
/// ).unwrap();
/// assert_eq!(opts.connect_timeout, std::time::Duration::from_secs(5));
/// assert_eq!(opts.retry.max_attempts, 3);
/// ```
///
/// TLS always uses rustls. Certificate checks can only be switched off by
/// [`with_danger_accept_invalid_certs`](ClientOptions::with_danger_accept_invalid_certs),
/// which logs a warning whenever a client is built with it.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Time allowed to open a TCP connection and finish the TLS handshake.
    #[serde(with = "crate::options::duration")]
    pub connect_timeout: Duration,
    /// Time allowed for one attempt: sending the request, receiving the response headers,
    /// and reading a buffered body. Requests with a streaming body are exempt unless they
    /// set their own timeout.
    #[serde(with = "crate::options::duration")]
    pub request_timeout: Duration,
    /// Longest pause between two reads of a response body (guards streamed downloads).
    #[serde(with = "crate::options::duration")]
    pub read_timeout: Duration,
    /// A proxy for every request, for example `http://proxy.corp:3128` (credentials in
    /// the URL are allowed and never shown).
    pub proxy: Option<String>,
    /// Whether the `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` environment variables apply when
    /// no [`proxy`](ClientOptions::proxy) is set. Default: true.
    pub use_env_proxy: bool,
    /// A PEM file with one or more extra CA certificates to trust (an enterprise CA).
    pub ca_bundle: Option<PathBuf>,
    /// Whether the built-in (Mozilla) root certificates are trusted. Default: true.
    pub builtin_roots: bool,
    /// Accept any server certificate. Dangerous; for lab setups only. Default: false.
    pub danger_accept_invalid_certs: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Retries, backoff and the total deadline.
    pub retry: RetryPolicy,
    /// The most bytes of an error response body that are read.
    pub max_error_body: usize,
    /// The most bytes of a buffered success body ([`Response::bytes`](crate::Response::bytes),
    /// `text`, `json`); a larger body is an `InvalidResponse` error, read no further.
    /// Streamed bodies are not bounded by it.
    pub max_body: usize,
    /// Extra CA certificates given as PEM bytes (not read from configuration files).
    #[serde(skip)]
    pub ca_pem: Option<Vec<u8>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            proxy: None,
            use_env_proxy: true,
            ca_bundle: None,
            builtin_roots: true,
            danger_accept_invalid_certs: false,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            retry: RetryPolicy::default(),
            max_error_body: DEFAULT_MAX_ERROR_BODY,
            max_body: DEFAULT_MAX_BODY,
            ca_pem: None,
        }
    }
}

impl ClientOptions {
    /// The defaults: 10 s to connect, 60 s per attempt, the default [`RetryPolicy`],
    /// built-in roots, environment proxies honoured.
    pub fn new() -> Self {
        ClientOptions::default()
    }

    /// Sets the bound on a buffered response body (see [`ClientOptions::max_body`]).
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Sets the connect (TCP + TLS handshake) timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the per-attempt request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the longest pause between two body reads.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sends every request through `proxy` (an `http://` or `https://` URL, optionally
    /// with credentials).
    pub fn with_proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }

    /// Whether proxy environment variables apply when no proxy is set.
    pub fn with_env_proxy(mut self, enabled: bool) -> Self {
        self.use_env_proxy = enabled;
        self
    }

    /// Trusts the CA certificates of a PEM file (one or several certificates).
    pub fn with_ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_bundle = Some(path.into());
        self
    }

    /// Trusts the CA certificates in `pem` (one or several PEM certificates).
    pub fn with_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Whether the built-in root certificates are trusted (turn off to trust only the
    /// CA bundle).
    pub fn with_builtin_roots(mut self, enabled: bool) -> Self {
        self.builtin_roots = enabled;
        self
    }

    /// Accepts any server certificate, valid or not. Only for lab setups: anyone on the
    /// path can then read and change the traffic, credentials included. Every client
    /// built with it logs a warning.
    pub fn with_danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how many bytes of an error body are read at most.
    pub fn with_max_error_body(mut self, bytes: usize) -> Self {
        self.max_error_body = bytes;
        self
    }

    /// Builds a client with these options.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](hybrid_core::ErrorKind::Config) when the proxy URL is
    /// invalid, the CA bundle cannot be read or holds no valid certificate, or the TLS
    /// setup fails.
    pub fn build(self) -> hybrid_core::Result<crate::HttpClient> {
        crate::HttpClient::new(self)
    }
}

/// `proxy` with its user info hidden.
fn redacted_proxy(proxy: &str) -> String {
    match url::Url::parse(proxy) {
        Ok(u) => crate::redact::redact_url(&u),
        Err(_) => crate::redact::REDACTED.to_owned(),
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("proxy", &self.proxy.as_deref().map(redacted_proxy))
            .field("use_env_proxy", &self.use_env_proxy)
            .field("ca_bundle", &self.ca_bundle)
            .field(
                "ca_pem",
                &self.ca_pem.as_ref().map(|p| format!("{} bytes", p.len())),
            )
            .field("builtin_roots", &self.builtin_roots)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("max_error_body", &self.max_error_body)
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// Serde helpers for durations written as seconds (`30`, `0.5`) or with a unit
/// (`"250ms"`, `"30s"`, `"5m"`, `"1h"`).
pub(crate) mod duration {
    use std::time::Duration;

    use serde::de::{self, Deserializer, Visitor};

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(
                "a duration: seconds as a number, or a string like \"250ms\", \"30s\", \"5m\"",
            )
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            u64::try_from(v)
                .map(Duration::from_secs)
                .map_err(|_| E::custom("a duration cannot be negative"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
            Duration::try_from_secs_f64(v)
                .map_err(|_| E::custom("a duration must be a finite, non-negative number"))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    /// Parses `"250ms"`, `"30s"`, `"5m"`, `"1h"` or a bare number of seconds.
    pub(crate) fn parse(s: &str) -> Option<Duration> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: f64 = num.parse().ok()?;
        let secs = match unit.trim() {
            "" | "s" | "sec" | "secs" => n,
            "ms" => n / 1000.0,
            "m" | "min" | "mins" => n * 60.0,
            "h" => n * 3600.0,
            _ => return None,
        };
        Duration::try_from_secs_f64(secs).ok()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        d.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(duration::parse("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(duration::parse("30s"), Some(Duration::from_secs(30)));
        assert_eq!(duration::parse("5m"), Some(Duration::from_secs(300)));
        assert_eq!(duration::parse("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(duration::parse("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(duration::parse("soon"), None);
        assert_eq!(duration::parse("5 parsecs"), None);
        assert_eq!(duration::parse(""), None);
    }

    #[test]
    fn options_deserialize_with_defaults() {
        let o: ClientOptions = serde_json::from_str(
            r#"{"connect_timeout": 0.5, "request_timeout": "2m", "proxy": "http://u:pw@proxy.local:3128",
                "danger_accept_invalid_certs": true, "retry": {"initial_backoff": "100ms"}}"#,
        )
        .unwrap();
        assert_eq!(o.connect_timeout, Duration::from_millis(500));
        assert_eq!(o.request_timeout, Duration::from_secs(120));
        assert_eq!(o.read_timeout, Duration::from_secs(60));
        assert!(o.danger_accept_invalid_certs && o.use_env_proxy && o.builtin_roots);
        assert_eq!(o.retry.initial_backoff, Duration::from_millis(100));
        assert_eq!(o.retry.max_attempts, RetryPolicy::default().max_attempts);
        assert_eq!(o.user_agent, DEFAULT_USER_AGENT);

        let bad = serde_json::from_str::<ClientOptions>(r#"{"connect_timeout": -1}"#);
        assert!(bad.is_err());
        let unknown = serde_json::from_str::<ClientOptions>(r#"{"conect_timeout": 1}"#);
        assert!(unknown.is_err(), "typos are reported, not ignored");
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let o = ClientOptions::new()
            .with_proxy("http://alice:s3cr3t-pw@proxy.local:3128")
            .with_ca_pem(b"-----BEGIN CERTIFICATE-----".to_vec());
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("s3cr3t-pw") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(shown.contains("proxy.local:3128"));
        assert!(shown.contains("27 bytes"));
        let weird = ClientOptions::new().with_proxy("not a url with secret");
        assert!(!format!("{weird:?}").contains("secret"));
    }
}
