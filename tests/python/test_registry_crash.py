"""Kill -9 of `aimass serve` in the middle of an upload: after a restart on the same data directory the
half-uploaded version does not exist, the versions acknowledged before are intact (downloaded and
re-hashed), and tmp/ holds no leftover of the interrupted upload."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import grpc

from conftest import start_aimass, stop_server
from test_registry_grpcio import MiB, TIMEOUT, download, upload_requests


def test_kill_mid_upload_loses_nothing_acknowledged(tmp_path, aimass_stubs):
    pb, common = aimass_stubs.registry_pb2, aimass_stubs.common_pb2
    data = tmp_path / "data"
    sp = start_aimass(data)
    admin = [("authorization", f"Bearer {(data / 'admin.token').read_text().strip()}")]
    channel = grpc.insecure_channel(sp.target)
    stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
    stub.CreateModel(pb.CreateModelRequest(model=pb.Model(name="crashy", manifest={"algorithm": "itemcf"})),
                     metadata=admin, timeout=TIMEOUT)
    acknowledged = [os.urandom(3 * MiB + 17), os.urandom(1 * MiB)]
    for body in acknowledged:
        stub.UploadVersion(upload_requests(pb, "crashy", body), metadata=admin, timeout=TIMEOUT)
    stub.SetAlias(pb.SetAliasRequest(model="crashy", alias="production", version=1), metadata=admin, timeout=TIMEOUT)

    big = os.urandom(64 * MiB)
    sent_enough = threading.Event()
    release = threading.Event()

    def stalling_upload():
        requests = upload_requests(pb, "crashy", big)
        for index, request in enumerate(requests):
            yield request
            if index == 20:  # header + 20 MiB sent; keep the stream open until the server is dead
                sent_enough.set()
                release.wait(30)
                return

    outcome = {}

    def run_upload():
        try:
            outcome["version"] = stub.UploadVersion(stalling_upload(), metadata=admin, timeout=TIMEOUT)
        except grpc.RpcError as error:
            outcome["code"] = error.code()

    uploader = threading.Thread(target=run_upload, daemon=True)
    uploader.start()
    assert sent_enough.wait(30), "the upload did not get going"
    # Wait until the server has written part of it to its temporary file.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sizes = [f.stat().st_size for f in (data / "tmp").iterdir()]
        if sizes and max(sizes) >= 4 * MiB:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"no partial upload in {data / 'tmp'}")
    sp.proc.kill()  # SIGKILL
    sp.proc.wait(10)
    release.set()
    uploader.join(30)
    assert "version" not in outcome and outcome.get("code") == grpc.StatusCode.UNAVAILABLE, outcome
    channel.close()
    stop_server(sp, expect_alive=False)

    sp = start_aimass(data, name="aimass-restarted")
    try:
        with grpc.insecure_channel(sp.target) as channel:
            stub = aimass_stubs.registry_pb2_grpc.ModelRegistryStub(channel)
            versions = stub.ListVersions(pb.ListVersionsRequest(model="crashy"), metadata=admin, timeout=TIMEOUT)
            assert [v.number for v in versions.versions] == [2, 1]
            for number, body in enumerate(acknowledged, start=1):
                version, got = download(stub, pb, common, "crashy", number=number, md=admin)
                assert version.sha256 == hashlib.sha256(body).hexdigest()
                assert hashlib.sha256(got).hexdigest() == version.sha256 and len(got) == len(body)
            got = stub.GetVersion(pb.GetVersionRequest(model="crashy", version=common.VersionSelector(alias="production")),
                                  metadata=admin, timeout=TIMEOUT)
            assert got.number == 1
            assert stub.GetModel(pb.GetModelRequest(name="crashy"), metadata=admin, timeout=TIMEOUT).latest_version == 2
            assert list((data / "tmp").iterdir()) == []
            # The registry still works: the interrupted version can be uploaded again, as number 3.
            again = stub.UploadVersion(upload_requests(pb, "crashy", big[:5 * MiB]), metadata=admin, timeout=TIMEOUT)
            assert again.number == 3
    finally:
        stop_server(sp)
