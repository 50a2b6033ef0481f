"""Benchmark: nfdump CSV and nfcapd files into the netspot store, against nfdump's own decoding speed.

Input is made fast and real: numpy writes a pcap of N single-packet UDP flows (distinct
5-tuples, 1 ms apart), Debian's ``nfpcapd`` meters it into nfcapd files, and ``nfdump -r
... -o csv`` turns those into the nfdump CSV that netspot reads. Cases (same flows):

* ``nfdump -o csv`` (reference): nfdump decoding the nfcapd files to CSV on /dev/null;
* ``nfdump-csv parse only``: NfdumpCsvReader batches, dropped (the parser's own speed);
* ``nfdump-csv -> store``: the batches written through ``Store(root).writer(DataKind.FLOW, 1)``
  and committed, as ``netspot ingest`` does (parse + hourly Parquet write);
* ``nfcapd -> store``: NfcapdReader (nfdump ``-o fmt:`` piped into the same parser) into the store;
* ``netspot ingest CSV`` (end to end): the CLI in a subprocess on a fresh store (interpreter
  start, imports, format detection, registry, quarantine table included).

The ratio is netspot seconds / reference seconds. Peak RSS is this process's high-water mark
during the case (from VmHWM, reset before each case) or the child's for subprocess cases.
Usage: ``python bench/ingest_nfdump.py [--flows 2000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from netspot.ingest.base import Reader, Source
from netspot.ingest.flow.nfdump import NfcapdReader, NfdumpCsvReader
from netspot.ingest.quarantine import Quarantine
from netspot.schema import DataKind
from netspot.store.dataset import Store

REC = np.dtype([("ts", "<u4"), ("us", "<u4"), ("incl", "<u4"), ("orig", "<u4"), ("eth", "S12"), ("etype", ">u2"),
                ("vihl", "u1"), ("tos", "u1"), ("tlen", ">u2"), ("id", ">u2"), ("frag", ">u2"), ("ttl", "u1"),
                ("proto", "u1"), ("csum", ">u2"), ("src", ">u4"), ("dst", ">u4"), ("sport", ">u2"),
                ("dport", ">u2"), ("ulen", ">u2"), ("ucsum", ">u2")])  # fmt: skip


def make_pcap(path: Path, n: int, chunk: int = 1_000_000) -> None:
    """N UDP packets, each its own flow, 1 ms apart (numpy, no per-packet Python)."""
    with open(path, "wb") as fh:
        fh.write(np.array([0xA1B2C3D4], "<u4").tobytes() + np.array([2, 4], "<u2").tobytes()
                 + np.array([0, 0, 65535, 1], "<u4").tobytes())  # fmt: skip
        for start in range(0, n, chunk):
            k = min(chunk, n - start)
            i = np.arange(start, start + k, dtype=np.int64)
            r = np.zeros(k, REC)
            ms = 1_600_000_000_000 + i
            r["ts"], r["us"] = ms // 1000, (ms % 1000) * 1000
            r["incl"] = r["orig"] = REC.itemsize - 16
            r["etype"], r["vihl"], r["tlen"], r["ttl"], r["proto"] = 0x0800, 0x45, 28, 64, 17
            r["src"] = 0x0A000000 + (i % 65536)
            r["dst"] = 0xC0A80000 + (i // 65536) % 65536
            r["sport"] = 1024 + (i * 7) % 60000
            r["dport"] = (53, 123, 443, 8080)[0] + (i % 4) * 10
            r["ulen"] = 8
            fh.write(r.tobytes())


def reset_peak_rss() -> None:
    """Reset this process's VmHWM (Linux: writing 5 to clear_refs), so each case reports its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def peak_rss_mib(children: bool = False) -> float:
    if not children:
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def run_case(reader: Reader, path: Path, store: Path | None) -> tuple[int, float, int, float]:
    """Read ``path`` with ``reader``; write into a store at ``store`` (None: parse only). Rows, s, bad, MiB."""
    if store is not None and store.exists():
        shutil.rmtree(store)
    reset_peak_rss()
    q = Quarantine(str(path), reader.format)
    rows = 0
    t = time.perf_counter()
    writer = Store(store).writer(DataKind.FLOW, 1) if store is not None else None
    for batch in reader.read(Source(path, 1), q):
        if writer is not None:
            writer.write(batch)
        rows += batch.num_rows
    if writer is not None:
        writer.commit()
    return rows, time.perf_counter() - t, q.total, peak_rss_mib()


def _head(path: Path, out: Path, lines: int = 1000) -> Path:
    with open(path, "rb") as fin, open(out, "wb") as fout:
        for _ in range(lines):
            fout.write(fin.readline())
    return out


#: The netspot CLI, printing its own peak RSS on exit (RUSAGE_CHILDREN would include nfpcapd's).
_CLI = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
    "from netspot.cli.main import main\n"
    "sys.argv[0] = 'netspot'\n"
    "main()\n"
)


def ingest_cli(path: Path, store: Path) -> tuple[int, float, float]:
    """``netspot --store STORE ingest PATH --json`` in a subprocess: rows stored, seconds, child peak RSS."""
    if store.exists():
        shutil.rmtree(store)
    cmd = [sys.executable, "-c", _CLI, "--store", str(store), "ingest", "--json", str(path)]
    t = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    secs = time.perf_counter() - t
    stored = sum(json.loads(line).get("stored", 0) for line in done.stdout.splitlines() if line.startswith("{"))
    rss = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("maxrss ")]
    return stored, secs, (rss[-1] / 1024 if rss else float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, default=2_000_000)
    args = ap.parse_args()
    env = {**os.environ, "TZ": "UTC"}
    with tempfile.TemporaryDirectory(prefix="bench-nfdump-") as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        make_pcap(d / "in.pcap", args.flows)
        (d / "flows").mkdir()
        subprocess.run(["nfpcapd", "-r", str(d / "in.pcap"), "-w", str(d / "flows"), "-t", "86400",
                        "-B", str(2 * args.flows), "-e", "60,10"], check=True, capture_output=True)  # fmt: skip
        files = sorted((d / "flows").glob("nfcapd.*"))
        (d / "in.pcap").unlink()
        print(f"input: {args.flows} flows, {len(files)} nfcapd file(s), made in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)  # fmt: skip
        # reference: nfdump decoding the nfcapd files to CSV
        t = time.perf_counter()
        with open(os.devnull, "wb") as null:
            for f in files:
                subprocess.run(["nfdump", "-r", str(f), "-o", "csv"], stdout=null, check=True, env=env)
        ref_s = time.perf_counter() - t
        ref_rss = peak_rss_mib(children=True)
        csv_path = d / "flows.csv"
        with open(csv_path, "wb") as fh:
            for f in files[:1]:
                subprocess.run(["nfdump", "-r", str(f), "-o", "csv"], stdout=fh, check=True, env=env)
        rows_out = []
        run_case(NfdumpCsvReader(), _head(csv_path, d / "warm.csv"), None)  # numba: load the compiled kernels
        for name, reader, path, store in (
            ("nfdump-csv parse only", NfdumpCsvReader(), csv_path, None),
            ("nfdump-csv -> store", NfdumpCsvReader(), csv_path, d / "store"),
            ("nfcapd -> store", NfcapdReader(), files[0], d / "store"),
        ):
            rows, secs, bad, rss = run_case(reader, path, store)
            rows_out.append((name, rows, secs, bad, rss))
        stored, secs, rss = ingest_cli(csv_path, d / "store-cli")
        rows_out.append(("netspot ingest CSV (end to end)", stored, secs, 0, rss))
        print("| case | records | netspot s | records/s | reference s (nfdump -o csv) | ratio | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|")
        print(f"| nfdump -r -o csv (reference) | {args.flows} | - | - | {ref_s:.2f} "
              f"({args.flows / ref_s:,.0f}/s) | 1.00 | {ref_rss:.0f} |")  # fmt: skip
        for name, rows, secs, bad, rss in rows_out:
            print(f"| {name} | {rows} (quarantined {bad}) | {secs:.2f} | {rows / secs:,.0f} | {ref_s:.2f} | "
                  f"{secs / ref_s:.2f} | {rss:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
