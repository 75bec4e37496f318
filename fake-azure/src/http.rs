//! Response bodies, responses and the error formats of ARM and Entra ID.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use http_body::{Frame, SizeHint};
use serde_json::{json, Map, Value};

/// The body error of a deliberately broken response (never seen by well-behaved
/// requests).
#[derive(Debug)]
pub(crate) struct BodyError;

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scripted body failure")
    }
}

impl std::error::Error for BodyError {}

/// A response body made of in-memory chunks, optionally pausing after the first chunk
/// (a stalled body) or ending before its announced length (a truncated body).
#[derive(Debug, Default)]
pub(crate) struct Body {
    chunks: VecDeque<Bytes>,
    /// Announced length; more than the chunks hold for a truncated body.
    declared: u64,
    sent_first: bool,
    stall: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Fail (abort the connection) once the chunks are exhausted.
    fail_at_end: bool,
}

impl Body {
    pub(crate) fn full(b: impl Into<Bytes>) -> Self {
        let b: Bytes = b.into();
        let declared = b.len() as u64;
        let mut chunks = VecDeque::new();
        if !b.is_empty() {
            chunks.push_back(b);
        }
        Body {
            chunks,
            declared,
            ..Body::default()
        }
    }

    /// Sends the first half, then (after a short pause, so the head and that half
    /// reach the client) fails: the connection is closed before the announced length
    /// is reached.
    pub(crate) fn truncate(self) -> Self {
        let all = self.concat();
        let half = all.slice(..all.len() / 2);
        Body {
            declared: all.len() as u64,
            chunks: [half].into_iter().filter(|c| !c.is_empty()).collect(),
            fail_at_end: true,
            stall: Some(Duration::from_millis(50)),
            ..Body::default()
        }
    }

    /// Sends the first half, pauses for `d`, then sends the rest.
    pub(crate) fn stall(self, d: Duration) -> Self {
        let all = self.concat();
        let mid = all.len() / 2;
        Body {
            declared: all.len() as u64,
            chunks: [all.slice(..mid), all.slice(mid..)]
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect(),
            stall: Some(d),
            ..Body::default()
        }
    }

    /// All the bytes the body holds.
    pub(crate) fn concat(self) -> Bytes {
        if self.chunks.len() == 1 {
            return self.chunks.into_iter().next().unwrap_or_default();
        }
        let mut v = Vec::new();
        for c in self.chunks {
            v.extend_from_slice(&c);
        }
        Bytes::from(v)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if self.sent_first {
            if let Some(d) = self.stall.take() {
                self.sleep = Some(Box::pin(tokio::time::sleep(d)));
            }
            if let Some(s) = self.sleep.as_mut() {
                if s.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.sleep = None;
            }
        }
        match self.chunks.pop_front() {
            Some(c) => {
                self.sent_first = true;
                self.declared = self.declared.saturating_sub(c.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(c))))
            }
            None if self.fail_at_end => Poll::Ready(Some(Err(BodyError))),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.fail_at_end
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared)
    }
}

/// A response before the common headers are added.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// ARM's and Entra's JSON content type.
pub(crate) const JSON: &str = "application/json; charset=utf-8";

impl Resp {
    pub(crate) fn json(code: u16, v: &Value) -> Resp {
        Resp::json_of(code, v)
    }

    /// A JSON response serialized straight from `v`.
    pub(crate) fn json_of<T: serde::Serialize + ?Sized>(code: u16, v: &T) -> Resp {
        let body = serde_json::to_vec(v).unwrap_or_default();
        Resp::raw(code, JSON, body)
    }

    pub(crate) fn raw(code: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, v);
        }
        Resp {
            status: status(code),
            headers,
            body: Body::full(body),
        }
    }

    pub(crate) fn empty(code: u16) -> Resp {
        Resp {
            status: status(code),
            headers: HeaderMap::new(),
            body: Body::default(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Resp {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(n, v);
        }
        self
    }
}

/// An ARM error: `{"error": {"code", "message", "target"?, "details": []}}`.
#[derive(Debug, Clone)]
pub(crate) struct ArmError {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) target: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

pub(crate) type R = Result<Resp, ArmError>;

impl ArmError {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> ArmError {
        ArmError {
            status,
            code: code.to_owned(),
            message: message.into(),
            target: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn bad(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(400, code, message)
    }

    /// `InvalidParameter` naming the offending property.
    pub(crate) fn invalid(target: &str, message: impl Into<String>) -> ArmError {
        let mut e = ArmError::new(400, "InvalidParameter", message);
        e.target = Some(target.to_owned());
        e
    }

    pub(crate) fn conflict(code: &str, message: impl Into<String>) -> ArmError {
        ArmError::new(409, code, message)
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> ArmError {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The ARM error code a bare HTTP status maps to (for scripted faults).
    pub(crate) fn for_status(status: u16) -> ArmError {
        let (code, message) = match status {
            400 => ("BadRequest", "The request is invalid."),
            401 => (
                "InvalidAuthenticationToken",
                "The access token is invalid.",
            ),
            403 => (
                "AuthorizationFailed",
                "The client does not have authorization to perform this action.",
            ),
            404 => ("NotFound", "The requested resource was not found."),
            408 => ("RequestTimeout", "The request timed out."),
            409 => ("Conflict", "The request conflicts with the current state."),
            429 => (
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for this operation type.",
            ),
            500 => (
                "InternalServerError",
                "The server encountered an internal error. Please retry the request.",
            ),
            502 => ("BadGateway", "The gateway did not receive a response in time."),
            503 => (
                "ServiceUnavailable",
                "The service is temporarily unavailable. Please retry the request.",
            ),
            504 => ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
            _ => ("InternalServerError", "The request failed."),
        };
        ArmError::new(status, code, format!("{message} (scripted fault)"))
    }

    pub(crate) fn body(&self) -> Value {
        let mut e = Map::new();
        e.insert("code".into(), Value::String(self.code.clone()));
        e.insert("message".into(), Value::String(self.message.clone()));
        if let Some(t) = &self.target {
            e.insert("target".into(), Value::String(t.clone()));
        }
        json!({ "error": Value::Object(e) })
    }

    pub(crate) fn render(&self) -> Resp {
        let mut r = Resp::json(self.status, &self.body());
        for (k, v) in &self.headers {
            r = r.header(k, v);
        }
        r
    }
}

/// The 404 ARM answers for a missing top-level resource.
pub(crate) fn resource_not_found(type_path: &str, name: &str, rg: &str) -> ArmError {
    ArmError::new(
        404,
        "ResourceNotFound",
        format!(
            "The Resource '{type_path}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// The 404 Microsoft.Network answers for a missing child resource (subnet, rule).
pub(crate) fn child_not_found(id: &str) -> ArmError {
    ArmError::new(404, "NotFound", format!("Resource {id} not found."))
}

/// Parses a JSON request body, or ARM's `InvalidRequestContent`.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ArmError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ArmError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'The request body is empty.'",
        ));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ArmError::bad(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{e}'."),
        )
    })?;
    if !v.is_object() {
        return Err(ArmError::bad(
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'The request body must be a JSON object.'",
        ));
    }
    Ok(v)
}
