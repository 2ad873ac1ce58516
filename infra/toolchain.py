"""The Python 3.13 that builds the layer (the Lambda runtime's version): a named prerequisite.

Found as ``$PYTHON313``, then ``python3.13`` on PATH, then pyenv's newest 3.13 (a pyenv shim
for a version that is not selected fails the check and is skipped).
``python -m infra.toolchain`` prints it, or the reason and exit status 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

MISSING = (
    "Python 3.13 is required to build the Lambda layer (the runtime's Python compiles its bytecode): "
    "install it (pyenv install 3.13) or set PYTHON313=/path/to/python3.13"
)


def find_python313() -> str:
    candidates = [os.environ.get("PYTHON313", ""), shutil.which("python3.13") or ""]
    candidates += sorted((str(p) for p in Path.home().glob(".pyenv/versions/3.13*/bin/python3.13")), reverse=True)
    for candidate in filter(None, candidates):
        try:
            check = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            continue
        if check.stdout.strip() == "True":
            return candidate
    raise RuntimeError(MISSING)


if __name__ == "__main__":
    try:
        print(find_python313())
    except RuntimeError as missing:
        sys.exit(str(missing))


# The Lambda Python runtime's own packages (boto3 and what it needs, and the SnapStart hooks'
# snapshot_restore_py), as requirements-dev.lock pins them.
RUNTIME_DISTRIBUTIONS = (
    "boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3", "snapshot-restore-py"
)  # fmt: skip


def python313_like_lambda(cache_dir: Path, lock: Path) -> Path:
    """A Python 3.13 venv holding only boto3 and its dependencies (hash-checked from ``lock``),
    cached under ``cache_dir`` by the locked versions. Returns its interpreter."""
    import hashlib
    import re

    text = lock.read_text()
    blocks = []
    for name in RUNTIME_DISTRIBUTIONS:
        found = re.search(rf"^{re.escape(name)}==.*?(?=^\S|\Z)", text, re.M | re.S | re.I)
        if not found:
            raise RuntimeError(f"{name} is not in {lock.name}")
        blocks.append(found.group(0))
    requirements = "".join(blocks)
    venv = cache_dir / f"py313-boto3-{hashlib.sha256(requirements.encode()).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        subprocess.run([find_python313(), "-m", "venv", "--clear", str(venv)], check=True)
        (venv / "requirements.txt").write_text(requirements)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps"]
            + ["--require-hashes", "-r", str(venv / "requirements.txt")],
            check=True,
        )
        (venv / ".complete").touch()
    return python
