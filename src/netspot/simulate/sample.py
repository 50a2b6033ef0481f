"""A small, deterministic sample day of a 60-host organisation, with a few labelled attacks.

It is the data behind ``netspot demo`` and the end-to-end tests: one file per data type in
a real input format — nfdump CSV (flows), a DNS pcap, a Squid access.log (proxy), an OpenSSH
auth log and ECS JSON lines (events) — plus ``_labels.json`` naming the attacks in it:

- ``beacon``: 10.0.0.66 calls 185.100.87.202:443 every 60 s (±5 %), 1.2 kB each way;
- ``scan``: 10.0.0.99 probes 10.0.1.1-254 on 445/tcp with single SYNs;
- ``dns-tunnel``: 10.0.0.77 sends long base32 TXT queries under ``t.exfil-cdn.net``;
- ``ssh-bruteforce``: 45.77.1.2 fails 40 passwords for root on 10.0.1.22, then logs in.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import struct
from pathlib import Path

import numpy as np

from netspot.simulate.pcap import eth, ipv4, pcap_file, udp

__all__ = ["write_sample"]

_NFDUMP_HEADER = (
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,"
    "ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"
)
_SERVICES = np.array([(443, "TCP"), (80, "TCP"), (53, "UDP"), (22, "TCP"), (445, "TCP"), (3389, "TCP"),
                      (123, "UDP"), (8080, "TCP")], dtype=object)
_SERVICE_P = np.array([0.55, 0.15, 0.12, 0.03, 0.06, 0.02, 0.04, 0.03])
_DOMAINS = ["google.com", "microsoft.com", "office365.com", "github.com", "slack.com", "zoom.us", "apple.com",
            "amazonaws.com", "cloudflare.com", "wikipedia.org", "example.org", "bbc.co.uk"]
_AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
           "Microsoft-CryptoAPI/10.0"]


def _hours(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day with a diurnal curve (busy 8-18 h)."""
    weights = np.array([1, 1, 1, 1, 1, 2, 3, 6, 10, 12, 12, 11, 9, 11, 12, 12, 11, 8, 5, 3, 2, 2, 1, 1], float)
    hours = rng.choice(24, size=n, p=weights / weights.sum())
    return np.sort(hours * 3600 + rng.integers(0, 3600, size=n))


def _flows(rng: np.random.Generator, day: dt.datetime, n: int) -> list[str]:
    clients = [f"10.0.0.{i}" for i in range(10, 60)]
    externals = [f"{a}.{b}.{c}.{d}" for a, b, c, d in rng.integers(1, 223, size=(80, 4))]
    secs = _hours(rng, n)
    svc = rng.choice(len(_SERVICES), size=n, p=_SERVICE_P)
    rows = []
    for t, s in zip(secs.tolist(), svc.tolist(), strict=True):
        port, proto = _SERVICES[s]
        pkts = int(rng.integers(1, 40))
        rows.append((t, float(rng.exponential(2.0)), clients[int(rng.integers(len(clients)))],
                     externals[int(rng.integers(len(externals)))], int(rng.integers(32768, 61000)), port, proto,
                     pkts, pkts * int(rng.integers(60, 1400))))
    beacon_t = 0.0
    while beacon_t < 86_000:  # the beacon
        sport = int(rng.integers(32768, 61000))
        rows.append((beacon_t, 0.4, "10.0.0.66", "185.100.87.202", sport, 443, "TCP", 8, 1200))
        beacon_t += 60 * (1 + rng.uniform(-0.05, 0.05))
    for i in range(1, 255):  # the scan, at 14:00
        rows.append((14 * 3600 + i * 0.5, 0.0, "10.0.0.99", f"10.0.1.{i}", 51000 + i, 445, "TCP", 1, 60))
    rows.sort(key=lambda r: r[0])
    base = day.timestamp()
    out = [_NFDUMP_HEADER]
    for t, td, sa, da, sp, dp, pr, pk, by in rows:
        ts = dt.datetime.fromtimestamp(base + t, dt.UTC)
        te = ts + dt.timedelta(seconds=td)
        flg = "...AP.SF" if pr == "TCP" and pk > 1 else ("......S." if pr == "TCP" else "........")
        out.append(f"{ts:%Y-%m-%d %H:%M:%S},{te:%Y-%m-%d %H:%M:%S},{td:.3f},{sa},{da},{sp},{dp},{pr},{flg},0,0,"
                   f"{pk},{by},0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,"
                   "00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,"
                   "0-0-0,0.000,0.000,0.000,10.0.1.1,0/0,1,1970-01-01 00:00:00.000")
    return out


def _dns_message(qid: int, name: str, qtype: int, answer_ip: bytes | None, txt: bytes | None) -> bytes:
    flags = 0x8180 if (answer_ip or txt) else 0x0100
    qd = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00" + struct.pack("!HH", qtype, 1)
    answers = b""
    if answer_ip is not None:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + answer_ip
    elif txt is not None:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 0, len(txt) + 1) + bytes([len(txt)]) + txt
    return struct.pack("!HHHHHH", qid, flags, 1, 1 if answers else 0, 0, 0) + qd + answers


def _dns(rng: np.random.Generator, day: dt.datetime, path: Path, n: int) -> None:
    base_us = int(day.timestamp() * 1_000_000)
    events: list[tuple[int, str, str, int, bytes | None, bytes | None]] = []
    for t in _hours(rng, n).tolist():
        client = f"10.0.0.{int(rng.integers(10, 60))}"
        name = f"www.{_DOMAINS[int(rng.integers(len(_DOMAINS)))]}"
        addr = bytes(int(x) for x in rng.integers(1, 223, size=4))
        events.append((t, client, name, 1, addr, None))
    for i in range(400):  # the tunnel: 10.0.0.77, 22:00-22:40
        chunk = base64.b32encode(rng.bytes(30)).decode().rstrip("=").lower()
        events.append((22 * 3600 + i * 6, "10.0.0.77", f"{chunk[:40]}.{chunk[40:]}.t.exfil-cdn.net", 16, None,
                       base64.b64encode(rng.bytes(24))))
    events.sort(key=lambda e: e[0])
    packets = []
    for qid, (t, client, name, qtype, ip, txt) in enumerate(events):
        sport = 1024 + qid % 60000
        ns = (base_us + t * 1_000_000 + qid % 1000) * 1000
        query = _dns_message(qid & 0xFFFF, name, qtype, None, None)
        answer = _dns_message(qid & 0xFFFF, name, qtype, ip, txt)
        packets.append((ns, eth(ipv4(udp(query, sport, 53), client, "10.0.1.53"))))
        packets.append((ns + 800_000, eth(ipv4(udp(answer, 53, sport), "10.0.1.53", client))))
    path.write_bytes(pcap_file(packets))


def _squid(rng: np.random.Generator, day: dt.datetime, n: int) -> list[str]:
    lines = []
    for t in _hours(rng, n).tolist():
        client = f"10.0.0.{int(rng.integers(10, 60))}"
        host = f"www.{_DOMAINS[int(rng.integers(len(_DOMAINS)))]}"
        path = rng.choice(["/", "/index.html", "/api/v1/items", "/static/app.js", "/images/logo.png"])
        status = int(rng.choice([200, 200, 200, 304, 404]))
        size = int(rng.integers(200, 90_000))
        ctype = "text/html" if str(path).endswith(("/", ".html")) else "application/octet-stream"
        lines.append(f"{day.timestamp() + t:.3f} {int(rng.integers(5, 900))} {client} TCP_MISS/{status} {size} GET "
                     f"http://{host}{path} - HIER_DIRECT/93.184.216.34 {ctype}")
    for i in range(30):  # obfuscated C2 over HTTP from 10.0.0.66
        blob = base64.urlsafe_b64encode(rng.bytes(90)).decode()
        lines.append(f"{day.timestamp() + 3 * 3600 + i * 120:.3f} 40 10.0.0.66 TCP_MISS/200 310 POST "
                     f"http://185.100.87.202/gate.php?id={blob} - HIER_DIRECT/185.100.87.202 text/plain")
    lines.sort(key=lambda line: float(line.split(" ", 1)[0]))
    return lines


def _sshd(rng: np.random.Generator, day: dt.datetime) -> list[str]:
    lines = []
    pid = 2000

    def stamp(t: float) -> str:
        when = dt.datetime.fromtimestamp(day.timestamp() + t, dt.UTC)
        return when.isoformat()  # rsyslog's RFC 3339 form: classic syslog stamps carry no year

    for t in _hours(rng, 60).tolist():
        pid += 1
        user = ["alice", "bob", "carol"][pid % 3]
        lines.append((t, f"{stamp(t)} srv22 sshd[{pid}]: Accepted publickey for {user} from 10.0.0.{pid % 50 + 10} "
                         f"port {40000 + pid} ssh2"))
    for i in range(40):  # brute force at 02:00, then success
        t = 2 * 3600 + i * 3
        lines.append((t, f"{stamp(t)} srv22 sshd[{5000 + i}]: Failed password for root from 45.77.1.2 port "
                         f"{50000 + i} ssh2"))
    lines.append((2 * 3600 + 130, f"{stamp(2 * 3600 + 130)} srv22 sshd[5100]: Accepted password for root from "
                                   "45.77.1.2 port 50100 ssh2"))
    lines.sort()
    return [line for _, line in lines]


def _events(rng: np.random.Generator, day: dt.datetime) -> list[str]:
    out = []
    for t in _hours(rng, 100).tolist():
        when = dt.datetime.fromtimestamp(day.timestamp() + t, dt.UTC)
        out.append(json.dumps({
            "@timestamp": when.isoformat().replace("+00:00", "Z"),
            "event": {"category": "network", "action": "firewall_deny", "outcome": "failure"},
            "source": {"ip": f"203.0.113.{int(rng.integers(1, 255))}", "port": int(rng.integers(1024, 65535))},
            "destination": {"ip": "10.0.1.80", "port": int(rng.choice([23, 1433, 3389]))},
            "network": {"transport": "tcp"}, "host": {"name": "fw01"},
        }))
    return out


def write_sample(folder: Path, day: str = "2024-08-16", flows: int = 20_000, seed: int = 7) -> dict[str, Path]:
    """Write the sample day into ``folder``; the files written, by data type.

    Examples
    --------
    >>> import tempfile
    >>> files = write_sample(Path(tempfile.mkdtemp()), flows=100)
    >>> sorted(files)
    ['dns', 'event', 'flow', 'labels', 'proxy', 'sshd']
    """
    rng = np.random.default_rng(seed)
    start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "flow": folder / "flows.nfdump.csv",
        "dns": folder / "dns.pcap",
        "proxy": folder / "access.log",
        "sshd": folder / "auth.log",
        "event": folder / "firewall.ecs.json",
        "labels": folder / "_labels.json",  # "_" and "." files are metadata: netspot ingest skips them
    }
    files["flow"].write_text("\n".join(_flows(rng, start, flows)) + "\n")
    _dns(rng, start, files["dns"], max(flows // 10, 50))
    files["proxy"].write_text("\n".join(_squid(rng, start, max(flows // 10, 50))) + "\n")
    files["sshd"].write_text("\n".join(_sshd(rng, start)) + "\n")
    files["event"].write_text("\n".join(_events(rng, start)) + "\n")
    files["labels"].write_text(json.dumps([
        {"attack": "beacon", "src": "10.0.0.66", "dst": "185.100.87.202", "dport": 443, "period_s": 60},
        {"attack": "scan", "src": "10.0.0.99", "dst": "10.0.1.0/24", "dport": 445, "start": f"{day}T14:00:00Z"},
        {"attack": "dns-tunnel", "src": "10.0.0.77", "domain": "t.exfil-cdn.net", "qtype": "TXT"},
        {"attack": "ssh-bruteforce", "src": "45.77.1.2", "dst": "10.0.1.22", "user": "root", "failures": 40},
    ], indent=2))
    return files
