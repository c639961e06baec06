#!/usr/bin/env python3
"""Checks go_recommend against scripts/reference_cf.py (itemcf, neighbours 50, iuf, implicit) on ML-100k.

Starts the server, asks Recommend for every user (k=10, exclude_seen false and true) and a few seed-item baskets,
and compares with the numpy reference: ids exactly and scores to 1e-9, except that two items whose reference scores
are within 1e-9 may come in either order (as tests/python/test_recommend_reference.py allows). Also checks served_by
and the error codes (UNAUTHENTICATED, NOT_FOUND, INVALID_ARGUMENT). Needs grpcio and numpy (/work/main/.venv):

  .venv/bin/python Benchmarks/Peers/go-recommend/verify.py [--binary OUTDIR/go_recommend] [--data data/ml-100k.inter]
"""

import argparse
import importlib.util
import pathlib
import socket
import struct
import subprocess
import sys
import time

import grpc
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[3]
TOKEN = "verify-token"
MODEL = "movielens-itemcf"
TOLERANCE = 1e-9


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def request(model=MODEL, user="", seeds=(), k=10, exclude_seen=False):
    """Serialized aimass.v1.RecommendRequest."""
    out = field_bytes(1, model.encode()) if model else b""
    out += field_bytes(3, user.encode()) if user else b""
    for seed in seeds:
        out += field_bytes(4, seed.encode())
    out += varint(5 << 3) + varint(k) if k else b""
    out += varint(6 << 3) + b"\x01" if exclude_seen else b""
    return out


def fields(data):
    """(field number, value) pairs of a message: varints as int, fixed64 as bytes, length-delimited as bytes."""
    position = 0
    while position < len(data):
        key, shift = 0, 0
        while True:
            byte = data[position]
            position += 1
            key |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, shift = 0, 0
            while True:
                byte = data[position]
                position += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
        elif wire == 1:
            value, position = data[position:position + 8], position + 8
        elif wire == 2:
            length, shift = 0, 0
            while True:
                byte = data[position]
                position += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            value, position = data[position:position + length], position + length
        else:
            raise ValueError(f"wire type {wire}")
        yield number, value


def response(data):
    """(items [(id, score)], served_by dict) of a RecommendResponse."""
    items, served = [], {}
    for number, value in fields(data):
        if number == 1:
            item = dict(fields(value))
            items.append((item.get(1, b"").decode(), struct.unpack("<d", item.get(2, b"\0" * 8))[0]))
        elif number == 2:
            served = {n: v for n, v in fields(value)}
    return items, served


def expected_top(scores_row, seen_row, k, exclude_seen):
    """Reference ranking: score > 0, best first, ties to the smaller index (= smaller id)."""
    mask = scores_row > 0
    if exclude_seen:
        mask &= ~seen_row
    candidates = np.nonzero(mask)[0]
    return candidates[np.lexsort((candidates, -scores_row[candidates]))][:k]


def compare(label, got, ref_order, scores_row, items, seen_row, exclude_seen):
    """Number of tie swaps; raises on a mismatch."""
    theirs = [(items[i], float(scores_row[i])) for i in ref_order]
    index = {item: n for n, item in enumerate(items)}
    if len(got) != len(theirs):
        raise AssertionError(f"{label}: {len(got)} results, reference {len(theirs)}")
    swaps = 0
    for position, ((item, score), (ref_item, ref_score)) in enumerate(zip(got, theirs)):
        if abs(score - ref_score) > TOLERANCE:
            raise AssertionError(f"{label} #{position + 1}: score {score!r} vs {ref_score!r} ({item} / {ref_item})")
        if item != ref_item:
            i = index[item]
            if abs(scores_row[i] - ref_score) > TOLERANCE or (exclude_seen and seen_row[i]):
                raise AssertionError(f"{label} #{position + 1}: {item} vs reference {ref_item} (not a tie)")
            swaps += 1
    return swaps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="/tmp/aimass-bench/build/go-recommend/go_recommend")
    parser.add_argument("--data", default=str(ROOT / "data" / "ml-100k.inter"))
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("reference_cf", ROOT / "scripts" / "reference_cf.py")
    reference_cf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference_cf)
    model = reference_cf.Model(reference_cf.load(args.data), algorithm="itemcf", neighbours=50, weighting="iuf")
    scores = model.scores()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([args.binary, "--port", str(port), "--data", args.data, "--neighbours", "50",
                               "--weighting", "iuf", "--token", TOKEN, "--model", MODEL])
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=60)
        call = channel.unary_unary("/aimass.v1.Recommend/Recommend",
                                   request_serializer=lambda b: b, response_deserializer=lambda b: b)
        auth = (("authorization", f"Bearer {TOKEN}"),)

        swaps = entries = 0
        for exclude_seen in (False, True):
            for u, user in enumerate(model.users):
                got, served = response(call(request(user=user, exclude_seen=exclude_seen), metadata=auth))
                assert served == {1: b"go-peer", 2: f"go-peer/{MODEL}@1".encode(), 3: 1}, served
                order = expected_top(scores[u], model.seen[u], 10, exclude_seen)
                swaps += compare(f"user {user} exclude_seen={exclude_seen}", got, order, scores[u], model.items,
                                 model.seen[u], exclude_seen)
                entries += len(got)
                if user == "196":
                    print(f"user 196 exclude_seen={exclude_seen}: " + ", ".join(f"{i}:{s:.6f}" for i, s in got))
        for seeds in (["242"], ["50", "181", "1"], ["1", "1", "2"]):
            row = np.zeros(len(model.items))
            for seed in set(seeds):
                row[model.items.index(seed)] = 1.0
            seen = row > 0
            seed_scores = row @ model.S
            for exclude_seen in (False, True):
                got, _ = response(call(request(seeds=seeds, k=20, exclude_seen=exclude_seen), metadata=auth))
                order = expected_top(seed_scores, seen, 20, exclude_seen)
                swaps += compare(f"seeds {seeds}", got, order, seed_scores, model.items, seen, exclude_seen)
                entries += len(got)
        print(f"Recommend: {2 * len(model.users)} user queries + 6 seed queries, {entries} entries match the "
              f"reference to {TOLERANCE} ({swaps} tie-order differences)")

        def code_of(payload, metadata=auth):
            try:
                call(payload, metadata=metadata)
                return grpc.StatusCode.OK
            except grpc.RpcError as error:
                return error.code()

        C = grpc.StatusCode
        checks = [
            ("no token", code_of(request(user="196"), ()), C.UNAUTHENTICATED),
            ("wrong token", code_of(request(user="196"), (("authorization", "Bearer nope"),)), C.UNAUTHENTICATED),
            ("unknown model", code_of(request(model="other", user="196")), C.NOT_FOUND),
            ("unknown user", code_of(request(user="no-such-user")), C.NOT_FOUND),
            ("unknown seed", code_of(request(seeds=["242", "no-such-item"])), C.NOT_FOUND),
            ("no model", code_of(request(model="", user="196")), C.INVALID_ARGUMENT),
            ("neither", code_of(request()), C.INVALID_ARGUMENT),
            ("both", code_of(request(user="196", seeds=["242"])), C.INVALID_ARGUMENT),
            ("k 10001", code_of(request(user="196", k=10001)), C.INVALID_ARGUMENT),
        ]
        for name, got, want in checks:
            assert got == want, f"{name}: {got} (want {want})"
        print(f"errors: {len(checks)} status checks pass")
        health = channel.unary_unary("/grpc.health.v1.Health/Check",
                                     request_serializer=lambda b: b, response_deserializer=lambda b: b)
        assert dict(fields(health(b""))) == {1: 1}, "health is not SERVING"
        print("health: SERVING")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
