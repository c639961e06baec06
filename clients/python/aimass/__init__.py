"""Python client of AI Mass: models, versions, deployments, recommendations and mesh events over gRPC.

    import aimass
    with aimass.Client("127.0.0.1:50051", token="...") as client:
        print(client.recommend("movies", user_id="196", k=5).item_ids)

The generated messages and stubs are in `aimass.v1` (e.g. `aimass.v1.registry_pb2.Model`); they are generated from
the repository's proto/ when the package is built. Failed calls raise `aimass.AIMassError` subclasses.
"""

from .client import Client, Evaluation, VersionRef
from .errors import (Aborted, AIMassError, AlreadyExists, Cancelled, DataLoss, DeadlineExceeded, FailedPrecondition,
                     IntegrityError, Internal, InvalidArgument, NotFound, OutOfRange, PermissionDenied,
                     ResourceExhausted, Unauthenticated, Unavailable, Unimplemented, Unknown, error_class)
from .results import Recommendations, ScoredItem
from .retry import RetryPolicy
from .upload import UploadProgress
from .watch import EventStream

__all__ = [
    "Aborted", "AIMassError", "AlreadyExists", "Cancelled", "Client", "DataLoss", "DeadlineExceeded", "Evaluation",
    "EventStream", "FailedPrecondition", "IntegrityError", "Internal", "InvalidArgument", "NotFound", "OutOfRange",
    "PermissionDenied", "Recommendations", "ResourceExhausted", "RetryPolicy", "ScoredItem", "Unauthenticated",
    "Unavailable", "Unimplemented", "Unknown", "UploadProgress", "VersionRef", "error_class",
]
