"""The store is plain Parquet that Spark reads as it is (real Spark, local mode)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from netspot.schema import FLOW, DataKind, conform
from netspot.store.dataset import Store
from netspot.store.engines.duckdb import DuckDBEngine
from tests.conftest import _skip


def test_spark_reads_the_store_with_the_same_rows_types_and_partitions(tmp_path: Path) -> None:
    pyspark_sql = pytest.importorskip("pyspark.sql") if shutil.which("java") else None
    if pyspark_sql is None:
        _skip("Spark needs a Java runtime (apt-get install default-jre-headless)")
    store = Store(tmp_path)
    times = [dt.datetime(2024, 8, 16, h, 30, 15, 123_000, tzinfo=dt.UTC) for h in (9, 9, 10)]
    w = store.writer(DataKind.FLOW, 5)
    w.write(conform({
        "ts": pa.array(times, FLOW.field("ts").type), "rid": pa.array([1, 2, 3], pa.int64()),
        "sip": pa.array(["10.0.0.1", "2001:db8::1", "10.0.0.3"]), "dport": pa.array([443, 53, 22], pa.int32()),
        "proto": pa.array(["TCP", "UDP", "TCP"]), "ibyt": pa.array([100, 200, 300], pa.int64()),
        "extra": pa.array([[("label", "benign")], [], None], FLOW.field("extra").type),
    }, FLOW, 3))
    w.commit()
    spark = (pyspark_sql.SparkSession.builder.master("local[1]").appName("netspot-layout")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    try:
        df = spark.read.parquet(str(store.dataset_dir(DataKind.FLOW)))
        types = dict(df.dtypes)
        assert (types["ts"], types["sport"], types["ibyt"], types["h"]) == ("timestamp", "int", "bigint", "int")
        rows = sorted(df.select("rid", "ts", "sip", "ibyt", "h", "extra").collect())
    finally:
        spark.stop()
    duck = DuckDBEngine(store).table("SELECT rid, ts, sip, ibyt, h FROM flow ORDER BY rid").to_pylist()
    assert [r.rid for r in rows] == [d["rid"] for d in duck] == [1, 2, 3]
    assert [r.ts.replace(tzinfo=dt.UTC) for r in rows] == [d["ts"] for d in duck] == times
    assert [r.h for r in rows] == [9, 9, 10]
    assert rows[0].extra == {"label": "benign"}
