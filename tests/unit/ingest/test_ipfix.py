"""IPFIX/v9 template handling on hand-built messages: withdrawal, redefinition, held data, enterprise and
reverse elements, variable-length fields, time encodings."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pyarrow as pa

from netspot.ingest.flow.netflow import NetflowDecoder
from netspot.ingest.quarantine import Quarantine

EXPORT_S = 1_700_000_000


def msg(*sets: bytes, domain: int = 1) -> bytes:
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), EXPORT_S, 0, domain) + body


def set_(sid: int, body: bytes) -> bytes:
    return struct.pack(">HH", sid, 4 + len(body)) + body


def tpl(tid: int, *fields: tuple[int, int] | tuple[int, int, int]) -> bytes:
    out = struct.pack(">HH", tid, len(fields))
    for f in fields:
        out += struct.pack(">HH", f[0] | (0x8000 if len(f) == 3 else 0), f[1])
        if len(f) == 3:
            out += struct.pack(">I", f[2])
    return out


BASIC = ((8, 4), (12, 4), (4, 1), (2, 4), (1, 4), (152, 8))


def rec(src: int, dst: int, proto: int, pkts: int, octets: int, ms: int) -> bytes:
    return struct.pack(">IIBIIQ", src, dst, proto, pkts, octets, ms)


def run(*messages: bytes, hold: int = 1024) -> tuple[pa.Table, Quarantine]:
    q = Quarantine("t", "netflow-pcap")
    dec = NetflowDecoder(q, hold_per_exporter=hold)
    for i, m in enumerate(messages):
        dec.feed(m, "192.0.2.9", 0, f"datagram {i}")
    dec.close()
    batches = []
    while (b := dec.flush()) is not None:
        batches.append(b)
    return (pa.Table.from_batches(batches) if batches else pa.table({})), q


T0 = EXPORT_S * 1000 - 5000
A, B = 0x0A000001, 0x0A000002


def test_basic_record_maps_addresses_counters_and_millisecond_start() -> None:
    table, q = run(msg(set_(2, tpl(256, *BASIC)), set_(256, rec(A, B, 6, 3, 180, T0))))
    r = table.to_pylist()[0]
    assert (r["sip"], r["dip"], r["proto"], r["ipkt"], r["ibyt"], r["source"]) == ("10.0.0.1", "10.0.0.2", "TCP", 3,
                                                                                  180, "ipfix")
    assert r["ts"] == datetime.fromtimestamp(T0 / 1000, UTC)
    assert r["rip"] == "192.0.2.9"
    assert q.total == 0


def test_withdrawn_template_is_not_used_and_later_data_is_held_then_quarantined() -> None:
    table, q = run(msg(set_(2, tpl(256, *BASIC))), msg(set_(2, struct.pack(">HH", 256, 0))),
                   msg(set_(256, rec(A, B, 6, 1, 1, T0))))
    assert table.num_rows == 0
    assert q.counts == {"no_template": 1}


def test_redefined_template_decodes_later_data_with_the_new_layout() -> None:
    table, _ = run(msg(set_(2, tpl(256, *BASIC)), set_(256, rec(A, B, 6, 1, 100, T0))),
                   msg(set_(2, tpl(256, (12, 4), (8, 4), (4, 1), (2, 4), (1, 4), (152, 8))),
                       set_(256, rec(A, B, 17, 2, 200, T0))))
    rows = sorted(table.to_pylist(), key=lambda r: r["ibyt"])
    assert [(r["sip"], r["dip"], r["proto"]) for r in rows] == [("10.0.0.1", "10.0.0.2", "TCP"),
                                                                ("10.0.0.2", "10.0.0.1", "UDP")]


def test_templates_are_per_observation_domain() -> None:
    table, q = run(msg(set_(2, tpl(256, *BASIC)), domain=1), msg(set_(256, rec(A, B, 6, 1, 1, T0)), domain=2))
    assert table.num_rows == 0
    assert q.counts == {"no_template": 1}


def test_held_sets_beyond_the_cap_quarantine_the_oldest_first() -> None:
    data = [msg(set_(256 + i, rec(A, B, 6, 1, i, T0))) for i in range(3)]
    table, q = run(*data, msg(set_(2, tpl(258, *BASIC))), hold=2)
    assert table.column("ibyt").to_pylist() == [2]  # the set for 258 was held and decoded
    rows = q.drain()
    assert rows is not None
    assert [(r["locator"], r["reason"]) for r in rows.to_pylist()] == [
        ("datagram 0 set at offset 16", "no_template"), ("datagram 1 set at offset 16", "no_template")]


def test_enterprise_fields_are_skipped_and_reverse_counters_fill_the_out_columns() -> None:
    t = tpl(256, *BASIC, (1, 4, 29305), (2, 4, 29305), (7, 3, 9999))
    body = rec(A, B, 6, 3, 180, T0) + struct.pack(">II", 900, 7) + b"xyz"
    table, _ = run(msg(set_(2, t), set_(256, body)))
    r = table.to_pylist()[0]
    assert (r["ipkt"], r["ibyt"], r["opkt"], r["obyt"]) == (3, 180, 7, 900)
    assert not any(k.startswith("e9999") for k, _ in r["extra"])


def test_variable_length_string_field_lands_in_extra() -> None:
    t = tpl(256, *BASIC, (82, 65535))
    body = rec(A, B, 6, 1, 1, T0) + b"\x04eth0" + rec(B, A, 6, 1, 2, T0) + b"\xff\x00\x02lo"
    table, q = run(msg(set_(2, t), set_(256, body)))
    assert sorted(dict(r["extra"])["interfaceName"] for r in table.to_pylist()) == ["eth0", "lo"]
    assert q.total == 0


def test_ntp_microsecond_times_and_sysuptime_with_init_time_from_options() -> None:
    ntp = ((T0 // 1000 + 2_208_988_800) << 32) | (1 << 31)  # + 0.5 s
    t1 = tpl(256, (8, 4), (12, 4), (154, 8))
    opt = struct.pack(">HHH", 300, 2, 1) + struct.pack(">HHHH", 149, 4, 160, 8)
    t2 = tpl(257, (8, 4), (12, 4), (22, 4), (21, 4))
    table, q = run(msg(set_(2, t1), set_(256, struct.pack(">IIQ", A, B, ntp))),
                   msg(set_(3, opt), set_(300, struct.pack(">IQ", 1, T0 - 60_000))),
                   msg(set_(2, t2), set_(257, struct.pack(">IIII", B, A, 60_000, 61_000))))
    rows = {r["sip"]: r for r in table.to_pylist()}
    assert rows["10.0.0.1"]["ts"] == datetime.fromtimestamp((T0 // 1000 * 1000 + 500) / 1000, UTC)
    assert rows["10.0.0.2"]["ts"] == datetime.fromtimestamp(T0 / 1000, UTC)
    assert rows["10.0.0.2"]["td"] == 1.0
    assert q.skipped["options data record"] == 1


def test_set_length_overrunning_the_message_is_quarantined_with_the_datagram() -> None:
    bad = msg(set_(2, tpl(256, *BASIC)))[:-4]
    bad = bad[:2] + struct.pack(">H", len(bad)) + bad[4:]
    table, q = run(bad)
    rows = q.drain()
    assert rows is not None
    r = rows.to_pylist()[0]
    assert (r["reason"], r["raw"]) == ("malformed", bad)
    assert "overruns the message" in r["detail"]
    assert table.num_rows == 0


def test_template_with_zero_fields_in_v9_is_malformed() -> None:
    v9 = struct.pack(">HHIIII", 9, 1, 1000, EXPORT_S, 0, 0) + struct.pack(">HHHH", 0, 8, 256, 0)
    _, q = run(v9)
    rows = q.drain()
    assert rows is not None
    assert rows.to_pylist()[0]["detail"] == "template 256 has zero fields"
