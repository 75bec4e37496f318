//! Conversions between Python objects, JSON values and hybrid's Rust types.

use std::collections::BTreeMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use serde::de::DeserializeOwned;
use serde::Serialize;

use hybrid::model::*;

use crate::errors::to_pyerr;

/// A JSON value as plain Python data (dict, list, str, int, float, bool, None).
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_bound_py_any(py)?,
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_bound_py_any(py)?
            } else if let Some(u) = n.as_u64() {
                u.into_bound_py_any(py)?
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py)?
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for v in items {
                list.append(json_to_py(py, v)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Plain Python data (a mapping, sequence, str, int, float, bool or None) as JSON.
///
/// # Errors
/// `TypeError` for anything else, naming the type and where it was found.
pub(crate) fn py_to_json(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    py_to_json_at(obj, "$")
}

fn py_to_json_at(obj: &Bound<'_, PyAny>, at: &str) -> PyResult<serde_json::Value> {
    use serde_json::Value;
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyTypeError::new_err(format!("{at}: integer out of range")));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| {
                PyTypeError::new_err(format!("{at}: {} is not a JSON number", f.value()))
            });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{at}: mapping keys must be str, got {}",
                    type_name(&k)
                ))
            })?;
            let value = py_to_json_at(&v, &format!("{at}.{key}"))?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            items.push(py_to_json_at(&v?, &format!("{at}[{i}]"))?);
        }
        return Ok(Value::Array(items));
    }
    // Other mappings (for example `types.MappingProxyType`) and os.PathLike paths.
    if let Ok(items) = obj.call_method0("items") {
        let dict = PyDict::new(obj.py());
        for pair in items.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
            dict.set_item(k, v)?;
        }
        return py_to_json_at(dict.as_any(), at);
    }
    if let Ok(path) = obj.call_method0("__fspath__") {
        return py_to_json_at(&path, at);
    }
    Err(PyTypeError::new_err(format!(
        "{at}: cannot convert {} to a configuration value (expected dict, list, str, int, float, bool or None)",
        type_name(obj)
    )))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}

/// A serde value as plain Python data.
pub(crate) fn to_py_data<'py, T: Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let v = serde_json::to_value(value).map_err(|e| {
        to_pyerr(
            py,
            hybrid::Error::new(hybrid::ErrorKind::Other, format!("cannot serialize: {e}")),
        )
    })?;
    json_to_py(py, &v)
}

/// Plain Python data as a serde value.
///
/// # Errors
/// `InvalidInputError` naming what does not fit `T`; `TypeError` for non-data objects.
pub(crate) fn from_py_data<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let v = py_to_json(obj)?;
    serde_json::from_value(v).map_err(|e| {
        to_pyerr(
            obj.py(),
            hybrid::Error::invalid_input(format!("invalid {what}: {e}")),
        )
    })
}

/// Conversion of a model field to a Python value.
pub(crate) trait ToPy {
    /// The Python value.
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

macro_rules! to_py_via_into {
    ($($t:ty),*) => {$(
        impl ToPy for $t {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                self.into_bound_py_any(py)
            }
        }
    )*};
}
to_py_via_into!(bool, u8, u16, u32, u64, usize, i64, f64);

impl ToPy for String {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
}

impl<T: ToPy> ToPy for Option<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.to_py(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

impl<T: ToPy> ToPy for Vec<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for v in self {
            list.append(v.to_py(py)?)?;
        }
        Ok(list.into_any())
    }
}

impl ToPy for BTreeMap<String, String> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        for (k, v) in self {
            dict.set_item(k, v)?;
        }
        Ok(dict.into_any())
    }
}

impl ToPy for serde_json::Value {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, self)
    }
}

impl ToPy for RawDocument {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            RawDocument::Json(v) => {
                let doc = v
                    .to_value()
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
                json_to_py(py, &doc)
            }
            RawDocument::Xml(s) => s.to_py(py),
        }
    }
}

/// Ids and status enums become `str`.
macro_rules! to_py_as_str {
    ($($t:ty),*) => {$(
        impl ToPy for $t {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(PyString::new(py, self.as_str()).into_any())
            }
        }
    )*};
}
to_py_as_str!(
    ServerId,
    FlavorId,
    ImageId,
    VolumeId,
    SnapshotId,
    NetworkId,
    SubnetId,
    PortId,
    SecurityGroupId,
    SecurityGroupRuleId,
    RouterId,
    FloatingIpId,
    ServerStatus,
    ImageStatus,
    Visibility,
    VolumeStatus,
    SnapshotStatus,
    NetworkKind,
    NetworkStatus
);

/// Plain enums become their serde (snake-case) name.
macro_rules! to_py_as_serde_name {
    ($($t:ty),*) => {$(
        impl ToPy for $t {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
                json_to_py(py, &v)
            }
        }
    )*};
}
to_py_as_serde_name!(AddressKind, Direction, RebootKind);

impl ToPy for IpVersion {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        ip_version_number(*self).into_bound_py_any(py)
    }
}

/// 4 or 6.
pub(crate) fn ip_version_number(v: IpVersion) -> u8 {
    match v {
        IpVersion::V4 => 4,
        IpVersion::V6 => 6,
    }
}

/// An IP version from 4 or 6.
pub(crate) fn ip_version(py: Python<'_>, v: u8) -> PyResult<IpVersion> {
    match v {
        4 => Ok(IpVersion::V4),
        6 => Ok(IpVersion::V6),
        other => Err(to_pyerr(
            py,
            hybrid::Error::invalid_input(format!("ip_version must be 4 or 6, got {other}")),
        )),
    }
}

/// A string as Python's `repr` shows it (`'text'`).
pub(crate) fn pyq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An optional string as Python's `repr` shows it (`'text'` or `None`).
pub(crate) fn opt_pyq(s: Option<&str>) -> String {
    s.map_or_else(|| "None".to_owned(), pyq)
}
