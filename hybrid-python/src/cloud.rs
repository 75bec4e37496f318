//! `hybrid.Cloud`: a connected provider, from a config dict, a clouds.yaml entry, a
//! JSON file, the environment, or an in-memory mock.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyType;

use hybrid::mock::MockProvider;
use hybrid::{Cloud, CloudConfig, Error};

use crate::capabilities::{PyCapabilities, PyProviderInfo};
use crate::compute::PyCompute;
use crate::convert::py_to_json;
use crate::errors::to_pyerr;
use crate::images::PyImages;
use crate::mock::{mock_provider, PyMock};
use crate::network::PyNetwork;
use crate::rt::{block_on, spawn};
use crate::storage::PyStorage;

/// The fields of a config dict that hold a secret: the vSphere `password`, the Azure
/// `client_secret` and the mock's `api_key`.
const SECRET_FIELDS: [&str; 3] = ["password", "client_secret", "api_key"];

/// The JSON type of `v`, for messages that must not show the value itself.
fn json_type(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "None",
        Value::Bool(_) => "bool",
        Value::Number(_) => "a number",
        Value::String(_) => "str",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Refuses a secret field that is not a `str` (or `None`) before serde sees it: its
/// "invalid type" message would quote a numeric value.
fn check_secret_types(value: &serde_json::Value) -> hybrid::Result<()> {
    let Some(map) = value.as_object() else {
        return Ok(());
    };
    for field in SECRET_FIELDS {
        match map.get(field) {
            None | Some(serde_json::Value::Null) | Some(serde_json::Value::String(_)) => {}
            Some(other) => {
                return Err(Error::config(format!(
                    "invalid cloud config: `{field}` must be a str, not {}",
                    json_type(other)
                )))
            }
        }
    }
    Ok(())
}

/// A config dict (or any mapping) as a [`CloudConfig`]. Secrets in it (`password`,
/// `client_secret`, `api_key`) must be `str`s and go straight into `SecretString`s; the
/// intermediate JSON is dropped at once. Error messages name fields and types, never a
/// secret's value.
fn config_from_py(obj: &Bound<'_, PyAny>) -> PyResult<CloudConfig> {
    let value = py_to_json(obj)?;
    check_secret_types(&value).map_err(|e| to_pyerr(obj.py(), e))?;
    serde_json::from_value(value).map_err(|e| {
        to_pyerr(
            obj.py(),
            Error::config(format!("invalid cloud config: {e}")),
        )
    })
}

/// Opens the provider `config` describes; a mock keeps its control handle.
async fn open(config: CloudConfig) -> hybrid::Result<PyCloud> {
    match config {
        CloudConfig::Mock(cfg) => Ok(PyCloud::from_mock(MockProvider::from_config(cfg)?)),
        other => Ok(PyCloud {
            cloud: Cloud::connect(other).await?,
            mock: None,
        }),
    }
}

/// A connected provider: OpenStack, vSphere (vCenter), Azure (a subscription's
/// resource group) or the in-memory mock, behind the capability gate.
///
/// Open one with `Cloud.connect(config)` (a dict such as `{"kind": "openstack",
/// "cloud": "prod"}` or `{"kind": "azure", "subscription_id": ..., ...}`),
/// `Cloud.openstack("prod")` (a clouds.yaml entry),
/// `Cloud.from_file(path)`, `Cloud.from_env()` or `Cloud.mock("vsphere")`; each that
/// does I/O has an asyncio twin prefixed with `a` (`await Cloud.aconnect(config)`).
///
/// The domains are `cloud.compute`, `cloud.network`, `cloud.storage` and
/// `cloud.images`; `cloud.capabilities` says what this provider can and cannot do,
/// and why. A `Cloud` holds credentials, so it cannot be pickled; its `repr` shows no
/// secret.
#[pyclass(frozen, name = "Cloud", module = "hybrid")]
pub(crate) struct PyCloud {
    pub(crate) cloud: Cloud,
    mock: Option<MockProvider>,
}

impl PyCloud {
    pub(crate) fn from_mock(mock: MockProvider) -> PyCloud {
        PyCloud {
            cloud: Cloud::from_provider(Arc::new(mock.clone())),
            mock: Some(mock),
        }
    }

    /// Wraps a connected provider (a fleet's environment).
    pub(crate) fn from_provider(p: Arc<dyn hybrid::Provider>) -> PyCloud {
        PyCloud {
            cloud: Cloud::from_provider(p),
            mock: None,
        }
    }
}

fn openstack_config(
    cloud: Option<String>,
    clouds_yaml: Option<std::path::PathBuf>,
    region: Option<String>,
) -> CloudConfig {
    CloudConfig::Openstack(hybrid::OpenstackConfig {
        cloud,
        clouds_yaml,
        region,
    })
}

#[pymethods]
impl PyCloud {
    /// Connects to the provider a config dict describes, for example
    /// `{"kind": "openstack", "cloud": "prod", "region": "RegionOne"}`,
    /// `{"kind": "vsphere", "url": "https://vc/sdk", "user": "...", "password": "...",
    /// "datacenter": "DC0"}`, `{"kind": "azure", "subscription_id": "...",
    /// "resource_group": "web", "location": "westeurope", "tenant_id": "...",
    /// "client_id": "...", "client_secret": "..."}` (`"cloud"`: `"public"`, `"china"`,
    /// `"us_government"` or `{"authority_host": ..., "resource_manager": ...}`),
    /// `{"kind": "vsphere"}` / `{"kind": "azure"}` to read `GOVC_*` / `AZURE_*`, or
    /// `{"kind": "mock", "profile": "vsphere", "servers": 10}`. Blocks with the GIL
    /// released.
    ///
    /// Secrets (`password`, `client_secret`, `api_key`) are taken as `str` and kept as
    /// secrets from then on: never in a `repr`, an error message or a pickle.
    ///
    /// Raises `ConfigError` for an invalid config (a secret that is not a `str`
    /// included); for real backends, `UnauthenticatedError` (a wrong password or client
    /// secret: every credential of Azure's chain that failed is named, never the
    /// secret), `PermissionDeniedError`, `TransportError`, and `UnsupportedError` for a
    /// standalone ESXi host (vCenter only).
    #[staticmethod]
    fn connect(py: Python<'_>, config: &Bound<'_, PyAny>) -> PyResult<PyCloud> {
        let config = config_from_py(config)?;
        block_on(py, open(config))
    }

    /// The asyncio twin of `connect`: returns an awaitable.
    #[staticmethod]
    fn aconnect<'py>(py: Python<'py>, config: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let config = config_from_py(config)?;
        spawn(py, open(config))
    }

    /// Connects to an OpenStack region from a clouds.yaml entry (with its secure.yaml),
    /// found as openstacksdk finds it: `cloud` (else `OS_CLOUD`, else the `OS_*`
    /// variables), `clouds_yaml` to read a given file, `region` to override the entry's
    /// `region_name`.
    ///
    /// Raises `ConfigError` (no such entry), `UnauthenticatedError`, `TransportError`.
    #[staticmethod]
    #[pyo3(signature = (cloud=None, *, clouds_yaml=None, region=None))]
    fn openstack(
        py: Python<'_>,
        cloud: Option<String>,
        clouds_yaml: Option<std::path::PathBuf>,
        region: Option<String>,
    ) -> PyResult<PyCloud> {
        block_on(py, open(openstack_config(cloud, clouds_yaml, region)))
    }

    /// The asyncio twin of `openstack`.
    #[staticmethod]
    #[pyo3(signature = (cloud=None, *, clouds_yaml=None, region=None))]
    fn aopenstack(
        py: Python<'_>,
        cloud: Option<String>,
        clouds_yaml: Option<std::path::PathBuf>,
        region: Option<String>,
    ) -> PyResult<Bound<'_, PyAny>> {
        spawn(py, open(openstack_config(cloud, clouds_yaml, region)))
    }

    /// Connects to the provider a JSON config file describes (the same shape as
    /// `connect`'s dict). Raises `ConfigError` when it cannot be read or parsed.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<PyCloud> {
        let config = CloudConfig::from_file(&path).map_err(|e| to_pyerr(py, e))?;
        block_on(py, open(config))
    }

    /// The asyncio twin of `from_file`.
    #[staticmethod]
    fn afrom_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Bound<'_, PyAny>> {
        let config = CloudConfig::from_file(&path).map_err(|e| to_pyerr(py, e))?;
        spawn(py, open(config))
    }

    /// Connects to the provider the environment describes: `HYBRID_CONFIG` (a JSON
    /// config file), or `HYBRID_PROVIDER` = `mock` (with `HYBRID_MOCK_PROFILE`,
    /// `HYBRID_MOCK_SERVERS`), `openstack` (with `OS_CLOUD` or `OS_*`), `vsphere`
    /// (with `GOVC_*` / `VSPHERE_*`) or `azure` (with `AZURE_SUBSCRIPTION_ID`,
    /// `AZURE_RESOURCE_GROUP`, `AZURE_LOCATION`, `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`, ...). Raises `ConfigError` when they are missing or
    /// invalid, and the errors of `connect`.
    #[staticmethod]
    fn from_env(py: Python<'_>) -> PyResult<PyCloud> {
        let config = CloudConfig::from_env().map_err(|e| to_pyerr(py, e))?;
        block_on(py, open(config))
    }

    /// The asyncio twin of `from_env`.
    #[staticmethod]
    fn afrom_env(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let config = CloudConfig::from_env().map_err(|e| to_pyerr(py, e))?;
        spawn(py, open(config))
    }

    /// An in-memory mock that obeys a real backend's limits; the arguments are those of
    /// `hybrid.Mock`, whose `cloud` this returns (`cloud.as_mock` gives the controls
    /// back). No I/O, so no async twin.
    ///
    /// Raises `ConfigError` for an unknown profile or a fault probability outside 0–1.
    #[classmethod]
    #[pyo3(signature = (profile="openstack_kvm", *, servers=0, seed=0, name=None, region=None, delays=None, faults=None, api_key=None))]
    #[allow(clippy::too_many_arguments)]
    fn mock(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        profile: &str,
        servers: usize,
        seed: u64,
        name: Option<String>,
        region: Option<String>,
        delays: Option<&Bound<'_, PyAny>>,
        faults: Option<Vec<Bound<'_, PyAny>>>,
        api_key: Option<String>,
    ) -> PyResult<PyCloud> {
        let mock = mock_provider(
            py, profile, servers, seed, name, region, delays, faults, api_key,
        )?;
        Ok(PyCloud::from_mock(mock))
    }

    /// Kind, name, region and variant of the provider. No I/O.
    #[getter]
    fn info(&self) -> PyProviderInfo {
        PyProviderInfo(self.cloud.info())
    }

    /// What this provider can and cannot do, with reasons. No I/O.
    #[getter]
    fn capabilities(&self) -> PyCapabilities {
        PyCapabilities::new(self.cloud.capabilities())
    }

    /// Servers, flavors, key pairs.
    #[getter]
    fn compute(&self) -> PyCompute {
        PyCompute {
            p: self.cloud.provider().clone(),
        }
    }

    /// Networks, subnets, ports, security groups, routers, floating IPs.
    #[getter]
    fn network(&self) -> PyNetwork {
        PyNetwork {
            p: self.cloud.provider().clone(),
        }
    }

    /// Volumes, attachments, snapshots.
    #[getter]
    fn storage(&self) -> PyStorage {
        PyStorage {
            p: self.cloud.provider().clone(),
        }
    }

    /// Images.
    #[getter]
    fn images(&self) -> PyImages {
        PyImages {
            p: self.cloud.provider().clone(),
        }
    }

    /// The mock's controls (fault injection, request counters) when this is a mock,
    /// else `None`.
    #[getter]
    fn as_mock(&self) -> Option<PyMock> {
        self.mock.clone().map(PyMock::new)
    }

    /// Checks that the service answers and the credentials work, and refreshes what
    /// the capabilities are computed from. Blocks with the GIL released; `acheck` is
    /// the asyncio twin.
    ///
    /// Raises `UnauthenticatedError`, `TransportError`, `UnavailableError`.
    fn check(&self, py: Python<'_>) -> PyResult<()> {
        let p = self.cloud.provider().clone();
        block_on(py, async move { p.check().await })
    }

    /// The asyncio twin of `check`.
    fn acheck<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let p = self.cloud.provider().clone();
        spawn(py, async move { p.check().await })
    }

    fn __repr__(&self) -> String {
        let i = self.cloud.info();
        format!(
            "Cloud(kind={}, name={}, region={})",
            crate::convert::pyq(&i.kind.to_string()),
            crate::convert::pyq(&i.name),
            crate::convert::opt_pyq(i.region.as_deref())
        )
    }
}
