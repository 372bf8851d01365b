""""Save image…" for the heatmap panel and the player's heatmap overlay.

The picture is the one ``hindsight heatmap ... -o PNG`` writes (header with the sample size
and warning, legend strip, the full page at screenshot width): both call
``hindsight.analytics.heatmap_export.heatmap_image`` (or ``compare_image`` in compare mode)
with the view's current page, device, kind, filter and opacity. Drawing runs on a worker
(``hindsight_qt.tasks``); the file is written whole or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from hindsight.analytics.heatmap_export import compare_image, heatmap_image, save_png


@dataclass(frozen=True)
class HeatmapImageSpec:
    """What a view shows: enough to draw the same map again off the GUI thread."""

    capture: object
    engine: object
    snapshot: object
    page_url: str
    kind: str
    filter: object
    opacity: float
    compare: tuple | None = None   # (filter A, filter B, (name A, name B)) in compare mode
    pages: tuple | None = None     # the page group (None: the snapshot's page)

    def render(self):
        """The PIL image (worker thread: no widgets here)."""
        if self.compare is not None:
            flt_a, flt_b, names = self.compare
            return compare_image(self.capture, self.snapshot, self.kind, flt_a, flt_b, names,
                                 page_url=self.page_url, engine=self.engine, opacity=self.opacity,
                                 pages=self.pages)
        return heatmap_image(self.capture, self.snapshot, self.kind, self.filter, page_url=self.page_url,
                             engine=self.engine, opacity=self.opacity, pages=self.pages)

    def suggested_name(self) -> str:
        page = re.sub(r"[^A-Za-z0-9]+", "-", self.page_url.split("://", 1)[-1]).strip("-") or "page"
        what = f"{self.kind}-compare" if self.compare is not None else self.kind
        return f"heatmap-{page}-{self.snapshot.device}-{self.snapshot.width}-{what}.png"


def write_heatmap_image(spec: HeatmapImageSpec, path) -> Path:
    """Draw ``spec`` and write it as a PNG at ``path`` (any thread)."""
    save_png(spec.render(), path)
    return Path(path)


def save_heatmap_image(parent: QWidget | None, spec: HeatmapImageSpec | None, path=None,
                       on_saved: Callable[[Path], None] | None = None):
    """Ask where (unless ``path``), then write the image on a worker; returns the ``Task`` or None.

    A failure shows one line in a message box; ``on_saved(path)`` runs on the GUI thread.
    """
    if spec is None:
        return None
    if path is None:
        start = Path(spec.capture.path).parent / spec.suggested_name()
        path, _ = QFileDialog.getSaveFileName(parent, "Save heatmap image", str(start), "PNG image (*.png)")
        if not path:
            return None
        if not path.lower().endswith(".png"):
            path += ".png"
    from hindsight_qt import tasks

    def failed(exc: BaseException) -> None:
        QMessageBox.critical(parent, "Cannot save the image", f"{path}: {exc}")

    def done(p: Path) -> None:
        if on_saved is not None:
            on_saved(p)
        window = parent.window() if parent is not None else None
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(f"Saved {p}", 4000)

    return tasks.run(lambda: write_heatmap_image(spec, path), done, failed)
