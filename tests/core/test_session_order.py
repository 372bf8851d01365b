"""One order for every session list: the capture's, a dataset's pages, the CLI's and the app's."""

from __future__ import annotations

import numpy as np
import pytest

from hindsight.store.session_order import session_order, sort_key, sort_table


def _lexsort_reference(key, start, ids, descending):
    k = sort_key(key)
    return np.lexsort((-ids, -start, -k if descending else k))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("kind", ["int", "float", "text", "start"])
def test_order_is_the_key_then_newest_first(kind, descending):
    rng = np.random.default_rng(3)
    n = 5000
    ids = rng.permutation(n).astype(np.int64) + 1
    start = rng.integers(0, 50, n).astype(np.int64) * 1000    # many equal start times
    key = {"int": rng.integers(0, 4, n).astype(np.int64),
           "float": rng.integers(0, 4, n) / 3.0,
           "text": np.array([None, "mobile", "desktop", "tablet", ""], dtype=object)[rng.integers(0, 5, n)],
           "start": start}[kind]
    got = session_order(key, start, ids, descending)
    np.testing.assert_array_equal(got, _lexsort_reference(key, start, ids, descending))
    # ties: later start first, then the higher id
    k = sort_key(key)[got]
    same = k[1:] == k[:-1]
    s0, s1 = start[got][:-1][same], start[got][1:][same]
    assert np.all(s0 >= s1) and same.sum() > 100
    i0, i1 = ids[got][:-1][same & (start[got][1:] == start[got][:-1])], ids[got][1:][same & (start[got][1:] == start[got][:-1])]
    assert np.all(i0 > i1)


def test_text_sorts_by_its_strings_with_none_as_empty():
    key = np.array(["tablet", None, "desktop", "mobile", ""], dtype=object)
    order = session_order(key, np.zeros(5, np.int64), np.arange(5, dtype=np.int64))
    # None and "" tie (both empty): the higher id first
    assert key[order].tolist() == ["", None, "desktop", "mobile", "tablet"]


def test_sort_table_on_an_empty_list():
    table = {"session_id": np.zeros(0, np.int64), "start_ms": np.zeros(0, np.int64), "device": np.zeros(0, object)}
    assert sort_table(table, "-device")["session_id"].size == 0


def test_capture_session_table_lists_ties_newest_first(demo):
    table = demo.session_table(order_by="device")
    dev, start = table["device"], table["start_ms"]
    assert list(dev) == sorted(dev) and len(set(dev)) >= 2
    for d in set(dev):
        s = start[dev == d]
        assert np.all(s[:-1] >= s[1:]), d
    by_id = demo.session_table(order_by="session_id")
    want = by_id["session_id"][_lexsort_reference(by_id["device"], by_id["start_ms"], by_id["session_id"], False)]
    np.testing.assert_array_equal(table["session_id"], want)
