"""Failed calls as exceptions: one class per gRPC status code the AI Mass API uses, all under `AIMassError`.

Every exception carries the gRPC status `code` (a `grpc.StatusCode`), the server's `message` and its trailing
metadata; `ResourceExhausted` and `Unavailable` also carry the server's `retry-after-ms` hint, when it sent one.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Type

import grpc

Metadata = Tuple[Tuple[str, str], ...]


class AIMassError(Exception):
    """A call that failed with a gRPC status other than OK.

    Attributes:
        code: the gRPC status code, e.g. `grpc.StatusCode.NOT_FOUND`.
        message: the status message the server sent (human-readable, names what was wrong).
        trailing_metadata: the call's trailing metadata as (key, value) pairs.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, code: grpc.StatusCode, message: str, trailing_metadata: Sequence = ()):
        self.code = code
        self.message = message
        self.trailing_metadata: Metadata = tuple((str(k), v if isinstance(v, str) else repr(v))
                                                 for k, v in trailing_metadata or ())
        super().__init__(f"{code.name}: {message}")

    @property
    def retry_after_ms(self) -> Optional[int]:
        """The server's `retry-after-ms` trailer (how long to back off), or None when it sent none."""
        for key, value in self.trailing_metadata:
            if key.lower() == "retry-after-ms":
                try:
                    millis = int(value)
                except ValueError:
                    return None
                return millis if millis >= 0 else None
        return None


class Cancelled(AIMassError):
    """CANCELLED: the call was cancelled (usually by this client)."""


class Unknown(AIMassError):
    """UNKNOWN."""


class InvalidArgument(AIMassError):
    """INVALID_ARGUMENT: a bad request (the message names the field and what it allows)."""


class DeadlineExceeded(AIMassError):
    """DEADLINE_EXCEEDED: the call's timeout passed before it finished."""


class NotFound(AIMassError):
    """NOT_FOUND: unknown model, version, alias, deployment, user or item (or a model you cannot read)."""


class AlreadyExists(AIMassError):
    """ALREADY_EXISTS: e.g. a model name that is taken, or a deployment with the same model and selector."""


class PermissionDenied(AIMassError):
    """PERMISSION_DENIED: authenticated, but the role on the model is not enough."""


class ResourceExhausted(AIMassError):
    """RESOURCE_EXHAUSTED: load shed (see `retry_after_ms`), or an over-size message or artifact."""


class FailedPrecondition(AIMassError):
    """FAILED_PRECONDITION: a valid request in the wrong state (e.g. a version that is not deployed)."""


class Aborted(AIMassError):
    """ABORTED."""


class OutOfRange(AIMassError):
    """OUT_OF_RANGE."""


class Unimplemented(AIMassError):
    """UNIMPLEMENTED: the server does not offer this method."""


class Internal(AIMassError):
    """INTERNAL: a server-side bug; the message says what failed."""


class Unavailable(AIMassError):
    """UNAVAILABLE: server or worker draining or unreachable, or no ready replica: safe to retry (elsewhere)."""


class DataLoss(AIMassError):
    """DATA_LOSS: uploaded bytes did not match their declared size or SHA-256, or a stored artifact is corrupt."""


class Unauthenticated(AIMassError):
    """UNAUTHENTICATED: the token is missing, malformed or unknown."""


class IntegrityError(DataLoss):
    """Raised by this client when what the server reports does not match what was sent or received (size or
    SHA-256 of an artifact); code DATA_LOSS."""

    def __init__(self, message: str):
        super().__init__(grpc.StatusCode.DATA_LOSS, message)


_BY_CODE: Dict[grpc.StatusCode, Type[AIMassError]] = {
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNKNOWN: Unknown,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DATA_LOSS: DataLoss,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def error_class(code: grpc.StatusCode) -> Type[AIMassError]:
    """The exception class of a status code (AIMassError itself for a code without its own class)."""
    return _BY_CODE.get(code, AIMassError)


def from_rpc_error(error: grpc.RpcError) -> AIMassError:
    """Converts a grpcio RpcError (which is also a grpc.Call) into the matching AIMassError subclass."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else ()
    code = code or grpc.StatusCode.UNKNOWN
    return error_class(code)(code, message or "", trailers or ())
