"""Benchmark: NetFlow v9 and IPFIX export decoding, netspot against nfcapd (+ nfdump) in the same run.

Synthesises export datagrams (30 flow records each, a template datagram every 1000),
decodes them in-process with :class:`netspot.ingest.flow.netflow.NetflowDecoder` into Arrow
batches, then replays the same datagrams over loopback UDP into Debian's ``nfcapd``
(the reference collector) and times it until its file is written; ``nfdump -r`` then
counts what nfcapd stored (UDP drops would show as fewer records). Prints a markdown table.

    .venv/bin/python bench/ingest_netflow.py --records 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from netspot.ingest.flow.netflow import NetflowDecoder
from netspot.ingest.quarantine import Quarantine

PER_DATAGRAM = 30
TEMPLATE_EVERY = 1000
# (IE, length): addresses, ports, proto, flags, tos, packets, bytes, start, end, ifaces, AS numbers
_COMMON = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (2, 4), (1, 4)]
_TAIL = [(10, 2), (14, 2), (16, 2), (17, 2)]
V9_FIELDS = [*_COMMON, (22, 4), (21, 4), *_TAIL]
IPFIX_FIELDS = [*_COMMON, (152, 8), (153, 8), *_TAIL]
_FMT = {1: "u1", 2: ">u2", 4: ">u4", 8: ">u8"}


def records(fields: list[tuple[int, int]], n: int, rng: np.random.Generator, now_ms: int) -> np.ndarray:
    dt = np.dtype([(f"f{i}", _FMT[ln]) for i, (_, ln) in enumerate(fields)])
    rec = np.zeros(n, dt)
    for i, (ie, _) in enumerate(fields):
        name = f"f{i}"
        if ie in (8, 12):
            rec[name] = (10 << 24) + rng.integers(0, 1 << 16, n)
        elif ie in (7, 11):
            rec[name] = rng.integers(1, 65535, n)
        elif ie == 4:
            rec[name] = rng.choice([6, 17, 1], n)
        elif ie == 6:
            rec[name] = rng.integers(0, 64, n)
        elif ie == 2:
            rec[name] = rng.integers(1, 1000, n)
        elif ie == 1:
            rec[name] = rng.integers(40, 1_500_000, n)
        elif ie == 22:
            rec[name] = 3_000_000 - rng.integers(1000, 60_000, n)
        elif ie == 21:
            rec[name] = 3_000_000 - rng.integers(0, 1000, n)
        elif ie == 152:
            rec[name] = now_ms - rng.integers(1000, 60_000, n)
        elif ie == 153:
            rec[name] = now_ms - rng.integers(0, 1000, n)
        else:
            rec[name] = rng.integers(0, 100, n)
    return rec


def datagrams(version: int, total: int, seed: int = 1) -> list[bytes]:
    rng = np.random.default_rng(seed)
    now_s = int(time.time())
    fields = V9_FIELDS if version == 9 else IPFIX_FIELDS
    tpl = struct.pack(">HH", 256, len(fields)) + b"".join(struct.pack(">HH", ie, ln) for ie, ln in fields)
    rec = records(fields, total, rng, now_s * 1000)
    size = rec.dtype.itemsize
    body = rec.tobytes()
    out: list[bytes] = []
    seq = 0

    def message(sets: bytes, count: int) -> bytes:
        if version == 9:
            return struct.pack(">HHIIII", 9, count, 3_000_000, now_s, seq, 0) + sets
        return struct.pack(">HHIII", 10, 16 + len(sets), now_s, seq, 0) + sets

    for k, start in enumerate(range(0, total, PER_DATAGRAM)):
        if k % TEMPLATE_EVERY == 0:
            out.append(message(struct.pack(">HH", 0 if version == 9 else 2, 4 + len(tpl)) + tpl, 1))
        chunk = body[start * size:min(total, start + PER_DATAGRAM) * size]
        n = len(chunk) // size
        out.append(message(struct.pack(">HH", 256, 4 + len(chunk)) + chunk, n))
        seq += n
    return out


def netspot(dgrams: list[bytes]) -> tuple[int, float]:
    q = Quarantine("bench", "netflow-pcap")
    dec = NetflowDecoder(q)
    rows = 0
    t0 = time.perf_counter()
    for i, d in enumerate(dgrams):
        dec.feed(d, "192.0.2.1", 0, f"datagram {i}")
        if dec.pending_rows >= dec.batch_rows:
            while (b := dec.flush()) is not None:
                rows += b.num_rows
    dec.close()
    while (b := dec.flush()) is not None:
        rows += b.num_rows
    return rows, time.perf_counter() - t0


def nfcapd(dgrams: list[bytes]) -> tuple[int, float] | None:
    nfcapd_bin, nfdump_bin = shutil.which("nfcapd"), shutil.which("nfdump")
    if not nfcapd_bin or not nfdump_bin:
        return None
    with tempfile.TemporaryDirectory() as tmp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        proc = subprocess.Popen([nfcapd_bin, "-b", "127.0.0.1", "-p", str(port), "-w", tmp, "-B", "33554432"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
                t0 = time.perf_counter()
                for i, d in enumerate(dgrams):
                    out.sendto(d, ("127.0.0.1", port))
                    if i % 64 == 63:
                        time.sleep(0.0005)  # pace: the socket buffer is the only queue
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        elapsed = time.perf_counter() - t0
        files = [p for p in Path(tmp).rglob("nfcapd.*") if p.is_file()]
        stored = 0
        for f in files:  # stream nfdump's output: 1M CSV lines held in memory would dwarf everything else
            with subprocess.Popen([nfdump_bin, "-r", str(f), "-q", "-o", "csv"], stdout=subprocess.PIPE,
                                  text=True) as dump:
                assert dump.stdout is not None
                stored += sum(1 for line in dump.stdout if line[:1].isdigit())
        return stored, elapsed


def worker(version: int, total: int) -> None:
    """Decode in a fresh process so that its peak RSS is netspot's alone."""
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dgrams = datagrams(version, total)
    rows, secs = netspot(dgrams)
    print(json.dumps({"rows": rows, "secs": secs, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "base": base}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="flow records per case (default 1M)")
    ap.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.records)
        return
    print("| case | records | netspot s | records/s | reference (nfcapd over loopback) s | ratio ref/netspot "
          "| netspot peak RSS MiB (incl. the synthetic datagrams) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for version, name in ((9, "NetFlow v9"), (10, "IPFIX")):
        res = subprocess.run([sys.executable, __file__, "--worker", str(version), "--records", str(args.records)],
                             capture_output=True, text=True, check=True)
        stats = json.loads(res.stdout)
        rows, secs, rss = stats["rows"], stats["secs"], stats["rss"]
        dgrams = datagrams(version, args.records)
        ref = nfcapd(dgrams)
        ref_text, ratio = ("n/a", "n/a") if ref is None else (f"{ref[1]:.2f} ({ref[0]} stored)", f"{ref[1] / secs:.2f}")
        print(f"| {name}, {PER_DATAGRAM} records/datagram, {len(dgrams)} datagrams | {rows} | {secs:.2f} | "
              f"{rows / secs:,.0f} | {ref_text} | {ratio} | {rss:.0f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
