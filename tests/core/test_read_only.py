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


def test_a_query_after_close_is_one_line_not_a_crash(tmp_path):
    """A worker thread still reading when the capture is closed gets a CaptureError (the
    connection is never closed under a running query)."""
    import threading

    from hindsight.demo.generate import generate_demo
    from hindsight.store import CaptureError, open_capture

    path = tmp_path / "d.sqlite"
    generate_demo(path, sessions=30, seed=1)
    cap = open_capture(path)
    errors, done = [], threading.Event()

    def reader():
        try:
            for _ in range(200):
                cap.session_table()
                cap.pages()
        except CaptureError as exc:
            errors.append(str(exc))
        done.set()

    t = threading.Thread(target=reader)
    t.start()
    cap.close()
    t.join(30)
    assert done.is_set()
    assert not errors or errors[0].endswith("was closed while it was being read")
    with pytest.raises(CaptureError, match="was closed while it was being read"):
        cap.pages()
