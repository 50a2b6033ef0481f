"""Random bytes and random rows into the delimited-text tokenizer: spans stay inside, fields match str.split."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from netspot.ingest._delimited import read_chunks, tokenize

DELIMS = st.sampled_from([b",", b"\t"])
FIELD = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n,\t"), max_size=12)


@settings(max_examples=300, deadline=2000)
@given(data=st.binary(max_size=600), delim=DELIMS, ncols=st.integers(1, 12))
def test_random_bytes_give_spans_inside_their_line(data: bytes, delim: bytes, ncols: int) -> None:
    tok = tokenize(np.frombuffer(data, np.uint8), ord(delim), ncols)
    assert tok.n == data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    for k in range(ncols):
        starts, ends = tok.span(k)
        assert (tok.line_start <= starts).all() and (starts <= ends).all() and (ends <= tok.line_end).all()
    assert (tok.line_end <= len(data)).all()
    assert tok.clean == bool((tok.nfields == ncols).all())


@settings(max_examples=300, deadline=2000)
@given(
    rows=st.lists(st.lists(FIELD, min_size=1, max_size=8), max_size=20),
    delim=DELIMS,
    ncols=st.integers(1, 8),
    crlf=st.booleans(),
    last_newline=st.booleans(),
)
def test_fields_agree_with_str_split(
    rows: list[list[str]], delim: bytes, ncols: int, crlf: bool, last_newline: bool
) -> None:
    lines = [delim.decode().join(r) for r in rows]
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if lines and last_newline else "")
    tok = tokenize(np.frombuffer(text.encode(), np.uint8), ord(delim), ncols)
    want = [line.removesuffix("\r").split(delim.decode()) for line in text.split("\n")]
    if text.endswith("\n") or not text:
        want = want[:-1]
    assert tok.n == len(want)
    assert tok.nfields.tolist() == [len(w) for w in want]
    spans = [tok.span(k) for k in range(ncols)]
    for i, w in enumerate(want):
        got = [tok.data[s[i] : e[i]].tobytes().decode() for s, e in spans]
        if len(w) >= ncols:
            expected = [*w[: ncols - 1], delim.decode().join(w[ncols - 1 :])]
        else:
            expected = w + [""] * (ncols - len(w))
        assert got == expected


@settings(max_examples=100, deadline=2000)
@given(data=st.binary(max_size=2000), chunk=st.integers(1, 64))
def test_chunks_put_back_together_are_the_input(data: bytes, chunk: int) -> None:
    chunks = [c.tobytes() for c in read_chunks(io.BytesIO(data), chunk_bytes=chunk)]
    assert b"".join(chunks) == data
    assert all(c.endswith(b"\n") for c in chunks[:-1])
