//! Redaction of secrets in URLs and headers before anything is logged or put in an error.
//!
//! The rules are deliberately broad: a header or query parameter whose name looks like it
//! may carry a credential is hidden, even if it turns out to be harmless. Hidden values are
//! replaced by [`REDACTED`].

use std::fmt;

use reqwest::header::{HeaderMap, HeaderName};
use url::Url;

/// What replaces a hidden value.
pub const REDACTED: &str = "REDACTED";

/// Headers that always carry credentials.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-auth-token",
    "x-subject-token",
    "x-service-token",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "ocp-apim-subscription-key",
    "x-ms-authorization-auxiliary",
    "x-vmware-vcloud-access-token",
    "vmware-api-session-id",
];

/// Name fragments that make a header or query parameter look secret.
const SECRET_FRAGMENTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "credential",
    "session",
    "apikey",
    "api-key",
    "api_key",
    "auth",
    "cookie",
];

/// Query parameters hidden by exact (case-insensitive) name, on top of the fragments.
const SECRET_QUERY_PARAMS: &[&str] = &[
    "sig",
    "code",
    "key",
    "sas",
    "assertion",
    "client_assertion",
    "pwd",
    "pass",
];

/// Whether a header with this name carries (or may carry) a credential.
///
/// ```
/// assert!(hybrid_http::redact::is_sensitive_header("X-Auth-Token"));
/// assert!(hybrid_http::redact::is_sensitive_header("Set-Cookie"));
/// assert!(!hybrid_http::redact::is_sensitive_header("Content-Type"));
/// ```
pub fn is_sensitive_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE_HEADERS.contains(&lower.as_str())
        || SECRET_FRAGMENTS.iter().any(|f| lower.contains(f))
}

/// Whether a query parameter with this name may carry a credential (`sig`, `token`,
/// `code`, `password`, `client_secret`, …).
///
/// ```
/// assert!(hybrid_http::redact::is_secret_query_param("sig"));
/// assert!(hybrid_http::redact::is_secret_query_param("access_token"));
/// assert!(!hybrid_http::redact::is_secret_query_param("limit"));
/// ```
pub fn is_secret_query_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_QUERY_PARAMS.contains(&lower.as_str())
        || SECRET_FRAGMENTS.iter().any(|f| lower.contains(f))
}

/// Marks every header of `headers` that [`is_sensitive_header`] as sensitive
/// ([`HeaderValue::set_sensitive`](reqwest::header::HeaderValue::set_sensitive)), so
/// that HTTP libraries and `Debug` output hide it too.
pub fn mark_sensitive(headers: &mut HeaderMap) {
    for (name, value) in headers.iter_mut() {
        if is_sensitive_header(name.as_str()) {
            value.set_sensitive(true);
        }
    }
}

fn header_is_hidden(name: &HeaderName, sensitive: bool) -> bool {
    sensitive || is_sensitive_header(name.as_str())
}

/// The URL as it may be logged or shown: user info dropped, secret-looking query values
/// replaced by [`REDACTED`], fragment dropped.
///
/// ```
/// let url = url::Url::parse("https://u:p@blob.example/c/x?sv=2024&sig=abc&limit=2#f").unwrap();
/// assert_eq!(
///     hybrid_http::redact::redact_url(&url),
///     "https://blob.example/c/x?sv=2024&sig=REDACTED&limit=2"
/// );
/// ```
pub fn redact_url(url: &Url) -> String {
    let mut out = url.clone();
    // Both calls only fail for URLs that cannot have credentials (cannot-be-a-base).
    let _ = out.set_username("");
    let _ = out.set_password(None);
    out.set_fragment(None);
    if out.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_query_param(&k) {
                    REDACTED.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        out.set_query(None);
        if !pairs.is_empty() {
            out.query_pairs_mut().extend_pairs(pairs);
        }
    }
    out.to_string()
}

/// A `Debug`/`Display` view of a header map that hides every sensitive value.
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// let mut h = HeaderMap::new();
/// h.insert("x-auth-token", HeaderValue::from_static("gAAAA-secret"));
/// h.insert("accept", HeaderValue::from_static("application/json"));
/// let shown = format!("{:?}", hybrid_http::redact::RedactedHeaders(&h));
/// assert!(!shown.contains("gAAAA"));
/// assert!(shown.contains("application/json"));
/// ```
pub struct RedactedHeaders<'a>(pub &'a HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (name, value) in self.0.iter() {
            if header_is_hidden(name, value.is_sensitive()) {
                m.entry(&name.as_str(), &REDACTED);
            } else {
                match value.to_str() {
                    Ok(v) => m.entry(&name.as_str(), &v),
                    Err(_) => m.entry(&name.as_str(), &"<binary>"),
                };
            }
        }
        m.finish()
    }
}

impl fmt::Display for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn headers_are_classified() {
        for h in [
            "Authorization",
            "X-Auth-Token",
            "X-Subject-Token",
            "Cookie",
            "Set-Cookie",
            "X-Api-Key",
            "api-key",
            "Ocp-Apim-Subscription-Key",
            "vmware-api-session-id",
            "X-Custom-Secret",
        ] {
            assert!(is_sensitive_header(h), "{h}");
        }
        for h in [
            "Content-Type",
            "Accept",
            "X-Openstack-Request-Id",
            "OpenStack-API-Version",
            "User-Agent",
        ] {
            assert!(!is_sensitive_header(h), "{h}");
        }
    }

    #[test]
    fn query_params_are_classified() {
        for q in [
            "sig",
            "SIG",
            "token",
            "access_token",
            "code",
            "password",
            "client_secret",
            "X-Amz-Signature",
            "key",
        ] {
            assert!(is_secret_query_param(q), "{q}");
        }
        for q in [
            "limit",
            "marker",
            "api-version",
            "name",
            "sort_dir",
            "sort_key",
        ] {
            assert!(!is_secret_query_param(q), "{q}");
        }
        // Continuation tokens are hidden too: they are not for logs.
        assert!(is_secret_query_param("$skiptoken"));
    }

    #[test]
    fn url_redaction() {
        let u =
            Url::parse("http://admin:hunter2@127.0.0.1:5000/v3/x?token=abc&limit=5&password=pw")
                .unwrap();
        let r = redact_url(&u);
        assert_eq!(
            r,
            "http://127.0.0.1:5000/v3/x?token=REDACTED&limit=5&password=REDACTED"
        );
        assert!(!r.contains("hunter2") && !r.contains("admin") && !r.contains("abc"));
        let plain = Url::parse("https://h/p").unwrap();
        assert_eq!(redact_url(&plain), "https://h/p");
    }

    #[test]
    fn marking_and_debug() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer abc.def"));
        h.insert("x-openstack-request-id", HeaderValue::from_static("req-1"));
        let mut custom = HeaderValue::from_static("opaque-value");
        custom.set_sensitive(true);
        h.insert("x-other", custom);
        mark_sensitive(&mut h);
        assert!(h["authorization"].is_sensitive());
        assert!(!h["x-openstack-request-id"].is_sensitive());
        let shown = RedactedHeaders(&h).to_string();
        assert!(
            !shown.contains("abc.def") && !shown.contains("opaque-value"),
            "{shown}"
        );
        assert!(shown.contains("req-1"));
    }
}
