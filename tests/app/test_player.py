"""QtPlayer on a demo capture: defaults, keyboard, auto-pause banner, canvas items, ``hindsight frame``."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt

from hindsight.store import open_capture
from hindsight.store.kinds import EventKind


@pytest.fixture
def cap(demo_master):
    with open_capture(demo_master) as c:
        yield c


@pytest.fixture
def qt_player(qtbot):
    from hindsight_qt.views.qt_player import QtPlayer

    w = QtPlayer()
    qtbot.addWidget(w)
    w.resize(1100, 720)
    w.show()
    return w


def _hold_clock(w) -> None:
    """Tests drive ``player.advance`` by hand; keep the wall-clock timer out of it."""
    w._timer.stop()


def _first_click(cap):
    """(session id, t_ms, x, y) of a click in a desktop session."""
    for sid in cap.session_ids():
        if cap.session(int(sid)).device != "desktop":
            continue
        _pvs, ev, _pv = cap.session_events(int(sid))
        idx = np.flatnonzero(ev.kind == EventKind.CLICK)
        if idx.size:
            i = int(idx[0])
            return int(sid), int(ev.t[i]), float(ev.x[i]), float(ev.y[i])
    pytest.skip("no desktop click in the demo")


def test_defaults_after_load(qt_player, cap):
    sid = int(cap.session_ids()[0])
    with_signal = []
    qt_player.session_loaded.connect(with_signal.append)
    qt_player.load_session(cap, sid, autoplay=False)
    assert with_signal == [sid]
    assert qt_player.player.speed == 2.0
    assert qt_player.speed_button.text() == "2×"
    assert qt_player.pause_check.isChecked() and qt_player.skip_check.isChecked()
    assert qt_player.canvas.view_mode == "follow"
    assert qt_player.banner.isHidden()
    assert f"Session #{sid}" in qt_player.status_label.text()
    # cued at the end of the first page's load, not at 0:00 behind a "Loading" veil
    assert qt_player.player.t_ms == qt_player.timeline.index.pv_loaded_list[0] > 0


def test_space_toggles_playing(qt_player, cap, qtbot):
    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    qtbot.keyClick(qt_player, Qt.Key_Space)
    assert qt_player.player.playing
    qtbot.keyClick(qt_player, Qt.Key_Space)
    assert not qt_player.player.playing


def test_auto_pause_on_hesitation_shows_banner_and_space_resumes(qt_player, cap, qtbot):
    sid, _kind, t_ms, _end, selector, _detail = cap.planted("hesitation")[0]
    assert "phone" in selector
    qt_player.load_session(cap, int(sid), at_ms=max(t_ms - 1500, 0), autoplay=True)
    _hold_clock(qt_player)
    for _ in range(400):
        if not qt_player.player.playing:
            break
        qt_player.player.advance(20)
    h = qt_player.player.paused_for
    assert h is not None and abs(h.start_ms - t_ms) < 1000
    assert not qt_player.banner.isHidden()
    text = qt_player.banner_label.text()
    assert text.startswith("Paused: hesitated ") and "Phone" in text and "Space to resume" in text
    canvas = qt_player.canvas
    # the focused field's outline and badge turn amber and say it
    assert canvas.focus_item.isVisible() and canvas.focus_item.pen().color().name() == "#f5a524"
    assert canvas.badge_item.isVisible() and canvas.badge_item.text.startswith("Hesitated ")
    qtbot.keyClick(qt_player, Qt.Key_Space)
    assert qt_player.player.playing
    assert qt_player.banner.isHidden()
    assert not canvas.hesitation_label.isVisible()
    assert not canvas.badge_item.text.startswith("Hesitated ")


def test_arrow_keys_seek_and_period_steps(qt_player, cap, qtbot):
    sid = int(cap.session_ids()[0])
    qt_player.load_session(cap, sid, at_ms=1000, autoplay=False)
    qtbot.keyClick(qt_player, Qt.Key_Right)
    assert qt_player.player.t_ms == 6000
    qtbot.keyClick(qt_player, Qt.Key_Left)
    assert qt_player.player.t_ms == 1000
    qtbot.keyClick(qt_player, Qt.Key_Period)
    after = qt_player.player.t_ms
    assert after > 1000 and not qt_player.player.playing
    assert after in set(qt_player.timeline.frame_times().tolist()) or after == 1000 + 100
    qtbot.keyClick(qt_player, Qt.Key_Comma)
    assert qt_player.player.t_ms < after
    assert qt_player.timeline_widget.time_ms == qt_player.player.frame().t_ms


def test_speed_keys_and_session_signals(qt_player, cap, qtbot):
    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    qtbot.keyClick(qt_player, Qt.Key_Plus)
    assert qt_player.player.speed == 4.0 and qt_player.speed_button.text() == "4×"
    qtbot.keyClick(qt_player, Qt.Key_Minus)
    qtbot.keyClick(qt_player, Qt.Key_Minus)
    assert qt_player.player.speed == 1.0
    with qtbot.waitSignal(qt_player.next_session_requested, timeout=500):
        qtbot.keyClick(qt_player, Qt.Key_N)
    with qtbot.waitSignal(qt_player.previous_session_requested, timeout=500):
        qtbot.keyClick(qt_player, Qt.Key_P)
    qtbot.keyClick(qt_player, Qt.Key_F)
    assert qt_player.canvas.view_mode == "page" and qt_player.page_button.isChecked()
    qtbot.keyClick(qt_player, Qt.Key_F)
    assert qt_player.canvas.view_mode == "follow" and qt_player.follow_button.isChecked()
    assert qt_player.handle_key(Qt.Key_Q, Qt.NoModifier) is False


def test_canvas_items_follow_the_frame(qt_player, cap):
    sid, t, x, y = _first_click(cap)
    qt_player.load_session(cap, sid, at_ms=t + 100, autoplay=False)
    frame = qt_player.player.frame()
    canvas = qt_player.canvas
    ripples = canvas.visible_ripples()
    assert (x, y, "click") in ripples
    ripple = canvas.ripple_items[[r[:2] for r in ripples].index((x, y))]
    assert 0 < ripple.alpha < 1 and ripple.radius > 6  # 100 ms into its 600 ms
    assert canvas.cursor_pos() == pytest.approx(frame.cursor)
    assert canvas.shade_item.isVisible()
    # long after the click, no ripple is left
    qt_player.player.seek(t + 2000)
    assert (x, y, "click") not in canvas.visible_ripples()


def test_frame_cli_writes_a_png_of_the_requested_size(demo_master, cap, tmp_path):
    from PIL import Image

    from hindsight.cli import main

    sid, t, _x, _y = _first_click(cap)
    out = tmp_path / "frame.png"
    rc = main(["frame", str(demo_master), "--session", str(sid), "--at", str(t + 100),
               "-o", str(out), "--width", "900", "--height", "560"])
    assert rc == 0
    img = np.asarray(Image.open(out).convert("RGB"), dtype=np.float32)
    assert img.shape == (560, 900, 3)
    assert img.std() > 20  # a page, a timeline and controls, not a blank sheet


def test_frame_cli_unknown_session_is_one_line_exit_2(demo_master, tmp_path, capsys):
    from hindsight.cli import main

    rc = main(["frame", str(demo_master), "--session", "987654", "--at", "0", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and "no session 987654" in err
    assert not (tmp_path / "x.png").exists()


def test_wheel_scrolls_and_leaves_follow_mode(qt_player, cap):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    qt_player.load_session(cap, 96 if 96 in set(cap.session_ids().tolist()) else int(cap.session_ids()[0]),
                           at_ms=0, autoplay=False)
    canvas = qt_player.canvas
    canvas.settle()
    (_x0, _x1), (y0, _y1) = canvas.view.viewRange()
    vp = canvas.graphics.viewport()
    pos = QPointF(vp.width() / 2, vp.height() / 2)
    ev = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, -240),
                     Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
    assert canvas.view_mode == "free"
    assert not qt_player.follow_button.isChecked() and not qt_player.page_button.isChecked()
    assert canvas.view.viewRange()[1][0] > y0  # scrolled down the page
    assert qt_player.handle_key(Qt.Key_F, Qt.NoModifier)  # F brings the follow view back
    assert canvas.view_mode == "follow" and qt_player.follow_button.isChecked()


def test_overlay_slot_and_timeline_hover(qt_player, cap):
    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    grid = np.random.default_rng(0).random((40, 30)).astype(np.float32)
    qt_player.canvas.set_overlay(grid, (0, 0, 300, 400), levels=(0, 1), opacity=0.5)
    item = qt_player.canvas.overlay_item
    assert item.isVisible() and item.zValue() == 10 and item.opacity() == 0.5
    assert item.boundingRect().width() == 30  # image px, mapped to 300 CSS px by setRect
    qt_player.canvas.clear_overlay()
    assert not item.isVisible()
    tl = qt_player.timeline_widget
    tl.resize(800, 48)
    first = qt_player.timeline.markers
    x = tl._x_of(float(first.t_ms[0]))
    text = tl.hover_text(x)
    assert text.split("  ·  ")[0] == "0:00" or ":" in text
    assert str(first.label[0]) in text


def test_timeline_click_seeks(qt_player, cap, qtbot):
    from PySide6.QtCore import QPoint

    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    tl = qt_player.timeline_widget
    x0, w = tl._track()
    x = int(x0 + w * 0.5)
    qtbot.mouseClick(tl, Qt.LeftButton, pos=QPoint(x, tl.BAR_TOP + 3))
    assert qt_player.player.t_ms == pytest.approx(tl._t_of(x), abs=qt_player.timeline.duration_ms * 0.01)
    assert not qt_player.player.playing


def test_no_shortcuts_while_typing(qt_player, cap, qtbot):
    from PySide6.QtWidgets import QApplication, QLineEdit

    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    edit = QLineEdit(qt_player)
    edit.show()
    qt_player.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is edit, timeout=1000)
    assert qt_player.handle_key(Qt.Key_Space, Qt.NoModifier) is False
    qtbot.keyClick(edit, Qt.Key_Space)
    assert not qt_player.player.playing and edit.text() == " "


def test_js_error_toast_shows_briefly(qt_player, cap):
    sid, _kind, t_ms, *_ = cap.planted("error_click")[0]
    qt_player.load_session(cap, int(sid), at_ms=0, autoplay=False)
    m = qt_player.timeline.markers
    t_err = float(m.t_ms[(m.kind == "error") & (m.t_ms >= t_ms)][0])
    qt_player.player.seek(t_err + 300)
    toast = qt_player.canvas.toast_item
    assert toast.isVisible() and toast.text.startswith("JS error · ")
    qt_player.player.seek(t_err + 5000)
    assert not toast.isVisible() or not toast.text.startswith("JS error")


def test_a_validation_toast_on_a_phone_stays_inside_its_viewport(qt_player, tmp_path):
    # The real touch recording (390 px wide): its long message wraps within the phone's width, at
    # the bottom of the viewport, clear of the page's header at the top.
    from pathlib import Path

    from hindsight.importers.session_writer import import_files

    real = Path(__file__).resolve().parents[1] / "data" / "rrweb_real" / "session_spa_touch_390x844.json"
    path = tmp_path / "touch.sqlite"
    import_files([real], path, render=False)
    with open_capture(path) as phone:
        qt_player.resize(1280, 720)
        qt_player.show()
        qt_player.load_session(phone, 1, at_ms=0, autoplay=False)
        m = qt_player.timeline.markers
        t_val = float(m.t_ms[m.kind == "validation"][0])
        qt_player.player.seek(t_val + 300)
        canvas = qt_player.canvas
        toast = canvas.toast_item
        assert toast.isVisible() and toast.text.startswith("Invalid · Work email")
        view = canvas.view
        vp_scene = QRectF(view.mapViewToScene(canvas._view_rect.topLeft()),
                          view.mapViewToScene(canvas._view_rect.bottomRight())).normalized()
        pill = toast.mapRectToScene(toast.boundingRect())
        # inside the phone's viewport, in its lower half
        assert vp_scene.left() <= pill.left() and pill.right() <= vp_scene.right(), (pill, vp_scene)
        assert pill.top() > vp_scene.center().y() and pill.bottom() <= vp_scene.bottom() + 1, (pill, vp_scene)
        assert pill.height() > 30   # wrapped onto more than one line


def test_toggles_follow_the_core(qt_player, cap):
    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    qt_player.player.pause_on_hesitation = False
    qt_player.player.skip_inactivity = False
    qt_player.player.seek(100)
    assert not qt_player.pause_check.isChecked() and not qt_player.skip_check.isChecked()
    qt_player.pause_check.setChecked(True)
    assert qt_player.player.pause_on_hesitation is True


# -- first-time user trial fixes ---------------------------------------------------------------
def _canvas_vs_snapshot(w) -> float:
    """Median RGB difference between the grabbed canvas and the frame's screenshot, sampled
    over the visitor's viewport (0 = the canvas shows exactly that page)."""
    from PySide6.QtCore import QPointF

    c = w.canvas
    c.settle()
    img = c.grab().toImage()
    f = w.player.frame()
    arr, scale = c.snapshot_array(f.snapshot_id)
    diffs = []
    for fx in np.linspace(0.1, 0.9, 9):
        for fy in np.linspace(0.1, 0.9, 9):
            x, y = f.scroll_x + fx * f.viewport_w, f.scroll_y + fy * f.viewport_h
            pt = c.graphics.mapTo(c, c.graphics.mapFromScene(c.view.mapViewToScene(QPointF(x, y))))
            if not (0 <= pt.x() < img.width() and 0 <= pt.y() < img.height()):
                continue
            q = img.pixelColor(pt.x(), pt.y())
            ref = arr[min(int(y * scale), arr.shape[0] - 1), min(int(x * scale), arr.shape[1] - 1)]
            diffs.append(np.abs(np.array([q.red(), q.green(), q.blue()]) - ref.astype(int)).mean())
    assert len(diffs) > 40
    return float(np.median(diffs))


def test_switching_sessions_shows_the_new_page_not_a_cached_one(qt_player, cap, qtbot):
    # The device-cached screenshot kept the previous page's pixels when the new one had a
    # similar size: a tablet session on its signup page, then a tablet session's landing page.
    signup = landing = None
    for sid in cap.session_ids():
        sid = int(sid)
        if cap.session(sid).device != "tablet":
            continue
        pvs = cap.pageviews(sid)
        if signup is None and len(pvs) > 1 and pvs[1].page_id != pvs[0].page_id:
            signup = (sid, pvs[1].start_ms + pvs[1].load_ms + 2000, pvs[1].snapshot_id)
        if landing is None and pvs[0].page_id != (signup and cap.pageviews(signup[0])[1].page_id):
            landing = (sid, pvs[0].start_ms + pvs[0].load_ms + 2000, pvs[0].snapshot_id)
    assert signup and landing and signup[2] != landing[2]
    qt_player.load_session(cap, signup[0], at_ms=signup[1], autoplay=False)
    qtbot.wait(20)
    assert _canvas_vs_snapshot(qt_player) < 8
    qt_player.load_session(cap, landing[0], at_ms=landing[1], autoplay=False)
    qtbot.wait(20)
    assert qt_player.player.frame().snapshot_id == landing[2]
    assert f"Session #{landing[0]}" in qt_player.status_label.text()
    assert _canvas_vs_snapshot(qt_player) < 8


@pytest.mark.parametrize("autoplay", [False, True])
def test_session_opens_cued_at_the_first_load_not_behind_a_loading_veil(qt_player, cap, autoplay):
    sid = int(cap.session_ids()[0])
    _pvs, ev, _pv = cap.session_events(sid)
    first_load = int(ev.t[np.flatnonzero(ev.kind == EventKind.LOAD)[0]])
    qt_player.load_session(cap, sid, autoplay=autoplay)
    _hold_clock(qt_player)
    assert qt_player.player.t_ms == first_load
    assert qt_player.player.playing == autoplay
    frame = qt_player.player.frame()
    assert not frame.loading
    assert not qt_player.canvas.veil_label.isVisible()
    assert _canvas_vs_snapshot(qt_player) < 8  # the page itself, not a veil


def test_loading_veil_names_the_visitors_load_time(qt_player, cap):
    sid = int(cap.session_ids()[0])
    qt_player.load_session(cap, sid, autoplay=False)
    pv0 = qt_player.timeline.pageviews[0]
    load_s = (qt_player.timeline.index.pv_loaded_list[0] - pv0.start_ms) / 1000
    qt_player.player.seek(pv0.start_ms + 10)  # playing through the load
    veil = qt_player.canvas.veil_label
    assert veil.isVisible() and veil.text == f"Page loading ({load_s:.1f} s)…"


def test_filled_fields_show_masked_lengths_for_the_whole_page(qt_player, cap):
    from hindsight.replay.timeline import SessionTimeline

    from hindsight_qt.views.qt_replay_canvas import MASK_MAX_DOTS

    found = None
    for sid in cap.session_ids()[:120]:
        tl = SessionTimeline.load(cap, int(sid))
        for pv in tl.pageviews:
            f = tl.frame_at(pv.end_ms - 1)
            if len(f.field_lengths) >= 3 and f.focused < 0:
                found = (int(sid), pv.end_ms - 1, f)
                break
        if found:
            break
    assert found, "no session typed into three fields"
    sid, t, frame = found
    qt_player.load_session(cap, sid, at_ms=t, autoplay=False)
    canvas = qt_player.canvas
    pool = list(canvas.field_items)
    emap = canvas._emap
    shown = canvas.visible_field_masks()
    for i, n in frame.field_lengths.items():
        if emap.role[i] == "checkbox":
            assert shown[i] == 0  # a tick, no dots
        elif emap.role[i] == "textbox":
            assert shown[i] == min(n, MASK_MAX_DOTS)
    assert set(shown) <= set(frame.field_lengths)
    # earlier on the same page: fewer characters, same items (nothing rebuilt per frame)
    pv = qt_player.timeline.pageviews[frame.pageview_index]
    qt_player.player.seek(pv.start_ms + 1)
    assert canvas.visible_field_masks() == {}
    qt_player.player.seek(t)
    assert canvas.visible_field_masks() == shown
    assert canvas.field_items == pool


def test_skip_label_uses_only_glyphs_the_font_has(qt_player, cap):
    from PySide6.QtGui import QFontMetrics

    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    qt_player._on_skipping((1000, 35000))
    text = qt_player.skip_label.text()
    assert text == "» Skipped 0:34 of inactivity"
    fm = QFontMetrics(qt_player.skip_label.font())
    assert all(fm.inFontUcs4(ord(ch)) for ch in text)


def test_timeline_end_label_never_collides_with_a_tick_label(qtbot):
    from PySide6.QtGui import QFontMetrics

    from hindsight_qt.views.qt_timeline import QtTimeline

    tl = QtTimeline()
    qtbot.addWidget(tl)
    fm = QFontMetrics(tl._font)
    for duration in (74_000, 71_000, 43_000, 18_500, 130_000, 600_000):
        tl._duration = float(duration)
        for width in range(420, 1500, 9):
            tl.resize(width, tl.height())
            labels = tl.tick_labels()
            assert labels[0][1] == "0:00" and labels[-1][1] == tl_format(duration)
            for (a, ta), (b, _tb) in zip(labels, labels[1:]):
                assert a + fm.horizontalAdvance(ta) + 4 <= b, (duration, width, labels)
            assert labels[-1][0] + fm.horizontalAdvance(labels[-1][1]) <= width


def tl_format(ms):
    from hindsight_qt.views.qt_timeline import format_ms

    return format_ms(ms)


def test_scroll_depth_label_stays_inside_the_canvas(qt_player, cap):
    ind = qt_player.canvas.scroll_indicator
    c = qt_player.canvas
    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    assert ind.isVisible() and ind.geometry().right() <= c.width() - 1
    for y in (-50, 0, 5, ind.height() / 2, ind.height() - 3, ind.height() + 40):
        r = ind.label_rect("100%", y)
        assert r.left() >= ind.PAD and r.top() >= ind.PAD
        assert r.right() <= ind.width() - 14 and r.bottom() <= ind.height() - ind.PAD


def test_jumping_onto_a_hesitation_while_playing_pauses_with_the_banner(qt_player, cap, qtbot):
    sid, _kind, t_ms, *_ = cap.planted("hesitation")[0]
    qt_player.load_session(cap, int(sid), autoplay=True)
    _hold_clock(qt_player)
    starts = [h.start_ms for h in qt_player.player.hesitations]
    assert starts
    m = qt_player.timeline.markers
    before = float(m.t_ms[m.t_ms < starts[0]][-1])  # the marker just before the first hesitation
    qt_player.player.seek(before)
    assert qt_player.player.playing
    qtbot.keyClick(qt_player, Qt.Key_BracketRight)
    p = qt_player.player
    assert not p.playing and p.paused_for is not None and p.t_ms == starts[0]
    assert not qt_player.banner.isHidden() and qt_player.banner_label.text().startswith("Paused: ")
    # off, it plays straight on
    qt_player.player.pause_on_hesitation = False
    qt_player.player.seek(before)
    qt_player.player.play()
    qtbot.keyClick(qt_player, Qt.Key_BracketRight)
    assert p.playing and p.paused_for is None and qt_player.banner.isHidden()


def test_jump_within_50_ms_before_a_hesitation_stops_at_it(cap):
    from hindsight.replay.player import Player
    from hindsight.replay.timeline import SessionTimeline

    sid, *_ = cap.planted("hesitation")[0]
    tl = SessionTimeline.load(cap, int(sid))
    p = Player(tl)
    h = p.hesitations[0]
    # a marker kind list that lands 30 ms short of the hesitation
    tl.markers.t_ms[tl.markers.t_ms == h.start_ms] = h.start_ms - 30
    p.seek(h.start_ms - 2000)
    p.play()
    assert p.jump_marker(1, kinds=("hesitation",))
    assert not p.playing and p.paused_for is h and p.t_ms == h.start_ms


def test_no_marker_that_way_says_so(qt_player, cap, qtbot):
    qt_player.load_session(cap, int(cap.session_ids()[0]), autoplay=False)
    end = float(qt_player.timeline.duration_ms)
    qt_player.player.seek(end)
    qtbot.keyClick(qt_player, Qt.Key_BracketRight)
    assert qt_player.skip_label.text() == "No later marker" and qt_player.player.t_ms == end
    qt_player.player.seek(0)
    qtbot.keyClick(qt_player, Qt.Key_BracketLeft)
    assert qt_player.skip_label.text() == "No earlier marker" and qt_player.player.t_ms == 0


def test_a_focused_button_gets_no_empty_field_badge(qt_player, tmp_path):
    """Real rrweb recording: clicking #save focuses the button; the replay shows no
    "Focused · empty" badge on it, while a focused text field still gets its badge."""
    import json
    from pathlib import Path

    from hindsight.importers.session_writer import import_files
    from hindsight.replay.timeline import SessionTimeline

    real = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
    exp = json.loads((real / "expected.json").read_text())["files"]["session_spa_plain_1280x800.json"]
    t0 = exp["metas"][0]["timestamp"]
    out = tmp_path / "spa.sqlite"
    import_files([real / "session_spa_plain_1280x800.json"], out, render=False)
    save = next(a for a in exp["actions"] if a["action"] == "click" and a["key"]["selector"] == "#save")
    email = next(a for a in exp["actions"] if a["action"] == "click" and a["key"]["selector"] == "#email")
    with open_capture(out) as c:
        sid = int(c.session_ids()[0])
        tl = SessionTimeline.load(c, sid)
        at = save["t"] - t0 + 500
        f = tl.frame_at(at)
        emap = tl.element_maps[tl.pageviews[f.pageview_index].snapshot_id]
        assert emap.selector[f.focused] == "#save"
        qt_player.load_session(c, sid, at_ms=at, autoplay=False)
        assert not qt_player.canvas.badge_item.isVisible()
        qt_player.load_session(c, sid, at_ms=email["t"] - t0 + 50, autoplay=False)
        assert qt_player.canvas.badge_item.isVisible()
        assert qt_player.canvas.badge_item.text == "Focused · empty"


def test_touch_page_hides_the_arrow_and_shows_a_finger_mark(qt_player, tmp_path):
    """Issue 12: a phone session (real rrweb recording) has no arrow cursor; a tap shows a
    finger-sized mark that fades like a click ripple."""
    from pathlib import Path

    from hindsight.importers.session_writer import import_files

    real = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
    out = tmp_path / "phone.sqlite"
    import_files([real / "session_landing_390x844.json"], out, render=False)
    with open_capture(out) as c:
        sid = int(c.session_ids()[0])
        _pvs, ev, _pv = c.session_events(sid)
        i = int(np.flatnonzero(ev.kind == EventKind.TAP)[0])
        t, x, y = int(ev.t[i]), float(ev.x[i]), float(ev.y[i])
        qt_player.load_session(c, sid, at_ms=t + 100, autoplay=False)
        _hold_clock(qt_player)
        canvas = qt_player.canvas
        assert qt_player.player.frame().pointer == "touch"
        assert not canvas.cursor_item.isVisible() and not canvas.trail_item.isVisible()
        assert canvas.visible_taps() == [(x, y)]
        mark = canvas.tap_items[0]
        assert 0 < mark.alpha < 1
        assert not any(r.isVisible() for r in canvas.ripple_items)  # no ring: the finger mark instead
        qt_player.player.seek(t + 2000)
        assert canvas.visible_taps() == [] and not canvas.cursor_item.isVisible()


def test_select_radio_and_checkbox_are_drawn_as_chosen(qt_player, tmp_path):
    """Issue 12: session_spa_plain picks 'Business' in #plan, the yearly radio and #terms; the
    canvas draws the select's chosen label and the controls' checked state."""
    import json
    from pathlib import Path

    from hindsight.importers.session_writer import import_files

    real = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
    exp = json.loads((real / "expected.json").read_text())["files"]["session_spa_plain_1280x800.json"]
    t0 = exp["metas"][0]["timestamp"]
    terms = next(a for a in exp["actions"] if a["action"] == "click" and a["key"]["selector"] == "#terms")
    out = tmp_path / "plain.sqlite"
    import_files([real / "session_spa_plain_1280x800.json"], out, render=False)
    with open_capture(out) as c:
        sid = int(c.session_ids()[0])
        qt_player.load_session(c, sid, at_ms=terms["t"] - t0 + 300, autoplay=False)
        _hold_clock(qt_player)
        canvas = qt_player.canvas
        emap = canvas._emap
        shown = canvas.visible_choices()
        assert shown[emap.index_of("#plan")] == ("select", 2, "Business")
        assert shown[emap.index_of("#billing-yearly")][:2] == ("radio", 1)
        assert shown[emap.index_of("#billing-monthly")][:2] == ("radio", 0)  # the default, unchecked
        assert shown[emap.index_of("#terms")][:2] == ("checkbox", 1)


def test_timeline_hatches_the_stretches_skipped_at_the_users_threshold(qt_player, cap):
    """It hatched the 10 s default's stretches whatever the "Skip inactivity after" preference."""
    from hindsight.replay.inactivity import detect_inactivity
    from hindsight.replay.timeline import SessionTimeline

    for sid in cap.session_ids():
        tl = SessionTimeline.load(cap, int(sid))
        short = detect_inactivity(tl, gap_ms=3_000)
        if short and len(short) > len(tl.inactivity):
            break
    else:
        pytest.skip("no session with quiet stretches between 3 and 10 s")
    qt_player.load_session(cap, int(sid), autoplay=False)
    default = [(float(a), float(b)) for a, b in tl.inactivity if b > a]
    assert qt_player.timeline_widget.inactive_spans() == default
    qt_player.player.inactivity_threshold_ms = 3_000
    assert qt_player.timeline_widget.inactive_spans() == [(float(a), float(b)) for a, b in short]
    assert len(qt_player.timeline_widget.inactive_spans()) > len(default)
    # a session loaded afterwards is hatched at the same threshold
    qt_player.load_session(cap, int(sid), autoplay=False)
    assert qt_player.timeline_widget.inactive_spans() == [(float(a), float(b)) for a, b in short]
