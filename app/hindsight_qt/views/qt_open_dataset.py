"""File > Open dataset…: a capture dataset (Parquet, on a disk or an object store) and the Dask
cluster to analyse it on.

The dataset is a folder (Browse…) or a URL (``file://…``, ``s3://…``); the scheduler is
``tcp://HOST:PORT`` of a running cluster, by default ``$HINDSIGHT_SCHEDULER``; left empty, a
local cluster (one worker process per core) starts on demand.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hindsight.engine.driver import SCHEDULER_ENV

LOCAL_HINT = "empty: a local cluster, one worker per core"


class OpenDatasetDialog(QDialog):
    """Asks for a dataset (folder or URL) and an optional scheduler address."""

    def __init__(self, parent: QWidget | None = None, source: str = "", start_dir: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("OpenDatasetDialog")
        self.setWindowTitle("Open dataset")
        self.setMinimumWidth(560)
        self._start_dir = start_dir
        intro = QLabel("A capture dataset: Parquet files partitioned by day, analysed on a Dask cluster. "
                       "Analyses run as cluster tasks; the session list shows one page at a time.", self)
        intro.setObjectName("Muted")
        intro.setWordWrap(True)
        self.source_edit = QLineEdit(source, self)
        self.source_edit.setObjectName("DatasetSource")
        self.source_edit.setPlaceholderText("/path/to/dataset, file://… or s3://bucket/dataset")
        self.source_edit.textChanged.connect(self._update_ok)
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        source_row = QHBoxLayout()
        source_row.setSpacing(6)
        source_row.addWidget(self.source_edit, 1)
        source_row.addWidget(self.browse_button)
        self.scheduler_edit = QLineEdit(os.environ.get(SCHEDULER_ENV, ""), self)
        self.scheduler_edit.setObjectName("DatasetScheduler")
        self.scheduler_edit.setPlaceholderText(f"tcp://HOST:PORT ({LOCAL_HINT})")
        self.scheduler_edit.setToolTip(f"The Dask scheduler to run on; default ${SCHEDULER_ENV}. "
                                       "Empty: a local cluster starts when the dataset opens.")
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.addRow("Dataset:", source_row)
        form.addRow("Scheduler:", self.scheduler_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 14)
        layout.setSpacing(12)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._update_ok()

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.source_edit.text().strip()
                                                  or self._start_dir)
        if folder:
            self.source_edit.setText(folder)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(bool(self.source()))

    def source(self) -> str:
        return self.source_edit.text().strip()

    def scheduler(self) -> str | None:
        return self.scheduler_edit.text().strip() or None
