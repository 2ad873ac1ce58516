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
