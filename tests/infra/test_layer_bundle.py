"""Bundles the shared layer for real (pip, PyPI) exactly as `cdk synth` does, without Docker."""

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.constructs.layer import RUNTIME_PROVIDED, PipLayerBundler
from infra.paths import LAYER_DIR, ROOT
from musicboxd.api.openapi import SWAGGER_ASSETS

MAX_UNZIPPED = 30 * 1024 * 1024  # ~12 MB of sources and wheels + their cp313 bytecode
EXPECTED = (
    "musicboxd",
    "aws_lambda_powertools",
    "pydantic",
    "pydantic_core",
    "httpx",
    "pynamodb",
    "tenacity",
)


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("layer")
    assert PipLayerBundler(LAYER_DIR).try_bundle(str(out)) is True
    return out


def size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
def test_layer_size_and_content(layer, tmp_path):
    site = layer / "python"
    total = size(layer)
    print(f"layer unzipped: {total / 1e6:.1f} MB")
    assert total < MAX_UNZIPPED
    for pkg in EXPECTED:
        assert (site / pkg / "__init__.py").is_file(), pkg
    for pkg in RUNTIME_PROVIDED:
        assert not (site / pkg).exists(), f"{pkg} ships with the Lambda runtime"
    swagger_ui = site / "aws_lambda_powertools" / "event_handler" / "openapi" / "swagger_ui"
    for asset in SWAGGER_ASSETS:  # /docs serves them from the layer (no CDN)
        assert (swagger_ui / asset).is_file(), asset
    native = [p.name for p in site.rglob("*.so")]
    assert native and all("cpython-313-aarch64-linux-gnu" in n for n in native), native
    # Zipped, the layer must stay far from Lambda's 50 MB direct-upload limit.
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in layer.rglob("*"):
            z.write(p, p.relative_to(layer))
    assert archive.stat().st_size < 10 * 1024 * 1024


@pytest.mark.slow
def test_every_module_ships_unchecked_hash_bytecode_of_python_313(layer):
    """/opt is read-only on Lambda: a module without its .pyc is compiled at every cold start.
    Flags 0b01 = hash-based, source never checked (zip timestamps do not matter)."""
    site = layer / "python"
    magic_313 = (3571).to_bytes(2, "little") + b"\r\n"  # Python 3.13's bytecode magic number
    sources = [p for p in site.rglob("*.py") if ".dist-info" not in str(p)]
    assert len(sources) > 300
    missing, wrong = [], []
    for source in sources:
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not cached.exists():
            missing.append(str(source.relative_to(site)))
            continue
        header = cached.read_bytes()[:8]
        if header[:4] != magic_313 or int.from_bytes(header[4:8], "little") != 0b01:
            wrong.append(str(cached.relative_to(site)))
    assert not missing, missing[:10]
    assert not wrong, wrong[:10]


def test_the_layer_asset_hash_covers_the_lock(monkeypatch, tmp_path):
    """Same sources, another lock: another asset (so a commit always ships the same bytes)."""
    import shutil

    from infra.constructs import layer as layer_module

    copy = tmp_path / "common"
    shutil.copytree(LAYER_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(layer_module, "LAYER_DIR", copy)
    before = layer_module.layer_asset_hash()
    lock = copy / "requirements.lock"
    lock.write_text(lock.read_text().replace("tenacity==", "tenacity===", 1))
    assert layer_module.layer_asset_hash() != before


@pytest.mark.slow
def test_layer_pure_python_imports_in_isolation(layer):
    """No site-packages, only the layer: the contract modules and pure deps import."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import musicboxd, musicboxd.config, musicboxd.routes, musicboxd.metric_names, musicboxd.normalize;"
        "import httpx, tenacity, annotated_types;"
        "assert 'boto3' not in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(layer / "python")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_every_import_of_the_shared_package_is_satisfied(layer):
    """Each module musicboxd imports is stdlib, in the layer, or provided by the Lambda runtime."""
    site = layer / "python"
    available = {p.name.removesuffix(".py") for p in site.iterdir() if not p.name.endswith(".dist-info")}
    available |= set(sys.stdlib_module_names) | set(RUNTIME_PROVIDED) | {"__future__"}
    missing = {}
    for source in (site / "musicboxd").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in available:
                    missing.setdefault(top, []).append(str(source.relative_to(site)))
    assert not missing, missing


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.lstrip().startswith(("#", "-")):
            name, version = line.split("#")[0].split(";")[0].split("\\")[0].strip().split("==")
            found[name.split("[")[0].lower().replace("_", "-")] = version.strip()
    return found


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [
        (LAYER_DIR / "requirements.txt", LAYER_DIR / "requirements.lock"),
        (ROOT / "requirements-dev.txt", ROOT / "requirements-dev.lock"),
    ],
)
def test_locks_hold_every_pin_with_hashes(requirements, lock):
    """The hashed locks (`make lock`, uv) agree with the pins people edit; re-run `make lock` if not."""
    locked = pins(lock)
    for name, version in pins(requirements).items():
        assert locked.get(name) == version, f"{name}=={version} not in {lock.name}: run `make lock`"
    entries = [block for block in re.split(r"\n(?=\S)", lock.read_text()) if "==" in block.split()[0]]
    assert len(entries) >= len(pins(requirements))
    unhashed = [block.split()[0] for block in entries if "--hash=sha256:" not in block]
    assert not unhashed, f"locked without hashes: {unhashed}"
