"""Text columns and the extra map gathered from TSV field ends agree with the per-column span path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from netspot.ingest._delimited import gather, tokenize
from netspot.ingest._extra import span_map
from netspot.ingest._zeek_gather import extra_column, text_columns

_VALUE = st.sampled_from(["-", "(empty)", "", "x", "10.0.0.1", "Benign", "a,b", "ShADadFf", "é"])


def _table(lines: list[list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.frombuffer("".join("\t".join(v) + "\n" for v in lines).encode(), np.uint8)
    tok = tokenize(data, 9, len(lines[0]))
    state = np.array([[0 if v == "-" else 2 if v == "(empty)" else 1 for v in line] for line in lines], np.uint8)
    return tok, state, np.arange(tok.n)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5).flatmap(lambda k: st.lists(st.lists(_VALUE, min_size=k, max_size=k), min_size=1,
                                                      max_size=20)))
def test_extra_map_from_field_ends_equals_the_span_map(lines: list[list[str]]) -> None:
    tok, state, rows = _table(lines)
    k = len(lines[0])
    names = [f"c{j}" for j in range(k)]
    valid = (state != 0).T.copy()
    starts = np.empty((k, tok.n), np.int32)
    ends = np.empty((k, tok.n), np.int32)
    for j in range(k):
        starts[j], ends[j] = tok.span(j)
    ends = np.where(state.T == 2, starts, ends)
    want = span_map(names, valid, starts, ends, tok.data).to_pylist()
    assert extra_column(names, tok.data, tok.ends, tok.line_start, rows, np.arange(k), state).to_pylist() == want


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5).flatmap(lambda k: st.lists(st.lists(_VALUE, min_size=k, max_size=k), min_size=1,
                                                      max_size=20)))
def test_text_columns_are_null_when_unset_and_empty_for_the_empty_marker(lines: list[list[str]]) -> None:
    tok, state, rows = _table(lines)
    k = len(lines[0])
    keep_marker = np.arange(k) % 2 == 1  # odd columns are sets: the marker stays as text
    got = text_columns(tok.data, tok.ends, tok.line_start, rows, np.arange(k), ~keep_marker, state)
    for j in range(k):
        want = [None if v == "-" else "" if v == "(empty)" and not keep_marker[j] else v for v in
                (line[j] for line in lines)]
        assert got[j].to_pylist() == want
        assert gather(tok.data, *tok.span(j)).to_pylist() == [line[j] for line in lines]


def test_a_subset_of_rows_is_gathered_in_the_order_given() -> None:
    tok, state, _ = _table([["a", "1"], ["b", "-"], ["c", "3"]])
    rows = np.array([2, 0])
    assert text_columns(tok.data, tok.ends, tok.line_start, rows, np.array([0, 1]), np.ones(2, np.bool_),
                        state[rows])[1].to_pylist() == ["3", "1"]
    assert extra_column(["k"], tok.data, tok.ends, tok.line_start, rows, np.array([1]), state[rows]).to_pylist() \
        == [[("k", "3")], [("k", "1")]]
