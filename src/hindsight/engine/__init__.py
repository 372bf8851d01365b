"""Analyses over a capture dataset (Parquet, partitioned by day) on a Dask cluster.

``reader``: a dataset opened for reading, and one partition of it read through the same
methods a :class:`~hindsight.store.Capture` offers, so the analyses run unchanged on it.
``driver``: runs an analysis as one Dask task per partition and combines the small results
with the same combine step the capture path uses (one kernel, two drivers).
"""
