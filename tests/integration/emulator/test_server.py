"""`testing.serve`: what it opens, and that it closes it, also when it cannot start."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from direct_access_emulator.testing import serve
from tests.integration.emulator.support import fast_config


def test_a_port_in_use_fails_before_anything_is_opened(tmp_path: Path) -> None:
    """A failed bind raises OSError and leaves the data dir untouched (no store was opened)."""
    data_dir = tmp_path / "data"
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        with (
            pytest.raises(OSError, match="in use"),
            serve(fast_config(), data_dir=data_dir, port=port),
        ):
            pytest.fail("the emulator served on a port in use")
    assert not data_dir.exists() or not any(data_dir.iterdir())
