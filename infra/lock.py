"""`make lock`: hashed locks of every transitive dependency, resolved by uv.

uv (Astral, the resolver behind `uv pip compile`) resolves for a *target* interpreter and
platform (`--python-version 3.13 --python-platform aarch64-manylinux2014`), which pip-tools
cannot: it resolves for the Python it runs in. The layer lock is what the bundler installs
(`--require-hashes --no-deps`); the dev lock is what `make venv` installs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from infra.paths import LAYER_DIR, ROOT

LAYER_LOCK = LAYER_DIR / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
COMMON = ["pip", "compile", "--generate-hashes", "--quiet", "--no-header"]
LOCKS = (
    (
        LAYER_DIR / "requirements.txt",
        LAYER_LOCK,
        ["--python-version", "3.13", "--python-platform", "aarch64-manylinux2014"],
    ),
    (ROOT / "requirements-dev.txt", DEV_LOCK, ["--python-version", "3.11", "--universal"]),
)


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise SystemExit("uv not found: `make venv` installs it (requirements-dev.txt)")
    return found


def main() -> None:
    for source, lock, target in LOCKS:
        cmd = [uv(), *COMMON, *target, str(source.relative_to(ROOT)), "-o", str(lock.relative_to(ROOT))]
        print(" ".join(cmd[1:]))
        subprocess.run(cmd, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
