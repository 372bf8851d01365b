"""Hindsight core: capture store, importers, replay engine and analytics (Qt-free)."""

__version__ = "0.1.0"
