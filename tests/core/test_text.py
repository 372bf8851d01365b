"""The session list's count lines (core text, shown as is by the capture list and the dataset pager)."""

from hindsight.text import page_position, page_text, sessions_of


def test_count_of_a_capture_list():
    assert sessions_of(749, 2000) == "749 of 2,000 sessions"
    assert sessions_of(0, 1) == "0 of 1 session"


def test_count_of_a_dataset_page():
    assert page_text(1_000_000, 1_000_000, 0, 500) == "1,000,000 sessions · showing 1–500"
    assert page_text(749, 2000, 500, 249) == "749 of 2,000 sessions · showing 501–749"
    assert page_text(0, 2000, 0, 0) == "0 of 2,000 sessions"


def test_page_position():
    assert page_position(0, 500, 2000) == "Page 1 of 4"
    assert page_position(500, 500, 2001) == "Page 2 of 5"
    assert page_position(0, 500, 0) == "Page 1 of 1"
