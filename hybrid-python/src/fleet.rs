//! `hybrid.Fleet`: many environments as one — concurrent inventory with deadlines,
//! placement decisions with their reasons, provisioning.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures::{FutureExt, StreamExt};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use hybrid::fleet::{
    Candidate, Constraint, EnvironmentReport, Finding, Fleet, FleetConfig, ImagePlan,
    InventoryEvent, InventoryOptions, InventoryStream, Placement, Policy, PolicyTags, Provisioned,
    Rejection, Resolution, Resource, ResourceKind, WorkloadSpec,
};
use hybrid::{Error, ListOptions};

use crate::capabilities::{PyProviderInfo, PyReason};
use crate::cloud::PyCloud;
use crate::convert::{from_py_data, opt_pyq, pyq, to_py_data, ToPy};
use crate::errors::{invalid_input, to_pyerr};
use crate::listing::Ready;
use crate::operation::seconds;
use crate::rt::{block_on, twins};

// ------------------------------------------------------------------ workload spec

/// A portable server spec: resources, image (by name, or any of an OS family),
/// network needs, platform needs, certifications and tags. The fleet resolves it to a
/// flavor, image and network per environment and chooses the environment.
///
/// `WorkloadSpec("oracle-db", 8, 65536, disk_gib=200, image="rhel-9-template",
/// vlan_id=120, high_availability=True, certifications=["oracle"],
/// tags=["production"])`. Raises `InvalidInputError` for an empty name, no vCPU, no
/// memory, or neither an image nor an OS family.
#[pyclass(frozen, eq, name = "WorkloadSpec", module = "hybrid")]
#[derive(Clone, PartialEq)]
pub(crate) struct PyWorkloadSpec(WorkloadSpec);

#[pymethods]
impl PyWorkloadSpec {
    #[new]
    #[pyo3(signature = (name, vcpus, ram_mib, *, disk_gib=0, image=None, os_family=None, network=None, flat_vlan=false, vlan_id=None, security_groups=None, public_ip=false, high_availability=false, live_migration=false, certifications=None, tags=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        name: String,
        vcpus: u32,
        ram_mib: u64,
        disk_gib: u64,
        image: Option<String>,
        os_family: Option<String>,
        network: Option<String>,
        flat_vlan: bool,
        vlan_id: Option<u32>,
        security_groups: Option<Vec<String>>,
        public_ip: bool,
        high_availability: bool,
        live_migration: bool,
        certifications: Option<Vec<String>>,
        tags: Option<Vec<String>>,
    ) -> PyResult<PyWorkloadSpec> {
        let mut spec = WorkloadSpec::new(name, vcpus, ram_mib).with_disk_gib(disk_gib);
        spec.image = image;
        spec.os_family = os_family;
        spec.network.network = network;
        spec.network.flat_vlan = flat_vlan || vlan_id.is_some();
        spec.network.vlan_id = vlan_id;
        spec.network.security_groups = security_groups.unwrap_or_default();
        spec.network.public_ip = public_ip;
        spec.high_availability = high_availability;
        spec.live_migration = live_migration;
        spec.certifications = certifications.unwrap_or_default();
        spec.tags = tags.unwrap_or_default();
        spec.validate().map_err(|e| to_pyerr(py, e))?;
        Ok(PyWorkloadSpec(spec))
    }

    /// The server's name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// Virtual CPUs, at least.
    #[getter]
    fn vcpus(&self) -> u32 {
        self.0.vcpus
    }

    /// Memory in MiB, at least.
    #[getter]
    fn ram_mib(&self) -> u64 {
        self.0.ram_mib
    }

    /// Root disk in GiB, at least (0: whatever the image needs).
    #[getter]
    fn disk_gib(&self) -> u64 {
        self.0.disk_gib
    }

    /// An image by exact name.
    #[getter]
    fn image(&self) -> Option<&str> {
        self.0.image.as_deref()
    }

    /// Any image of this OS family (`"linux"`, `"windows"`) will do.
    #[getter]
    fn os_family(&self) -> Option<&str> {
        self.0.os_family.as_deref()
    }

    /// A network by name; otherwise the environment's first internal network.
    #[getter]
    fn network(&self) -> Option<&str> {
        self.0.network.network.as_deref()
    }

    /// Whether a flat VLAN (port group, provider network) is needed.
    #[getter]
    fn flat_vlan(&self) -> bool {
        self.0.network.needs_flat_vlan()
    }

    /// The VLAN id needed.
    #[getter]
    fn vlan_id(&self) -> Option<u32> {
        self.0.network.vlan_id
    }

    /// Security groups by name; provisioning creates missing ones.
    #[getter]
    fn security_groups(&self) -> Vec<String> {
        self.0.network.security_groups.clone()
    }

    /// Whether a public IP is mapped to the server.
    #[getter]
    fn public_ip(&self) -> bool {
        self.0.network.public_ip
    }

    /// Whether the platform must restart it on another host when one fails.
    #[getter]
    fn high_availability(&self) -> bool {
        self.0.high_availability
    }

    /// Whether it must move between hosts without downtime.
    #[getter]
    fn live_migration(&self) -> bool {
        self.0.live_migration
    }

    /// Certifications the environment must hold (its `certified` tag).
    #[getter]
    fn certifications(&self) -> Vec<String> {
        self.0.certifications.clone()
    }

    /// Tags, matched by policy rules and set on the server where supported.
    #[getter]
    fn tags(&self) -> Vec<String> {
        self.0.tags.clone()
    }

    /// The spec as plain data (the shape fleet config files use).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_data(py, &self.0)
    }

    /// A spec from plain data of the shape `to_dict()` returns. Raises
    /// `InvalidInputError` naming what does not fit.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        spec_from_py(data)
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>,))> {
        let py = slf.py();
        Ok((
            slf.get_type().getattr("from_dict")?,
            (to_py_data(py, &slf.get().0)?,),
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "WorkloadSpec(name={}, vcpus={}, ram_mib={}, image={})",
            pyq(&self.0.name),
            self.0.vcpus,
            self.0.ram_mib,
            opt_pyq(self.0.image.as_deref())
        )
    }
}

/// A `WorkloadSpec`, or its dict.
fn spec_from_py(obj: &Bound<'_, PyAny>) -> PyResult<PyWorkloadSpec> {
    if let Ok(s) = obj.cast::<PyWorkloadSpec>() {
        return Ok(s.get().clone());
    }
    let spec: WorkloadSpec = from_py_data(obj, "workload spec")?;
    spec.validate().map_err(|e| to_pyerr(obj.py(), e))?;
    Ok(PyWorkloadSpec(spec))
}

// ------------------------------------------------------------- decision objects

/// Declares a frozen Python view of a cloneable Rust value, with one getter per field
/// and extra methods.
macro_rules! view {
    (
        $(#[doc = $doc:literal])*
        $py:ident as $name:literal wraps $rust:ty {
            $( $(#[doc = $fdoc:literal])* $field:ident ),* $(,)?
        }
        extra { $($extra:tt)* }
    ) => {
        $(#[doc = $doc])*
        #[pyclass(frozen, name = $name, module = "hybrid")]
        pub(crate) struct $py(pub(crate) $rust);

        #[pymethods]
        impl $py {
            $(
                $(#[doc = $fdoc])*
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    ToPy::to_py(&self.0.$field, py)
                }
            )*
            $($extra)*
        }

        impl ToPy for $rust {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(Bound::new(py, $py(self.clone()))?.into_any())
            }
        }

        impl<'py> IntoPyObject<'py> for Out<$rust> {
            type Target = PyAny;
            type Output = Bound<'py, PyAny>;
            type Error = PyErr;

            fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(Bound::new(py, $py(self.0))?.into_any())
            }
        }
    };
}

/// A fleet value on its way to Python.
pub(crate) struct Out<T>(T);

impl ToPy for hybrid::ProviderInfo {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(Bound::new(py, PyProviderInfo(self.clone()))?.into_any())
    }
}

impl ToPy for hybrid::Reason {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(Bound::new(py, PyReason(self.clone()))?.into_any())
    }
}

impl ToPy for hybrid::ErrorKind {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.as_str().to_owned().to_py(py)
    }
}

impl ToPy for hybrid::fleet::ImageAction {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_string().to_py(py)
    }
}

impl ToPy for hybrid::fleet::SecurityGroupPlan {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = PyDict::new(py);
        d.set_item("name", &self.name)?;
        d.set_item("existing", self.existing.as_ref().map(|id| id.as_str()))?;
        Ok(d.into_any())
    }
}

/// The snake-case name of a constraint kind.
fn constraint_kind(c: &Constraint) -> &'static str {
    match c {
        Constraint::Reachable => "reachable",
        Constraint::Policy(_) => "policy",
        Constraint::Certified => "certified",
        Constraint::Servers => "servers",
        Constraint::HighAvailability => "high_availability",
        Constraint::LiveMigration => "live_migration",
        Constraint::SecurityGroups => "security_groups",
        Constraint::PublicIp => "public_ip",
        Constraint::Size => "size",
        Constraint::Image => "image",
        Constraint::Network => "network",
    }
}

view! {
    /// The image-locality answer for a workload bound for an environment: `action` is
    /// `"present"`, `"import"` (copy it from `source` first), `"convert"` (to
    /// `target_format`, which hybrid does not do) or `"unavailable"`.
    PyImagePlan as "ImagePlan" wraps ImagePlan {
        /// The environment the workload is bound for.
        environment,
        /// `"present"`, `"import"`, `"convert"` or `"unavailable"`.
        action,
        /// The image: the local one when present, else the source to copy.
        image,
        /// The environment the source image is in.
        source,
        /// The disk format the environment needs (convert).
        target_format,
        /// Why, in a sentence.
        explanation,
    }
    extra {
        fn __str__(&self) -> String {
            self.0.to_string()
        }

        fn __repr__(&self) -> String {
            format!("ImagePlan(environment={}, action={})", pyq(&self.0.environment), pyq(&self.0.action.to_string()))
        }
    }
}

view! {
    /// A workload resolved to one environment: the smallest fitting flavor, the image
    /// plan, the network, security groups (`{"name", "existing"}` dicts; `existing` is
    /// `None` when provisioning creates the group) and public IP, with the reasons.
    PyResolution as "Resolution" wraps Resolution {
        /// The environment.
        environment,
        /// Its provider (`ProviderInfo`).
        provider,
        /// The smallest flavor that fits.
        flavor,
        /// The image, and whether it must be imported or converted first.
        image,
        /// The network to attach to.
        network,
        /// The security groups.
        security_groups,
        /// Whether a public IP is mapped to the server's port.
        public_ip,
        /// The external network the public IP comes from.
        external_network,
        /// Why each was chosen: flavor, image, network, security groups, public IP.
        reasons,
    }
    extra {
        /// The reasons joined by `; `.
        #[getter]
        fn explanation(&self) -> String {
            self.0.explanation()
        }

        fn __str__(&self) -> String {
            self.0.to_string()
        }

        fn __repr__(&self) -> String {
            format!("Resolution(environment={}, flavor={})", pyq(&self.0.environment), pyq(self.0.flavor.id.as_str()))
        }
    }
}

view! {
    /// One rule an environment breaks: `constraint` (`"reachable"`, `"policy"`,
    /// `"certified"`, `"servers"`, `"high_availability"`, `"live_migration"`,
    /// `"security_groups"`, `"public_ip"`, `"size"`, `"image"`, `"network"`), `policy`
    /// (the rule's name for policy findings), a `message`, the capability `reason`
    /// when one is missing, and the `error_kind` when the environment could not be
    /// reached.
    PyFinding as "Finding" wraps Finding {
        /// A sentence.
        message,
        /// The capability's reason, when a capability is missing.
        reason,
        /// The error kind, when the environment could not be reached.
        error_kind,
    }
    extra {
        /// The kind of rule broken.
        #[getter]
        fn constraint(&self) -> &'static str {
            constraint_kind(&self.0.constraint)
        }

        /// The policy rule's name, for policy findings.
        #[getter]
        fn policy(&self) -> Option<&str> {
            match &self.0.constraint {
                Constraint::Policy(name) => Some(name),
                _ => None,
            }
        }

        fn __str__(&self) -> String {
            self.0.to_string()
        }

        fn __repr__(&self) -> String {
            format!("Finding(constraint={}, message={})", pyq(constraint_kind(&self.0.constraint)), pyq(&self.0.message))
        }
    }
}

view! {
    /// An environment that cannot take the workload, with every rule it breaks.
    PyRejection as "Rejection" wraps Rejection {
        /// The environment.
        environment,
        /// The broken rules (`Finding`), in rule order.
        findings,
    }
    extra {
        /// The findings joined by `; `.
        #[getter]
        fn explanation(&self) -> String {
            self.0.explanation()
        }

        /// Whether it was rejected only because it could not be reached.
        #[getter]
        fn unreachable(&self) -> bool {
            self.0.is_unreachable()
        }

        fn __str__(&self) -> String {
            self.0.to_string()
        }

        fn __repr__(&self) -> String {
            format!("Rejection(environment={}, findings={})", pyq(&self.0.environment), self.0.findings.len())
        }
    }
}

view! {
    /// An environment that can take the workload: its resolution, its policy score,
    /// the `prefer` rules it matches, the reasons it fits, and — when not chosen — why
    /// it ranked lower.
    PyCandidate as "Candidate" wraps Candidate {
        /// The environment.
        environment,
        /// The flavor, image, network and the rest (`Resolution`).
        resolution,
        /// The sum of the weights of the `prefer` rules it matches.
        score,
        /// Those rules, by name.
        preferred_by,
        /// Why it fits.
        reasons,
        /// Why it ranked lower, when it was not chosen.
        ranked_lower,
    }
    extra {
        /// The reasons joined by `; `.
        #[getter]
        fn explanation(&self) -> String {
            self.0.explanation()
        }

        fn __repr__(&self) -> String {
            format!("Candidate(environment={}, score={})", pyq(&self.0.environment), self.0.score)
        }
    }
}

view! {
    /// Where a workload goes and why: `chosen` (the best `Candidate`, or `None`),
    /// `ranked` (every eligible environment, best first), `rejected` (every other one
    /// with the rules it breaks); `str()` is the decision in words.
    PyPlacement as "Placement" wraps Placement {
        /// The workload's name.
        workload,
        /// The eligible environments, best first.
        ranked,
        /// The rejected environments, in fleet order.
        rejected,
    }
    extra {
        /// The chosen environment's `Candidate`, or `None` when none is eligible.
        #[getter]
        fn chosen<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            self.0.chosen().cloned().to_py(py)
        }

        /// The decision in words: the choice with its reasons, then one line per other
        /// environment (eligible but ranked lower, or rejected with its findings).
        #[getter]
        fn explanation(&self) -> String {
            self.0.explanation()
        }

        /// The chosen `Candidate`. Raises `UnsupportedError` listing every rejection
        /// when none is eligible (`UnavailableError` when none could be reached).
        fn require(&self, py: Python<'_>) -> PyResult<PyCandidate> {
            self.0
                .require()
                .map(|c| PyCandidate(c.clone()))
                .map_err(|e| to_pyerr(py, e))
        }

        /// The eligible environment `name`, or `None`.
        fn candidate(&self, name: &str) -> Option<PyCandidate> {
            self.0.candidate(name).cloned().map(PyCandidate)
        }

        /// The rejection of environment `name`, or `None`.
        fn rejection(&self, name: &str) -> Option<PyRejection> {
            self.0.rejection(name).cloned().map(PyRejection)
        }

        fn __str__(&self) -> String {
            self.0.to_string()
        }

        fn __repr__(&self) -> String {
            format!(
                "Placement(workload={}, chosen={})",
                pyq(&self.0.workload),
                opt_pyq(self.0.chosen().map(|c| c.environment.as_str()))
            )
        }
    }
}

view! {
    /// What provisioning made: where (`candidate`) and why (`placement`, `None` for
    /// `provision_on`), the active `server`, and the image imported, security groups
    /// created, port and floating IP made for it.
    PyProvisioned as "Provisioned" wraps Provisioned {
        /// Where it went and why (`Candidate`).
        candidate,
        /// The whole decision (`Placement`), for `provision`.
        placement,
        /// The server, active.
        server,
        /// The image imported for it, when it had to be.
        imported_image,
        /// Security groups created for it.
        created_security_groups,
        /// The port made for its public IP.
        port,
        /// Its public IP.
        floating_ip,
    }
    extra {
        /// The environment it went to.
        #[getter]
        fn environment(&self) -> &str {
            &self.0.candidate.environment
        }

        fn __str__(&self) -> String {
            self.0.to_string()
        }

        fn __repr__(&self) -> String {
            format!("Provisioned(server={}, environment={})", pyq(&self.0.server.name), pyq(&self.0.candidate.environment))
        }
    }
}

/// `resolve()`'s entries: a `Resolution`, or the `Rejection` of an environment.
pub(crate) struct Resolved(Vec<Result<Resolution, Rejection>>);

impl<'py> IntoPyObject<'py> for Resolved {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for r in self.0 {
            match r {
                Ok(res) => list.append(res.to_py(py)?)?,
                Err(rej) => list.append(rej.to_py(py)?)?,
            }
        }
        Ok(list)
    }
}

// -------------------------------------------------------------------- inventory

/// How one environment's inventory ended: `complete`, `partial` or `failed` (see
/// `summary`), with the counts, the kinds listed in full or not, the kinds skipped
/// with the capability's reason, and the errors (as `HybridError` instances; a
/// deadline that passed is a `TimeoutError`).
#[pyclass(frozen, name = "EnvironmentReport", module = "hybrid")]
pub(crate) struct PyEnvironmentReport {
    environment: String,
    info: Option<hybrid::ProviderInfo>,
    counts: BTreeMap<String, u64>,
    complete: Vec<String>,
    incomplete: Vec<String>,
    skipped: Vec<(String, hybrid::Reason)>,
    errors: Vec<Py<PyAny>>,
    timed_out: bool,
    deadline: f64,
    elapsed: f64,
    summary: String,
    is_complete: bool,
}

impl PyEnvironmentReport {
    fn new(py: Python<'_>, r: EnvironmentReport) -> PyEnvironmentReport {
        let summary = r.summary();
        let is_complete = r.is_complete();
        let counts = ResourceKind::ALL
            .iter()
            .map(|k| (k.to_string(), r.counts.get(*k)))
            .collect();
        PyEnvironmentReport {
            environment: r.environment,
            info: r.info,
            counts,
            complete: r.complete.iter().map(|k| k.to_string()).collect(),
            incomplete: r.incomplete.iter().map(|k| k.to_string()).collect(),
            skipped: r
                .skipped
                .into_iter()
                .map(|(k, reason)| (k.to_string(), reason))
                .collect(),
            errors: r
                .errors
                .into_iter()
                .map(|e| to_pyerr(py, e).into_value(py).into_any())
                .collect(),
            timed_out: r.timed_out,
            deadline: r.deadline.as_secs_f64(),
            elapsed: r.elapsed.as_secs_f64(),
            summary,
            is_complete,
        }
    }
}

#[pymethods]
impl PyEnvironmentReport {
    /// The environment.
    #[getter]
    fn environment(&self) -> &str {
        &self.environment
    }

    /// The provider, when it could be opened.
    #[getter]
    fn info(&self) -> Option<PyProviderInfo> {
        self.info.clone().map(PyProviderInfo)
    }

    /// What was listed before the end: `{"servers": n, "networks": n, "volumes": n,
    /// "images": n}`.
    #[getter]
    fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.clone()
    }

    /// Kinds listed in full.
    #[getter]
    fn complete(&self) -> Vec<String> {
        self.complete.clone()
    }

    /// Kinds cut short by an error or the deadline, or never listed.
    #[getter]
    fn incomplete(&self) -> Vec<String> {
        self.incomplete.clone()
    }

    /// Kinds not listed because the environment cannot, with the reason.
    #[getter]
    fn skipped(&self) -> Vec<(String, PyReason)> {
        self.skipped
            .iter()
            .map(|(k, r)| (k.clone(), PyReason(r.clone())))
            .collect()
    }

    /// What went wrong, as exceptions (not raised).
    #[getter]
    fn errors(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        self.errors.iter().map(|e| e.clone_ref(py)).collect()
    }

    /// Whether the deadline passed before the listing ended.
    #[getter]
    fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// The deadline it had, in seconds.
    #[getter]
    fn deadline(&self) -> f64 {
        self.deadline
    }

    /// Seconds from the start of the inventory to the end of this environment's.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.elapsed
    }

    /// Whether every requested kind was listed in full (skipped kinds aside).
    #[getter]
    fn is_complete(&self) -> bool {
        self.is_complete
    }

    /// One line: the environment, complete / partial / failed, the counts, what was
    /// skipped and why, and the errors.
    #[getter]
    fn summary(&self) -> &str {
        &self.summary
    }

    fn __str__(&self) -> &str {
        &self.summary
    }

    fn __repr__(&self) -> String {
        format!(
            "EnvironmentReport(environment={}, complete={})",
            pyq(&self.environment),
            if self.is_complete { "True" } else { "False" }
        )
    }
}

/// One event of a fleet inventory: `kind` is `"opened"` (with `info`), `"item"` (with
/// `resource`: a `Server`, `Network`, `Volume` or `Image`) or `"finished"` (with
/// `report`). Events of different environments interleave.
#[pyclass(frozen, name = "InventoryEvent", module = "hybrid")]
pub(crate) struct PyInventoryEvent {
    kind: &'static str,
    environment: String,
    info: Option<hybrid::ProviderInfo>,
    resource: Option<Py<PyAny>>,
    report: Option<Py<PyEnvironmentReport>>,
}

fn event_to_py<'py>(py: Python<'py>, ev: InventoryEvent) -> PyResult<Bound<'py, PyAny>> {
    let event = match ev {
        InventoryEvent::Opened { environment, info } => PyInventoryEvent {
            kind: "opened",
            environment: environment.to_string(),
            info: Some(info),
            resource: None,
            report: None,
        },
        InventoryEvent::Item {
            environment,
            resource,
        } => {
            let obj = match &resource {
                Resource::Server(s) => s.to_py(py)?,
                Resource::Network(n) => n.to_py(py)?,
                Resource::Volume(v) => v.to_py(py)?,
                Resource::Image(i) => i.to_py(py)?,
            };
            PyInventoryEvent {
                kind: "item",
                environment: environment.to_string(),
                info: None,
                resource: Some(obj.unbind()),
                report: None,
            }
        }
        InventoryEvent::Finished(report) => PyInventoryEvent {
            kind: "finished",
            environment: report.environment.clone(),
            info: None,
            resource: None,
            report: Some(Py::new(py, PyEnvironmentReport::new(py, report))?),
        },
    };
    Ok(Bound::new(py, event)?.into_any())
}

#[pymethods]
impl PyInventoryEvent {
    /// `"opened"`, `"item"` or `"finished"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// The environment the event is about.
    #[getter]
    fn environment(&self) -> &str {
        &self.environment
    }

    /// For `"opened"`: the provider.
    #[getter]
    fn info(&self) -> Option<PyProviderInfo> {
        self.info.clone().map(PyProviderInfo)
    }

    /// For `"item"`: the resource.
    #[getter]
    fn resource(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.resource.as_ref().map(|r| r.clone_ref(py))
    }

    /// For `"finished"`: the environment's report.
    #[getter]
    fn report(&self, py: Python<'_>) -> Option<Py<PyEnvironmentReport>> {
        self.report.as_ref().map(|r| r.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let detail = match (&self.resource, &self.report) {
            (Some(r), _) => format!(", resource={}", r.bind(py).repr()?),
            (_, Some(r)) => format!(", report={}", r.bind(py).repr()?),
            _ => String::new(),
        };
        Ok(format!(
            "InventoryEvent(kind={}, environment={}{detail})",
            pyq(self.kind),
            pyq(&self.environment)
        ))
    }
}

/// The events of an inventory not handed out yet, and the stream behind them.
struct InventoryState {
    stream: Option<InventoryStream>,
    buffer: VecDeque<InventoryEvent>,
}

/// Events that are ready are taken together (up to this many) after the first.
const BATCH: usize = 4096;

/// Waits for the next event, then takes the ones already ready.
async fn next_batch(mut stream: InventoryStream) -> (Option<InventoryStream>, Vec<InventoryEvent>) {
    let Some(first) = stream.next().await else {
        return (None, Vec::new());
    };
    let mut out = vec![first];
    while out.len() < BATCH {
        match stream.next().now_or_never() {
            Some(Some(ev)) => out.push(ev),
            Some(None) => return (None, out),
            None => break,
        }
    }
    (Some(stream), out)
}

/// An iterator over a fleet inventory's events; each wait for events releases the GIL.
/// Interrupting a wait (Ctrl-C) ends the inventory.
#[pyclass(name = "InventoryIterator", module = "hybrid")]
pub(crate) struct PyInventoryIterator {
    state: Mutex<InventoryState>,
}

#[pymethods]
impl PyInventoryIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let stream = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(ev) = st.buffer.pop_front() {
                return event_to_py(py, ev).map(Some);
            }
            match st.stream.take() {
                Some(s) => s,
                None => return Ok(None),
            }
        };
        let (stream, events) = block_on(py, async move { Ok(next_batch(stream).await) })?;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.stream = stream;
        st.buffer.extend(events);
        match st.buffer.pop_front() {
            Some(ev) => event_to_py(py, ev).map(Some),
            None => Ok(None),
        }
    }
}

/// An async iterator over a fleet inventory's events (`async for`).
#[pyclass(frozen, name = "AsyncInventoryIterator", module = "hybrid")]
pub(crate) struct PyAsyncInventoryIterator {
    state: Arc<tokio::sync::Mutex<InventoryState>>,
}

#[pymethods]
impl PyAsyncInventoryIterator {
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if let Ok(mut st) = self.state.try_lock() {
            if let Some(ev) = st.buffer.pop_front() {
                let obj = event_to_py(py, ev)?.unbind();
                return Ok(Some(Bound::new(py, Ready::new(obj))?.into_any()));
            }
            if st.stream.is_none() {
                return Ok(None);
            }
        }
        let state = self.state.clone();
        let fut = async move {
            let mut st = state.lock().await;
            loop {
                if let Some(ev) = st.buffer.pop_front() {
                    return Python::attach(|py| event_to_py(py, ev).map(Bound::unbind));
                }
                let Some(stream) = st.stream.take() else {
                    return Err(pyo3::exceptions::PyStopAsyncIteration::new_err(()));
                };
                let (stream, events) = next_batch(stream).await;
                st.stream = stream;
                st.buffer.extend(events);
            }
        };
        pyo3_async_runtimes::tokio::future_into_py(py, fut).map(Some)
    }
}

fn resource_kind(py: Python<'_>, name: &str) -> PyResult<ResourceKind> {
    ResourceKind::ALL
        .into_iter()
        .find(|k| k.to_string() == name)
        .ok_or_else(|| {
            invalid_input(
                py,
                format!(
                    "unknown resource kind {name:?}; expected servers, networks, volumes or images"
                ),
            )
        })
}

fn inventory_options(
    py: Python<'_>,
    kinds: Option<Vec<String>>,
    environments: Option<Vec<String>>,
    deadline: Option<f64>,
    page_size: Option<u32>,
) -> PyResult<InventoryOptions> {
    let mut o = InventoryOptions::new();
    if let Some(kinds) = kinds {
        o = o.with_kinds(
            kinds
                .iter()
                .map(|k| resource_kind(py, k))
                .collect::<PyResult<Vec<_>>>()?,
        );
    }
    for e in environments.unwrap_or_default() {
        o = o.with_environment(e);
    }
    if let Some(d) = seconds(py, "deadline", deadline)? {
        o = o.with_deadline(d);
    }
    let mut list = ListOptions::new();
    list.page_size = page_size;
    Ok(o.with_list_options(list))
}

// ------------------------------------------------------------------------ fleet

/// Many environments as one: vCenters, OpenStack regions, Azure, mocks — from one
/// config file (`Fleet.from_file("fleet.yaml")`, the format of the Rust
/// `hybrid::fleet::FleetConfig`) or from connected clouds (`Fleet.from_clouds`).
/// Nothing is connected until it is needed; each environment is opened once.
///
/// `inventory()` lists every environment concurrently, each within its deadline (a
/// slow or failing one ends with a report naming its error; the others are not held
/// up). `place(spec)` chooses where a `WorkloadSpec` goes and explains why every
/// other environment ranked lower or was rejected; `provision(spec)` places and
/// creates it. Every method that does I/O has an asyncio twin prefixed with `a`.
#[pyclass(frozen, name = "Fleet", module = "hybrid")]
pub(crate) struct PyFleet {
    fleet: Fleet,
    names: Vec<String>,
}

impl PyFleet {
    fn new(fleet: Fleet) -> PyFleet {
        let names = fleet.environments().map(|e| e.name().to_owned()).collect();
        PyFleet { fleet, names }
    }

    fn from_config(py: Python<'_>, config: hybrid::Result<FleetConfig>) -> PyResult<PyFleet> {
        config
            .and_then(FleetConfig::open)
            .map(PyFleet::new)
            .map_err(|e| to_pyerr(py, e))
    }
}

twins! {
    impl PyFleet {
        /// The `Cloud` of environment `name`, opening it if it is not open yet.
        /// Raises `NotFoundError` for an unknown environment, and the environment's
        /// error when it cannot be opened.
        #[pyo3(signature = (name))]
        fn cloud / acloud (&self, _py, name: String) -> PyCloud {
            let f = self.fleet.clone();
            async move {
                let p = f.environment(&name)?.provider().await?;
                Ok(PyCloud::from_provider(p))
            }
        }

        /// Resolves `spec` (a `WorkloadSpec` or its dict) in every environment: a list,
        /// in fleet order, of `Resolution`s (flavor, image plan, network, ...) and
        /// `Rejection`s (the technical rules an environment breaks; policy and
        /// certifications are `place`'s). Raises `InvalidInputError` for an invalid
        /// spec.
        #[pyo3(signature = (spec))]
        fn resolve / aresolve (&self, _py, spec: &Bound<'_, PyAny>) -> Resolved {
            let spec = spec_from_py(spec)?.0;
            let f = self.fleet.clone();
            async move { Ok(Resolved(f.resolve(&spec).await?)) }
        }

        /// Resolves `spec` in environment `environment`. Raises `NotFoundError` for an
        /// unknown environment and `UnsupportedError` with every rule it breaks.
        #[pyo3(signature = (spec, environment))]
        fn resolve_on / aresolve_on (&self, _py, spec: &Bound<'_, PyAny>, environment: String) -> Out<Resolution> {
            let spec = spec_from_py(spec)?.0;
            let f = self.fleet.clone();
            async move { Ok(Out(f.resolve_on(&spec, &environment).await?)) }
        }

        /// Chooses the environment for `spec`: every environment is evaluated
        /// concurrently against the policy, certifications and technical rules; the
        /// `Placement` explains the choice. Creates nothing. No eligible environment is
        /// not an error here (see `Placement.require()`).
        #[pyo3(signature = (spec))]
        fn place / aplace (&self, _py, spec: &Bound<'_, PyAny>) -> Out<Placement> {
            let spec = spec_from_py(spec)?.0;
            let f = self.fleet.clone();
            async move { Ok(Out(f.place(&spec).await?)) }
        }

        /// Whether `spec`'s image is in `environment` already, or must be imported or
        /// converted first (VMware images are bound to their datastore and are copied,
        /// never shared). Raises `NotFoundError` for an unknown environment.
        #[pyo3(signature = (spec, environment))]
        fn image_plan / aimage_plan (&self, _py, spec: &Bound<'_, PyAny>, environment: String) -> Out<ImagePlan> {
            let spec = spec_from_py(spec)?.0;
            let f = self.fleet.clone();
            async move { Ok(Out(f.image_plan(&spec, &environment).await?)) }
        }

        /// Places `spec`, then makes it: imports the image when needed, creates missing
        /// security groups, a port and public IP when asked, creates the server and
        /// waits until it is active. Raises `UnsupportedError` (or `UnavailableError`)
        /// listing every rejection when no environment is eligible, before creating
        /// anything; otherwise the errors of the calls made.
        #[pyo3(signature = (spec))]
        fn provision / aprovision (&self, _py, spec: &Bound<'_, PyAny>) -> Out<Provisioned> {
            let spec = spec_from_py(spec)?.0;
            let f = self.fleet.clone();
            async move { Ok(Out(f.provision(&spec).await?)) }
        }

        /// Provisions `spec` in `environment`, which must pass every rule `place`
        /// applies. Raises `NotFoundError` for an unknown environment and
        /// `UnsupportedError` with every rule it breaks, before creating anything.
        #[pyo3(signature = (spec, environment))]
        fn provision_on / aprovision_on (&self, _py, spec: &Bound<'_, PyAny>, environment: String) -> Out<Provisioned> {
            let spec = spec_from_py(spec)?.0;
            let f = self.fleet.clone();
            async move { Ok(Out(f.provision_on(&spec, &environment).await?)) }
        }

        plain {
            /// A fleet from a YAML (or JSON) config file (`deadline_ms`, `environments`
            /// with their `kind`, config, `roles` and `tags`, `policy`, secrets inline,
            /// as `X_from: {env: VAR}` / `{file: path}`, or in a `secrets_file`).
            /// Connects to nothing. Raises `ConfigError` naming what is wrong.
            #[staticmethod]
            fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<PyFleet> {
                PyFleet::from_config(py, FleetConfig::from_file(path))
            }

            /// A fleet from YAML (or JSON) text; see `from_file`.
            #[staticmethod]
            fn from_yaml(py: Python<'_>, text: &str) -> PyResult<PyFleet> {
                PyFleet::from_config(py, FleetConfig::from_yaml(text))
            }

            /// The fleet config file named by `HYBRID_FLEET`. Raises `ConfigError` when it
            /// is not set or invalid.
            #[staticmethod]
            fn from_env(py: Python<'_>) -> PyResult<PyFleet> {
                PyFleet::from_config(py, FleetConfig::from_env())
            }

            /// A fleet of connected clouds (mocks keep their controls): `clouds` maps
            /// environment names to `Cloud`s, in fleet order; `roles` and `tags` map names
            /// to the environment's roles and policy tags (`{"tier": "production",
            /// "certified": ["oracle"]}`); `policy` is a list of rules as in config files
            /// (`{"name": ..., "when": {"tags": [...]}, "require" | "forbid" | "prefer":
            /// {"roles": [...], "tags": {...}}, "because": ...}`); `deadline` and
            /// `operation_timeout` are seconds. Raises `ConfigError` for an invalid policy
            /// or a name in `roles`/`tags` that is not in `clouds`.
            #[staticmethod]
            #[pyo3(signature = (clouds, *, roles=None, tags=None, policy=None, deadline=None, operation_timeout=None))]
            fn from_clouds(
                py: Python<'_>,
                clouds: &Bound<'_, PyDict>,
                roles: Option<BTreeMap<String, Vec<String>>>,
                tags: Option<&Bound<'_, PyDict>>,
                policy: Option<&Bound<'_, PyAny>>,
                deadline: Option<f64>,
                operation_timeout: Option<f64>,
            ) -> PyResult<PyFleet> {
                let config_err = |m: String| to_pyerr(py, Error::config(m));
                let mut tag_map: BTreeMap<String, PolicyTags> = BTreeMap::new();
                if let Some(t) = tags {
                    for (k, v) in t.iter() {
                        let name: String = k.extract()?;
                        tag_map.insert(name, from_py_data(&v, "policy tags")?);
                    }
                }
                let roles = roles.unwrap_or_default();
                let mut names = Vec::new();
                let mut b = Fleet::builder();
                for (k, v) in clouds.iter() {
                    let name: String = k.extract()?;
                    let cloud = v.cast::<PyCloud>().map_err(|_| {
                        pyo3::exceptions::PyTypeError::new_err(format!(
                            "clouds[{name:?}] must be a hybrid.Cloud"
                        ))
                    })?;
                    let mut env = hybrid::fleet::Environment::new(
                        name.clone(),
                        cloud.get().cloud.provider().clone(),
                    );
                    if let Some(r) = roles.get(&name) {
                        env = env.with_roles(r.iter().cloned());
                    }
                    if let Some(t) = tag_map.remove(&name) {
                        env = env.with_tags(t);
                    }
                    b = b.with_environment(env);
                    names.push(name);
                }
                for n in roles.keys().chain(tag_map.keys()) {
                    if !names.contains(n) {
                        return Err(config_err(format!("{n:?} is not one of the clouds ({})", names.join(", "))));
                    }
                }
                if let Some(p) = policy {
                    let policy: Policy = from_py_data(p, "policy")
                        .map_err(|e| config_err(e.to_string()))?;
                    b = b.with_policy(policy);
                }
                if let Some(d) = seconds(py, "deadline", deadline)? {
                    b = b.with_deadline(d);
                }
                if let Some(t) = seconds(py, "operation_timeout", operation_timeout)? {
                    b = b.with_operation_timeout(t);
                }
                b.build().map(PyFleet::new).map_err(|e| to_pyerr(py, e))
            }

            /// The environments' names, in fleet order.
            #[getter]
            fn environments(&self) -> Vec<String> {
                self.names.clone()
            }

            /// Lists servers, networks, volumes and images of every environment (or those
            /// `environments` names) concurrently, as an iterator of `InventoryEvent`s:
            /// each environment's `"opened"`, its `"item"`s as they arrive and its
            /// `"finished"` report. `kinds` limits what is listed (`"servers"`,
            /// `"networks"`, `"volumes"`, `"images"`); `deadline` (seconds) replaces every
            /// environment's own; kinds an environment cannot list are skipped with the
            /// reason. Waits release the GIL; `ainventory` is the asyncio twin.
            ///
            /// Raises `NotFoundError` when `environments` names one the fleet lacks.
            /// Failures of environments are in their reports, not raised.
            #[pyo3(signature = (*, kinds=None, environments=None, deadline=None, page_size=None))]
            fn inventory(
                &self,
                py: Python<'_>,
                kinds: Option<Vec<String>>,
                environments: Option<Vec<String>>,
                deadline: Option<f64>,
                page_size: Option<u32>,
            ) -> PyResult<PyInventoryIterator> {
                let o = inventory_options(py, kinds, environments, deadline, page_size)?;
                let stream = self.fleet.inventory(o).map_err(|e| to_pyerr(py, e))?;
                Ok(PyInventoryIterator {
                    state: Mutex::new(InventoryState { stream: Some(stream), buffer: VecDeque::new() }),
                })
            }

            /// The asyncio twin of `inventory`: an async iterator (`async for`).
            #[pyo3(signature = (*, kinds=None, environments=None, deadline=None, page_size=None))]
            fn ainventory(
                &self,
                py: Python<'_>,
                kinds: Option<Vec<String>>,
                environments: Option<Vec<String>>,
                deadline: Option<f64>,
                page_size: Option<u32>,
            ) -> PyResult<PyAsyncInventoryIterator> {
                let o = inventory_options(py, kinds, environments, deadline, page_size)?;
                let stream = self.fleet.inventory(o).map_err(|e| to_pyerr(py, e))?;
                Ok(PyAsyncInventoryIterator {
                    state: Arc::new(tokio::sync::Mutex::new(InventoryState {
                        stream: Some(stream),
                        buffer: VecDeque::new(),
                    })),
                })
            }

            fn __repr__(&self) -> String {
                let names: Vec<String> = self.names.iter().map(|n| pyq(n)).collect();
                format!("Fleet(environments=[{}])", names.join(", "))
            }
        }
    }
}

/// Registers the fleet classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFleet>()?;
    m.add_class::<PyWorkloadSpec>()?;
    m.add_class::<PyPlacement>()?;
    m.add_class::<PyCandidate>()?;
    m.add_class::<PyRejection>()?;
    m.add_class::<PyFinding>()?;
    m.add_class::<PyResolution>()?;
    m.add_class::<PyImagePlan>()?;
    m.add_class::<PyProvisioned>()?;
    m.add_class::<PyEnvironmentReport>()?;
    m.add_class::<PyInventoryEvent>()?;
    m.add_class::<PyInventoryIterator>()?;
    m.add_class::<PyAsyncInventoryIterator>()?;
    Ok(())
}
