"""Capture datasets: the capture's tables as Parquet files, partitioned by day (see ``layout``)."""
