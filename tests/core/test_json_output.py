"""``print_json_fast`` (orjson) writes exactly what ``print_json`` (json, indent 2) writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hindsight.cli.capture_cmds import session_rows
from hindsight.cli.output import print_json, print_json_fast


@pytest.mark.parametrize("text", ["desktop", "Zürich", "tab\there", "del\x7fchar", "ctl\x01", ""])
def test_fast_json_is_byte_identical(capsys, text):
    obj = {"count": 2, "sessions": [{"session_id": 7, "device": text, "converted": True, "n": None},
                                    {"session_id": 8, "device": "mobile", "converted": False, "n": -3}],
           "empty": [], "none": {}, "np": np.int64(5)}
    print_json(obj)
    slow = capsys.readouterr().out
    print_json_fast(obj)
    fast = capsys.readouterr().out
    assert fast == slow
    assert json.loads(fast)["sessions"][0]["device"] == text


def test_session_rows_map_columns_and_unknown_pages():
    table = {
        "session_id": np.array([3, 1, 2], np.int64), "start_ms": np.array([30, 10, 20], np.int64),
        "duration_ms": np.array([5, 6, 7], np.int64),
        "device": np.array(["desktop", "mobile", "tablet"], object),
        "browser": np.array(["Chrome", "Safari", "Firefox"], object),
        "os": np.array(["Linux", "iOS", "Android"], object), "country": np.array(["DE", "US", "FR"], object),
        "source": np.array(["direct", "ads", "mail"], object), "converted": np.array([1, 0, 1], np.int64),
        "pageview_count": np.array([2, 1, 4], np.int64), "event_count": np.array([20, 10, 40], np.int64),
        "entry_page_id": np.array([5, 9, -1], np.int64), "exit_page_id": np.array([9, 5, 5], np.int64),
    }
    rows = session_rows(table, {5: "https://a/", 9: "https://a/b"}, 2)
    assert rows == [
        {"session_id": 3, "start_ms": 30, "duration_ms": 5, "device": "desktop", "browser": "Chrome", "os": "Linux",
         "country": "DE", "source": "direct", "converted": True, "pageviews": 2, "events": 20,
         "entry_page": "https://a/", "exit_page": "https://a/b"},
        {"session_id": 1, "start_ms": 10, "duration_ms": 6, "device": "mobile", "browser": "Safari", "os": "iOS",
         "country": "US", "source": "ads", "converted": False, "pageviews": 1, "events": 10,
         "entry_page": "https://a/b", "exit_page": "https://a/"},
    ]
    assert session_rows(table, {5: "https://a/"}, 3)[2]["entry_page"] == ""
    assert session_rows(table, {}, 3)[1]["exit_page"] == ""


@pytest.mark.parametrize("limit", [0, 1, 3])
def test_sessions_json_is_what_json_dumps_writes(limit):
    """``hindsight sessions --json`` joins column texts instead of dumping row dicts: byte-identical."""
    from hindsight.cli.capture_cmds import sessions_json

    table = {
        "session_id": np.array([3, 1, 2], np.int64), "start_ms": np.array([30, 10, 20], np.int64),
        "duration_ms": np.array([5, 6, 7], np.int64),
        "device": np.array(["desktop", "Zürich", 'q"uote\\'], object),
        "browser": np.array(["Chrome", "tab\there", "Chrome"], object),
        "os": np.array(["Linux", "del\x7fchar", "ctl\x01"], object), "country": np.array(["DE", "", "FR"], object),
        "source": np.array(["direct", "ads", "mail"], object), "converted": np.array([1, 0, 1], np.int64),
        "pageview_count": np.array([2, 1, 4], np.int64), "event_count": np.array([20, 10, 40], np.int64),
        "entry_page_id": np.array([5, 9, -1], np.int64), "exit_page_id": np.array([9, 5, 5], np.int64),
    }
    urls = {5: "https://a/ü", 9: "https://a/b"}
    text = sessions_json(table, urls, limit, 3)
    assert text == json.dumps({"count": 3, "sessions": session_rows(table, urls, limit)}, indent=2)
    assert [r["device"] for r in json.loads(text)["sessions"]] == table["device"][:limit].tolist()
