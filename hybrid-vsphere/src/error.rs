//! vim25 faults and transport failures → [`hybrid_core::Error`].
//!
//! | vim25 fault | [`ErrorKind`] |
//! | --- | --- |
//! | `ManagedObjectNotFound`, `NotFound`, `FileNotFound` | `NotFound` |
//! | `InvalidArgument`, `InvalidRequest`, `InvalidType`, `InvalidProperty`, `InvalidName`, `InvalidDeviceSpec`, `InvalidDatastorePath` | `InvalidInput` |
//! | `DuplicateName`, `AlreadyExists`, `InvalidState`, `InvalidPowerState`, `TaskInProgress`, `ResourceInUse`, `FileAlreadyExists`, `ConcurrentAccess`, `VmConfigFault` | `Conflict` |
//! | `InvalidLogin`, `NotAuthenticated`, `InvalidCertificate` | `Unauthenticated` |
//! | `NoPermission`, `SecurityError`, `RestrictedVersion` | `PermissionDenied` |
//! | `InsufficientResourcesFault` and its kin, `NoDiskSpace`, `OutOfBounds` | `QuotaExceeded` |
//! | `NotSupported`, `NotImplemented`, `MethodNotFound` | `Unsupported` |
//! | `HostNotConnected`, `HostCommunication`, `HostNotReachable` | `Unavailable` |
//! | `Timedout` | `Timeout` |
//! | `RequestCanceled` | `Cancelled` |
//! | anything else | `Other` |
//!
//! `TaskInProgress` and `ConcurrentAccess` are marked retryable. The error's message is
//! `<method>: <fault type>: <fault message>`; the fault is its `source()`.
//!
//! ## vSphere Automation (REST) errors
//!
//! A vAPI error carries its type in the body — `{"type":
//! "com.vmware.vapi.std.errors.not_found", "value": {"messages": [...]}}` on `/rest`,
//! `{"error_type": "NOT_FOUND", "messages": [...]}` on `/api` — mapped by
//! [`vapi_error_kind`]; without a known type the HTTP status decides. The message is
//! `<operation>: HTTP <status> <type>: <first messages>`, on one line, bounded; bodies
//! of the session login are never used.
//!
//! | vAPI error type | [`ErrorKind`] |
//! | --- | --- |
//! | `not_found` | `NotFound` |
//! | `already_exists` | `AlreadyExists` |
//! | `already_in_desired_state`, `not_allowed_in_current_state`, `resource_busy`, `resource_in_use`, `concurrent_change` | `Conflict` |
//! | `invalid_argument`, `invalid_element_type`, `invalid_element_configuration`, `invalid_request`, `operation_not_found`, `feature_in_use` | `InvalidInput` |
//! | `unauthenticated` | `Unauthenticated` |
//! | `unauthorized` | `PermissionDenied` |
//! | `unsupported` | `Unsupported` |
//! | `service_unavailable`, `resource_inaccessible` | `Unavailable` |
//! | `timed_out` | `Timeout` |
//! | `unable_to_allocate_resource` | `QuotaExceeded` |
//! | `canceled` | `Cancelled` |
//! | `error`, `internal_server_error` | `Other` |

use hybrid_core::{Error, ErrorKind};

use crate::protocol::soap::SoapError;
use crate::protocol::types::MethodFault;

/// A vim25 fault, kept as the `source()` of the mapped error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vim25 fault {kind}: {message}")]
pub struct VimFault {
    /// The fault type, for example `ManagedObjectNotFound`.
    pub kind: String,
    /// The fault's message (`faultstring` or `localizedMessage`).
    pub message: String,
}

/// The [`ErrorKind`] of a vim25 fault type.
pub fn fault_kind(fault: &str) -> ErrorKind {
    match fault {
        "ManagedObjectNotFound" | "NotFound" | "FileNotFound" => ErrorKind::NotFound,
        "InvalidArgument"
        | "InvalidRequest"
        | "InvalidType"
        | "InvalidProperty"
        | "InvalidName"
        | "InvalidDeviceSpec"
        | "InvalidDatastorePath"
        | "InvalidController"
        | "InvalidVmConfig" => ErrorKind::InvalidInput,
        "DuplicateName"
        | "AlreadyExists"
        | "FileAlreadyExists"
        | "InvalidState"
        | "InvalidPowerState"
        | "TaskInProgress"
        | "ResourceInUse"
        | "ConcurrentAccess"
        | "VmConfigFault"
        | "InvalidHostState"
        | "InvalidDatastoreState" => ErrorKind::Conflict,
        "InvalidLogin"
        | "NotAuthenticated"
        | "InvalidCertificate"
        | "InvalidClientCertificate"
        | "PasswordExpired" => ErrorKind::Unauthenticated,
        "NoPermission" | "SecurityError" | "RestrictedVersion" | "NoPermissionOnAD" => {
            ErrorKind::PermissionDenied
        }
        "InsufficientResourcesFault"
        | "InsufficientCpuResourcesFault"
        | "InsufficientMemoryResourcesFault"
        | "InsufficientHostCapacityFault"
        | "InsufficientStorageSpace"
        | "NoDiskSpace"
        | "OutOfBounds"
        | "NumVirtualCpusExceedsLimit" => ErrorKind::QuotaExceeded,
        "NotSupported" | "NotImplemented" | "MethodNotFound" | "DeviceNotSupported" => {
            ErrorKind::Unsupported
        }
        "HostNotConnected" | "HostCommunication" | "HostNotReachable" => ErrorKind::Unavailable,
        "Timedout" => ErrorKind::Timeout,
        "RequestCanceled" => ErrorKind::Cancelled,
        _ => ErrorKind::Other,
    }
}

/// The [`ErrorKind`] of a vAPI standard error type (`not_found`, the `/api` form
/// `NOT_FOUND`, or the `/rest` form `com.vmware.vapi.std.errors.not_found`); `None` for
/// a type it does not know (the HTTP status decides then).
pub fn vapi_error_kind(vapi_type: &str) -> Option<ErrorKind> {
    let t = vapi_type
        .rsplit('.')
        .next()
        .unwrap_or(vapi_type)
        .to_ascii_lowercase();
    Some(match t.as_str() {
        "not_found" => ErrorKind::NotFound,
        "already_exists" => ErrorKind::AlreadyExists,
        "already_in_desired_state"
        | "not_allowed_in_current_state"
        | "resource_busy"
        | "resource_in_use"
        | "concurrent_change" => ErrorKind::Conflict,
        "invalid_argument"
        | "invalid_element_type"
        | "invalid_element_configuration"
        | "invalid_request"
        | "operation_not_found"
        | "feature_in_use" => ErrorKind::InvalidInput,
        "unauthenticated" => ErrorKind::Unauthenticated,
        "unauthorized" => ErrorKind::PermissionDenied,
        "unsupported" => ErrorKind::Unsupported,
        "service_unavailable" | "resource_inaccessible" => ErrorKind::Unavailable,
        "timed_out" => ErrorKind::Timeout,
        "unable_to_allocate_resource" => ErrorKind::QuotaExceeded,
        "canceled" => ErrorKind::Cancelled,
        "internal_server_error" | "error" => ErrorKind::Other,
        _ => return None,
    })
}

/// The error for a fault of `method` (a SOAP fault or a task's `info.error`).
pub(crate) fn fault_error(method: &str, fault: &MethodFault, message: &str) -> Error {
    let kind = fault_kind(&fault.kind);
    let msg = if message.is_empty() {
        fault.message.as_str()
    } else {
        message
    };
    let text = if msg.is_empty() {
        format!("{method}: {}", fault.kind)
    } else {
        format!("{method}: {}: {msg}", fault.kind)
    };
    let mut err = Error::new(kind, text).with_source(VimFault {
        kind: fault.kind.clone(),
        message: msg.to_owned(),
    });
    if matches!(fault.kind.as_str(), "TaskInProgress" | "ConcurrentAccess") {
        err = err.with_retryable(true);
    }
    if let Some(obj) = fault.detail.child("obj") {
        if let Some(v) = obj.text.as_deref() {
            err = err.with_resource(v.trim().to_owned());
        }
    }
    err
}

/// The error for a [`SoapError`] of `method`.
pub(crate) fn soap_error(method: &str, e: SoapError) -> Error {
    match e {
        SoapError::Fault { fault, message } => fault_error(method, &fault, &message),
        SoapError::Malformed(m) => Error::new(ErrorKind::InvalidResponse, m),
    }
}

/// An answer that parsed as XML but lacked what the method returns.
pub(crate) fn shape_error(method: &str, e: crate::protocol::xml::ShapeError) -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        format!("the answer to {method} has an unexpected shape: {}", e.0),
    )
    .with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::Node;

    fn fault(kind: &str) -> MethodFault {
        MethodFault {
            kind: kind.into(),
            message: String::new(),
            detail: Node::default(),
        }
    }

    #[test]
    fn kinds() {
        for (f, k) in [
            ("ManagedObjectNotFound", ErrorKind::NotFound),
            ("InvalidArgument", ErrorKind::InvalidInput),
            ("DuplicateName", ErrorKind::Conflict),
            ("InvalidState", ErrorKind::Conflict),
            ("InvalidPowerState", ErrorKind::Conflict),
            ("TaskInProgress", ErrorKind::Conflict),
            ("InvalidLogin", ErrorKind::Unauthenticated),
            ("NotAuthenticated", ErrorKind::Unauthenticated),
            ("NoPermission", ErrorKind::PermissionDenied),
            ("InsufficientResourcesFault", ErrorKind::QuotaExceeded),
            ("MethodNotFound", ErrorKind::Unsupported),
            ("SomethingNew", ErrorKind::Other),
        ] {
            assert_eq!(fault_kind(f), k, "{f}");
        }
    }

    #[test]
    fn message_source_and_retry() {
        let e = fault_error("PowerOffVM_Task", &fault("TaskInProgress"), "busy");
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.is_retryable());
        assert_eq!(e.message(), "PowerOffVM_Task: TaskInProgress: busy");
        let src = std::error::Error::source(&e).unwrap();
        assert_eq!(src.to_string(), "vim25 fault TaskInProgress: busy");
        let e = fault_error("Login", &fault("InvalidLogin"), "");
        assert_eq!(e.message(), "Login: InvalidLogin");
        assert!(!e.is_retryable());
    }
}
