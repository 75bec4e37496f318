//! Mapping failed responses to [`hybrid_core::Error`].
//!
//! The status gives the [`ErrorKind`] ([`ErrorKind::from_http_status`], refined by the
//! service's error code: quota and "already exists" errors get their own kinds), the
//! request-id headers give [`Error::request_id`], `Retry-After` gives
//! [`Error::retry_after`], and the body gives a clean one-line message. The body styles
//! understood:
//!
//! - Nova/Cinder: `{"itemNotFound": {"message": "...", "code": 404}}` (any fault name)
//! - Neutron: `{"NeutronError": {"type": "...", "message": "...", "detail": ""}}`
//! - Keystone: `{"error": {"message": "...", "code": 401, "title": "Unauthorized"}}`
//! - Azure: `{"error": {"code": "...", "message": "...", "details": [...]}}`
//! - OAuth (Entra ID): `{"error": "invalid_client", "error_description": "..."}`
//! - Placement: `{"errors": [{"title": "...", "detail": "..."}]}`
//! - flat `{"message": "..."}`, `{"faultstring": "..."}`, `{"detail": "..."}`
//! - Glance and proxies: plain text and HTML pages.
//!
//! Bodies are read up to a bound (64 KiB by default), never panic the parser when
//! malformed, and are never used at all for authentication endpoints: those responses
//! might echo credentials.

use std::fmt;

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use hybrid_core::{Error, ErrorKind};

/// Response headers that carry a service's request id, in order of preference.
pub const REQUEST_ID_HEADERS: &[&str] = &[
    "x-openstack-request-id",
    "x-compute-request-id",
    "x-ms-request-id",
    "x-ms-correlation-request-id",
    "x-request-id",
];

/// The longest message kept from an error body, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// The service's request id from the first of [`REQUEST_ID_HEADERS`] present.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        let v = headers.get(*name)?.to_str().ok()?.trim();
        (!v.is_empty()).then(|| clean_text(v, 256))
    })
}

/// What a service said in an error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The service's error code or fault name (`itemNotFound`, `NetworkNotFound`,
    /// `ResourceGroupNotFound`, `invalid_grant`, …), when it gave one.
    pub code: Option<String>,
    /// The message, on one line and at most [`MAX_MESSAGE_CHARS`] characters.
    pub message: String,
}

/// Parses an error body in any of the styles listed in the [module docs](self).
/// Returns `None` when the body has nothing usable. Never panics.
pub fn parse_error_body(content_type: Option<&str>, body: &[u8]) -> Option<ServiceError> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return None;
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if trimmed.starts_with('{') || ct.contains("json") {
        if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
            if let Some(e) = parse_json(&v) {
                return Some(e);
            }
        }
    }
    let message = if ct.contains("html") || trimmed.starts_with('<') {
        html_text(trimmed)
    } else {
        clean_text(trimmed, MAX_MESSAGE_CHARS)
    };
    (!message.is_empty()).then_some(ServiceError {
        code: None,
        message,
    })
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn service_error(code: Option<&str>, message: &str) -> Option<ServiceError> {
    let message = clean_text(message, MAX_MESSAGE_CHARS);
    (!message.is_empty()).then(|| ServiceError {
        code: code.map(|c| clean_text(c, 128)),
        message,
    })
}

fn parse_json(v: &Value) -> Option<ServiceError> {
    let obj = v.as_object()?;
    // Neutron
    if let Some(n) = obj.get("NeutronError") {
        if let Some(s) = n.as_str() {
            return service_error(None, s);
        }
        let message = str_field(n, "message").unwrap_or("");
        let mut full = message.to_owned();
        if let Some(detail) = str_field(n, "detail") {
            if detail != message {
                full = if full.is_empty() {
                    detail.to_owned()
                } else {
                    format!("{full}: {detail}")
                };
            }
        }
        return service_error(str_field(n, "type"), &full);
    }
    // Keystone, Azure, OAuth
    if let Some(e) = obj.get("error") {
        if let Some(code) = e.as_str() {
            let message = str_field(v, "error_description").unwrap_or(code);
            return service_error(Some(code), message);
        }
        if e.is_object() {
            let code = str_field(e, "code").or_else(|| str_field(e, "title"));
            let mut message = str_field(e, "message").unwrap_or("").to_owned();
            let details: Vec<&str> = e
                .get("details")
                .and_then(Value::as_array)
                .map(|d| {
                    d.iter()
                        .filter_map(|x| str_field(x, "message"))
                        .take(3)
                        .collect()
                })
                .unwrap_or_default();
            if !details.is_empty() {
                let joined = details.join("; ");
                message = if message.is_empty() {
                    joined
                } else {
                    format!("{message} (details: {joined})")
                };
            }
            if message.is_empty() {
                message = code.unwrap_or("").to_owned();
            }
            return service_error(code, &message);
        }
    }
    // Placement and other JSON:API style services
    if let Some(first) = obj
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        let message = str_field(first, "detail").or_else(|| str_field(first, "title"));
        if let Some(m) = message {
            return service_error(str_field(first, "code"), m);
        }
    }
    // Flat styles
    for key in [
        "message",
        "faultstring",
        "error_message",
        "detail",
        "description",
    ] {
        if let Some(m) = str_field(v, key) {
            // Ironic nests a JSON document in error_message.
            if let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(m) {
                if let Some(e) = parse_json(&inner) {
                    return Some(e);
                }
            }
            let code = str_field(v, "code").or_else(|| str_field(v, "type"));
            return service_error(code, m);
        }
    }
    // Nova/Cinder: {"<faultName>": {"message": ..., "code": ...}}
    obj.iter().find_map(|(name, inner)| {
        let m = str_field(inner, "message")?;
        service_error(Some(name), m)
    })
}

/// Visible text of an HTML page, without the title repeated and without a leading
/// `404 Not Found`-style status line when more text follows.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let body = match (lower.find("<body"), lower.rfind("</body")) {
        (Some(start), end) => {
            let from = lower[start..].find('>').map_or(start, |i| start + i + 1);
            let to = end.filter(|&e| e >= from).unwrap_or(html.len());
            html.get(from..to).unwrap_or(html)
        }
        _ => html,
    };
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                segments.push(std::mem::take(&mut current));
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => current.push(c),
            _ => {}
        }
    }
    segments.push(current);
    let segments: Vec<String> = segments
        .iter()
        .map(|s| clean_text(&decode_entities(s), MAX_MESSAGE_CHARS))
        .filter(|s| !s.is_empty())
        .collect();
    let is_status_line = |s: &str| {
        let mut parts = s.splitn(2, ' ');
        parts
            .next()
            .is_some_and(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
    };
    let informative: Vec<&str> = segments
        .iter()
        .map(String::as_str)
        .filter(|s| !is_status_line(s))
        .collect();
    let chosen = if informative.is_empty() {
        segments.iter().map(String::as_str).collect::<Vec<_>>()
    } else {
        informative
    };
    let mut deduped: Vec<&str> = Vec::new();
    for s in chosen {
        if !deduped.contains(&s) {
            deduped.push(s);
        }
    }
    clean_text(&deduped.join(" "), MAX_MESSAGE_CHARS)
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// One line, no control characters, at most `max` characters (an ellipsis marks a cut).
fn clean_text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 3));
    let mut count = 0;
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        if count >= max {
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// The error kind for a failed response: the status's kind, refined by the service's
/// code and message (quota errors become [`ErrorKind::QuotaExceeded`], conflicts that
/// say a resource already exists become [`ErrorKind::AlreadyExists`]).
pub fn error_kind(status: StatusCode, service: Option<&ServiceError>) -> ErrorKind {
    let base = ErrorKind::from_http_status(status.as_u16()).unwrap_or(ErrorKind::Other);
    let Some(svc) = service else {
        return base;
    };
    let code = svc.code.as_deref().unwrap_or("").to_ascii_lowercase();
    let message = svc.message.to_ascii_lowercase();
    match status.as_u16() {
        400 | 403 | 409 | 413
            if code.contains("quota") || code == "overlimit" || message.contains("quota") =>
        {
            ErrorKind::QuotaExceeded
        }
        409 if code.ends_with("alreadyexists")
            || code.ends_with("exists")
            || message.contains("already exists") =>
        {
            ErrorKind::AlreadyExists
        }
        _ => base,
    }
}

/// Everything needed to turn a failed response into an [`Error`].
#[derive(Debug, Clone, Copy)]
pub struct FailedResponse<'a> {
    /// The request's method.
    pub method: &'a Method,
    /// The request's URL (redacted before use).
    pub url: &'a Url,
    /// The response status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: &'a HeaderMap,
    /// The (possibly truncated) body.
    pub body: &'a [u8],
    /// Whether the request went to an authentication endpoint: then the body is ignored.
    pub auth_endpoint: bool,
}

impl FailedResponse<'_> {
    /// The error for this response: kind, clean message, HTTP status, the service's own
    /// error code ([`Error::service_code`]: ARM's `code`, Neutron's `type`, Nova's fault
    /// name, OAuth's `error`; never for an authentication endpoint, whose body is not
    /// read), request id and retry hint (the context is left to the caller).
    pub fn to_error(self) -> Error {
        self.to_error_with_note("")
    }

    /// As [`to_error`](Self::to_error), with `note` appended to the message.
    pub(crate) fn to_error_with_note(self, note: &str) -> Error {
        let service = if self.auth_endpoint {
            None
        } else {
            let ct = self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
            parse_error_body(ct, self.body)
        };
        let kind = error_kind(self.status, service.as_ref());
        let target = format!("{} {}", self.method, crate::redact::redact_url(self.url));
        let status_text = match self.status.canonical_reason() {
            Some(r) => format!("{} {r}", self.status.as_u16()),
            None => self.status.as_u16().to_string(),
        };
        let message = match (&service, self.auth_endpoint) {
            (_, true) => format!(
                "{target}: {status_text} (the body of an authentication response is never shown)"
            ),
            (Some(svc), false) => match &svc.code {
                Some(code)
                    if !svc.message.contains(code.as_str())
                        && !code.chars().all(|c| c.is_ascii_digit()) =>
                {
                    format!("{target}: {code}: {}", svc.message)
                }
                _ => format!("{target}: {}", svc.message),
            },
            (None, false) => format!("{target}: {status_text}"),
        } + note;
        let mut err = Error::new(kind, message).with_http_status(self.status.as_u16());
        if let Some(code) = service.as_ref().and_then(|s| s.code.as_deref()) {
            // Nova's numeric `code` repeats the status; only names identify an error.
            if !code.chars().all(|c| c.is_ascii_digit()) {
                err = err.with_service_code(code);
            }
        }
        if let Some(id) = request_id(self.headers) {
            err = err.with_request_id(id);
        }
        if let Some(after) = crate::retry::retry_after(self.headers, std::time::SystemTime::now()) {
            err = err.with_retry_after(after);
        }
        err
    }
}

/// The cause of a JSON decoding failure of an authentication response: where it failed
/// and why in general terms, without the serde message (which may quote the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithheldDecodeError {
    /// The line of the failure.
    pub line: usize,
    /// The column of the failure.
    pub column: usize,
    /// `syntax`, `data`, `eof` or `io`.
    pub category: &'static str,
}

impl WithheldDecodeError {
    /// The redacted form of `e`.
    pub fn from_serde(e: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        WithheldDecodeError {
            line: e.line(),
            column: e.column(),
            category: match e.classify() {
                Category::Io => "io",
                Category::Syntax => "syntax",
                Category::Data => "data",
                Category::Eof => "eof",
            },
        }
    }
}

impl fmt::Display for WithheldDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} error at line {} column {} (details withheld: authentication response)",
            self.category, self.line, self.column
        )
    }
}

impl std::error::Error for WithheldDecodeError {}

/// Decodes a successful JSON body.
///
/// # Errors
/// [`ErrorKind::InvalidResponse`] with the serde error as source (for an authentication
/// endpoint a [`WithheldDecodeError`] instead, which never quotes the body).
pub fn decode_json<T: serde::de::DeserializeOwned>(
    body: &[u8],
    method: &Method,
    url: &Url,
    auth_endpoint: bool,
) -> hybrid_core::Result<T> {
    decode_json_with(body, method, url, auth_endpoint, |b| {
        serde_json::from_slice(b)
    })
}

/// [`decode_json`] with the caller's own decoding of the body (for example one that
/// borrows parts of it), and the same error.
///
/// # Errors
/// As [`decode_json`].
pub fn decode_json_with<T>(
    body: &[u8],
    method: &Method,
    url: &Url,
    auth_endpoint: bool,
    decode: impl FnOnce(&[u8]) -> serde_json::Result<T>,
) -> hybrid_core::Result<T> {
    decode(body).map_err(|e| {
        let message = format!(
            "the response to {method} {} is not the expected JSON",
            crate::redact::redact_url(url)
        );
        if auth_endpoint {
            Error::invalid_response(message, WithheldDecodeError::from_serde(&e))
        } else {
            Error::invalid_response(message, e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn parse(body: &str) -> ServiceError {
        parse_error_body(Some("application/json"), body.as_bytes()).unwrap()
    }

    #[test]
    fn openstack_styles() {
        let e = parse(
            r#"{"itemNotFound": {"message": "Instance abc could not be found.", "code": 404}}"#,
        );
        assert_eq!(e.message, "Instance abc could not be found.");
        assert_eq!(e.code.as_deref(), Some("itemNotFound"));
        let e = parse(r#"{"badRequest": {"message": "Invalid flavorRef provided.", "code": 400}}"#);
        assert_eq!(e.message, "Invalid flavorRef provided.");
        let e = parse(
            r#"{"NeutronError": {"type": "NetworkNotFound", "message": "Network n1 could not be found.", "detail": ""}}"#,
        );
        assert_eq!(e.message, "Network n1 could not be found.");
        assert_eq!(e.code.as_deref(), Some("NetworkNotFound"));
        let e =
            parse(r#"{"NeutronError": {"type": "X", "message": "Bad.", "detail": "Port in use"}}"#);
        assert_eq!(e.message, "Bad.: Port in use");
        let e = parse(
            r#"{"error": {"message": "The request you have made requires authentication.", "code": 401, "title": "Unauthorized"}}"#,
        );
        assert_eq!(
            e.message,
            "The request you have made requires authentication."
        );
        assert_eq!(e.code.as_deref(), Some("Unauthorized"));
        let e = parse(
            r#"{"errors": [{"status": 409, "title": "Conflict", "detail": "inventory in use", "code": "placement.inventory.inuse"}]}"#,
        );
        assert_eq!(e.message, "inventory in use");
        let e = parse(
            r#"{"error_message": "{\"faultstring\": \"Node x not found\", \"debuginfo\": null}"}"#,
        );
        assert_eq!(e.message, "Node x not found");
    }

    #[test]
    fn azure_and_oauth_styles() {
        let e = parse(
            r#"{"error": {"code": "InvalidParameter", "message": "Bad size.", "target": "vmSize",
                "details": [{"code": "A", "message": "first"}, {"code": "B", "message": "second"}]}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("InvalidParameter"));
        assert_eq!(e.message, "Bad size. (details: first; second)");
        let e = parse(r#"{"error": "invalid_grant", "error_description": "AADSTS70000: expired"}"#);
        assert_eq!(e.code.as_deref(), Some("invalid_grant"));
        assert_eq!(e.message, "AADSTS70000: expired");
    }

    #[test]
    fn text_and_html() {
        let html = "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  No image found with ID 1f&amp;2<br /><br />\n\n\n </body>\n</html>";
        let e = parse_error_body(Some("text/html; charset=UTF-8"), html.as_bytes()).unwrap();
        assert_eq!(e.message, "No image found with ID 1f&2");
        let only_status = "<html><body><h1>503 Service Unavailable</h1></body></html>";
        assert_eq!(
            parse_error_body(None, only_status.as_bytes())
                .unwrap()
                .message,
            "503 Service Unavailable"
        );
        let e = parse_error_body(Some("text/plain"), b"  Image is\n\tnot active \x07 ").unwrap();
        assert_eq!(e.message, "Image is not active");
        assert!(parse_error_body(Some("text/plain"), b"   \n ").is_none());
    }

    #[test]
    fn malformed_bodies_never_panic() {
        let cases: Vec<Vec<u8>> = vec![
            b"{".to_vec(),
            b"{\"error\": 5}".to_vec(),
            b"{\"error\": {}}".to_vec(),
            b"{\"NeutronError\": {}}".to_vec(),
            b"[1,2,3]".to_vec(),
            b"null".to_vec(),
            b"<html><body".to_vec(),
            b"</body><body>".to_vec(),
            b"<<<>>>".to_vec(),
            vec![0xff, 0xfe, 0x00, 0x80],
            "é".repeat(5000).into_bytes(),
        ];
        for c in cases {
            let _ = parse_error_body(Some("application/json"), &c);
            let _ = parse_error_body(Some("text/html"), &c);
            let _ = parse_error_body(None, &c);
        }
        let long = parse_error_body(None, "é".repeat(5000).as_bytes()).unwrap();
        assert_eq!(long.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(long.message.ends_with('…'));
    }

    #[test]
    fn kinds_are_refined() {
        let s = |c: &str, m: &str| ServiceError {
            code: Some(c.into()),
            message: m.into(),
        };
        assert_eq!(
            error_kind(
                StatusCode::FORBIDDEN,
                Some(&s("forbidden", "Quota exceeded for cores"))
            ),
            ErrorKind::QuotaExceeded
        );
        assert_eq!(
            error_kind(StatusCode::CONFLICT, Some(&s("ResourceExists", "x"))),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            error_kind(
                StatusCode::CONFLICT,
                Some(&s("Conflict", "Network already exists"))
            ),
            ErrorKind::AlreadyExists
        );
        assert_eq!(
            error_kind(StatusCode::CONFLICT, Some(&s("conflictingRequest", "busy"))),
            ErrorKind::Conflict
        );
        assert_eq!(error_kind(StatusCode::NOT_FOUND, None), ErrorKind::NotFound);
        assert_eq!(
            error_kind(StatusCode::from_u16(418).unwrap(), None),
            ErrorKind::Other
        );
        assert_eq!(
            error_kind(StatusCode::TOO_MANY_REQUESTS, Some(&s("quota", "quota"))),
            ErrorKind::RateLimited
        );
    }

    #[test]
    fn request_ids_in_preference_order() {
        let mut h = HeaderMap::new();
        assert_eq!(request_id(&h), None);
        h.insert("x-request-id", HeaderValue::from_static("generic"));
        assert_eq!(request_id(&h).as_deref(), Some("generic"));
        h.insert(
            "x-ms-correlation-request-id",
            HeaderValue::from_static("corr"),
        );
        assert_eq!(request_id(&h).as_deref(), Some("corr"));
        h.insert("x-ms-request-id", HeaderValue::from_static("ms"));
        assert_eq!(request_id(&h).as_deref(), Some("ms"));
        h.insert(
            "x-compute-request-id",
            HeaderValue::from_static("req-compute"),
        );
        assert_eq!(request_id(&h).as_deref(), Some("req-compute"));
        h.insert("x-openstack-request-id", HeaderValue::from_static("req-os"));
        assert_eq!(request_id(&h).as_deref(), Some("req-os"));
    }

    #[test]
    fn failed_response_to_error() {
        let url = Url::parse("http://127.0.0.1:1/v2.1/servers/abc?token=t0p").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-compute-request-id", HeaderValue::from_static("req-9"));
        headers.insert("retry-after", HeaderValue::from_static("4"));
        let body =
            br#"{"itemNotFound": {"message": "Instance abc could not be found.", "code": 404}}"#;
        let f = FailedResponse {
            method: &Method::GET,
            url: &url,
            status: StatusCode::NOT_FOUND,
            headers: &headers,
            body,
            auth_endpoint: false,
        };
        let e = f.to_error();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.http_status(), Some(404));
        assert_eq!(e.request_id(), Some("req-9"));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(4)));
        assert_eq!(
            e.message(),
            "GET http://127.0.0.1:1/v2.1/servers/abc?token=REDACTED: itemNotFound: Instance abc could not be found."
        );
        let auth = FailedResponse {
            auth_endpoint: true,
            ..f
        }
        .to_error();
        assert!(!auth.message().contains("Instance"), "{auth}");
        assert!(auth.message().contains("404 Not Found"));
        assert_eq!(e.service_code(), Some("itemNotFound"));
        assert_eq!(auth.service_code(), None, "an auth body is never read");
    }

    #[test]
    fn the_service_code_is_kept_whatever_the_body_style() {
        let url = Url::parse("https://127.0.0.1/x").unwrap();
        let headers = HeaderMap::new();
        let err = |status: u16, body: &[u8]| {
            FailedResponse {
                method: &Method::DELETE,
                url: &url,
                status: StatusCode::from_u16(status).unwrap(),
                headers: &headers,
                body,
                auth_endpoint: false,
            }
            .to_error()
        };
        let arm = err(
            400,
            br#"{"error": {"code": "InUseSubnetCannotBeDeleted", "message": "Subnet default is in use by InUseSubnetCannotBeDeleted-ish text"}}"#,
        );
        assert_eq!(arm.service_code(), Some("InUseSubnetCannotBeDeleted"));
        let neutron = err(
            409,
            br#"{"NeutronError": {"type": "SubnetInUse", "message": "Unable to complete operation", "detail": ""}}"#,
        );
        assert_eq!(neutron.service_code(), Some("SubnetInUse"));
        let oauth = err(
            400,
            br#"{"error": "invalid_scope", "error_description": "AADSTS70011: bad scope"}"#,
        );
        assert_eq!(oauth.service_code(), Some("invalid_scope"));
        let keystone = err(
            409,
            br#"{"error": {"code": 409, "message": "Conflict occurred", "title": "Conflict"}}"#,
        );
        assert_eq!(
            keystone.service_code(),
            Some("Conflict"),
            "the title, not 409"
        );
        let numeric = err(404, br#"{"message": "gone", "code": "404"}"#);
        assert_eq!(numeric.service_code(), None);
        assert_eq!(err(502, b"<html>Bad Gateway</html>").service_code(), None);
    }

    #[test]
    fn decode_errors() {
        let url = Url::parse("http://127.0.0.1/x").unwrap();
        let e = decode_json::<u32>(br#""hunter2""#, &Method::POST, &url, true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        let chain = format!("{e} / {:?} / {}", e, std::error::Error::source(&e).unwrap());
        assert!(!chain.contains("hunter2"), "{chain}");
        let e = decode_json::<u32>(br#""abc""#, &Method::GET, &url, false).unwrap_err();
        let src = std::error::Error::source(&e).unwrap();
        assert!(src.downcast_ref::<serde_json::Error>().is_some());
    }
}
