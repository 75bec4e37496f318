//! The one error type of hybrid.
//!
//! Every fallible call returns [`Result<T>`](crate::Result), whose error is the opaque
//! [`Error`]. Callers branch on [`Error::kind`], read the context (provider, region,
//! operation, resource, HTTP status, request id), follow [`Error::retry_after`] and
//! [`Error::is_retryable`], and walk [`std::error::Error::source`] for the cause.
//!
//! `Display` shows the kind, the message and the context, and never repeats the source
//! (walk the chain to see it). Backends must never put a secret in a message; the
//! conformance suite checks that they don't.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::capabilities::Reason;

/// A boxed error usable as a [`source`](std::error::Error::source).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, provider-neutral. Branch on this, not on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The resource does not exist (HTTP 404, vSphere `ManagedObjectNotFound`).
    NotFound,
    /// A resource with the same identity already exists.
    AlreadyExists,
    /// The resource is in a state that forbids the request (HTTP 409).
    Conflict,
    /// The request itself is invalid (HTTP 400, 422, bad arguments).
    InvalidInput,
    /// Credentials are missing, wrong or expired (HTTP 401).
    Unauthenticated,
    /// Authenticated, but not allowed (HTTP 403).
    PermissionDenied,
    /// A quota or limit of the account would be exceeded.
    QuotaExceeded,
    /// The service throttled the caller (HTTP 429); see [`Error::retry_after`].
    RateLimited,
    /// The service is temporarily unavailable (HTTP 5xx, maintenance).
    Unavailable,
    /// A deadline passed before the work finished.
    Timeout,
    /// The backend or this deployment cannot do this; see [`Error::unsupported_reason`].
    Unsupported,
    /// The configuration is incomplete or contradictory.
    Config,
    /// The service answered with something that could not be understood.
    InvalidResponse,
    /// The request could not be sent or the answer not received (DNS, TCP, TLS).
    Transport,
    /// A long-running operation ended in a failed state.
    OperationFailed,
    /// A long-running operation was cancelled.
    Cancelled,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Conflict,
        ErrorKind::InvalidInput,
        ErrorKind::Unauthenticated,
        ErrorKind::PermissionDenied,
        ErrorKind::QuotaExceeded,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Unsupported,
        ErrorKind::Config,
        ErrorKind::InvalidResponse,
        ErrorKind::Transport,
        ErrorKind::OperationFailed,
        ErrorKind::Cancelled,
        ErrorKind::Other,
    ];

    /// A short stable name, for example `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Config => "config",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Transport => "transport",
            ErrorKind::OperationFailed => "operation_failed",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Other => "other",
        }
    }

    /// Whether an error of this kind is worth retrying by default (the caller's
    /// idempotency rules still apply).
    pub fn is_retryable_by_default(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Unavailable
                | ErrorKind::Transport
                | ErrorKind::Timeout
        )
    }

    /// The kind conventionally meant by an HTTP status code, or `None` for a success code.
    pub fn from_http_status(status: u16) -> Option<ErrorKind> {
        Some(match status {
            100..=399 => return None,
            400 | 422 => ErrorKind::InvalidInput,
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            404 | 410 => ErrorKind::NotFound,
            408 | 504 => ErrorKind::Timeout,
            409 | 412 => ErrorKind::Conflict,
            413 => ErrorKind::QuotaExceeded,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where an error happened: which provider, region, operation and resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorContext {
    /// Provider kind or configured name, for example `openstack` or `vsphere-prod`.
    pub provider: Option<String>,
    /// Region or location, when the provider has them.
    pub region: Option<String>,
    /// The library operation, for example `create_server`.
    pub operation: Option<String>,
    /// The resource concerned, for example a server id.
    pub resource: Option<String>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    context: ErrorContext,
    http_status: Option<u16>,
    request_id: Option<String>,
    service_code: Option<String>,
    retry_after: Option<Duration>,
    retryable: bool,
    unsupported: Option<Reason>,
    source: Option<BoxError>,
}

/// The error of every hybrid call: opaque, cheap to move (one pointer), with a kind,
/// context, HTTP facts, a retry hint and a source chain.
pub struct Error {
    inner: Box<Inner>,
}

impl Error {
    /// A new error of `kind` with a human message (never put a secret in it).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                context: ErrorContext::default(),
                http_status: None,
                request_id: None,
                service_code: None,
                retry_after: None,
                retryable: kind.is_retryable_by_default(),
                unsupported: None,
                source: None,
            }),
        }
    }

    /// An [`ErrorKind::Unsupported`] error that carries the capability's reason.
    pub fn unsupported(reason: Reason) -> Self {
        let mut e = Error::new(ErrorKind::Unsupported, reason.message.clone());
        e.inner.unsupported = Some(reason);
        e
    }

    /// An [`ErrorKind::NotFound`] error for `resource` (a type and id, like `server abc`).
    pub fn not_found(resource: impl Into<String>) -> Self {
        let resource = resource.into();
        Error::new(ErrorKind::NotFound, format!("{resource} not found")).with_resource(resource)
    }

    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// An [`ErrorKind::InvalidResponse`] error with its decoding cause.
    pub fn invalid_response(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::new(ErrorKind::InvalidResponse, message).with_source(source)
    }

    /// An [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// Sets the provider name.
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.inner.context.provider = Some(provider.into());
        self
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.inner.context.region = Some(region.into());
        self
    }

    /// Sets the library operation (for example `create_server`).
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.inner.context.operation = Some(operation.into());
        self
    }

    /// Sets the resource concerned.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.inner.context.resource = Some(resource.into());
        self
    }

    /// Fills provider, region and operation where they are not set yet.
    pub fn with_context_defaults(mut self, ctx: &ErrorContext) -> Self {
        let c = &mut self.inner.context;
        if c.provider.is_none() {
            c.provider.clone_from(&ctx.provider);
        }
        if c.region.is_none() {
            c.region.clone_from(&ctx.region);
        }
        if c.operation.is_none() {
            c.operation.clone_from(&ctx.operation);
        }
        if c.resource.is_none() {
            c.resource.clone_from(&ctx.resource);
        }
        self
    }

    /// Sets the HTTP status of the failed response.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.inner.http_status = Some(status);
        self
    }

    /// Sets the service's request id (for support tickets).
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.inner.request_id = Some(id.into());
        self
    }

    /// Sets the service's own error code (see [`service_code`](Self::service_code)).
    pub fn with_service_code(mut self, code: impl Into<String>) -> Self {
        self.inner.service_code = Some(code.into());
        self
    }

    /// Sets how long the service asked the caller to wait; marks the error retryable.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.inner.retry_after = Some(after);
        self.inner.retryable = true;
        self
    }

    /// Reclassifies the error, keeping everything else: for a backend that knows what
    /// a service's answer means better than its status code says (Cinder answers `400
    /// Invalid volume` where the state forbids the call: a [`ErrorKind::Conflict`]).
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    /// Overrides whether a retry may succeed.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.inner.retryable = retryable;
        self
    }

    /// Sets the underlying cause, reachable through `source()`.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The human message, without context or source.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Provider, region, operation and resource, as far as known.
    pub fn context(&self) -> &ErrorContext {
        &self.inner.context
    }

    /// The HTTP status, when the error came from an HTTP response.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }

    /// The service's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The service's own error code, when its error body names one: for example ARM's
    /// `error.code` (`SkuNotAvailable`, `OperationNotAllowed`), a vSphere fault type
    /// (`InvalidPowerState`), Keystone's or Nova's fault name. Match on this rather
    /// than on the message text.
    pub fn service_code(&self) -> Option<&str> {
        self.inner.service_code.as_deref()
    }

    /// How long the service asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        self.inner.retryable
    }

    /// For [`ErrorKind::Unsupported`], why the capability is missing.
    pub fn unsupported_reason(&self) -> Option<&Reason> {
        self.inner.unsupported.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let c = &i.context;
        if let Some(op) = &c.operation {
            write!(f, "{op}")?;
            match (&c.provider, &c.region) {
                (Some(p), Some(r)) => write!(f, " on {p} ({r})")?,
                (Some(p), None) => write!(f, " on {p}")?,
                (None, Some(r)) => write!(f, " in {r}")?,
                (None, None) => {}
            }
            f.write_str(" failed: ")?;
        } else if let Some(p) = &c.provider {
            write!(f, "{p}: ")?;
        }
        write!(f, "{}: {}", i.kind, i.message)?;
        if let Some(r) = &c.resource {
            if !i.message.contains(r.as_str()) {
                write!(f, " [resource {r}]")?;
            }
        }
        if let Some(s) = i.http_status {
            write!(f, " (HTTP {s}")?;
            if let Some(id) = &i.request_id {
                write!(f, ", request id {id}")?;
            }
            f.write_str(")")?;
        } else if let Some(id) = &i.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("message", &i.message);
        if i.context != ErrorContext::default() {
            d.field("context", &i.context);
        }
        if let Some(s) = i.http_status {
            d.field("http_status", &s);
        }
        if let Some(r) = &i.request_id {
            d.field("request_id", r);
        }
        if let Some(c) = &i.service_code {
            d.field("service_code", c);
        }
        if let Some(r) = &i.retry_after {
            d.field("retry_after", r);
        }
        d.field("retryable", &i.retryable);
        if let Some(r) = &i.unsupported {
            d.field("unsupported", r);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `Result` with hybrid's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::ReasonKind;
    use std::error::Error as _;

    #[test]
    fn display_has_context_but_not_source() {
        let cause = std::io::Error::other("socket closed by peer");
        let e = Error::new(ErrorKind::Unavailable, "service busy")
            .with_operation("list_servers")
            .with_provider("openstack")
            .with_region("RegionOne")
            .with_http_status(503)
            .with_request_id("req-123")
            .with_source(cause);
        let s = e.to_string();
        assert_eq!(
            s,
            "list_servers on openstack (RegionOne) failed: unavailable: service busy (HTTP 503, request id req-123)"
        );
        assert!(!s.contains("socket closed"));
        assert_eq!(e.source().unwrap().to_string(), "socket closed by peer");
        assert!(e.is_retryable());
    }

    #[test]
    fn the_service_code_is_kept_for_matching_and_debug() {
        let e = Error::new(ErrorKind::Conflict, "the VM size is not available here")
            .with_service_code("SkuNotAvailable")
            .with_kind(ErrorKind::Unavailable);
        assert_eq!(e.service_code(), Some("SkuNotAvailable"));
        assert!(format!("{e:?}").contains("service_code: \"SkuNotAvailable\""));
        assert_eq!(Error::config("x").service_code(), None);
    }

    #[test]
    fn unsupported_carries_reason() {
        let r = Reason::new(ReasonKind::PlatformNever, "vSphere has no Swift");
        let e = Error::unsupported(r.clone());
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.unsupported_reason(), Some(&r));
        assert!(!e.is_retryable());
        assert_eq!(e.to_string(), "unsupported: vSphere has no Swift");
    }

    #[test]
    fn http_status_mapping() {
        assert_eq!(ErrorKind::from_http_status(200), None);
        assert_eq!(ErrorKind::from_http_status(404), Some(ErrorKind::NotFound));
        assert_eq!(
            ErrorKind::from_http_status(429),
            Some(ErrorKind::RateLimited)
        );
        assert_eq!(
            ErrorKind::from_http_status(502),
            Some(ErrorKind::Unavailable)
        );
        assert_eq!(ErrorKind::from_http_status(418), Some(ErrorKind::Other));
    }

    #[test]
    fn retry_after_marks_retryable() {
        let e = Error::new(ErrorKind::Conflict, "busy").with_retry_after(Duration::from_secs(3));
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
