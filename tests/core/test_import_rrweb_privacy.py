"""Issue 12, privacy of page text: rrweb's rr-mask / rr-block / rr-ignore classes, the
recorder's options in an export, and ``--mask-text``, on the real recordings in
tests/data/rrweb_real (session_privacy_*; see its README and expected.json)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from hindsight.cli import main as cli_main
from hindsight.importers import rrweb as rr
from hindsight.importers.privacy import TextPrivacy
from hindsight.importers.render_dom import ChromiumRenderer, find_chromium
from hindsight.importers.session_writer import import_files
from hindsight.store import open_capture

REAL = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
EXPECTED = json.loads((REAL / "expected.json").read_text())
DEFAULT = "session_privacy_default_1280x800.json"
MASKTEXT = "session_privacy_masktext_1280x800.json"
SECRETS = ("SECRET-ALPHA-4711", "SECRET-BRAVO-0815", "SECRET-CHARLIE-2024", "SECRET-DELTA-9001",
           "SECRET-ECHO-3141", "SECRET-FOXTROT-2718")
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")


def _capture_bytes(path: Path) -> bytes:
    """The capture as stored: the .sqlite file and any -wal / -journal next to it."""
    data = path.read_bytes()
    for suffix in ("-wal", "-journal"):
        side = Path(str(path) + suffix)
        if side.exists():
            data += side.read_bytes()
    return data


def _png(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def _unmasked_render(name: str) -> np.ndarray:
    """The page of ``name`` rendered with every privacy rule off (this test only)."""
    session = rr.parse_session(json.loads((REAL / name).read_text()), REAL / name, privacy=TextPrivacy.disabled())
    pv = session.pageviews[0]
    with ChromiumRenderer() as renderer:
        got = renderer.render(pv.dom.html(), len(pv.dom.elements), pv.width, pv.height)
    return _png(got.png)


def _action_rect(name: str, selector: str) -> tuple[int, int, int, int]:
    """The page box of a clicked element, from expected.json."""
    for a in EXPECTED["files"][name]["actions"]:
        if a.get("action") == "click" and a.get("key", {}).get("selector") == selector:
            r = a["rect_page"]
            return int(r["x"]), int(r["y"]), int(r["width"]), int(r["height"])
    raise KeyError(selector)


def _region_diff(a: np.ndarray, b: np.ndarray, box) -> float:
    x, y, w, h = (int(v) for v in box)
    return float(np.abs(a[y:y + h, x:x + w] - b[y:y + h, x:x + w]).mean())


def _import(tmp_path: Path, name: str, **kw) -> tuple[Path, np.ndarray, object]:
    out = tmp_path / (Path(name).stem + ".sqlite")
    import_files([REAL / name], out, **kw)
    with open_capture(out) as cap:
        sid = int(cap.session_ids()[0])
        pv = cap.pageviews(sid)[0]
        image = _png(cap.snapshot_image(pv.snapshot_id))
        em = cap.elements(pv.snapshot_id)
    return out, image, em


@needs_chromium
@pytest.mark.parametrize("name", [DEFAULT, MASKTEXT])
def test_masked_and_blocked_text_is_not_stored_and_drawn_as_blocks(tmp_path, name):
    out, image, em = _import(tmp_path, name)
    data = _capture_bytes(out)
    # DELTA (a .private-note) is masked by the recorder only with maskTextSelector, so it is
    # plain text in the default recording: its presence there shows the byte check can see text
    in_json = EXPECTED["files"][name]["strings_in_json"]
    for secret in SECRETS:
        assert (secret.encode() in data) == (secret == "SECRET-DELTA-9001" and in_json[secret]), secret
    assert b"PUBLIC-TEXT-OK" in data
    labels = dict(zip(em.selector, em.label))
    assert set(labels["#masked-text"]) <= {"*", " "} and labels["#masked-text"]
    # the stored screenshot differs from an unmasked render where text is masked / blocked
    plain = _unmasked_render(name)
    assert image.shape == plain.shape
    boxes = dict(zip(em.selector, em.boxes.tolist()))
    # rrweb keeps only the class and size of a blocked element (no id): its structural key
    card = [sel for sel in em.selector if sel.endswith("section:nth-of-type(1) > div:nth-of-type(2)")]
    assert len(card) == 1
    boxes["#blocked-card"] = boxes[card[0]]
    reveal = _action_rect(name, "#reveal")
    assert abs(boxes["#reveal"][1] - reveal[1]) <= 2  # stored geometry agrees with the browser's
    blocked_button = _action_rect(name, "#blocked-button")  # inside the rr-block card
    title = _action_rect(name, "#privacy-title")  # ordinary text: the same in both
    diffs = {"masked-text": _region_diff(image, plain, boxes["#masked-text"]),
             "masked-live": _region_diff(image, plain, boxes["#masked-live"]),
             "blocked-card": _region_diff(image, plain, boxes["#blocked-card"]),
             "blocked-button": _region_diff(image, plain, blocked_button),
             "title": _region_diff(image, plain, title)}
    for key in ("masked-text", "masked-live", "blocked-card", "blocked-button"):
        assert diffs[key] > 10, diffs
    assert diffs["title"] < 1, diffs
    # the blocked card is one flat grey placeholder of its recorded size
    x, y, w, h = (int(v) for v in boxes["#blocked-card"])
    assert (w, h) == (1092, 188) or (w, h) == (1092, 189)
    inner = image[y + 20:y + h - 20, x + 20:x + w - 20].reshape(-1, 3)
    assert len(np.unique(inner, axis=0)) == 1


@needs_chromium
def test_mask_text_option_masks_all_page_text(tmp_path, capsys):
    out = tmp_path / "all.sqlite"
    assert cli_main(["import", "rrweb", str(REAL / DEFAULT), "--out", str(out), "--mask-text"]) == 0
    capsys.readouterr()
    data = _capture_bytes(out)
    # the document title is kept (it names the page, like its URL); all body text is masked
    for text in (*SECRETS, "PUBLIC-TEXT-OK", "Private note", "Masked text", "Acme Ledger is a fictional"):
        assert text.encode() not in data, text
    with open_capture(out) as cap:
        assert cap.meta["page_text"] == "masked"
        pv = cap.pageviews(int(cap.session_ids()[0]))[0]
        image = _png(cap.snapshot_image(pv.snapshot_id))
        em = cap.elements(pv.snapshot_id)
    plain = _unmasked_render(DEFAULT)
    boxes = dict(zip(em.selector, em.boxes.tolist()))
    assert _region_diff(image, plain, boxes["#private-note"]) > 10
    assert _region_diff(image, plain, _action_rect(DEFAULT, "#privacy-title")) > 10
    assert all(set(label) <= {"*", " ", "…"} for label in em.label)  # the blocked card has none


def test_recorder_options_in_the_export_are_honoured(tmp_path):
    """maskTextSelector given in the export's recordOptions masks the .private-note text."""
    events = json.loads((REAL / DEFAULT).read_text())
    src = tmp_path / "with_options.json"
    src.write_text(json.dumps({"events": events, "recordOptions": {"maskTextSelector": ".private-note"}}))
    out = tmp_path / "opts.sqlite"
    report = import_files([src], out, render=False)
    assert any("recorder privacy options from export recordOptions" in n for n in report.notes)
    data = _capture_bytes(out)
    assert b"SECRET-DELTA-9001" not in data and b"PUBLIC-TEXT-OK" in data
    # the same with the options in a Custom event, and a blockSelector
    tagged = [*events[:2], {"type": 5, "timestamp": events[1]["timestamp"],
                            "data": {"tag": "recordOptions", "payload": {"blockSelector": "#private-note"}}},
              *events[2:]]
    src2 = tmp_path / "tagged.json"
    src2.write_text(json.dumps(tagged))
    out2 = tmp_path / "tagged.sqlite"
    import_files([src2], out2, render=False)
    assert b"SECRET-DELTA-9001" not in _capture_bytes(out2)


def test_mutations_into_masked_elements_are_masked():
    """Text a mutation adds inside an rr-mask element (or under --mask-text) is masked."""
    events = json.loads((REAL / DEFAULT).read_text())
    # make the recording as if the recorder had not masked the revealed reference
    for ev in events:
        if ev.get("type") == 3 and ev["data"].get("source") == 0:
            for a in ev["data"].get("adds") or []:
                if a["node"].get("type") == 3 and a["node"]["textContent"].startswith("*"):
                    a["node"]["textContent"] = "Payment reference SECRET-ECHO-3141"
    assert "SECRET-ECHO-3141" not in json.dumps(TextPrivacy().apply(events))
    assert "SECRET-ECHO-3141" in json.dumps(TextPrivacy.disabled().apply(events))
    # --mask-text: a text change in an element with no privacy class is masked too
    for ev in events:
        if ev.get("type") == 3 and ev["data"].get("source") == 0:
            ev["data"]["texts"] = [{"id": 105, "value": "Copied SECRET-FOXTROT-2718"}]
    assert "SECRET-FOXTROT-2718" in json.dumps(TextPrivacy().apply(events))
    assert "SECRET-FOXTROT-2718" not in json.dumps(TextPrivacy(mask_all=True).apply(events))
