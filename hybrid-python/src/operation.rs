//! Long-running work: mutating calls wait for it by default (`wait=True`) and return
//! the result; with `wait=False` they return an [`PyOperation`] to wait for later.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;

use crate::convert::ToPy;
use crate::errors::{invalid_input, to_pyerr};
use crate::rt::block_on;

impl ToPy for () {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(py.None().into_bound(py))
    }
}

/// A finished value of any model type, on its way to Python.
pub(crate) struct Erased(Box<dyn ToPy + Send>);

impl<'py> IntoPyObject<'py> for Erased {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.to_py(py)
    }
}

type ErasedOperation = hybrid::Operation<Erased>;

/// A timeout in seconds as a `Duration`.
///
/// # Errors
/// `InvalidInputError` for a negative, infinite or NaN number.
pub(crate) fn seconds(py: Python<'_>, what: &str, s: Option<f64>) -> PyResult<Option<Duration>> {
    match s {
        None => Ok(None),
        Some(s) => Duration::try_from_secs_f64(s).map(Some).map_err(|_| {
            invalid_input(
                py,
                format!("{what} must be a non-negative number of seconds, got {s}"),
            )
        }),
    }
}

/// The result of a mutating call: the finished value, or the pending operation.
pub(crate) enum OpOut {
    Done(Erased),
    Pending(PyOperation),
}

impl<'py> IntoPyObject<'py> for OpOut {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            OpOut::Done(v) => v.into_pyobject(py),
            OpOut::Pending(op) => Ok(Bound::new(py, op)?.into_any()),
        }
    }
}

/// How a mutating call treats the operation it started.
#[derive(Clone, Copy)]
pub(crate) struct Waiting {
    wait: bool,
    timeout: Option<Duration>,
}

impl Waiting {
    /// From the `wait` and `timeout` keyword arguments.
    pub(crate) fn new(py: Python<'_>, wait: bool, timeout: Option<f64>) -> PyResult<Waiting> {
        Ok(Waiting {
            wait,
            timeout: seconds(py, "timeout", timeout)?,
        })
    }

    /// Awaits `op` (when waiting) or wraps it.
    pub(crate) async fn finish<T: ToPy + Send + 'static>(
        self,
        op: hybrid::Operation<T>,
    ) -> hybrid::Result<OpOut> {
        let op = match self.timeout {
            Some(t) => op.with_timeout(t),
            None => op,
        };
        if self.wait {
            Ok(OpOut::Done(Erased(Box::new(op.await?))))
        } else {
            Ok(OpOut::Pending(PyOperation::new(
                op.map(|v| Erased(Box::new(v))),
            )))
        }
    }
}

enum OpState {
    Pending(ErasedOperation),
    Waiting,
    Done(Py<PyAny>),
    Failed(PyErr),
}

/// Long-running work that was accepted and has not been waited for: a server being
/// built, a volume being attached, a task, an Azure LRO. `result()` (or `await
/// op.aresult()`) polls until it is done, with backoff, and returns the resource
/// (`None` for deletions); later calls return the same result or raise the same error.
#[pyclass(frozen, name = "Operation", module = "hybrid")]
pub(crate) struct PyOperation {
    description: String,
    resource: Option<String>,
    state: Arc<tokio::sync::Mutex<OpState>>,
}

impl PyOperation {
    fn new(op: ErasedOperation) -> PyOperation {
        PyOperation {
            description: op.description().to_owned(),
            resource: op.resource().map(str::to_owned),
            state: Arc::new(tokio::sync::Mutex::new(OpState::Pending(op))),
        }
    }
}

/// Waits for the operation in `state` once; every caller gets the one result.
async fn settle(
    state: Arc<tokio::sync::Mutex<OpState>>,
    timeout: Option<Duration>,
) -> PyResult<Py<PyAny>> {
    let mut st = state.lock().await;
    let op = match std::mem::replace(&mut *st, OpState::Waiting) {
        OpState::Pending(op) => op,
        OpState::Done(v) => {
            let v2 = Python::attach(|py| v.clone_ref(py));
            *st = OpState::Done(v);
            return Ok(v2);
        }
        OpState::Failed(e) => {
            let e2 = Python::attach(|py| e.clone_ref(py));
            *st = OpState::Failed(e);
            return Err(e2);
        }
        // An earlier wait was interrupted (Ctrl-C, a cancelled task) and took the
        // operation with it.
        OpState::Waiting => {
            return Err(Python::attach(|py| {
                to_pyerr(
                    py,
                    hybrid::Error::new(
                        hybrid::ErrorKind::Cancelled,
                        "an earlier wait for this operation was interrupted; its outcome is unknown (get the resource to see where it stands)",
                    ),
                )
            }));
        }
    };
    let op = match timeout {
        Some(t) => op.with_timeout(t),
        None => op,
    };
    let result = op.wait().await;
    Python::attach(|py| {
        let out = match result {
            Ok(v) => v.into_pyobject(py).map(Bound::unbind),
            Err(e) => Err(to_pyerr(py, e)),
        };
        match &out {
            Ok(v) => *st = OpState::Done(v.clone_ref(py)),
            Err(e) => *st = OpState::Failed(e.clone_ref(py)),
        }
        out
    })
}

#[pymethods]
impl PyOperation {
    /// What the operation does, for example `"create server web-1"`.
    #[getter]
    fn description(&self) -> &str {
        &self.description
    }

    /// The resource concerned, where known (for example the new server's id).
    #[getter]
    fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// Whether `result()` has finished (successfully or not).
    #[getter]
    fn done(&self) -> bool {
        match self.state.try_lock() {
            Ok(st) => matches!(*st, OpState::Done(_) | OpState::Failed(_)),
            Err(_) => false,
        }
    }

    /// Waits until the work is done and returns its result, with the GIL released.
    /// `timeout` (seconds) replaces the default of 30 minutes.
    ///
    /// Raises `TimeoutError` when the deadline passes, `OperationFailedError` when the
    /// resource ends in an error state, and the kind of error polling met otherwise.
    #[pyo3(signature = (timeout=None))]
    fn result(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let timeout = seconds(py, "timeout", timeout)?;
        let state = self.state.clone();
        let out = block_on(py, async move { Ok(settle(state, timeout).await) })?;
        out
    }

    /// The asyncio twin of `result`: returns an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn aresult<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let timeout = seconds(py, "timeout", timeout)?;
        let state = self.state.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, settle(state, timeout))
    }

    fn __repr__(&self) -> String {
        format!(
            "Operation(description={}, resource={}, done={})",
            crate::convert::pyq(&self.description),
            crate::convert::opt_pyq(self.resource.as_deref()),
            if self.done() { "True" } else { "False" }
        )
    }
}
