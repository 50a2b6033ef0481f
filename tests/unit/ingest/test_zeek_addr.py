"""Zeek addr validation agrees with Python's ipaddress on real and random addresses."""

from __future__ import annotations

import ipaddress

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from netspot.ingest._zeek_addr import invalid_addrs


def _python_says_valid(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.ip_addresses().map(str), st.ip_addresses(v=6).map(lambda a: a.exploded)), max_size=20))
def test_every_address_python_formats_is_accepted(addrs: list[str]) -> None:
    assert invalid_addrs(pa.array(addrs, pa.string())).tolist() == []


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abcdefABCDEF:.%", max_size=45), max_size=20))
def test_random_address_like_text_is_judged_as_ipaddress_judges_it(texts: list[str]) -> None:
    bad = set(invalid_addrs(pa.array(texts, pa.string())).tolist())
    for i, text in enumerate(texts):
        if "%" in text or any(p.startswith("0") and len(p) > 1 for p in text.split(".")[-4:] if p.isdigit()):
            continue  # zone ids and leading-zero octets: ipaddress is stricter than Zeek needs
        assert (i not in bad) == _python_says_valid(text), text


def test_nulls_are_not_invalid_and_zone_ids_are_allowed() -> None:
    a = pa.array([None, "fe80::1%eth0", "fe80::1%", "10.0.0.1%eth0"], pa.string())
    assert invalid_addrs(a).tolist() == [2, 3]


def test_a_sliced_array_is_read_at_its_offset() -> None:
    a = pa.array(["bad", "10.0.0.1", "nope", "::1"], pa.string()).slice(1, 3)
    assert invalid_addrs(a).tolist() == [1]
