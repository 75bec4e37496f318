"""The exceptions hybrid raises: one base class, :class:`HybridError`, and one
subclass per error kind of the Rust library.

Branch on the class (``except hybrid.NotFoundError``) or on ``err.kind``, never on the
message. Every exception carries what the service said about the failure:
``http_status``, ``request_id`` (quote it in support tickets), ``service_code`` (the
service's own error code, such as ``"itemNotFound"`` or ``"SkuNotAvailable"``), ``provider``,
``region``, ``operation``, ``resource``, ``retryable`` and ``retry_after`` (seconds the
service asked to wait). An unsupported capability raises :class:`UnsupportedError`,
whose ``reason`` says why — before any request was made.

Messages never contain a secret. The Rust error's causes are chained as
``__cause__``.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ._hybrid import Reason

__all__ = [
    "HybridError",
    "NotFoundError",
    "AlreadyExistsError",
    "ConflictError",
    "InvalidInputError",
    "UnauthenticatedError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitedError",
    "UnavailableError",
    "TimeoutError",
    "UnsupportedError",
    "ConfigError",
    "InvalidResponseError",
    "TransportError",
    "OperationFailedError",
    "CancelledError",
    "OtherError",
    "error_class",
]


class HybridError(Exception):
    """Base class of every error hybrid raises.

    ``str(err)`` is the full description (operation, provider, region, kind, message,
    HTTP status and request id); ``err.message`` is the message alone.
    """

    #: The error kind, a stable snake-case name such as ``"not_found"``.
    kind: str = "other"
    #: The human message, without context.
    message: str
    #: The HTTP status of the failed response, when there was one.
    http_status: Optional[int]
    #: The service's request id, when it sent one.
    request_id: Optional[str]
    #: The service's own error code (ARM's ``code``, Neutron's ``type``, Nova's fault
    #: name), when its error body gave one. Match on it rather than on the message.
    service_code: Optional[str]
    #: The provider's configured name (for example ``"vsphere-prod"``), when known.
    provider: Optional[str]
    #: The region or location, when known.
    region: Optional[str]
    #: The library operation, for example ``"create_server"``.
    operation: Optional[str]
    #: The resource concerned, for example a server id or a capability path.
    resource: Optional[str]
    #: Whether retrying the same request may succeed.
    retryable: bool
    #: Seconds the service asked to wait before retrying.
    retry_after: Optional[float]
    #: For :class:`UnsupportedError`, why the capability is missing.
    reason: Optional["Reason"]

    def __init__(
        self,
        description: str = "",
        *,
        kind: Optional[str] = None,
        message: Optional[str] = None,
        http_status: Optional[int] = None,
        request_id: Optional[str] = None,
        service_code: Optional[str] = None,
        provider: Optional[str] = None,
        region: Optional[str] = None,
        operation: Optional[str] = None,
        resource: Optional[str] = None,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        reason: Optional["Reason"] = None,
    ) -> None:
        super().__init__(description)
        if kind is not None:
            self.kind = kind
        self.message = description if message is None else message
        self.http_status = http_status
        self.request_id = request_id
        self.service_code = service_code
        self.provider = provider
        self.region = region
        self.operation = operation
        self.resource = resource
        self.retryable = retryable
        self.retry_after = retry_after
        self.reason = reason


class NotFoundError(HybridError):
    """The resource does not exist (HTTP 404, vSphere ``ManagedObjectNotFound``)."""

    kind = "not_found"


class AlreadyExistsError(HybridError):
    """A resource with the same identity already exists."""

    kind = "already_exists"


class ConflictError(HybridError):
    """The resource is in a state that forbids the request (HTTP 409)."""

    kind = "conflict"


class InvalidInputError(HybridError, ValueError):
    """The request itself is invalid (HTTP 400, 422, bad arguments). Also a
    :class:`ValueError`."""

    kind = "invalid_input"


class UnauthenticatedError(HybridError):
    """Credentials are missing, wrong or expired (HTTP 401)."""

    kind = "unauthenticated"


class PermissionDeniedError(HybridError):
    """Authenticated, but not allowed (HTTP 403)."""

    kind = "permission_denied"


class QuotaExceededError(HybridError):
    """A quota or limit of the account would be exceeded."""

    kind = "quota_exceeded"


class RateLimitedError(HybridError):
    """The service throttled the caller (HTTP 429); see ``retry_after``."""

    kind = "rate_limited"


class UnavailableError(HybridError):
    """The service is temporarily unavailable (HTTP 5xx, maintenance)."""

    kind = "unavailable"


class TimeoutError(HybridError, builtins.TimeoutError):
    """A deadline passed before the work finished. Also a builtin
    :class:`TimeoutError`, so ``except TimeoutError`` catches it either way."""

    kind = "timeout"


class UnsupportedError(HybridError):
    """The backend or this deployment cannot do this: ``reason`` says why (its
    ``kind`` is ``"platform_never"``, ``"deployment_dependent"`` or
    ``"not_implemented"``). Raised before any request is made."""

    kind = "unsupported"


class ConfigError(HybridError):
    """The configuration is incomplete, contradictory or unreadable."""

    kind = "config"


class InvalidResponseError(HybridError):
    """The service answered with something that could not be understood."""

    kind = "invalid_response"


class TransportError(HybridError):
    """The request could not be sent or the answer not received (DNS, TCP, TLS)."""

    kind = "transport"


class OperationFailedError(HybridError):
    """A long-running operation ended in a failed state."""

    kind = "operation_failed"


class CancelledError(HybridError):
    """A long-running operation was cancelled, or an interrupted wait lost track of
    it. (Not :class:`asyncio.CancelledError`.)"""

    kind = "cancelled"


class OtherError(HybridError):
    """Any other failure."""

    kind = "other"


_BY_KIND = {
    cls.kind: cls
    for cls in (
        NotFoundError,
        AlreadyExistsError,
        ConflictError,
        InvalidInputError,
        UnauthenticatedError,
        PermissionDeniedError,
        QuotaExceededError,
        RateLimitedError,
        UnavailableError,
        TimeoutError,
        UnsupportedError,
        ConfigError,
        InvalidResponseError,
        TransportError,
        OperationFailedError,
        CancelledError,
        OtherError,
    )
}


def error_class(kind: str) -> type[HybridError]:
    """The exception class for an error kind name (``"not_found"`` →
    :class:`NotFoundError`); :class:`OtherError` for an unknown name."""
    return _BY_KIND.get(kind, OtherError)
