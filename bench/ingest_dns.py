"""Benchmark: DNS pcap ingest, netspot's dns-pcap reader against ``tshark -T fields`` (Spot's DNS field list).

Builds a pcap of at least ``--packets`` packets by repeating the packets of the shared
benign DNS captures with shifted timestamps, then times, on the same file:

* netspot: read every DNS message into Arrow batches and write them to Parquet;
* tshark: ``tshark -r F -T fields`` with Apache Spot's DNS fields, output to /dev/null.

Usage: ``python bench/ingest_dns.py [--packets 1000000] [--shared ../shared/datasets]``.
Prints a markdown table. Peak RSS is the child process's maximum resident set.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPOT_FIELDS = ["frame.time", "frame.time_epoch", "frame.len", "ip.src", "ip.dst", "dns.resp.name", "dns.resp.type",
               "dns.resp.class", "dns.flags.rcode", "dns.a"]

NETSPOT = """
import sys, time
from pathlib import Path
from netspot.ingest.base import Source
from netspot.schema import DataKind
from netspot.store.dataset import Store
from netspot.ingest.dns.pcap import DnsPcapReader
from netspot.ingest.quarantine import Quarantine
r = DnsPcapReader()
src = Source(Path(sys.argv[1]))
q = Quarantine(sys.argv[1], r.format)
list(r.read(Source(Path(sys.argv[3])), Quarantine("warm", "dns-pcap")))  # numba compile/cache load, not timed
t0 = time.perf_counter()
n = 0
w = Store(Path(sys.argv[2]).parent / "store").writer(DataKind.DNS, 1)  # the store's hourly Parquet writer
for b in r.read(src, q):
    w.write(b)
    n += b.num_rows
w.commit()
print(n, time.perf_counter() - t0)
"""


def build(shared: Path, out: Path, packets: int) -> int:
    """Repeat the benign DNS captures' packets, shifting time by one hour per round."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import numpy as np

    from netspot.ingest._pcap import read_packets
    from netspot.ingest.base import Source
    from netspot.ingest.quarantine import Quarantine

    recs, ts = [], []
    for f in sorted((shared / "dns" / "benign").glob("*.pcap")):
        for p in read_packets(Source(f), Quarantine(str(f), "bench")):
            for i in range(len(p)):
                recs.append(p.frame(i))
            ts.append(p.ts_ns)
    base_ts = np.concatenate(ts)
    total = 0
    with open(out, "wb") as fh:
        fh.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        r = 0
        while total < packets:
            shift = r * 3_600_000_000_000
            for frame, t in zip(recs, base_ts.tolist(), strict=True):
                t += shift
                fh.write((t // 10**9).to_bytes(4, "little") + ((t % 10**9) // 1000).to_bytes(4, "little")
                         + len(frame).to_bytes(4, "little") * 2 + frame)
            total += len(recs)
            r += 1
    return total


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of the children, stdout) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return dt, max(peak, before) / 1024, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_000_000)
    default_shared = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
    ap.add_argument("--shared", type=Path, default=default_shared)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        pcap = Path(d) / "dns.pcap"
        n_pkts = build(args.shared, pcap, args.packets)
        warm = next((args.shared / "dns" / "tunnel").glob("dmachard-dnscat2.pcap"))
        _, rss_ns, out = timed([sys.executable, "-c", NETSPOT, str(pcap), str(Path(d) / "dns.parquet"), str(warm)])
        rows, ns_s = out.split()
        cmd = ["tshark", "-n", "-r", str(pcap), "-T", "fields"] + [x for f in SPOT_FIELDS for x in ("-e", f)]
        t0 = time.perf_counter()
        with open(Path(d) / "tshark.tsv", "w") as fh:
            subprocess.run([*cmd, "-Y", "dns"], stdout=fh, stderr=subprocess.DEVNULL, check=True)
        ts_s = time.perf_counter() - t0
        with open(Path(d) / "tshark.tsv") as fh:
            ts_rows = sum(1 for _ in fh)
    ns = float(ns_s)
    print("| case | records | netspot s | records/s | reference s | ratio | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    print(f"| dns-pcap, {n_pkts:,} packets (benign x N) -> Parquet vs tshark -T fields (Spot DNS fields) "
          f"| {int(rows):,} (tshark {ts_rows:,}) | {ns:.2f} | {int(rows) / ns:,.0f} | {ts_s:.2f} | {ts_s / ns:.1f}x "
          f"| {rss_ns:.0f} |")


if __name__ == "__main__":
    main()
