"""Render Zeek http.log rows as Squid (native, combined) and Bluecoat ELFF proxy logs, plus hand-made rows.

Run from the repository root: ``python tests/data/proxy/make_fixtures.py [path/to/http.log]``. The default input
is ../shared/datasets/c2/zeek/005-simda-dga-ctu-botnet-355-1/http.log (Simda DGA HTTP C2, relative timestamps,
taken as offsets from 2018-05-14 16:27:31 UTC, the log's #open). The first ``ROWS`` data rows are rendered; then
the hand-made rows in ``EXTRA_*`` are appended (CONNECT, queries, IPv6, a peer that is a name, bad lines).

Derived values, since http.log has none: Squid elapsed ms = ``(row * 37) % 900``; Squid action = TCP_MISS, or
NONE when Zeek saw no status (status 000); Bluecoat time-taken as Squid's elapsed, sc-filter-result OBSERVED,
s-action TCP_NC_MISS.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parents[3] / "shared/datasets/c2/zeek/005-simda-dga-ctu-botnet-355-1/http.log"
BASE = 1526315251  # 2018-05-14 16:27:31 UTC
ROWS = 60

BLUECOAT_FIELDS = (
    "date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result cs-categories "
    "cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path "
    "cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id "
    "x-bluecoat-application-name x-bluecoat-application-operation"
)

EXTRA_NATIVE = [
    "# a comment line",
    "",
    "1526315400.123     15 10.1.2.3 TCP_TUNNEL/200 4388 CONNECT secure.example.org:443 alice "
    "HIER_DIRECT/93.184.216.34 -",
    "1526315401.000    120 fd77::1 TCP_HIT/200 1200 GET https://cdn.example.net:8443/a/b/logo.png?v=2&x=y - "
    "FIRSTUP_PARENT/parent.proxy.local image/png",
    "1526315402.500      0 10.1.2.3 TCP_DENIED/403 3950 GET http://blocked.example.com/ - HIER_NONE/- text/html",
    "this is not a squid line",
]
EXTRA_COMBINED = [
    '10.1.2.3 - alice [14/May/2018:18:30:00 +0200] "CONNECT secure.example.org:443 HTTP/1.1" 200 4388 "-" "-" '
    "TCP_TUNNEL:HIER_DIRECT",
    '10.1.2.4 - - [14/May/2018:16:30:01 +0000] "GET https://cdn.example.net:8443/a/b/logo.png?v=2&x=y HTTP/1.1" '
    '200 1200 "http://ref.example/" "Mozilla/5.0 (X11; Linux)" TCP_HIT:FIRSTUP_PARENT',
    '10.1.2.5 - - [32/May/2018:16:30:01 +0000] "GET http://bad.example/ HTTP/1.1" 200 1 "-" "-" TCP_MISS:HIER_DIRECT',
    "garbage",
]
EXTRA_BLUECOAT = [
    '2018-05-14 16:30:00 15 10.1.2.3 alice "CN=Users,DC=corp" - PROXIED "Technology/Internet;Business" '
    '"http://ref.example/" 200 TCP_HIT GET text/html http www.example.com 80 /index.html ?a=1&b=2 html '
    '"Mozilla/5.0 (Windows NT 10.0; Win64)" 10.0.0.1 5120 310 - "Google Search" "Search"',
    '2018-05-14 16:30:01 9 10.1.2.3 - - - DENIED "Malicious Sources" - 403 TCP_DENIED CONNECT - tcp '
    "bad.example.net 443 / - - - 10.0.0.1 0 120 EICAR - -",
    "2018-05-14 16:30:02 9 10.1.2.3 too few fields",
    '2018-13-14 16:30:03 9 10.1.2.3 - - - OBSERVED - - 200 TCP_MISS GET - http x.example 80 / - - - 10.0.0.1 '
    "abc 1 - - -",
]


def zeek_rows(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    names = next(line for line in lines if line.startswith("#fields")).split("\t")[1:]
    rows = [dict(zip(names, line.split("\t"), strict=True)) for line in lines if not line.startswith("#")]
    return rows[:ROWS]


def dash(value: str) -> str:
    return "-" if value in ("", "-", "(empty)") else value


def native(i: int, r: dict[str, str]) -> str:
    status = r["status_code"] if r["status_code"] != "-" else "000"
    action = "TCP_MISS" if status != "000" else "NONE"
    ts = BASE + float(r["ts"])
    return (f"{ts:.3f} {(i * 37) % 900:6d} {r['id.orig_h']} {action}/{status} {r['response_body_len']} {r['method']} "
            f"http://{r['host']}{r['uri']} - HIER_DIRECT/{r['id.resp_h']} {dash(r['resp_mime_types'])}")


def combined(i: int, r: dict[str, str]) -> str:
    status = r["status_code"] if r["status_code"] != "-" else "000"
    action = "TCP_MISS" if status != "000" else "NONE"
    when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(BASE + float(r["ts"])))
    return (f'{r["id.orig_h"]} - - [{when}] "{r["method"]} http://{r["host"]}{r["uri"]} HTTP/{r["version"]}" '
            f'{status} {r["response_body_len"]} "{dash(r["referrer"])}" "{dash(r["user_agent"])}" '
            f"{action}:HIER_DIRECT")


def bluecoat(i: int, r: dict[str, str]) -> str:
    t = BASE + float(r["ts"])
    path, _, query = r["uri"].partition("?")
    ext = path.rsplit(".", 1)[1] if "." in path.rsplit("/", 1)[-1] else "-"
    fields = [
        time.strftime("%Y-%m-%d", time.gmtime(t)), time.strftime("%H:%M:%S", time.gmtime(t)), str((i * 37) % 900),
        r["id.orig_h"], "-", "-", "-", "OBSERVED", '"unavailable"', f'"{dash(r["referrer"])}"',
        r["status_code"] if r["status_code"] != "-" else "0", "TCP_NC_MISS", r["method"],
        dash(r["resp_mime_types"]), "http", r["host"], "80", path, f"?{query}" if query else "-", ext,
        f'"{dash(r["user_agent"])}"', r["id.resp_h"], r["response_body_len"], r["request_body_len"], "-", '"none"',
        '"none"',
    ]
    return " ".join(fields)


def main(src: Path) -> None:
    rows = zeek_rows(src)
    (HERE / "squid-native.log").write_text(
        "\n".join([native(i, r) for i, r in enumerate(rows)] + EXTRA_NATIVE) + "\n")
    (HERE / "squid-combined.log").write_text(
        "\n".join([combined(i, r) for i, r in enumerate(rows)] + EXTRA_COMBINED) + "\n")
    header = ["#Software: SGOS 6.7.4.1", "#Version: 1.0", "#Date: 2018-05-14 16:27:31", f"#Fields: {BLUECOAT_FIELDS}"]
    body = [bluecoat(i, r) for i, r in enumerate(rows)] + EXTRA_BLUECOAT
    (HERE / "bluecoat.log").write_text("\n".join(header + body) + "\n")
    (HERE / "bluecoat-noheader.log").write_text("\n".join(body) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
