//! How Azure's answers become [`hybrid_core::Error`]s.
//!
//! `hybrid-http` maps every failed response: the kind from the HTTP status, refined for
//! quota and "already exists" codes; the message from ARM's
//! `{"error": {"code", "message", "details"}}` body (`code: message (details: …)`); the
//! `x-ms-request-id` as [`Error::request_id`]; `Retry-After` and `x-ms-retry-after-ms`
//! as [`Error::retry_after`]. This module refines that for ARM:
//!
//! | ARM code | kind |
//! | --- | --- |
//! | `InUse…CannotBeDeleted`, `…InUse`, `NicReservedForAnotherVm`, `OperationNotAllowed` (400) | `Conflict` |
//! | `AnotherOperationInProgress`, `RetryableError` | `Conflict`, retryable |
//! | `MissingSubscriptionRegistration`, `SubscriptionNotRegistered` | `Config` |
//! | `SkuNotAvailable`, `InvalidParameter`, `BadRequest` (409) | `InvalidInput` |
//! | `InvalidResourceReference`, `LinkedInvalidPropertyId` (400: a referenced resource is missing) | `NotFound` |
//! | `…QuotaExceeded`, `OperationNotAllowed` naming a quota | `QuotaExceeded` |
//!
//! and adds the `x-ms-correlation-request-id` hybrid sent with the request to the
//! message, so an error carries both ids Azure support asks for. Long-running
//! operations that end `Failed` become [`ErrorKind::OperationFailed`] with ARM's code and
//! message, `Canceled` becomes [`ErrorKind::Cancelled`].

use hybrid_core::{Error, ErrorKind};

/// Local failures that become the `source` of a [`hybrid_core::Error`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum AzureError {
    /// A file named by the configuration could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The client certificate file is not usable.
    #[error("{0}")]
    Certificate(String),
    /// Signing the client assertion failed.
    #[error("the RSA signature of the client assertion failed")]
    Signing,
}

/// ARM error codes that mean "the resource is in use" (answered with `400`).
const IN_USE_CODES: &[&str] = &[
    "InUseSubnetCannotBeDeleted",
    "InUseNetworkSecurityGroupCannotBeDeleted",
    "InUseRouteTableCannotBeDeleted",
    "InUseNetworkInterfaceCannotBeDeleted",
    "PublicIPAddressCannotBeDeleted",
    "PublicIpAddressInUse",
    "NicInUse",
    "NicReservedForAnotherVm",
    "SubnetInUse",
    "OperationNotAllowed",
];

/// ARM error codes of a request that names a resource that does not exist (`400`).
const MISSING_CODES: &[&str] = &["InvalidResourceReference", "LinkedInvalidPropertyId"];

/// ARM error codes for "try again later".
const BUSY_CODES: &[&str] = &["AnotherOperationInProgress", "RetryableError"];

/// ARM error codes for a subscription not set up for a resource provider.
const CONFIG_CODES: &[&str] = &[
    "MissingSubscriptionRegistration",
    "SubscriptionNotRegistered",
];

/// ARM error codes that mean the request itself is wrong, whatever the status.
const INPUT_CODES: &[&str] = &["SkuNotAvailable", "InvalidParameter", "BadRequest"];

/// Whether `e` carries ARM error code `code`: [`Error::service_code`], which hybrid-http
/// fills from ARM's error body; for errors built without one, the code at the head of
/// the message hybrid-http writes (`METHOD url: Code: message`).
fn has_code(e: &Error, code: &str) -> bool {
    if let Some(c) = e.service_code() {
        return c.eq_ignore_ascii_case(code);
    }
    let message = e.message();
    message
        .match_indices(code)
        .any(|(i, _)| message[..i].ends_with(": ") && message[i + code.len()..].starts_with(':'))
}

/// The kind ARM's error code calls for, if it refines the status's.
fn refined_kind(e: &Error) -> Option<(ErrorKind, bool)> {
    let status = e.http_status()?;
    if e.kind() == ErrorKind::QuotaExceeded || e.kind() == ErrorKind::RateLimited {
        return None;
    }
    let any = |codes: &[&str]| codes.iter().any(|c| has_code(e, c));
    let quota = match e.service_code() {
        Some(code) => code.to_ascii_lowercase().contains("quotaexceeded"),
        None => {
            let lower = e.message().to_ascii_lowercase();
            lower.contains("quotaexceeded") || lower.contains("quota exceeded")
        }
    };
    // `OperationNotAllowed` is ARM's code for a quota refusal too; its message says so.
    let quota = quota
        || (has_code(e, "OperationNotAllowed")
            && e.message().to_ascii_lowercase().contains("quota"));
    if (status == 400 || status == 409) && quota {
        return Some((ErrorKind::QuotaExceeded, false));
    }
    if any(BUSY_CODES) {
        return Some((ErrorKind::Conflict, true));
    }
    if any(CONFIG_CODES) {
        return Some((ErrorKind::Config, false));
    }
    if status == 400 && any(MISSING_CODES) {
        return Some((ErrorKind::NotFound, false));
    }
    if status == 400 && any(IN_USE_CODES) {
        return Some((ErrorKind::Conflict, false));
    }
    if status == 409 && any(INPUT_CODES) {
        return Some((ErrorKind::InvalidInput, false));
    }
    None
}

/// Refines an error of an ARM request: the kind from ARM's code, and the correlation
/// id hybrid sent with it in the message.
pub(crate) fn refine(e: Error, correlation_id: Option<&str>) -> Error {
    if e.http_status().is_none() {
        return e;
    }
    let mut e = match refined_kind(&e) {
        Some((kind, retryable)) => {
            let keep = e.is_retryable() || retryable;
            e.with_kind(kind).with_retryable(keep)
        }
        None => e,
    };
    if let Some(cid) = correlation_id {
        if std::error::Error::source(&e).is_none() && !e.message().contains(cid) {
            e = with_suffix(e, &format!(" (correlation id {cid})"));
        }
    }
    e
}

/// A copy of `e` (which has no source) with `suffix` appended to its message.
fn with_suffix(e: Error, suffix: &str) -> Error {
    let mut out =
        Error::new(e.kind(), format!("{}{suffix}", e.message())).with_context_defaults(e.context());
    if let Some(s) = e.http_status() {
        out = out.with_http_status(s);
    }
    if let Some(id) = e.request_id() {
        out = out.with_request_id(id);
    }
    if let Some(code) = e.service_code() {
        out = out.with_service_code(code);
    }
    if let Some(after) = e.retry_after() {
        out = out.with_retry_after(after);
    }
    if let Some(r) = e.unsupported_reason() {
        let mut u = Error::unsupported(r.clone());
        u = u.with_context_defaults(out.context());
        return u;
    }
    out.with_retryable(e.is_retryable())
}

/// The error for a long-running operation that ended in `status` (`Failed`,
/// `Canceled`), with ARM's error code and message when it gave them.
pub(crate) fn operation_ended(
    status: &str,
    code: Option<&str>,
    message: Option<&str>,
    what: &str,
) -> Error {
    let kind =
        if status.eq_ignore_ascii_case("Canceled") || status.eq_ignore_ascii_case("Cancelled") {
            ErrorKind::Cancelled
        } else {
            ErrorKind::OperationFailed
        };
    let detail = match (code, message) {
        (Some(c), Some(m)) if !m.contains(c) => format!(": {c}: {m}"),
        (_, Some(m)) => format!(": {m}"),
        (Some(c), None) => format!(": {c}"),
        (None, None) => String::new(),
    };
    let mut e = Error::new(kind, format!("{what} ended {status}{detail}"));
    if let Some(c) = code {
        let lower = c.to_ascii_lowercase();
        if lower.contains("quota") {
            e = Error::new(ErrorKind::QuotaExceeded, e.message().to_owned());
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(kind: ErrorKind, status: u16, msg: &str) -> Error {
        Error::new(kind, msg)
            .with_http_status(status)
            .with_request_id("req-1")
    }

    #[test]
    fn codes_refine_kinds() {
        let e = refine(
            http(
                ErrorKind::InvalidInput,
                400,
                "DELETE https://m/x: InUseSubnetCannotBeDeleted: Subnet default is in use",
            ),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Conflict);
        let e = refine(
            http(
                ErrorKind::Conflict,
                409,
                "PUT https://m/x: AnotherOperationInProgress: busy",
            ),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.is_retryable());
        let e = refine(
            http(
                ErrorKind::Conflict,
                409,
                "PUT https://m/x: MissingSubscriptionRegistration: register it",
            ),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Config);
        let e = refine(
            http(
                ErrorKind::Conflict,
                409,
                "PUT https://m/x: SkuNotAvailable: not here",
            ),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        // a code mentioned inside the message is not the code
        let e = refine(
            http(
                ErrorKind::InvalidInput,
                400,
                "PUT https://m/x: InvalidParameter: see NicInUse docs",
            ),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = refine(
            http(
                ErrorKind::NotFound,
                404,
                "GET https://m/x: ResourceNotFound: gone",
            ),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn the_service_code_decides_over_the_message_text() {
        // hybrid-http does not repeat a code the message already contains, so only the
        // service code shows it.
        let busy = http(
            ErrorKind::Conflict,
            409,
            "PUT https://m/x: AnotherOperationInProgress on vm-1, try later",
        )
        .with_service_code("AnotherOperationInProgress");
        let e = refine(busy, Some("c-3"));
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert!(e.is_retryable());
        assert_eq!(e.service_code(), Some("AnotherOperationInProgress"));
        assert!(e.message().ends_with("(correlation id c-3)"), "{e}");
        // A code-like word in the message does not count once the code is known.
        let e = refine(
            http(
                ErrorKind::InvalidInput,
                400,
                "PUT https://m/x: NicInUse: quoted by the caller",
            )
            .with_service_code("InvalidParameter"),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = refine(
            http(ErrorKind::InvalidInput, 400, "DELETE https://m/x: in use")
                .with_service_code("InUseSubnetCannotBeDeleted"),
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Conflict);
    }

    #[test]
    fn correlation_id_joins_the_message_and_keeps_the_rest() {
        let e = refine(
            http(
                ErrorKind::RateLimited,
                429,
                "GET https://m/x: 429 Too Many Requests",
            )
            .with_retry_after(std::time::Duration::from_secs(7))
            .with_operation("list_servers"),
            Some("c-1"),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert!(e.message().ends_with("(correlation id c-1)"), "{e}");
        assert_eq!(e.request_id(), Some("req-1"));
        assert_eq!(e.http_status(), Some(429));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(7)));
        assert_eq!(e.context().operation.as_deref(), Some("list_servers"));
        let plain = refine(Error::new(ErrorKind::Transport, "down"), Some("c-2"));
        assert!(!plain.message().contains("c-2"));
    }

    #[test]
    fn ended_operations() {
        let e = operation_ended(
            "Failed",
            Some("OSProvisioningTimedOut"),
            Some("took too long"),
            "create server a",
        );
        assert_eq!(e.kind(), ErrorKind::OperationFailed);
        assert_eq!(
            e.message(),
            "create server a ended Failed: OSProvisioningTimedOut: took too long"
        );
        let e = operation_ended("Canceled", None, None, "x");
        assert_eq!(e.kind(), ErrorKind::Cancelled);
        let e = operation_ended("Failed", Some("QuotaExceeded"), Some("cores"), "x");
        assert_eq!(e.kind(), ErrorKind::QuotaExceeded);
    }
}
