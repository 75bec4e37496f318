//! Response bodies, responses, API errors and how each service renders them.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use http_body::{Frame, SizeHint};
use serde_json::{json, Value};

/// A response body made of in-memory chunks, sent one frame per chunk, optionally
/// cut or stalled half-way by a scripted fault.
#[derive(Debug, Default)]
pub(crate) struct ChunkBody {
    chunks: VecDeque<Bytes>,
    remaining: u64,
    tail: Tail,
}

/// What happens once the queued chunks are sent.
#[derive(Debug, Default)]
enum Tail {
    /// The body ends.
    #[default]
    End,
    /// The connection is reset (the declared length is never reached) after a short
    /// pause, so that the headers and the first half are flushed first.
    Reset(Pin<Box<tokio::time::Sleep>>),
    /// Nothing more is sent for a while, then the rest.
    Stall {
        sleep: Pin<Box<tokio::time::Sleep>>,
        rest: Bytes,
    },
}

/// How a scripted fault breaks a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MidBody {
    /// Half the body, then a connection reset.
    Reset,
    /// Half the body, then nothing for this long, then the rest.
    Stall(std::time::Duration),
}

impl ChunkBody {
    pub(crate) fn from_chunks(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        let chunks: VecDeque<Bytes> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        ChunkBody {
            chunks,
            remaining,
            tail: Tail::End,
        }
    }

    pub(crate) fn full(b: impl Into<Bytes>) -> Self {
        Self::from_chunks([b.into()])
    }

    /// The same body (same declared length), broken half-way as `how` says.
    pub(crate) fn broken(self, how: MidBody) -> Self {
        let mut all = Vec::with_capacity(self.remaining as usize);
        for c in &self.chunks {
            all.extend_from_slice(c);
        }
        let mut all = Bytes::from(all);
        let rest = all.split_off(all.len() / 2);
        let tail = match how {
            MidBody::Reset => Tail::Reset(Box::pin(tokio::time::sleep(
                std::time::Duration::from_millis(50),
            ))),
            MidBody::Stall(d) => Tail::Stall {
                sleep: Box::pin(tokio::time::sleep(d)),
                rest,
            },
        };
        let mut chunks = VecDeque::new();
        if !all.is_empty() {
            chunks.push_back(all);
        }
        ChunkBody {
            chunks,
            remaining: self.remaining,
            tail,
        }
    }
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(c) = self.chunks.pop_front() {
            self.remaining -= c.len() as u64;
            return Poll::Ready(Some(Ok(Frame::data(c))));
        }
        match &mut self.tail {
            Tail::End => Poll::Ready(None),
            Tail::Reset(sleep) => {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.tail = Tail::End;
                Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "scripted reset mid-body",
                ))))
            }
            Tail::Stall { sleep, rest } => {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let rest = std::mem::take(rest);
                self.tail = Tail::End;
                self.remaining -= rest.len() as u64;
                if rest.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Ok(Frame::data(rest))))
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && matches!(self.tail, Tail::End)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A response before the common headers are added.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: ChunkBody,
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl Resp {
    pub(crate) fn json(code: u16, v: &Value) -> Resp {
        let body = serde_json::to_vec(v).unwrap_or_default();
        Resp::raw(code, "application/json", body)
    }

    pub(crate) fn raw(code: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, v);
        }
        Resp {
            status: status(code),
            headers,
            body: ChunkBody::full(body),
        }
    }

    pub(crate) fn empty(code: u16) -> Resp {
        Resp {
            status: status(code),
            headers: HeaderMap::new(),
            body: ChunkBody::default(),
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

/// An API error, rendered in the format of the service that raised it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    /// Neutron's exception type (`NetworkNotFound`, …).
    pub(crate) kind: String,
    pub(crate) headers: Vec<(String, String)>,
}

pub(crate) type R = Result<Resp, ApiError>;

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> ApiError {
        let kind = match status {
            400 => "HTTPBadRequest",
            401 => "HTTPUnauthorized",
            403 => "HTTPForbidden",
            404 => "HTTPNotFound",
            405 => "HTTPMethodNotAllowed",
            409 => "HTTPConflict",
            413 => "HTTPRequestEntityTooLarge",
            415 => "HTTPUnsupportedMediaType",
            _ => "HTTPInternalServerError",
        };
        ApiError {
            status,
            message: message.into(),
            kind: kind.to_owned(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, message)
    }

    /// Sets Neutron's exception type.
    pub(crate) fn kind(mut self, kind: &str) -> ApiError {
        self.kind = kind.to_owned();
        self
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> ApiError {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Which service a path belongs to (for error formats and headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Identity,
    Compute,
    Network,
    Volume,
    Image,
    Unknown,
}

impl Service {
    pub(crate) fn of(first_segment: &str) -> Service {
        match first_segment {
            "identity" => Service::Identity,
            "compute" => Service::Compute,
            "network" => Service::Network,
            "volume" => Service::Volume,
            "image" => Service::Image,
            _ => Service::Unknown,
        }
    }
}

/// Nova's and Cinder's fault name for a status code.
fn fault_name(status: u16) -> &'static str {
    match status {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// The 401 body keystonemiddleware (and Keystone) send.
pub(crate) fn unauthorized_body() -> Value {
    json!({"error": {
        "code": 401,
        "message": "The request you have made requires authentication.",
        "title": "Unauthorized"
    }})
}

/// Renders an error the way the service does.
pub(crate) fn render_error(service: Service, e: &ApiError) -> Resp {
    let mut r = if e.status == 401 {
        Resp::json(401, &unauthorized_body())
    } else {
        match service {
            Service::Identity => Resp::json(
                e.status,
                &json!({"error": {"code": e.status, "message": e.message, "title": reason(e.status)}}),
            ),
            Service::Compute | Service::Volume => Resp::json(
                e.status,
                &json!({ fault_name(e.status): {"code": e.status, "message": e.message} }),
            ),
            Service::Network => Resp::json(
                e.status,
                &json!({"NeutronError": {"type": e.kind, "message": e.message, "detail": ""}}),
            ),
            Service::Image | Service::Unknown => Resp::raw(
                e.status,
                "text/plain; charset=UTF-8",
                format!("{} {}\n\n{}\n\n   ", e.status, reason(e.status), e.message),
            ),
        }
    };
    for (k, v) in &e.headers {
        r = r.header(k, v);
    }
    r
}

/// Parses a JSON request body, or a 400 in the service's format.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad("Malformed request body"));
    }
    serde_json::from_slice(body).map_err(|_| ApiError::bad("Malformed request body"))
}

/// A `{"key": {...}}` member of a body, or 400.
pub(crate) fn member<'a>(
    v: &'a Value,
    key: &str,
) -> Result<&'a serde_json::Map<String, Value>, ApiError> {
    v.get(key).and_then(Value::as_object).ok_or_else(|| {
        ApiError::bad(format!(
            "Invalid input for field/attribute {key}. Value: {v}. '{key}' is a required property"
        ))
    })
}
