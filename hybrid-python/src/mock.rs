//! The in-memory mock provider for Python test harnesses: profiles, seeded fault
//! injection and request counters.

use std::collections::BTreeMap;

use pyo3::prelude::*;

use hybrid::mock::{Delays, Fault, MockConfig, MockProvider, Profile};
use hybrid::{Error, ErrorKind};

use crate::cloud::PyCloud;
use crate::convert::{from_py_data, to_py_data};
use crate::errors::to_pyerr;

/// An error kind from its name (`"not_found"`, `"unavailable"`, ...).
pub(crate) fn error_kind(py: Python<'_>, name: &str) -> PyResult<ErrorKind> {
    ErrorKind::ALL
        .into_iter()
        .find(|k| k.as_str() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
            to_pyerr(
                py,
                Error::config(format!(
                    "unknown error kind {name:?}; expected one of {}",
                    names.join(", ")
                )),
            )
        })
}

fn millis(py: Python<'_>, what: &str, seconds: f64) -> PyResult<u64> {
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(to_pyerr(
            py,
            Error::config(format!(
                "{what} must be a non-negative number of seconds, got {seconds}"
            )),
        ));
    }
    Ok((seconds * 1000.0).round() as u64)
}

fn check_probability(py: Python<'_>, p: f64) -> PyResult<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(to_pyerr(
            py,
            Error::config(format!(
                "fault probability must be between 0 and 1, got {p}"
            )),
        ))
    }
}

/// One injected fault: which operation (`None`: every one), which error kind (`None`:
/// latency only), how often (`probability` per matching request, at most `count`
/// times), how slow (`latency` seconds added to every matching request), and the
/// `retry_after` (seconds) and `http_status` the error carries.
///
/// With the same `seed` and the same sequence of requests, the same requests fail.
#[pyclass(frozen, eq, name = "Fault", module = "hybrid")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyFault(pub(crate) Fault);

#[pymethods]
impl PyFault {
    /// A fault; see the class documentation. `kind` is an error kind name such as
    /// `"unavailable"` or `"rate_limited"`. Raises `ConfigError` for an unknown kind, a
    /// probability outside 0–1 or a negative duration.
    #[new]
    #[pyo3(signature = (kind=None, *, operation=None, probability=1.0, count=None, latency=0.0, retry_after=None, http_status=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        kind: Option<&str>,
        operation: Option<String>,
        probability: f64,
        count: Option<u64>,
        latency: f64,
        retry_after: Option<f64>,
        http_status: Option<u16>,
    ) -> PyResult<PyFault> {
        check_probability(py, probability)?;
        Ok(PyFault(Fault {
            operation,
            kind: kind.map(|k| error_kind(py, k)).transpose()?,
            probability,
            count,
            latency_ms: millis(py, "latency", latency)?,
            retry_after_ms: retry_after
                .map(|s| millis(py, "retry_after", s))
                .transpose()?,
            http_status,
        }))
    }

    /// Every matching request fails with `kind` (see `Fault()` for the rest).
    #[staticmethod]
    #[pyo3(signature = (kind, *, operation=None, probability=1.0, count=None, http_status=None))]
    fn error(
        py: Python<'_>,
        kind: &str,
        operation: Option<String>,
        probability: f64,
        count: Option<u64>,
        http_status: Option<u16>,
    ) -> PyResult<PyFault> {
        PyFault::new(
            py,
            Some(kind),
            operation,
            probability,
            count,
            0.0,
            None,
            http_status,
        )
    }

    /// Every matching request is slowed by `seconds`.
    #[staticmethod]
    #[pyo3(signature = (seconds, *, operation=None))]
    fn delay(py: Python<'_>, seconds: f64, operation: Option<String>) -> PyResult<PyFault> {
        PyFault::new(py, None, operation, 1.0, None, seconds, None, None)
    }

    /// Every matching request is throttled: `RateLimitedError` (HTTP 429) carrying a
    /// Retry-After of `retry_after` seconds.
    #[staticmethod]
    #[pyo3(signature = (retry_after, *, operation=None, probability=1.0, count=None))]
    fn throttle(
        py: Python<'_>,
        retry_after: f64,
        operation: Option<String>,
        probability: f64,
        count: Option<u64>,
    ) -> PyResult<PyFault> {
        PyFault::new(
            py,
            Some("rate_limited"),
            operation,
            probability,
            count,
            0.0,
            Some(retry_after),
            Some(429),
        )
    }

    /// The error kind name, `None` for latency only.
    #[getter]
    fn kind(&self) -> Option<&'static str> {
        self.0.kind.map(ErrorKind::as_str)
    }

    /// The operation it applies to (for example `"create_server"`), `None` for all.
    #[getter]
    fn operation(&self) -> Option<&str> {
        self.0.operation.as_deref()
    }

    /// Chance of firing per matching request.
    #[getter]
    fn probability(&self) -> f64 {
        self.0.probability
    }

    /// Fires at most this many times; `None` for no limit.
    #[getter]
    fn count(&self) -> Option<u64> {
        self.0.count
    }

    /// Seconds added to every matching request.
    #[getter]
    fn latency(&self) -> f64 {
        self.0.latency_ms as f64 / 1000.0
    }

    /// The Retry-After the error carries, in seconds.
    #[getter]
    fn retry_after(&self) -> Option<f64> {
        self.0.retry_after_ms.map(|ms| ms as f64 / 1000.0)
    }

    /// The HTTP status the error carries.
    #[getter]
    fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }

    /// The fault as plain data (the shape mock configs take: `latency_ms`,
    /// `retry_after_ms`, ...).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_data(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Fault(kind={}, operation={}, probability={}, count={}, latency={}, retry_after={}, http_status={})",
            crate::convert::opt_pyq(self.kind()),
            crate::convert::opt_pyq(self.operation()),
            self.0.probability,
            self.0.count.map_or("None".to_owned(), |c| c.to_string()),
            self.latency(),
            self.retry_after().map_or("None".to_owned(), |r| r.to_string()),
            self.0.http_status.map_or("None".to_owned(), |s| s.to_string()),
        )
    }
}

/// A `Fault`, or its dict (the mock config's shape).
pub(crate) fn fault_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Fault> {
    if let Ok(f) = obj.cast::<PyFault>() {
        return Ok(f.get().0.clone());
    }
    let fault: Fault = from_py_data(obj, "fault")?;
    check_probability(obj.py(), fault.probability)?;
    Ok(fault)
}

/// Builds a mock from `Mock(...)` / `Cloud.mock(...)` arguments.
#[allow(clippy::too_many_arguments)]
pub(crate) fn mock_provider(
    py: Python<'_>,
    profile: &str,
    servers: usize,
    seed: u64,
    name: Option<String>,
    region: Option<String>,
    delays: Option<&Bound<'_, PyAny>>,
    faults: Option<Vec<Bound<'_, PyAny>>>,
    api_key: Option<String>,
) -> PyResult<MockProvider> {
    let err = |e: Error| to_pyerr(py, e);
    let delays = match delays {
        None => Delays::default(),
        Some(d) if d.extract::<String>().is_ok_and(|s| s == "instant") => Delays::instant(),
        Some(d) => from_py_data(d, "delays")?,
    };
    let config = MockConfig {
        profile: Profile::parse(profile).map_err(err)?,
        name,
        region,
        seed,
        servers,
        delays,
        faults: faults
            .unwrap_or_default()
            .iter()
            .map(fault_from_py)
            .collect::<PyResult<_>>()?,
        // Wrapped at once; the Python str is the caller's.
        api_key: api_key.map(secrecy::SecretString::from),
    };
    MockProvider::from_config(config).map_err(err)
}

/// An in-memory provider that obeys a real backend's limits, for tests and harnesses.
///
/// `profile` is `"vsphere"` (no NSX: flat VLAN networks only, no security groups,
/// routers or floating IPs, datastore-bound images), `"vsphere_nsx"`,
/// `"openstack_kvm"`, `"openstack_on_vsphere"` or `"azure"`. It starts with `servers`
/// active servers; lifecycles (BUILD → ACTIVE, deletes, attaches) take `delays` (a
/// dict of `build_ms`, `action_ms`, `delete_ms`, `import_bytes`, or `"instant"`);
/// `faults` (`Fault`s or their dicts) are injected from the start, drawn from a
/// generator seeded with `seed`. `api_key` is a credential kept as a secret
/// (`check()` raises `UnauthenticatedError` when it is empty).
///
/// Hand `mock.cloud` to the code under test; inject faults and read the request
/// counters here. Every call counts as one request, as a real backend's HTTP call
/// would, and so does each poll of an operation.
///
/// Raises `ConfigError` for an unknown profile or a fault probability outside 0–1.
#[pyclass(frozen, name = "Mock", module = "hybrid")]
#[derive(Clone)]
pub(crate) struct PyMock(MockProvider);

impl PyMock {
    pub(crate) fn new(mock: MockProvider) -> PyMock {
        PyMock(mock)
    }
}

#[pymethods]
impl PyMock {
    #[new]
    #[pyo3(signature = (profile="openstack_kvm", *, servers=0, seed=0, name=None, region=None, delays=None, faults=None, api_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        profile: &str,
        servers: usize,
        seed: u64,
        name: Option<String>,
        region: Option<String>,
        delays: Option<&Bound<'_, PyAny>>,
        faults: Option<Vec<Bound<'_, PyAny>>>,
        api_key: Option<String>,
    ) -> PyResult<PyMock> {
        mock_provider(
            py, profile, servers, seed, name, region, delays, faults, api_key,
        )
        .map(PyMock)
    }

    /// The `Cloud` backed by this mock (behind the capability gate). Clouds from the
    /// same mock share its state and counters.
    #[getter]
    fn cloud(&self) -> PyCloud {
        PyCloud::from_mock(self.0.clone())
    }

    /// The profile imitated, for example `"vsphere"`.
    #[getter]
    fn profile(&self) -> &'static str {
        self.0.profile().as_str()
    }

    /// Injects a fault (a `Fault` or its dict) from now on.
    ///
    /// Raises `ConfigError` for a probability outside 0–1.
    fn inject(&self, py: Python<'_>, fault: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0
            .inject(fault_from_py(fault)?)
            .map_err(|e| to_pyerr(py, e))
    }

    /// Removes every injected fault.
    fn clear_faults(&self) {
        self.0.clear_faults();
    }

    /// Requests made to operation `op` (for example `"list_servers"`).
    fn request_count(&self, op: &str) -> u64 {
        self.0.request_count(op)
    }

    /// Requests per operation.
    fn request_counts(&self) -> BTreeMap<String, u64> {
        self.0.request_counts()
    }

    /// Requests made in total.
    fn total_requests(&self) -> u64 {
        self.0.total_requests()
    }

    /// Sets every counter back to zero.
    fn reset_counters(&self) {
        self.0.reset_counters();
    }

    /// Servers held, whatever their state.
    fn server_count(&self) -> usize {
        self.0.server_count()
    }

    fn __repr__(&self) -> String {
        format!("Mock(profile={})", crate::convert::pyq(self.profile()))
    }
}

/// Every mock profile name.
pub(crate) fn profile_names() -> Vec<&'static str> {
    Profile::ALL.iter().map(|p| p.as_str()).collect()
}
