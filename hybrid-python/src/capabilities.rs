//! Capabilities with their reasons, and provider identity.

use std::sync::Arc;

use pyo3::exceptions::{PyAttributeError, PyKeyError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use hybrid::{Capabilities, Capability, Feature, ProviderInfo, Reason};

use crate::convert::{json_to_py, opt_pyq, pyq, to_py_data};

/// Why a capability is missing: `kind` is `"platform_never"`, `"deployment_dependent"`
/// or `"not_implemented"`, `message` a sentence a person can act on.
#[pyclass(frozen, eq, name = "Reason", module = "hybrid")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyReason(pub(crate) Reason);

#[pymethods]
impl PyReason {
    /// `"platform_never"` (the platform can never do this), `"deployment_dependent"`
    /// (this deployment lacks it) or `"not_implemented"` (hybrid does not do it yet).
    #[getter]
    fn kind(&self) -> String {
        serde_json::to_value(self.0.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A sentence a person can act on.
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }

    /// `{"kind": ..., "message": ...}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_data(py, &self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Reason(kind={}, message={})",
            pyq(&self.kind()),
            pyq(&self.0.message)
        )
    }
}

/// One capability: `supported`, or not with a `reason`. True in a boolean context when
/// supported.
#[pyclass(frozen, eq, name = "Capability", module = "hybrid")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyCapability(pub(crate) Capability);

#[pymethods]
impl PyCapability {
    /// Whether calls that need it may be made.
    #[getter]
    fn supported(&self) -> bool {
        self.0.supported
    }

    /// Why not, when not supported.
    #[getter]
    fn reason(&self) -> Option<PyReason> {
        self.0.reason.clone().map(PyReason)
    }

    /// `{"supported": ..., "reason": {...}}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_data(py, &self.0)
    }

    fn __bool__(&self) -> bool {
        self.0.supported
    }

    fn __repr__(&self) -> String {
        match &self.0.reason {
            None => format!("Capability(supported={})", py_bool(self.0.supported)),
            Some(r) => format!(
                "Capability(supported={}, reason={})",
                py_bool(self.0.supported),
                PyReason(r.clone()).__repr__()
            ),
        }
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// What a provider can and cannot do, nested per domain: `caps.network.sdn`,
/// `caps.platform.image_sharing`; or by dotted path: `caps["network.sdn"]`.
///
/// Computed when the provider was connected: reading it makes no request. A call that
/// needs an unsupported capability raises `UnsupportedError` with the reason, without
/// making a request.
#[pyclass(frozen, name = "Capabilities", module = "hybrid")]
pub(crate) struct PyCapabilities {
    caps: Arc<Capabilities>,
    value: serde_json::Value,
}

impl PyCapabilities {
    pub(crate) fn new(caps: Arc<Capabilities>) -> PyCapabilities {
        let value = serde_json::to_value(caps.as_ref()).unwrap_or_default();
        PyCapabilities { caps, value }
    }

    fn entry(&self, path: &str) -> Option<Capability> {
        let (domain, field) = path.split_once('.')?;
        let v = self.value.get(domain)?.get(field)?;
        serde_json::from_value(v.clone()).ok()
    }

    fn group(&self, domain: &str) -> PyCapabilityGroup {
        let names: Vec<String> = self
            .value
            .get(domain)
            .and_then(|v| v.as_object())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let entries = names
            .iter()
            .filter_map(|n: &String| self.entry(&format!("{domain}.{n}")).map(|c| (n.clone(), c)))
            .collect();
        PyCapabilityGroup {
            domain: domain.to_owned(),
            entries,
        }
    }
}

#[pymethods]
impl PyCapabilities {
    /// Servers, power, reboot, resize, flavors, key pairs, server tags and metadata.
    #[getter]
    fn compute(&self) -> PyCapabilityGroup {
        self.group("compute")
    }

    /// Networks, SDN, subnets, ports, security groups, routers, floating IPs.
    #[getter]
    fn network(&self) -> PyCapabilityGroup {
        self.group("network")
    }

    /// Volumes, extend, attach, snapshots.
    #[getter]
    fn storage(&self) -> PyCapabilityGroup {
        self.group("storage")
    }

    /// Images, upload, URL import, download.
    #[getter]
    fn image(&self) -> PyCapabilityGroup {
        self.group("image")
    }

    /// Facts placement reads: object storage, image sharing, live migration, high
    /// availability, shared storage.
    #[getter]
    fn platform(&self) -> PyCapabilityGroup {
        self.group("platform")
    }

    /// The entry at a dotted path such as `"network.security_groups"` or
    /// `"platform.object_storage"`; `KeyError` for an unknown path.
    fn __getitem__(&self, path: &str) -> PyResult<PyCapability> {
        self.entry(path)
            .map(PyCapability)
            .ok_or_else(|| PyKeyError::new_err(path.to_owned()))
    }

    /// Whether the gated feature at `path` (see `hybrid.FEATURES`) is supported.
    fn supports(&self, path: &str) -> PyResult<bool> {
        Ok(self.__getitem__(path)?.0.supported)
    }

    /// The unsupported gated features as `(path, capability)` pairs, in `FEATURES` order.
    fn unsupported(&self) -> Vec<(&'static str, PyCapability)> {
        self.caps
            .unsupported()
            .map(|(f, c)| (f.path(), PyCapability(c.clone())))
            .collect()
    }

    /// The whole structure as plain data (the JSON shape of the Rust `Capabilities`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.value)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyCapabilities>()
            .map(|o| o.get().caps == self.caps)
            .unwrap_or(false)
    }

    fn __repr__(&self) -> String {
        let missing: Vec<String> = self
            .caps
            .unsupported()
            .map(|(f, _)| pyq(f.path()))
            .collect();
        format!("Capabilities(unsupported=[{}])", missing.join(", "))
    }
}

/// The capabilities of one domain; each entry is an attribute (`group.sdn`). Iterating
/// yields `(name, capability)` pairs.
#[pyclass(frozen, name = "CapabilityGroup", module = "hybrid")]
pub(crate) struct PyCapabilityGroup {
    domain: String,
    entries: Vec<(String, Capability)>,
}

#[pymethods]
impl PyCapabilityGroup {
    fn __getattr__(&self, name: &str) -> PyResult<PyCapability> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| PyCapability(c.clone()))
            .ok_or_else(|| {
                PyAttributeError::new_err(format!("{} has no capability {name:?}", self.domain))
            })
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items: Vec<(String, PyCapability)> = self
            .entries
            .iter()
            .map(|(n, c)| (n.clone(), PyCapability(c.clone())))
            .collect();
        PyList::new(py, items)?.try_iter().map(Bound::into_any)
    }

    fn __dir__(&self) -> Vec<String> {
        self.entries.iter().map(|(n, _)| n.clone()).collect()
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .entries
            .iter()
            .map(|(n, c)| format!("{n}={}", py_bool(c.supported)))
            .collect();
        format!("CapabilityGroup({}: {})", self.domain, parts.join(", "))
    }
}

/// Every gated feature's dotted path, for example `"network.security_groups"`.
pub(crate) fn feature_paths() -> Vec<&'static str> {
    Feature::ALL.iter().map(|f| f.path()).collect()
}

/// Who a provider is: `kind` (`"openstack"`, `"vsphere"`, `"azure"`), `name`, `region`,
/// `variant` (for example `"openstack on vsphere"`), and `simulated` (the mock).
#[pyclass(frozen, eq, name = "ProviderInfo", module = "hybrid")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyProviderInfo(pub(crate) ProviderInfo);

#[pymethods]
impl PyProviderInfo {
    /// `"openstack"`, `"vsphere"` or `"azure"`.
    #[getter]
    fn kind(&self) -> String {
        self.0.kind.to_string()
    }

    /// The configured name, for example `"vsphere-prod"`.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// Region or location.
    #[getter]
    fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }

    /// The flavour of the deployment, for example `"openstack on vsphere"`.
    #[getter]
    fn variant(&self) -> Option<&str> {
        self.0.variant.as_deref()
    }

    /// Whether this is the in-memory mock rather than a real service.
    #[getter]
    fn simulated(&self) -> bool {
        self.0.simulated
    }

    /// The info as plain data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_data(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "ProviderInfo(kind={}, name={}, region={}, variant={}, simulated={})",
            pyq(&self.kind()),
            pyq(&self.0.name),
            opt_pyq(self.0.region.as_deref()),
            opt_pyq(self.0.variant.as_deref()),
            py_bool(self.0.simulated)
        )
    }
}
