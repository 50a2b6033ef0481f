"""``netspot collect --listen``: NetFlow v5 datagrams sent over loopback land in the store."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

from netspot.simulate.netflow import v5_datagram
from tests.e2e.test_cli import NETSPOT, run

EXPORT_SECS = 1_723_800_000  # 2024-08-16 09:20:00 UTC
UPTIME_MS = 50_000


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_collect_stores_flows_received_over_udp(tmp_path: Path) -> None:
    port = free_udp_port()
    store = tmp_path / "store"
    env = {**os.environ, "NETSPOT_STORE": str(store), "NETSPOT_LISTEN_FLUSH_S": "0.5"}
    proc = subprocess.Popen([*NETSPOT, "collect", "--listen", f"127.0.0.1:{port}", "--duration", "6"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(2.5)  # the listener is up once the interpreter has started
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for seq in range(10):
                flows = [(f"10.0.0.{seq + 1}", "192.0.2.7", 40000 + i, 443, 3, 180) for i in range(20)]
                s.sendto(v5_datagram(flows, EXPORT_SECS, UPTIME_MS, seq * 20), ("127.0.0.1", port))
            s.sendto(b"\x00\x05garbage", ("127.0.0.1", port))
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stored 200 flows" in out
    got = json.loads(run("query", "--output", "json",
                         "SELECT count(*) AS n, sum(ibyt) AS b, min(ts) AS t, any_value(rip) AS rip FROM flow",
                         store=store).stdout)
    assert (got["n"], got["b"], got["rip"]) == (200, 200 * 180, "127.0.0.1")
    assert got["t"].startswith("2024-08-16 09:19:58")  # export time - (uptime - first switched) = 09:20:00 - 2 s
    q = json.loads(run("query", "--output", "json", "SELECT count(*) AS n FROM quarantine", store=store).stdout)
    assert q["n"] == 1
