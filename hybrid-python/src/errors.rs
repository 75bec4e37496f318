//! hybrid's `Error` as the Python exceptions of `hybrid.errors`.
//!
//! The exception classes are plain Python (`python/hybrid/errors.py`), so they pickle,
//! subclass builtins where that helps (`hybrid.TimeoutError` is a `TimeoutError`) and
//! carry their docstrings; this module only fills them in.

use std::error::Error as _;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

use hybrid::{Error, ErrorKind};

use crate::capabilities::PyReason;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python class name for `kind`.
pub(crate) fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::AlreadyExists => "AlreadyExistsError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::InvalidInput => "InvalidInputError",
        ErrorKind::Unauthenticated => "UnauthenticatedError",
        ErrorKind::PermissionDenied => "PermissionDeniedError",
        ErrorKind::QuotaExceeded => "QuotaExceededError",
        ErrorKind::RateLimited => "RateLimitedError",
        ErrorKind::Unavailable => "UnavailableError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::Unsupported => "UnsupportedError",
        ErrorKind::Config => "ConfigError",
        ErrorKind::InvalidResponse => "InvalidResponseError",
        ErrorKind::Transport => "TransportError",
        ErrorKind::OperationFailed => "OperationFailedError",
        ErrorKind::Cancelled => "CancelledError",
        _ => "OtherError",
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = ERRORS
        .get_or_try_init(py, || py.import("hybrid.errors").map(Bound::unbind))?
        .bind(py);
    let class = module.getattr(class_name(e.kind()))?;
    let kw = PyDict::new(py);
    let ctx = e.context();
    kw.set_item("kind", e.kind().as_str())?;
    kw.set_item("message", e.message())?;
    kw.set_item("http_status", e.http_status())?;
    kw.set_item("request_id", e.request_id())?;
    kw.set_item("service_code", e.service_code())?;
    kw.set_item("provider", ctx.provider.as_deref())?;
    kw.set_item("region", ctx.region.as_deref())?;
    kw.set_item("operation", ctx.operation.as_deref())?;
    kw.set_item("resource", ctx.resource.as_deref())?;
    kw.set_item("retryable", e.is_retryable())?;
    kw.set_item("retry_after", e.retry_after().map(|d| d.as_secs_f64()))?;
    if let Some(r) = e.unsupported_reason() {
        kw.set_item("reason", Bound::new(py, PyReason(r.clone()))?)?;
    }
    let exc = class.call((e.to_string(),), Some(&kw))?;
    let err = PyErr::from_value(exc);
    // The source chain, innermost last, as chained plain exceptions (`__cause__`).
    let mut causes = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        causes.push(s.to_string());
        source = s.source();
    }
    let mut cause: Option<PyErr> = None;
    for msg in causes.into_iter().rev() {
        let c = PyRuntimeError::new_err(msg);
        c.set_cause(py, cause.take());
        cause = Some(c);
    }
    err.set_cause(py, cause);
    Ok(err)
}

/// The Python exception for `e`: the `hybrid.errors` class of its kind, with `kind`,
/// `http_status`, `request_id`, `provider`, `retryable` and the rest filled in.
pub(crate) fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    build(py, &e).unwrap_or_else(|import_error| import_error)
}

/// An `InvalidInputError` with `message`.
pub(crate) fn invalid_input(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_pyerr(py, Error::invalid_input(message))
}
