from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from netspot.errors import SchemaError, StoreError
from netspot.schema import FLOW, DataKind, conform
from netspot.store.dataset import Store
from netspot.store.engine import TimeRange
from netspot.store.engines.duckdb import DuckDBEngine


def flows(times: list[str], sip: str = "10.0.0.1") -> pa.RecordBatch:
    ts = pa.array([dt.datetime.fromisoformat(t).replace(tzinfo=dt.UTC) for t in times], FLOW.field("ts").type)
    n = len(times)
    return conform({"ts": ts, "rid": pa.array(range(n), pa.int64()), "sip": pa.array([sip] * n),
                    "ibyt": pa.array([100] * n, pa.int64())}, FLOW, n)


def test_rows_land_in_the_folder_of_their_hour(tmp_path: Path) -> None:
    store = Store(tmp_path)
    w = store.writer(DataKind.FLOW, 3)
    w.write(flows(["2024-08-16T09:59:59", "2024-08-16T10:00:00", "2024-08-16T09:00:00"]))
    assert w.commit() == 3
    files = {p.relative_to(tmp_path).as_posix(): pq.read_table(p).num_rows for p in store.files(DataKind.FLOW)}
    assert files == {
        "flow/y=2024/m=08/d=16/h=09/part-00000003-0000.parquet": 2,
        "flow/y=2024/m=08/d=16/h=10/part-00000003-0000.parquet": 1,
    }


def test_nothing_is_visible_before_commit_and_abort_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    w = store.writer(DataKind.FLOW, 1)
    w.write(flows(["2024-08-16T09:00:00"]))
    assert store.files(DataKind.FLOW) == []
    w.abort()
    assert list(tmp_path.rglob("*.parquet*")) == []


def test_many_hours_stay_bounded_and_lose_no_row(tmp_path: Path) -> None:
    store = Store(tmp_path)
    w = store.writer(DataKind.FLOW, 1)
    # 100 hours interleaved twice: more than the open-file limit, so hours get a second file
    hours = [f"2024-08-{1 + h // 24:02d}T{h % 24:02d}:00:00" for h in range(100)]
    w.write(flows(hours))
    w.write(flows(hours))
    assert w.commit() == 200
    assert store.count(DataKind.FLOW) == 200
    assert len(store.files(DataKind.FLOW)) >= 100


def test_a_batch_of_another_schema_is_refused(tmp_path: Path) -> None:
    w = Store(tmp_path).writer(DataKind.FLOW, 1)
    with pytest.raises(SchemaError, match="schema differs"):
        w.write(pa.record_batch({"ts": [1]}))


def test_remove_source_deletes_only_that_source(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for number in (1, 2):
        w = store.writer(DataKind.FLOW, number)
        w.write(flows(["2024-08-16T09:00:00"]))
        w.commit()
    assert store.remove_source(1) == 1
    assert [p.name for p in store.files(DataKind.FLOW)] == ["part-00000002-0000.parquet"]


def test_duckdb_views_prune_by_hour_and_keep_types(tmp_path: Path) -> None:
    store = Store(tmp_path)
    engine = DuckDBEngine(store)
    assert engine.table("SELECT count(*) AS n FROM flow")["n"].to_pylist() == [0]  # empty view before any data
    w = store.writer(DataKind.FLOW, 1)
    w.write(flows(["2024-08-16T09:10:00", "2024-08-16T11:10:00", "2024-08-17T00:10:00"]))
    w.commit()
    got = engine.scan(DataKind.FLOW, TimeRange.parse("2024-08-16T10:00", "2024-08-16T23:59")).read_all()
    assert got.num_rows == 1
    assert got.schema.field("ts").type == pa.timestamp("ms", tz="UTC") or got.schema.field("ts").type.tz == "UTC"
    assert got.column("ts")[0].as_py() == dt.datetime(2024, 8, 16, 11, 10, tzinfo=dt.UTC)
    engine.close()


def test_a_write_failure_in_the_writer_thread_surfaces_as_a_store_error(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store wants a folder")
    w = Store(blocked).writer(DataKind.FLOW, 1)
    w.write(flows(["2024-08-16T09:00:00"]))
    with pytest.raises(StoreError, match="cannot write flow files"):
        w.commit()
    assert blocked.read_text().startswith("a file")


@pytest.mark.parametrize("compression", ["lz4", "zstd", "snappy", "none"])
def test_every_compression_reads_back_the_same_rows(tmp_path: Path, compression: str) -> None:
    store = Store(tmp_path, compression)
    w = store.writer(DataKind.FLOW, 1)
    w.write(flows(["2024-08-16T09:00:00", "2024-08-16T09:30:00"], sip="2001:db8::1"))
    w.commit()
    (path,) = store.files(DataKind.FLOW)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression.lower().startswith(
        {"lz4": "lz4", "zstd": "zstd", "snappy": "snappy", "none": "uncompressed"}[compression])
    assert pq.read_table(path).column("sip").to_pylist() == ["2001:db8::1"] * 2


def test_buffering_is_bounded_over_all_open_hours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netspot.store.dataset as dataset

    monkeypatch.setattr(dataset, "ROW_GROUP_ROWS", 100)
    store = Store(tmp_path)
    w = store.writer(DataKind.FLOW, 1)
    for _ in range(6):  # 6 x 40 rows spread over 4 hours: no hour alone reaches 100 rows
        w.write(flows([f"2024-08-16T{9 + k % 4:02d}:00:00" for k in range(40)]))
    assert w.commit() == 240
    groups = [pq.ParquetFile(p).metadata.num_row_groups for p in store.files(DataKind.FLOW)]
    assert len(groups) == 4
    assert min(groups) >= 2  # row groups were written before the end: nothing waited for commit
