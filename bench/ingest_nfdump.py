"""Benchmark: nfdump CSV and nfcapd files into netspot FLOW Parquet, against nfdump's own decoding speed.

Input is made fast and real: numpy writes a pcap of N single-packet UDP flows (distinct
5-tuples, 1 ms apart), Debian's ``nfpcapd`` meters it into nfcapd files, and ``nfdump -r
... -o csv`` turns those into the nfdump CSV that netspot reads. Cases (same flows):

* ``nfdump -o csv`` (reference): nfdump decoding the nfcapd files to CSV on /dev/null;
* ``nfdump-csv -> parquet``: netspot's NfdumpCsvReader on nfdump's CSV, written to Parquet;
* ``nfcapd -> parquet``: netspot's NfcapdReader (nfdump ``-o fmt:`` piped into the same parser).

The ratio is netspot seconds / reference seconds. Peak RSS is this process's (netspot cases)
or the children's (reference). Usage: ``python bench/ingest_nfdump.py [--flows 5000000]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from netspot.ingest.base import Reader, Source
from netspot.ingest.flow.nfdump import NfcapdReader, NfdumpCsvReader
from netspot.ingest.quarantine import Quarantine
from netspot.schema import FLOW

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


def peak_rss_mib(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def to_parquet(reader: Reader, path: Path, out: Path) -> tuple[int, float, int]:
    q = Quarantine(str(path), reader.format)
    rows = 0
    t = time.perf_counter()
    with pq.ParquetWriter(out, FLOW) as w:
        for batch in reader.read(Source(path), q):
            w.write_batch(batch)
            rows += batch.num_rows
    return rows, time.perf_counter() - t, q.total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, default=5_000_000)
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
        for name, reader, path in (
            ("nfdump-csv -> parquet", NfdumpCsvReader(), csv_path),
            ("nfcapd -> parquet", NfcapdReader(), files[0]),
        ):
            rows, secs, bad = to_parquet(reader, path, d / "out.parquet")
            rows_out.append((name, rows, secs, bad, peak_rss_mib()))
        print("| case | records | netspot s | records/s | reference s (nfdump -o csv) | ratio | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|")
        print(f"| nfdump -r -o csv (reference) | {args.flows} | - | - | {ref_s:.2f} "
              f"({args.flows / ref_s:,.0f}/s) | 1.00 | {ref_rss:.0f} |")  # fmt: skip
        for name, rows, secs, bad, rss in rows_out:
            print(f"| {name} | {rows} (quarantined {bad}) | {secs:.2f} | {rows / secs:,.0f} | {ref_s:.2f} | "
                  f"{secs / ref_s:.2f} | {rss:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
