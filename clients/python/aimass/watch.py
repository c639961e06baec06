"""Mesh.Watch as a Python iterator that remembers the last revision it applied, and can resume from it."""

from __future__ import annotations

from typing import Callable, Optional

import grpc

from .errors import AIMassError, Unavailable, from_rpc_error
from .retry import RetryPolicy


class EventStream:
    """The events of one Mesh.Watch, in order: a Snapshot first (unless resuming from a revision the server still
    holds), then one event per change. Iterate it; `close()` (or leaving a `with` block) cancels the stream.

    `revision` is the revision of the last snapshot or change event yielded (LOAD_REPORTED and HEARTBEAT events
    are ephemeral and do not move it): pass it as `resume_from_revision` to a later `Client.watch` to receive only
    what was missed. With `reconnect`, a stream that ends with UNAVAILABLE (control plane restarting) is reopened
    from `revision` at most `reconnect.max_attempts - 1` times in a row, waiting as the policy says.
    """

    def __init__(self, open_call: Callable[[int], grpc.Call], mesh_pb2, resume_from_revision: int,
                 heartbeats: bool, reconnect: Optional[RetryPolicy], sleep: Callable[[float], None]):
        self._open_call = open_call
        self._mesh_pb2 = mesh_pb2
        self._ephemeral = {mesh_pb2.EVENT_KIND_LOAD_REPORTED, mesh_pb2.EVENT_KIND_HEARTBEAT}
        self._heartbeats = heartbeats
        self._reconnect = reconnect
        self._sleep = sleep
        self._closed = False
        self._failures = 0
        self.revision = resume_from_revision
        self._call = open_call(resume_from_revision)

    def __iter__(self) -> "EventStream":
        return self

    def __next__(self):
        while True:
            if self._closed:
                raise StopIteration
            try:
                event = next(self._call)
            except StopIteration:
                self._closed = True
                raise
            except grpc.RpcError as rpc_error:
                error = from_rpc_error(rpc_error)
                if self._closed and error.code == grpc.StatusCode.CANCELLED:
                    raise StopIteration from None
                self._reopen_or_raise(error)
                continue
            self._failures = 0
            if event.kind not in self._ephemeral:
                self.revision = event.revision
            if event.kind == self._mesh_pb2.EVENT_KIND_HEARTBEAT and not self._heartbeats:
                continue
            return event

    def _reopen_or_raise(self, error: AIMassError) -> None:
        self._failures += 1
        if (self._reconnect is None or not isinstance(error, Unavailable)
                or self._failures >= self._reconnect.max_attempts):
            self._closed = True
            raise error from None
        self._sleep(self._reconnect.delay_s(self._failures, error))
        self._call = self._open_call(self.revision)

    def close(self) -> None:
        """Cancels the stream; iteration then stops."""
        self._closed = True
        self._call.cancel()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
