"""Ingest benchmarks: every reader against its reference tool, and peak memory on a multi-GB input.

Runs the per-format scripts beside this one (each prints a markdown table, measuring
netspot and the reference tool in the same run), then ingests one large nfdump CSV
(5 GB by default) through ``netspot ingest`` in a subprocess and reports its peak RSS.
Results are appended to BENCHMARKS.md with the machine and the date.

    .venv/bin/python bench/ingest.py            # everything (takes a few minutes)
    .venv/bin/python bench/ingest.py --only dns --size-gb 0   # one script, no large-file case
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPTS = {
    "dns": "ingest_dns.py",
    "netflow": "ingest_netflow.py",
    "nfdump": "ingest_nfdump.py",
    "zeek": "ingest_zeek.py",
    "text": "ingest_text.py",
}
HEADER = ("ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,"
          "dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,"
          "exid,tr")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def big_nfdump_csv(path: Path, size_gb: float) -> int:
    """An nfdump CSV of about ``size_gb`` GB, written as one repeated 1M-row block; the rows written."""
    rng = np.random.default_rng(1)
    n = 1_000_000
    t0 = 1723766400 + np.sort(rng.integers(0, 86400, n))
    ts = pa.array(t0 * 1000, pa.int64()).cast(pa.timestamp("ms"))
    fmt = lambda a: pa.compute.strftime(a, format="%Y-%m-%d %H:%M:%S")  # noqa: E731
    ip = lambda: pa.array([f"10.{a}.{b}.{c}" for a, b, c in rng.integers(0, 255, (n, 3))])  # noqa: E731
    zero = pa.array(np.zeros(n, np.int64))
    cols = {
        "ts": fmt(ts), "te": fmt(ts), "td": pa.array(np.round(rng.exponential(2, n), 3)), "sa": ip(), "da": ip(),
        "sp": pa.array(rng.integers(1024, 65535, n)), "dp": pa.array(rng.choice([53, 80, 443, 22, 445], n)),
        "pr": pa.array(rng.choice(["TCP", "UDP"], n)), "flg": pa.array(["...AP.SF"] * n), "fwd": zero, "stos": zero,
        "ipkt": pa.array(rng.integers(1, 100, n)), "ibyt": pa.array(rng.integers(40, 150000, n)), "opkt": zero,
        "obyt": zero, "in": zero, "out": zero, "sas": zero, "das": zero, "smk": zero, "dmk": zero, "dtos": zero,
        "dir": zero, "nh": pa.array(["0.0.0.0"] * n), "nhb": pa.array(["0.0.0.0"] * n), "svln": zero, "dvln": zero,
        **{k: pa.array(["00:00:00:00:00:00"] * n) for k in ("ismc", "odmc", "idmc", "osmc")},
        **{f"mpls{i}": pa.array(["0-0-0"] * n) for i in range(1, 11)},
        "cl": pa.array(["0.000"] * n), "sl": pa.array(["0.000"] * n), "al": pa.array(["0.000"] * n),
        "ra": pa.array(["10.0.0.1"] * n), "eng": pa.array(["0/0"] * n), "exid": pa.array(np.ones(n, np.int64)),
        "tr": pa.array(["1970-01-01 00:00:00.000"] * n),
    }
    table = pa.table(cols)
    assert ",".join(table.column_names) == HEADER
    import io

    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    block = buf.getvalue()
    repeats = max(1, int(size_gb * 1e9 // len(block)))
    with open(path, "wb") as fh:
        fh.write((HEADER + "\n").encode())
        for _ in range(repeats):
            fh.write(block)
    return repeats * n


_PEAK_OF_CHILD = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_memory_case(size_gb: float) -> str:
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        src = Path(tmp) / "big.nfdump.csv"
        t = time.perf_counter()
        rows = big_nfdump_csv(src, size_gb)
        made = time.perf_counter() - t
        size = src.stat().st_size
        # a fresh parent, so that its RUSAGE_CHILDREN peak is the ingest's alone (not an earlier benchmark's)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _PEAK_OF_CHILD, sys.executable, "-m", "netspot.cli.main",
                              "--store", str(Path(tmp) / "store"), "ingest", "--json", str(src)],
                             check=True, capture_output=True, text=True).stdout
        secs = time.perf_counter() - t
        peak = int(out.split()[-1])
    return (
        "| case | input | rows | netspot ingest s | rows/s | peak RSS MiB |\n|---|---|---|---|---|---|\n"
        f"| nfdump CSV -> store (`netspot ingest`, incl. SHA-256 fingerprint) | {size / 1e9:.2f} GB | {rows:,} | "
        f"{secs:.1f} | {rows / secs:,.0f} | {peak / 1024:.0f} |\n\n(input generated in {made:.1f} s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=sorted(SCRIPTS), action="append", help="run only these scripts")
    ap.add_argument("--no-scripts", action="store_true", help="run only the peak-memory case")
    ap.add_argument("--size-gb", type=float, default=5.0, help="size of the peak-memory input (0: skip)")
    ap.add_argument("--no-record", action="store_true", help="do not append to BENCHMARKS.md")
    args = ap.parse_args()
    sections = [f"## Ingest — {dt.date.today().isoformat()}\n\nMachine: {machine()}\n"]
    for name in [] if args.no_scripts else args.only or sorted(SCRIPTS):
        script = HERE / SCRIPTS[name]
        print(f"== {name} ({script.name})", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode == 0:
            out = proc.stdout.strip()
        else:
            out = f"FAILED ({proc.returncode}):\n```\n{proc.stderr[-2000:]}\n```"
        print(out, flush=True)
        sections.append(f"### {name}\n\n{out}\n")
    if args.size_gb > 0:
        print(f"== peak memory on a {args.size_gb:g} GB input", file=sys.stderr, flush=True)
        out = peak_memory_case(args.size_gb)
        print(out, flush=True)
        sections.append(f"### Peak memory\n\n{out}\n")
    if not args.no_record:
        bench_md = ROOT / "BENCHMARKS.md"
        old = bench_md.read_text() if bench_md.exists() else "# Benchmarks\n\nRecorded by the scripts in bench/.\n"
        bench_md.write_text(old.rstrip() + "\n\n" + "\n".join(sections))


if __name__ == "__main__":
    main()
