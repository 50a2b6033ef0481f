"""Benchmark the Zeek conn reader: a synthetic conn.log (>= 2M rows) to Parquet, against references.

Usage::

    .venv/bin/python bench/ingest_zeek.py [--rows 2000000] [--json-rows 500000] [--work DIR]

The log is synthesised from the rows of the shared conn logs (../shared/datasets; a built-in row when
they are absent) with varied times, uids, addresses, ports, counters and durations, written with the
labelled header (23 columns: the 21 of conn.log plus ``label``/``detailedlabel``). Each measurement runs
in its own process, so that its peak RSS is its own. References, in the same run:

* ``csv`` module: Python's csv.reader over the same file, converting the typed columns (what a plain
  Python ingest does; it writes no Parquet);
* DuckDB ``read_csv`` -> Parquet (a vectorised, multi-threaded C++ reader), untyped extras kept;
* end to end, ``netspot --store S ingest --json conn.log`` in a subprocess (start-up, sniffing, store);
* for JSON lines, Python's ``json.loads`` per line.

The netspot cases are the reader alone (batches dropped), the reader through
``Store(root).writer(DataKind.FLOW, 1)`` (written and committed, as ``netspot ingest`` does),
and the CLI. Prints a markdown table: case, records, netspot seconds, records/s, netspot CPU
µs/row (process time: the machine is shared, wall time is noisy), reference seconds, ratio,
peak RSS MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NETSPOT_SHARED", ROOT.parent / "shared")) / "datasets"
FIELDS = [
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
    "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
    "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "label", "detailedlabel",
]
TYPES = [
    "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count", "string",
    "bool", "bool", "count", "string", "count", "count", "count", "count", "set[string]", "string", "string",
]
HEADER = ("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
          "#open\t2024-08-16-09-45-01\n#fields\t" + "\t".join(FIELDS) + "\n#types\t" + "\t".join(TYPES) + "\n")
VARCHAR_COLUMNS = ", ".join(f"'{f}': 'VARCHAR'" for f in FIELDS)
FALLBACK = ["1.0", "C1", "10.0.0.1", "1", "10.0.0.2", "443", "tcp", "ssl", "1.5", "100", "200", "SF", "T", "F", "0",
            "ShADadFf", "10", "620", "8", "520", "(empty)", "Benign", "(empty)"]


def _templates() -> list[list[str]]:
    rows: list[list[str]] = []
    for path in sorted(SHARED.glob("**/*conn*")) if SHARED.is_dir() else []:
        fields: list[str] = []
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif line and not line.startswith(("#", "{")):
                value = dict(zip(fields, line.split("\t"), strict=False))
                rows.append([value.get(f, "-" if f != "tunnel_parents" else "(empty)") for f in FIELDS])
    return rows or [FALLBACK]


def synthesise(path: Path, rows: int, seed: int = 7) -> None:
    """A conn.log of ``rows`` rows: shared rows as templates, numeric and address columns varied."""
    rng = np.random.default_rng(seed)
    tpl = _templates()
    pick = rng.integers(0, len(tpl), rows)
    cols = {f: pa.array([t[i] for t in tpl]).take(pa.array(pick)) for i, f in enumerate(FIELDS)}

    def ints(lo: int, hi: int) -> pa.Array:
        return pa.array(rng.integers(lo, hi, rows)).cast(pa.string())

    ts = 1_723_800_000 + np.cumsum(rng.exponential(0.0005, rows))
    cols["ts"] = pa.array(np.char.mod("%.6f", ts))
    cols["uid"] = pa.array(np.char.add("C", np.char.mod("%017x", rng.integers(0, 2**62, rows))))
    for f in ("id.orig_h", "id.resp_h"):
        v4 = np.char.add(np.char.add("10.", ints(0, 256).to_numpy(zero_copy_only=False).astype(str)), ".")
        tail = np.char.add(np.char.add(ints(0, 256).to_numpy(False).astype(str), "."),
                           ints(1, 255).to_numpy(False).astype(str))
        cols[f] = pa.array(np.char.add(v4, tail))
    cols["id.orig_p"] = ints(1024, 65536)
    for f, hi in (("orig_pkts", 200), ("resp_pkts", 200), ("orig_ip_bytes", 200_000), ("resp_ip_bytes", 2_000_000),
                  ("orig_bytes", 100_000), ("resp_bytes", 1_000_000)):
        cols[f] = ints(0, hi)
    cols["duration"] = pa.array(np.char.mod("%.6f", rng.exponential(3.0, rows)))
    table = pa.table(cols)
    with open(path, "wb") as fh:
        fh.write(HEADER.encode())
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none"))
        fh.write(b"#close\t2024-08-16-10-00-00\n")


# -- the measured jobs (each runs in a child process: python bench/ingest_zeek.py --job NAME ARGS) ----------------

def job_netspot(src: str, out: str) -> int:
    """The reader into the store, as ``netspot ingest`` writes it: hourly Parquet, committed."""
    import shutil

    from netspot.ingest.base import Source
    from netspot.ingest.flow.zeek_conn import ZeekConnReader
    from netspot.ingest.quarantine import Quarantine
    from netspot.store.dataset import Store

    shutil.rmtree(out, ignore_errors=True)
    reader = ZeekConnReader()
    q = Quarantine(src, reader.format)
    writer = Store(Path(out)).writer(reader.kind, 1)
    for batch in reader.read(Source(Path(src), 1), q):
        writer.write(batch)
    n = writer.commit()
    assert q.total == 0, q.counts
    return n


def job_netspot_read(src: str, out: str) -> int:
    """The reader alone: record batches in memory, no Parquet."""
    from netspot.ingest.base import Source
    from netspot.ingest.flow.zeek_conn import ZeekConnReader
    from netspot.ingest.quarantine import Quarantine

    reader = ZeekConnReader()
    q = Quarantine(src, reader.format)
    n = sum(batch.num_rows for batch in reader.read(Source(Path(src)), q))
    assert q.total == 0, q.counts
    return n


def job_csv(src: str, out: str) -> int:
    import csv

    ints = [FIELDS.index(f) for f in ("id.orig_p", "id.resp_p", "orig_pkts", "orig_ip_bytes", "resp_pkts",
                                      "resp_ip_bytes", "orig_bytes", "resp_bytes", "missed_bytes")]
    floats = [FIELDS.index("ts"), FIELDS.index("duration")]
    n = 0
    with open(src, newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row[0].startswith("#"):
                continue
            typed = [int(row[i]) if row[i] != "-" else None for i in ints]
            typed += [float(row[i]) if row[i] != "-" else None for i in floats]
            n += 1
    return n


def job_duckdb(src: str, out: str) -> int:
    import shutil

    import duckdb

    shutil.rmtree(out, ignore_errors=True)

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(f"COPY (SELECT * FROM read_csv('{src}', delim='\t', header=false, comment='#', quote='', "
                f"auto_detect=false, escape='', nullstr='-', columns={{{VARCHAR_COLUMNS}}})) "
                f"TO '{out}' (FORMAT parquet)")
    return int(con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0])  # type: ignore[index]


def job_netspot_json(src: str, out: str) -> int:
    return job_netspot(src, out)


def job_json(src: str, out: str) -> int:
    n = 0
    with open(src, "rb") as fh:
        for line in fh:
            obj = json.loads(line)
            n += "ts" in obj
    return n


JOBS = {f.__name__[4:]: f for f in (job_netspot, job_netspot_read, job_csv, job_duckdb, job_netspot_json, job_json)}


def _prepare(job: str) -> None:
    """Imports (and numba's cached kernels) before the clock starts: we time reading, not start-up."""
    if job.startswith("netspot"):
        import pyarrow.parquet  # noqa: F401

        from netspot.ingest._extra import extra_map
        from netspot.ingest.flow.zeek_conn import ZeekConnReader  # noqa: F401

        extra_map({"x": pa.array(["1"])}, 1)
    elif job == "duckdb":
        import duckdb  # noqa: F401


def _peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM: ru_maxrss would include the parent's size at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(job: str, src: Path, out: Path) -> tuple[int, float, float, float]:
    """(records, seconds, CPU seconds, peak RSS MiB) of one job in a fresh process."""
    done = subprocess.run([sys.executable, __file__, "--job", job, str(src), str(out)], capture_output=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"job {job} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    records, seconds, cpu, rss = done.stdout.decode().split()
    return int(records), float(seconds), float(cpu), float(rss)


#: The netspot CLI, printing its own peak RSS on exit.
_CLI = ("import atexit, resource, sys\n"
        "atexit.register(lambda: print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
        "                              file=sys.stderr))\n"
        "from netspot.cli.main import main\nsys.argv[0] = 'netspot'\nmain()\n")


def run_cli(src: Path, store: Path) -> tuple[int, float, float, float]:
    """``netspot --store STORE ingest --json SRC`` end to end (interpreter start and imports included)."""
    import resource
    import shutil

    shutil.rmtree(store, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CLI, "--store", str(store), "ingest", "--json", str(src)],
                          capture_output=True, text=True, check=True)
    secs = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    stored = sum(json.loads(line).get("stored", 0) for line in done.stdout.splitlines() if line.startswith("{"))
    rss = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("maxrss ")]
    return stored, secs, cpu, (rss[-1] / 1024 if rss else float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--json-rows", type=int, default=500_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/netspot-bench-zeek"))
    ap.add_argument("--job", nargs=3, metavar=("NAME", "SRC", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        name, src, out = args.job
        _prepare(name)
        t0, c0 = time.perf_counter(), time.process_time()
        n = JOBS[name](src, out)
        print(n, time.perf_counter() - t0, time.process_time() - c0, _peak_rss_mib())
        return
    args.work.mkdir(parents=True, exist_ok=True)
    tsv = args.work / f"conn-{args.rows}.log"
    if not tsv.exists():
        synthesise(tsv, args.rows)
    js = args.work / f"conn-{args.json_rows}.json"
    if not js.exists():
        import duckdb

        small = args.work / f"conn-{args.json_rows}.log"
        synthesise(small, args.json_rows, seed=11)
        duckdb.connect().execute(
            f"COPY (SELECT * REPLACE (CAST(ts AS DOUBLE) AS ts, CAST(\"id.orig_p\" AS BIGINT) AS \"id.orig_p\", "
            f"CAST(orig_ip_bytes AS BIGINT) AS orig_ip_bytes) FROM read_csv('{small}', delim='\t', header=false, "
            f"comment='#', quote='', escape='', nullstr='-', auto_detect=false, "
            f"columns={{{VARCHAR_COLUMNS}}})) "
            f"TO '{js}' (FORMAT json)")
    cases = [
        (f"conn.log TSV, {tsv.stat().st_size >> 20} MiB -> Arrow batches only (reader) vs csv module (parse + typed)",
         tsv, "netspot_read", "csv"),
        ("conn.log TSV -> store (reader + Store writer, committed) vs DuckDB read_csv -> Parquet (untyped)", tsv,
         "netspot", "duckdb"),
        ("`netspot ingest` conn.log TSV, end to end (CLI subprocess) vs DuckDB read_csv -> Parquet", tsv, "cli",
         "duckdb"),
        (f"conn JSON lines, {js.stat().st_size >> 20} MiB -> store vs json.loads per line", js, "netspot_json",
         "json"),
    ]
    print("| case | records | netspot s | records/s | netspot CPU us/row | reference s | ratio (ref/netspot) "
          "| peak RSS MiB (netspot / ref) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    refs: dict[tuple[str, Path], tuple[int, float, float, float]] = {}
    for label, src, mine, ref in cases:
        if mine == "cli":
            n, secs, cpu, rss = run_cli(src, args.work / "cli-store")
        else:
            n, secs, cpu, rss = run(mine, src, args.work / "out")
        if (ref, src) not in refs:
            refs[ref, src] = run(ref, src, args.work / "ref.parquet")
        rn, rsecs, _, rrss = refs[ref, src]
        assert rn == n, (label, n, rn)
        print(f"| {label} | {n:,} | {secs:.2f} | {n / secs:,.0f} | {cpu / n * 1e6:.2f} | {rsecs:.2f} | "
              f"{rsecs / secs:.1f}x | {rss:.0f} / {rrss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
