//! Python bindings for hybrid: the extension module `hybrid._hybrid` of the Python
//! package `hybrid` (built with maturin; see `hybrid-python/README.md`).
//!
//! Every class binds the facade crate [`hybrid`]: `Cloud` (from a config dict, a
//! clouds.yaml entry, a JSON file, the environment or a mock), the four domains with
//! blocking methods (the GIL released while Rust works) and asyncio twins prefixed with
//! `a`, lazy page-at-a-time iterators, capabilities with reasons, the models, and the
//! mock with fault injection. Errors become the exceptions of `hybrid.errors`, one
//! class per [`hybrid::ErrorKind`].
//!
//! Like every crate of the workspace it forbids `unsafe` code (PyO3 0.30's macros
//! compile under `unsafe_code = "forbid"`).

mod capabilities;
mod cloud;
mod compute;
mod convert;
mod errors;
mod fleet;
mod images;
mod listing;
mod mock;
mod models;
mod network;
mod operation;
mod rt;
mod storage;

use pyo3::prelude::*;

/// The native part of the `hybrid` package; import `hybrid` instead.
#[pymodule]
#[pyo3(name = "_hybrid")]
fn hybrid_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<cloud::PyCloud>()?;
    m.add_class::<compute::PyCompute>()?;
    m.add_class::<network::PyNetwork>()?;
    m.add_class::<storage::PyStorage>()?;
    m.add_class::<images::PyImages>()?;
    m.add_class::<capabilities::PyCapabilities>()?;
    m.add_class::<capabilities::PyCapabilityGroup>()?;
    m.add_class::<capabilities::PyCapability>()?;
    m.add_class::<capabilities::PyReason>()?;
    m.add_class::<capabilities::PyProviderInfo>()?;
    m.add_class::<listing::PyListIterator>()?;
    m.add_class::<listing::PyAsyncListIterator>()?;
    m.add_class::<listing::PyPage>()?;
    m.add_class::<operation::PyOperation>()?;
    m.add_class::<mock::PyMock>()?;
    m.add_class::<mock::PyFault>()?;
    models::register(m)?;
    fleet::register(m)?;
    m.add("FEATURES", capabilities::feature_paths())?;
    m.add("PROFILES", mock::profile_names())?;
    let kinds: Vec<&str> = hybrid::ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
    m.add("ERROR_KINDS", kinds)?;
    Ok(())
}
