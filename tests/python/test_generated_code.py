"""The committed protobuf-c code and Swift message code match proto/ (scripts/generate-protos.sh --check)."""

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_generated_protobuf_c_code_is_up_to_date():
    script = REPO_ROOT / "scripts" / "generate-protos.sh"
    assert script.is_file(), f"{script} is missing"
    r = subprocess.run(["bash", str(script), "--check"], cwd=REPO_ROOT, capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"generate-protos.sh --check exited {r.returncode}\n{r.stdout}\n{r.stderr}"
