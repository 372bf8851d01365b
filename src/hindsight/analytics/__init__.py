"""Analytics over a capture: heatmaps, click signals, aggregates (numpy, Qt-free)."""
