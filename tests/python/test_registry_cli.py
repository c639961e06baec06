"""Smoke test of `aimass model …` against `aimass serve`: create, upload, list --json, versions,
download (sha256 verified), alias, grant, update, delete (a version, then the model), and readable errors."""

from __future__ import annotations

import hashlib
import json
import subprocess

from conftest import aimass_binary, cli_environment, start_aimass, stop_server


def test_cli_create_upload_list_versions_download(tmp_path):
    data = tmp_path / "data"
    sp = start_aimass(data)
    exe = str(aimass_binary("aimass"))
    env = cli_environment(AIMASS_SERVER=sp.target)  # the CLI's default server comes from the environment

    def cli(*args, check=True):
        out = subprocess.run([exe, "model", *args, "--data-dir", str(data)], capture_output=True, text=True,
                             timeout=120, env=env, cwd=tmp_path)
        if check:
            assert out.returncode == 0, f"aimass model {' '.join(args)}: {out.stderr}"
        return out

    try:
        artifact = tmp_path / "ratings.tsv"
        artifact.write_bytes(b"".join(b"u%d\ti%d\t%d\n" % (i % 943, i % 1682, i % 5 + 1) for i in range(300_000)))
        cli("create", "movies", "--description", "cli test", "--tag", "movies", "--manifest", "algorithm=itemcf",
            "--manifest", "neighbours=50")
        up = cli("upload", "movies", str(artifact), "--description", "first", "--json", "--progress")
        version = json.loads(up.stdout)
        assert version["number"] == 1 and version["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
        assert "uploading" in up.stderr and "100%" in up.stderr  # the progress bar
        cli("upload", "movies", str(artifact), "--manifest", "neighbours=20")

        listed = json.loads(cli("list", "--json").stdout)
        assert [m["name"] for m in listed["models"]] == ["movies"]
        assert listed["models"][0]["latest_version"] == 2
        table = cli("list").stdout.splitlines()
        assert table[0].split()[:3] == ["NAME", "LATEST", "SIZE"] and table[1].startswith("movies")

        versions = json.loads(cli("versions", "movies", "--json").stdout)["versions"]
        assert [v["number"] for v in versions] == [2, 1]
        assert "VERSION" in cli("versions", "movies").stdout

        diff = json.loads(cli("diff", "movies", "--json").stdout)
        assert {c["field"] for c in diff["changes"]} == {"description", "manifest.neighbours"}

        cli("alias", "movies", "production", "1", "--reason", "first release")
        out = tmp_path / "got.tsv"
        down = cli("download", "movies", "--version", "production", "-o", str(out), "--json")
        assert json.loads(down.stdout)["number"] == 1
        assert out.read_bytes() == artifact.read_bytes()
        assert not (tmp_path / "got.tsv.part").exists()

        history = cli("alias", "movies", "production").stdout
        assert "production" in history and "first release" in history  # the reason is stored

        missing = cli("show", "nope", check=False)
        assert missing.returncode == 10 + 5  # exit code 10 + the gRPC status (NOT_FOUND = 5)
        assert missing.stderr.splitlines()[0] == "error: NOT_FOUND: model 'nope' does not exist", missing.stderr
        assert missing.stderr.splitlines()[1].startswith("hint: "), missing.stderr
        assert "Traceback" not in missing.stderr and "Fatal" not in missing.stderr

        bad_token = subprocess.run([exe, "model", "list", "--token", "aimass_wrong"], capture_output=True, text=True,
                                   timeout=60, env=env)
        assert bad_token.returncode == 10 + 16 and bad_token.stderr.startswith("error: UNAUTHENTICATED:")
        assert "--token" in bad_token.stderr  # the hint says what to do

        grant = cli("grant", "movies", "user:ghost", "reader", check=False)
        assert grant.returncode == 10 + 5 and grant.stderr.startswith("error: NOT_FOUND:")

        # Settings from a configuration file when no flag or environment variable gives them.
        config = tmp_path / "aimass.conf"
        config.write_text(f"# test\nserver = {sp.host}:{sp.port}\ntoken = aimass_from_file\n")
        from_file = subprocess.run([exe, "model", "list"], capture_output=True, text=True, timeout=60,
                                   env={k: v for k, v in env.items() if k not in ("AIMASS_SERVER", "AIMASS_TOKEN",
                                                                                   "AIMASS_DATA_DIR")}
                                   | {"AIMASS_CONFIG": str(config)})
        assert from_file.returncode == 10 + 16 and "UNAUTHENTICATED" in from_file.stderr  # the file's token was used
        config.write_text("serverr = x\n")
        typo = subprocess.run([exe, "model", "list"], capture_output=True, text=True, timeout=60,
                              env=env | {"AIMASS_CONFIG": str(config)})
        assert typo.returncode == 1 and "unknown key 'serverr'" in typo.stderr

        help_text = subprocess.run([exe, "model", "upload", "--help"], capture_output=True, text=True, timeout=60).stdout
        assert "Example" in help_text and "--server" in help_text and "--json" in help_text

        # A manifest the replicas cannot load is refused at upload, naming the key.
        refused = cli("upload", "movies", str(artifact), "--manifest", "neighbours=-3", check=False)
        assert refused.returncode == 10 + 3 and refused.stderr.startswith("error: INVALID_ARGUMENT:"), refused.stderr
        assert "neighbours" in refused.stderr

        # update: only the fields given change.
        updated = json.loads(cli("update", "movies", "--description", "renamed", "--tag", "films", "--json").stdout)
        assert updated["description"] == "renamed" and updated["tags"] == ["films"]
        assert updated["manifest"] == {"algorithm": "itemcf", "neighbours": "50"}
        bad = cli("update", "movies", "--manifest", "weighting=idf", check=False)
        assert bad.returncode == 10 + 3 and "weighting" in bad.stderr and "iuf" in bad.stderr, bad.stderr
        assert "update" in cli("--help").stdout and "Example" in cli("update", "--help").stdout

        # delete --version: refused while an alias points at it, then done.
        aliased = cli("delete", "movies", "--version", "1", check=False)
        assert aliased.returncode == 10 + 9 and aliased.stderr.startswith("error: FAILED_PRECONDITION:")
        assert "production" in aliased.stderr
        cli("alias", "movies", "production", "2")
        gone = json.loads(cli("delete", "movies", "--version", "1", "--json").stdout)
        assert gone == {"model": "movies", "version": 1, "deleted": True}
        assert [v["number"] for v in json.loads(cli("versions", "movies", "--json").stdout)["versions"]] == [2]
        assert cli("delete", "movies").stdout.strip() == "deleted model movies"
        assert json.loads(cli("list", "--json").stdout)["models"] == []
    finally:
        stop_server(sp)
