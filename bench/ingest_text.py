"""Benchmark the text readers (Squid, sshd) against a straightforward per-line Python parser.

Usage: ``python bench/ingest_text.py [--lines 1000000] [--workdir DIR]``

Synthesises ``--lines`` Squid native lines and as many OpenSSH syslog lines, then for
each case runs, in a fresh subprocess (so peak RSS is per run):

* netspot: the registered reader, batches written to Parquet;
* reference: what Apache Spot's ``bluecoat.py`` did, per line in Python (``re`` for
  syslog, ``str.split``/``shlex`` for Squid), rows collected into a list, written to
  Parquet with ``pa.Table.from_pylist``.

Prints a markdown table: case, records, netspot seconds, records/s, reference seconds,
ratio (reference / netspot), peak RSS MiB of each.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SSHD_TEMPLATES = [
    "Failed password for invalid user {u} from {ip} port {p} ssh2",
    "Failed password for {u} from {ip} port {p} ssh2",
    "Invalid user {u} from {ip}",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={u}",
    "Received disconnect from {ip}: 11: Bye Bye [preauth]",
    "Accepted password for {u} from {ip} port {p} ssh2",
    "Connection closed by {ip} [preauth]",
    "reverse mapping checking getaddrinfo for h{p}.example.com [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!",
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def synth(workdir: Path, n: int) -> tuple[Path, Path]:
    rnd = random.Random(7)
    ips = [".".join(str(rnd.randint(1, 223)) for _ in range(4)) for _ in range(500)]
    hosts = [f"{''.join(rnd.choices('abcdefghijklmnop', k=8))}.com" for _ in range(300)]
    users = ["root", "admin", "test", "oracle", "user1", "git", "ubuntu", "fztu"]
    squid = workdir / "access.log"
    with squid.open("w") as fh:
        t = 1526315251.0
        for i in range(n):
            t += rnd.random() * 0.05
            h = rnd.choice(hosts)
            url = f"{h}:443" if i % 10 == 0 else f"http://{h}/p/{i % 97}/f{i % 13}.php?q={i}"
            meth = "CONNECT" if i % 10 == 0 else "GET"
            fh.write(f"{t:.3f} {rnd.randint(0, 5000):6d} 10.0.{i % 7}.{i % 250} TCP_MISS/{rnd.choice((200, 404, 302))} "
                     f"{rnd.randint(0, 90000)} {meth} {url} - HIER_DIRECT/{rnd.choice(ips)} text/html\n")
    sshd = workdir / "auth.log"
    with sshd.open("w") as fh:
        for i in range(n):
            msg = rnd.choice(SSHD_TEMPLATES).format(u=rnd.choice(users), ip=rnd.choice(ips), p=rnd.randint(1024, 65535))
            sec = i // 20
            stamp = f"{(sec // 3600) % 24:02d}:{(sec // 60) % 60:02d}:{sec % 60:02d}"
            fh.write(f"{MONTHS[(sec // 2_592_000) % 12]} {1 + (sec // 86400) % 28:2d} {stamp} "
                     f"host sshd[{1000 + i % 5000}]: {msg}\n")
    return squid, sshd


# ---- the two contenders, run in a child process -------------------------------------------------------------------

def run_netspot(fmt: str, path: Path, out: Path) -> int:
    from netspot.ingest.base import Source
    from netspot.ingest.quarantine import Quarantine
    from netspot.ingest.registry import get_reader
    from netspot.store.dataset import Store

    reader = get_reader(fmt)
    q = Quarantine(str(path), fmt)
    rows = 0
    writer = Store(out.parent / f"store-{fmt}").writer(reader.kind, 1)  # the store's hourly Parquet writer
    for batch in reader.read(Source(path), q):
        writer.write(batch)
        rows += batch.num_rows
    writer.commit()
    return rows


_SYSLOG = re.compile(r"^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\S+) (\w+)\[(\d+)\]: (.*)$")
_FAILED = re.compile(r"^Failed (\S+) for (?:invalid user )?(.*?) from (\S+) port (\d+)")
_ACCEPTED = re.compile(r"^Accepted (\S+) for (.*?) from (\S+) port (\d+)")
_INVALID = re.compile(r"^Invalid user (.*?) from (\S+)")


def run_reference(fmt: str, path: Path, out: Path) -> int:
    """Per-line Python parsing in the style of Spot's ingest workers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: list[dict[str, object]] = []
    with path.open() as fh:
        for line in fh:
            if fmt == "squid":
                f = shlex.split(line) if '"' in line else line.split()
                action, _, status = f[3].partition("/")
                _, _, peer = f[8].partition("/")
                url = f[6]
                scheme, _, rest = url.partition("://") if "://" in url else ("", "", url)
                hostport, _, path_q = rest.partition("/")
                host, _, port = hostport.partition(":")
                p, _, query = path_q.partition("?")
                rows.append({"ts": float(f[0]), "duration": int(f[1]), "clientip": f[2], "action": action,
                             "respcode": int(status), "scbytes": int(f[4]), "reqmethod": f[5], "host": host,
                             "urischeme": scheme, "uriport": int(port) if port else 80, "uripath": "/" + p,
                             "uriquery": query, "username": f[7], "serverip": peer, "resconttype": f[9],
                             "fulluri": host + ("/" + p if len(p) > 0 else "") + ("?" + query if query else "")})
            else:
                m = _SYSLOG.match(line.rstrip("\n"))
                if m is None:
                    continue
                msg = m.group(7)
                action, user, ip, port = "other", None, None, None
                if (a := _FAILED.match(msg)) is not None:
                    action, user, ip, port = "failed_" + a.group(1), a.group(2), a.group(3), int(a.group(4))
                elif (a := _ACCEPTED.match(msg)) is not None:
                    action, user, ip, port = "accepted_" + a.group(1), a.group(2), a.group(3), int(a.group(4))
                elif (a := _INVALID.match(msg)) is not None:
                    action, user, ip = "invalid_user", a.group(1), a.group(2)
                ts = time.mktime(time.strptime(f"2016 {m.group(1)} {m.group(2)} {m.group(3)}", "%Y %b %d %H:%M:%S"))
                rows.append({"ts": ts, "host": m.group(4), "process": m.group(5), "pid": int(m.group(6)),
                             "action": action, "user": user, "src_ip": ip, "src_port": port, "message": msg})
    pq.write_table(pa.Table.from_pylist(rows), out)
    return len(rows)


def child(which: str, fmt: str, path: str, out: str) -> None:
    import pyarrow.parquet  # noqa: F401  (imports are not timed, for either contender)

    import netspot.ingest.registry
    from netspot.ingest.event import sshd  # noqa: F401
    from netspot.ingest.proxy import squid  # noqa: F401

    del netspot
    t0 = time.perf_counter()
    rows = (run_netspot if which == "netspot" else run_reference)(fmt, Path(path), Path(out))
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mib": rss}))


def measure(which: str, fmt: str, path: Path, workdir: Path) -> dict[str, float]:
    out = workdir / f"{which}-{fmt}.parquet"
    res = subprocess.run([sys.executable, __file__, "--child", which, fmt, str(path), str(out)],
                         check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="netspot-bench-"))
    squid, sshd = synth(workdir, args.lines)
    print("| case | records | netspot s | records/s | reference s | ratio | netspot peak RSS MiB "
          "| reference peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for case, fmt, path in (("squid native", "squid", squid), ("sshd syslog", "sshd", sshd)):
        ours = measure("netspot", fmt, path, workdir)
        ref = measure("reference", fmt, path, workdir)
        print(f"| {case} | {ours['rows']:,} | {ours['seconds']:.2f} | {ours['rows'] / ours['seconds']:,.0f} | "
              f"{ref['seconds']:.2f} | {ref['seconds'] / ours['seconds']:.1f}x | {ours['rss_mib']:.0f} | "
              f"{ref['rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
