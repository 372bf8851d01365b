"""Hindsight's desktop GUI (PySide6 + pyqtgraph) over the Qt-free ``hindsight`` core."""
