"""The emulator's house rules: it imports no client code, and no module grows past ~450 lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import direct_access_emulator

_PACKAGE = Path(direct_access_emulator.__file__).parent
_CLIENT_PACKAGES = ("direct_access", "direct_access_api")


def test_the_emulator_imports_no_client_module() -> None:
    """Starting the emulator (app, server, CLI) loads neither the overlays nor the generated client.

    It reads openapi.yaml through direct_access_spec; a broken client must not break it.
    """
    probe = (
        "import json, sys\n"
        "import direct_access_emulator.__main__, direct_access_emulator.testing\n"
        "from direct_access_emulator.app import create_app\n"
        "create_app()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout)
    client = [m for m in loaded if m.split(".")[0] in _CLIENT_PACKAGES]
    assert client == []


def test_no_emulator_module_is_over_450_lines() -> None:
    """Each module holds one job; a module past ~450 lines is split along its seams."""
    sizes = {path.name: len(path.read_text("utf-8").splitlines()) for path in _PACKAGE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 450} == {}
