"""Repository paths and the shared contracts (imported, never repeated)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "layers" / "common"
LAYER_PYTHON = LAYER_DIR / "python"
FUNCTIONS_DIR = ROOT / "functions"

if str(LAYER_PYTHON) not in sys.path:  # musicboxd.{config,routes,metric_names} are pure Python
    sys.path.insert(0, str(LAYER_PYTHON))
