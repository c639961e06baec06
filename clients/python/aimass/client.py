"""`Client`: the AI Mass API (ModelRegistry, Scheduler, Recommend, Mesh) over one gRPC channel."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

import grpc

from .channel import auth_metadata, make_channel
from .errors import AlreadyExists, FailedPrecondition, from_rpc_error
from .results import Recommendations
from .retry import RetryPolicy, call_with_retries
from .upload import (DEFAULT_CHUNK, Artifact, ProgressCallback, RecordingRequests, ReportHandoff, Source,
                     UploadProgress, check_version, upload_requests)
from .watch import EventStream
from .v1 import (common_pb2, mesh_pb2, mesh_pb2_grpc, recommend_pb2, recommend_pb2_grpc, registry_pb2,
                 registry_pb2_grpc, scheduler_pb2, scheduler_pb2_grpc)

#: A version by number (3), by alias ("production"), or None for the call's default (usually the newest).
VersionRef = Union[int, str, None]

_PROTOCOLS = {"loo": recommend_pb2.EVAL_PROTOCOL_LEAVE_LAST_ONE_OUT,
              "holdout": recommend_pb2.EVAL_PROTOCOL_HOLDOUT_80_20}

_ROLES = {"none": registry_pb2.ROLE_NONE, "reader": registry_pb2.ROLE_READER, "writer": registry_pb2.ROLE_WRITER,
          "owner": registry_pb2.ROLE_OWNER}


@dataclass(frozen=True)
class Evaluation:
    """Offline metrics of one version, e.g. {"loo.hr@10": 0.41, "loo.ndcg@10": 0.2, "loo.users": 943.0}."""

    model: str
    version: int
    metrics: Dict[str, float]
    stored: bool


class Client:
    """A connection to an AI Mass server (control plane, or a worker for inference calls).

        with aimass.Client("127.0.0.1:50051", token=token) as client:
            client.create_model("movies", manifest={"algorithm": "itemcf"})
            version = client.upload("movies", "ratings.tsv", progress=print)
            client.deploy("movies", version.number)
            print(client.recommend("movies", user_id="196", k=5).item_ids)

    Args:
        target: HOST:PORT of the server (any gRPC target string).
        token: API token, sent as `authorization: Bearer TOKEN` on every call; None for a server without
            authentication.
        ca_file: PEM file of the certificate authorities to trust; setting it (or `tls`, `cert_file`) makes the
            channel TLS.
        cert_file, key_file: PEM client certificate chain and private key for mutual TLS (both or neither).
        tls: TLS with the system's trust store when no `ca_file` is given.
        timeout: default deadline of unary calls, in seconds (uploads and evaluations have none unless given).
        retry: a RetryPolicy to retry idempotent calls on UNAVAILABLE / RESOURCE_EXHAUSTED; None (default) = never.
        options: extra grpc channel options, e.g. [("grpc.max_receive_message_length", 16 << 20)].
    Raises:
        ValueError: a bad argument (empty target or token, a token with spaces, cert_file without key_file...).
        FileNotFoundError: a TLS file that does not exist.
    """

    def __init__(self, target: str, *, token: Optional[str] = None, ca_file: Optional[str] = None,
                 cert_file: Optional[str] = None, key_file: Optional[str] = None, tls: bool = False,
                 timeout: float = 30.0, retry: Optional[RetryPolicy] = None,
                 options: Sequence = ()):
        if not isinstance(target, str) or not target.strip():
            raise ValueError("target must be a non-empty HOST:PORT string")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive seconds, got {timeout}")
        self.target = target
        self.timeout = timeout
        self.retry = retry
        self._metadata = auth_metadata(token)
        self.channel = make_channel(target, ca_file, cert_file, key_file, tls, options)
        self.registry = registry_pb2_grpc.ModelRegistryStub(self.channel)
        self.scheduler = scheduler_pb2_grpc.SchedulerStub(self.channel)
        self.recommender = recommend_pb2_grpc.RecommendStub(self.channel)
        self.mesh = mesh_pb2_grpc.MeshStub(self.channel)

    @classmethod
    def from_env(cls, **kwargs) -> "Client":
        """A client configured like the `aimass` CLI: $AIMASS_SERVER (default 127.0.0.1:50051), and the token
        from $AIMASS_TOKEN, else $AIMASS_DATA_DIR/admin.token; keyword arguments override both."""
        target = kwargs.pop("target", None) or os.environ.get("AIMASS_SERVER") or "127.0.0.1:50051"
        if "token" not in kwargs:
            token = os.environ.get("AIMASS_TOKEN")
            data_dir = os.environ.get("AIMASS_DATA_DIR")
            if not token and data_dir and (Path(data_dir) / "admin.token").is_file():
                token = (Path(data_dir) / "admin.token").read_text().strip()
            kwargs["token"] = token or None
        return cls(target, **kwargs)

    # -- lifecycle --------------------------------------------------------------------------------

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- models -----------------------------------------------------------------------------------

    def create_model(self, name: str, *, description: str = "", tags: Iterable[str] = (),
                     manifest: Optional[Mapping[str, str]] = None, intended_use: str = "",
                     annotations: Optional[Mapping[str, str]] = None, exist_ok: bool = False,
                     timeout: Optional[float] = None) -> registry_pb2.Model:
        """Creates a model with no versions (you become its OWNER); `manifest` holds the defaults of its versions,
        e.g. {"algorithm": "itemcf", "neighbours": "50"}. With exist_ok, an existing model is returned instead of
        raising AlreadyExists (its fields are left as they are)."""
        model = registry_pb2.Model(name=name, description=description, tags=list(tags),
                                   manifest=_strings(manifest), intended_use=intended_use,
                                   annotations=_strings(annotations))
        try:
            return self._unary(self.registry.CreateModel, registry_pb2.CreateModelRequest(model=model), timeout)
        except AlreadyExists:
            if not exist_ok:
                raise
            return self.get_model(name, timeout=timeout)

    def get_model(self, name: str, *, timeout: Optional[float] = None) -> registry_pb2.Model:
        """One model. Raises NotFound (also for a model you cannot read)."""
        return self._unary(self.registry.GetModel, registry_pb2.GetModelRequest(name=name), timeout, idempotent=True)

    def list_models(self, *, tag: str = "", author: str = "", name_prefix: str = "", page_size: int = 0,
                    timeout: Optional[float] = None) -> Iterator[registry_pb2.Model]:
        """Every model you can read, ordered by name, fetched page by page as you iterate."""
        request = registry_pb2.ListModelsRequest(tag=tag, author=author, name_prefix=name_prefix,
                                                 page_size=page_size)
        return self._pages(self.registry.ListModels, request, "models", timeout)

    def delete_model(self, name: str, *, timeout: Optional[float] = None) -> None:
        """Deletes a model with all its versions (needs OWNER; undeploy it first)."""
        self._unary(self.registry.DeleteModel, registry_pb2.DeleteModelRequest(name=name), timeout)

    # -- versions ---------------------------------------------------------------------------------

    def upload(self, model: str, source: Source, *, manifest: Optional[Mapping[str, str]] = None,
               description: str = "", metrics: Optional[Mapping[str, float]] = None,
               annotations: Optional[Mapping[str, str]] = None, chunk_size: int = DEFAULT_CHUNK,
               progress: Optional[ProgressCallback] = None,
               timeout: Optional[float] = None) -> registry_pb2.Version:
        """Uploads a file (a path) or bytes as the model's next version and returns it.

        The SHA-256 is computed first and declared in the header; the bytes follow in chunks of `chunk_size`
        (64 KiB - 1 MiB). `progress(UploadProgress)` is called before the first chunk and after each one
        (`sent_bytes`, `total_bytes`). The returned version's size and SHA-256 are checked against what was sent.
        `manifest` overrides the model's manifest for this version. No deadline unless `timeout` is given.
        Raises InvalidArgument (e.g. a manifest the replicas cannot load; nothing is stored), NotFound,
        PermissionDenied, DataLoss / IntegrityError (bytes changed or mismatched), ResourceExhausted (too big).
        """
        artifact = Artifact(source, chunk_size)
        header = _version_header(model, description, manifest, metrics, annotations)
        requests = RecordingRequests(upload_requests(registry_pb2, artifact, header, progress))
        try:
            version = self.registry.UploadVersion(iter(requests), metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as rpc_error:
            raise requests.failure(rpc_error) from None
        check_version(version, artifact)
        return version

    def iter_upload(self, model: str, source: Source, *, manifest: Optional[Mapping[str, str]] = None,
                    description: str = "", metrics: Optional[Mapping[str, float]] = None,
                    annotations: Optional[Mapping[str, str]] = None, chunk_size: int = DEFAULT_CHUNK,
                    timeout: Optional[float] = None) -> Iterator[UploadProgress]:
        """The upload of `upload` as an iterator of progress reports, for a progress bar of your own; the last
        report carries the published (and checked) `version`. The upload advances as you iterate (gRPC's sender
        waits until you have taken the previous report); leaving the loop early cancels it, and nothing is stored.
        Raises as `upload` does.

            for step in client.iter_upload("movies", "ratings.tsv"):
                print(f"{step.fraction:.0%}")
            print(step.version.number)
        """
        artifact = Artifact(source, chunk_size)
        header = _version_header(model, description, manifest, metrics, annotations)
        reports = ReportHandoff()
        requests = RecordingRequests(upload_requests(registry_pb2, artifact, header, reports.put))
        future = self.registry.UploadVersion.future(iter(requests), metadata=self._metadata, timeout=timeout)
        # Every report is handed over before the call can succeed: the server answers only after the last chunk.
        future.add_done_callback(lambda _: reports.finish())
        try:
            while True:
                report = reports.get()
                if report is None:
                    break
                yield report
            try:
                version = future.result()
            except grpc.RpcError as rpc_error:
                raise requests.failure(rpc_error) from None
        finally:
            reports.close()
            future.cancel()  # a no-op once the call has ended; cancels it when the caller left the loop
        check_version(version, artifact)
        yield UploadProgress(artifact.size, artifact.size, version)

    def get_version(self, model: str, version: VersionRef = None, *,
                    timeout: Optional[float] = None) -> registry_pb2.Version:
        """One version by number or alias (None = the newest)."""
        request = registry_pb2.GetVersionRequest(model=model, version=_selector(version))
        return self._unary(self.registry.GetVersion, request, timeout, idempotent=True)

    def list_versions(self, model: str, *, page_size: int = 0,
                      timeout: Optional[float] = None) -> Iterator[registry_pb2.Version]:
        """The model's versions, newest first, fetched page by page as you iterate."""
        request = registry_pb2.ListVersionsRequest(model=model, page_size=page_size)
        return self._pages(self.registry.ListVersions, request, "versions", timeout)

    def set_alias(self, model: str, alias: str, version: int, *, reason: str = "",
                  timeout: Optional[float] = None) -> registry_pb2.AliasChange:
        """Points `alias` at version number `version` (0 deletes the alias); deployments that follow the alias
        roll to it. Returns the recorded move (with `previous_version`)."""
        request = registry_pb2.SetAliasRequest(model=model, alias=alias, version=version, reason=reason)
        return self._unary(self.registry.SetAlias, request, timeout).change

    def grant(self, model: str, principal: str, role: str, *,
              timeout: Optional[float] = None) -> Dict[str, str]:
        """Grants `role` ("reader", "writer", "owner"; "none" removes the grant) on a model to a principal
        (`user:NAME` or `group:NAME`); needs OWNER. Returns every grant after the change, principal -> role."""
        if role not in _ROLES:
            raise ValueError(f"role must be one of {sorted(_ROLES)}, got {role!r}")
        request = registry_pb2.SetPermissionRequest(model=model, principal=principal, role=_ROLES[role])
        return _grants(self._unary(self.registry.SetPermission, request, timeout))

    def permissions(self, model: str, *, timeout: Optional[float] = None) -> Dict[str, str]:
        """Every grant on a model, principal -> role ("reader", "writer" or "owner")."""
        request = registry_pb2.GetPermissionsRequest(model=model)
        return _grants(self._unary(self.registry.GetPermissions, request, timeout, idempotent=True))

    # -- deployments ------------------------------------------------------------------------------

    def deploy(self, model: str, version: VersionRef = None, *, min_replicas: int = 1, max_replicas: int = 0,
               target_concurrency: int = 0, cpu_millis: int = 0, memory_bytes: int = 0, priority: int = 0,
               timeout: Optional[float] = None) -> scheduler_pb2.Deployment:
        """Deploys a version (by number; by alias to follow the alias as it moves; None = pin the newest) with
        min..max replicas (max 0 = min). Returns at once, usually PENDING or PROGRESSING: see
        `wait_for_deployment`. Raises AlreadyExists for the same model and selector deployed twice."""
        request = scheduler_pb2.DeployRequest(
            model=model, version=_selector(version), min_replicas=min_replicas, max_replicas=max_replicas,
            target_concurrency=target_concurrency, priority=priority,
            resources=common_pb2.Resources(cpu_millis=cpu_millis, memory_bytes=memory_bytes))
        return self._unary(self.scheduler.Deploy, request, timeout)

    def get_deployment(self, deployment_id: str, *, timeout: Optional[float] = None) -> scheduler_pb2.Deployment:
        """One deployment with its replicas."""
        request = scheduler_pb2.GetDeploymentRequest(id=deployment_id)
        return self._unary(self.scheduler.GetDeployment, request, timeout, idempotent=True)

    def list_deployments(self, model: str = "", *, page_size: int = 0,
                         timeout: Optional[float] = None) -> Iterator[scheduler_pb2.Deployment]:
        """Deployments (of one model, or all), ordered by id, fetched page by page as you iterate."""
        request = scheduler_pb2.ListDeploymentsRequest(model=model, page_size=page_size)
        return self._pages(self.scheduler.ListDeployments, request, "deployments", timeout)

    def scale(self, deployment_id: str, *, min_replicas: int = 0, max_replicas: int = 0, desired_replicas: int = 0,
              timeout: Optional[float] = None) -> scheduler_pb2.Deployment:
        """Changes a deployment's replica bounds and/or desired count (0 = leave unchanged)."""
        request = scheduler_pb2.ScaleRequest(id=deployment_id, min_replicas=min_replicas, max_replicas=max_replicas,
                                             desired_replicas=desired_replicas)
        return self._unary(self.scheduler.Scale, request, timeout)

    def undeploy(self, deployment_id: str, *, timeout: Optional[float] = None) -> scheduler_pb2.Deployment:
        """Removes a deployment (its replicas drain first); returns it in state DELETING."""
        request = scheduler_pb2.UndeployRequest(id=deployment_id)
        return self._unary(self.scheduler.Undeploy, request, timeout)

    def wait_for_deployment(self, deployment_id: str, *, timeout: float = 120.0) -> scheduler_pb2.Deployment:
        """Waits until the deployment is READY and returns it, following Mesh.Watch (no polling).

        Raises FailedPrecondition if it becomes FAILED or DELETING, NotFound if it does not exist, and
        DeadlineExceeded if it is not READY within `timeout` seconds."""
        deployment = self.get_deployment(deployment_id)
        ready, gone = scheduler_pb2.DEPLOYMENT_STATE_READY, (scheduler_pb2.DEPLOYMENT_STATE_FAILED,
                                                             scheduler_pb2.DEPLOYMENT_STATE_DELETING)
        # The snapshot that opens the stream carries the current state, so a change between the
        # GetDeployment above and the Watch is not missed.
        with self.watch(models=[deployment.model], kinds=[mesh_pb2.EVENT_KIND_DEPLOYMENT_SCALED],
                        timeout=timeout) as events:
            for event in events:
                if event.HasField("snapshot"):
                    states = [d for d in event.snapshot.deployments if d.id == deployment_id]
                elif event.HasField("deployment_scaled") and event.deployment_scaled.id == deployment_id:
                    states = [event.deployment_scaled]
                else:
                    continue
                for current in states:
                    if current.state == ready:
                        return current
                    if current.state in gone:
                        raise FailedPrecondition(
                            grpc.StatusCode.FAILED_PRECONDITION,
                            f"deployment {deployment_id} is {scheduler_pb2.DeploymentState.Name(current.state)}: "
                            f"{current.reason}")
        raise FailedPrecondition(grpc.StatusCode.FAILED_PRECONDITION,
                                 f"the event stream ended before deployment {deployment_id} was READY")

    def get_pool(self, *, timeout: Optional[float] = None) -> List[scheduler_pb2.Worker]:
        """Every worker of the pool with capacity, allocation, health, replicas and load."""
        return list(self._unary(self.scheduler.GetPool, scheduler_pb2.GetPoolRequest(), timeout,
                                idempotent=True).workers)

    # -- inference --------------------------------------------------------------------------------

    def recommend(self, model: str, user_id: Optional[str] = None, *, seed_items: Optional[Sequence[str]] = None,
                  k: int = 10, exclude_seen: bool = False, version: VersionRef = None,
                  user_attributes: Optional[Mapping[str, str]] = None,
                  timeout: Optional[float] = None) -> Recommendations:
        """Top-k items for a user, or for a set of seed items (exactly one of the two). A user the version has no
        interactions of is a cold start (attribute neighbours from `user_attributes` or the version's users
        section, else popularity; see `Recommendations.path`); unknown seed items are left out. Raises
        FailedPrecondition when the model is not deployed."""
        if (user_id is None) == (seed_items is None):
            raise ValueError("give exactly one of user_id and seed_items")
        request = recommend_pb2.RecommendRequest(model=model, version=_selector(version), user_id=user_id or "",
                                                 seed_items=list(seed_items or ()), k=k, exclude_seen=exclude_seen,
                                                 user_attributes=dict(user_attributes or {}))
        return Recommendations.from_response(
            self._unary(self.recommender.Recommend, request, timeout, idempotent=True))

    def similar_items(self, model: str, item_id: str, *, k: int = 10, version: VersionRef = None,
                      timeout: Optional[float] = None) -> Recommendations:
        """The k items most similar to one item (never the item itself)."""
        request = recommend_pb2.SimilarItemsRequest(model=model, version=_selector(version), item_id=item_id, k=k)
        return Recommendations.from_response(
            self._unary(self.recommender.SimilarItems, request, timeout, idempotent=True))

    def evaluate(self, model: str, version: VersionRef = None, *, protocol: str = "loo", k: int = 10,
                 seed: int = 0, dry_run: bool = False, timeout: Optional[float] = None) -> Evaluation:
        """Evaluates a version offline on a split of its own interactions: protocol "loo" (leave last one out)
        or "holdout" (80/20). The metrics are stored on the version unless dry_run (and only for a WRITER).
        No deadline unless `timeout` is given."""
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol must be one of {sorted(_PROTOCOLS)}, got {protocol!r}")
        request = recommend_pb2.EvaluateRequest(model=model, version=_selector(version),
                                                protocol=_PROTOCOLS[protocol], k=k, seed=seed, dry_run=dry_run)
        response = self._call(self.recommender.Evaluate, request, timeout, idempotent=dry_run)
        return Evaluation(model=response.model, version=response.version, metrics=dict(response.metrics),
                          stored=response.stored)

    # -- events -----------------------------------------------------------------------------------

    def watch(self, *, models: Iterable[str] = (), kinds: Iterable[int] = (), resume_from_revision: int = 0,
              heartbeat_interval_ms: int = 0, heartbeats: bool = False, reconnect: bool = False,
              timeout: Optional[float] = None) -> EventStream:
        """Mesh.Watch as an iterator of aimass.v1.MeshEvent (see EventStream): only events about `models` and
        of `kinds` (e.g. [aimass.v1.mesh_pb2.EVENT_KIND_REPLICA_READY]) when given; heartbeats are skipped
        unless `heartbeats`. `resume_from_revision` = the `revision` of an earlier stream: only what happened
        since. `reconnect` (needs a retry policy on the client) reopens a stream that ends with UNAVAILABLE.
        `timeout` ends the stream with DeadlineExceeded; None = until closed."""
        if reconnect and self.retry is None:
            raise ValueError("reconnect needs a RetryPolicy: Client(..., retry=aimass.RetryPolicy())")
        models, kinds = list(models), list(kinds)

        def open_call(revision: int):
            request = mesh_pb2.WatchRequest(resume_from_revision=revision, models=models, kinds=kinds,
                                            heartbeat_interval_ms=heartbeat_interval_ms)
            return self.mesh.Watch(request, metadata=self._metadata, timeout=timeout)

        return EventStream(open_call, mesh_pb2, resume_from_revision, heartbeats,
                           self.retry if reconnect else None, time.sleep)

    # -- plumbing ---------------------------------------------------------------------------------

    def _unary(self, method, request, timeout: Optional[float], idempotent: bool = False):
        return self._call(method, request, self.timeout if timeout is None else timeout, idempotent)

    def _call(self, method, request, timeout: Optional[float], idempotent: bool):
        def once():
            try:
                return method(request, metadata=self._metadata, timeout=timeout)
            except grpc.RpcError as rpc_error:
                raise from_rpc_error(rpc_error) from None

        return call_with_retries(self.retry if idempotent else None, once)

    def _pages(self, method, request, field: str, timeout: Optional[float]) -> Iterator:
        while True:
            page = self._unary(method, request, timeout, idempotent=True)
            yield from getattr(page, field)
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token


def _selector(version: VersionRef) -> Optional[common_pb2.VersionSelector]:
    if version is None:
        return None
    if isinstance(version, bool):
        raise TypeError("version must be an int (number), a str (alias) or None, not bool")
    if isinstance(version, int):
        if version <= 0:
            raise ValueError(f"version numbers start at 1, got {version}")
        return common_pb2.VersionSelector(number=version)
    if isinstance(version, str):
        if version.isdigit():
            return common_pb2.VersionSelector(number=int(version))
        return common_pb2.VersionSelector(alias=version)
    raise TypeError(f"version must be an int (number), a str (alias) or None, not {type(version).__name__}")


def _grants(response) -> Dict[str, str]:
    names = {number: name for name, number in _ROLES.items()}
    return {p.principal: names.get(p.role, registry_pb2.Role.Name(p.role)) for p in response.permissions}


def _version_header(model: str, description: str, manifest: Optional[Mapping[str, str]],
                    metrics: Optional[Mapping[str, float]], annotations: Optional[Mapping[str, str]]) -> Dict:
    return dict(model=model, description=description, manifest=_strings(manifest),
                metrics={str(k): float(v) for k, v in (metrics or {}).items()}, annotations=_strings(annotations))


def _strings(mapping: Optional[Mapping]) -> Dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}
