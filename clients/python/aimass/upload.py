"""Uploading an artifact: the SHA-256 first, then a header and the file in chunks (ModelRegistry.UploadVersion).

The same protocol as `aimass model upload`: one pass over the file computes its size and SHA-256, which the
header declares; a second pass streams it in chunks of 64 KiB - 1 MiB. The bytes streamed are hashed again, so a
file that changed between the passes fails here (IntegrityError) instead of at the server (DATA_LOSS).
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, Iterator, Optional, Union

import grpc

from .errors import IntegrityError, from_rpc_error

MIN_CHUNK = 64 * 1024
MAX_CHUNK = 1024 * 1024
DEFAULT_CHUNK = MAX_CHUNK

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


@dataclass(frozen=True)
class UploadProgress:
    """How far an upload is: `sent_bytes` of `total_bytes` handed to gRPC (not yet acknowledged by the server).
    `version` is the published aimass.v1 Version in the last report of `Client.iter_upload`, else None."""

    sent_bytes: int
    total_bytes: int
    version: Optional[Any] = None

    @property
    def fraction(self) -> float:
        """0.0 .. 1.0 (1.0 for an empty artifact)."""
        return self.sent_bytes / self.total_bytes if self.total_bytes else 1.0


ProgressCallback = Callable[[UploadProgress], None]


class Artifact:
    """The bytes to upload, in memory or in a file, with their size and SHA-256 (computed once, up front)."""

    def __init__(self, source: Source, chunk_size: int):
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk_size must be {MIN_CHUNK}..{MAX_CHUNK} bytes, got {chunk_size}")
        self.chunk_size = chunk_size
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._data: Optional[bytes] = bytes(source)
            self.path: Optional[Path] = None
            self.size = len(self._data)
            self.sha256 = hashlib.sha256(self._data).hexdigest()
        else:
            self._data = None
            self.path = Path(source)
            if not self.path.is_file():
                raise FileNotFoundError(f"not a readable file: {self.path}")
            digest = hashlib.sha256()
            size = 0
            with self.path.open("rb") as handle:
                for chunk in _chunks(handle, chunk_size):
                    digest.update(chunk)
                    size += len(chunk)
            self.size = size
            self.sha256 = digest.hexdigest()
        if self.size == 0:
            raise ValueError("the artifact is empty: the server needs at least one byte")

    def chunks(self) -> Iterator[bytes]:
        """The artifact in chunks of chunk_size; raises IntegrityError at the end if the bytes read now are not
        the bytes hashed up front (the file changed in between)."""
        digest = hashlib.sha256()
        size = 0
        if self._data is not None:
            for offset in range(0, len(self._data), self.chunk_size):
                chunk = self._data[offset:offset + self.chunk_size]
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        else:
            assert self.path is not None
            with self.path.open("rb") as handle:
                for chunk in _chunks(handle, self.chunk_size):
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk
        if size != self.size or digest.hexdigest() != self.sha256:
            raise IntegrityError(f"{self.path} changed during the upload: {size} bytes with sha256 "
                                 f"{digest.hexdigest()} were read, {self.size} bytes with sha256 {self.sha256} "
                                 "were declared")


def upload_requests(registry_pb2, artifact: Artifact, header_fields: Dict,
                    progress: Optional[ProgressCallback]) -> Iterator:
    """The UploadVersion request stream: the header, then one message per chunk, reporting progress as each
    chunk is handed over."""
    yield registry_pb2.UploadVersionRequest(header=registry_pb2.VersionHeader(
        size_bytes=artifact.size, sha256=artifact.sha256, **header_fields))
    sent = 0
    if progress is not None:
        progress(UploadProgress(0, artifact.size))
    for chunk in artifact.chunks():
        yield registry_pb2.UploadVersionRequest(chunk=chunk)
        sent += len(chunk)
        if progress is not None:
            progress(UploadProgress(sent, artifact.size))


def check_version(version, artifact: Artifact) -> None:
    """Raises IntegrityError unless the published version has the artifact's size and SHA-256."""
    if version.size_bytes != artifact.size or version.sha256.lower() != artifact.sha256:
        raise IntegrityError(f"the server stored version {version.number} of {version.model} as {version.size_bytes} "
                             f"bytes with sha256 {version.sha256}, but {artifact.size} bytes with sha256 "
                             f"{artifact.sha256} were sent")


class RecordingRequests:
    """Wraps the upload's request generator so that an exception raised in it (on grpcio's sending thread,
    where grpcio only cancels the call) is kept and re-raised to the caller."""

    def __init__(self, requests: Iterator):
        self._requests = requests
        self.error: Optional[Exception] = None

    def failure(self, rpc_error: grpc.RpcError) -> Exception:
        """What to raise for a failed call: our side's exception if it failed first (file changed, callback
        raised), else the call's status."""
        return self.error if self.error is not None else from_rpc_error(rpc_error)

    def __iter__(self):
        try:
            yield from self._requests
        except Exception as error:  # re-raised in the caller's thread by Client.upload (not GeneratorExit:
            self.error = error      # that is grpcio dropping the iterator after the call ended)
            raise


class ReportHandoff:
    """Reports passed one at a time from grpcio's sending thread to the iterating caller. `finish()` (the call
    ended) and `close()` (the caller left) never block: grpcio may run a done-callback on the caller's thread."""

    def __init__(self):
        self._queue: "queue.Queue[UploadProgress]" = queue.Queue(maxsize=1)
        self._finished = threading.Event()
        self._closed = threading.Event()

    def put(self, report: UploadProgress) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(report, timeout=0.05)
                return
            except queue.Full:
                continue

    def get(self) -> Optional[UploadProgress]:
        """The next report, or None once the call has ended and every report was taken."""
        while True:
            try:
                return self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._finished.is_set() and self._queue.empty():
                    return None

    def finish(self) -> None:
        self._finished.set()

    def close(self) -> None:
        self._closed.set()


def _chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    while True:
        chunk = handle.read(size)
        if not chunk:
            return
        yield chunk
