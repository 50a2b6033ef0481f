"""The store: hourly-partitioned Parquet per data type, a fingerprint registry, and query engines.

Plain Parquet on disk (``<type>/y=/m=/d=/h=``) that DuckDB (default) and Spark read as
they are; see :mod:`netspot.store.dataset` for the layout.
"""
