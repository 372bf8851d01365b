"""A chmod 444 capture is never written, also as root (these tests run as root in CI here):
writers refuse it in one line and its bytes do not change."""

from __future__ import annotations

import hashlib
import os

import pytest

from hindsight.cli import main
from hindsight.store import CaptureError, CaptureWriter
from hindsight.store.access import capture_writable, mode_allows_write


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ro_capture(demo_copy):
    demo_copy.chmod(0o444)
    yield demo_copy
    demo_copy.chmod(0o644)


def test_mode_bits_count_for_root_too(ro_capture):
    assert os.access(ro_capture, os.W_OK) == (os.geteuid() == 0)   # what the kernel would allow
    assert not mode_allows_write(ro_capture) and not capture_writable(ro_capture)
    ro_capture.chmod(0o644)
    assert mode_allows_write(ro_capture) and capture_writable(ro_capture)


def test_writers_refuse_a_read_only_capture(ro_capture, capsys):
    before = _digest(ro_capture)
    with pytest.raises(CaptureError, match=r"is read-only \(mode -r--r--r--\): sessions cannot be added"):
        CaptureWriter.append(ro_capture)
    with pytest.raises(CaptureError, match="is read-only.*not replaced"):
        CaptureWriter.create(ro_capture, overwrite=True)
    assert main(["demo", "--out", str(ro_capture), "--sessions", "3", "--force", "--no-open"]) == 2
    assert main(["delete", str(ro_capture), "--session", "1", "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("read-only") == 2 and err.count("\n") == 2
    assert _digest(ro_capture) == before
    assert [p.name for p in ro_capture.parent.iterdir() if p.name.startswith("demo")] == ["demo.sqlite"]
