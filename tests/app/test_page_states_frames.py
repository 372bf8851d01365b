"""Issue 12: ``hindsight frame`` (the player's canvas) draws the page state showing at t: the
modal of a real rrweb recording (tests/data/rrweb_real/session_spa_plain_1280x800) darkens
the page with its backdrop and shows its Close button; before it opened, neither."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hindsight.importers.render_dom import find_chromium

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")
def test_frame_draws_the_modal_state(tmp_path):
    from PIL import Image

    from hindsight.cli import main
    from hindsight.importers.session_writer import import_files

    name = "session_spa_plain_1280x800.json"
    out = tmp_path / "c.sqlite"
    import_files([REAL / name], out)
    f = json.loads((REAL / "expected.json").read_text())["files"][name]
    t_open = next(v["t"] for v in f["visibility"] if v["selector"] == "#compare-modal" and v["visible"])
    t_open -= f["first_timestamp"]
    imgs = {}
    for key, at in (("before", t_open - 400), ("open", t_open + 300)):
        png = tmp_path / f"{key}.png"
        assert main(["frame", str(out), "--session", "1", "--at", str(at), "-o", str(png), "--canvas-only"]) == 0
        imgs[key] = np.asarray(Image.open(png).convert("RGB")).astype(int)

    def blue(a):  # the dialog's Close button (#3454d1), in the middle of the view
        h, w = a.shape[:2]
        a = a[int(h * 0.4):int(h * 0.8), int(w * 0.3):int(w * 0.6)]
        return int(((a[..., 2] > 180) & (a[..., 0] < 90) & (a[..., 1] < 120)).sum())

    assert imgs["open"].mean() < imgs["before"].mean() - 30  # the backdrop darkens the page
    assert blue(imgs["before"]) == 0 and blue(imgs["open"]) > 1000
