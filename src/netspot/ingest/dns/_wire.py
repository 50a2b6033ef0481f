"""DNS message decoding in numba (RFC 1035 section 4): header, first question, answer records.

:func:`decode_messages` decodes many messages that sit in one byte buffer and
renders names and answer data as text the way tshark prints them:

* names keep their case; labels are joined by ``.``; ASCII controls are escaped as
  Wireshark's ``format_text`` does (``\\t``, ``\\001``); bytes of 0x80 and above are
  read as UTF-8 sequences by their lead byte, an ill-formed one becomes U+FFFD and a
  non-printable code point ``\\uXXXX``; the root name is ``<Root>``;
* TXT character-strings are concatenated, with control bytes kept and invalid UTF-8
  replaced as for names;
* A and AAAA are addresses; NS, CNAME, PTR, DNAME the name; MX the exchange; SRV the
  target; SOA the primary server; every other type (NULL, KEY, ...) is the rdata in
  lower-case hex, as tshark prints ``dns.null``.

Compression pointers may point anywhere in the message; more than
:data:`MAX_POINTERS` hops in one name is taken as a loop.
"""

from __future__ import annotations

import functools
import unicodedata

import numpy as np
from numba import njit

from netspot.ingest._pcap_text import write_ipv4, write_ipv6

#: Pointer hops allowed in one name before it is called a loop (a 255-byte name has at most 127 labels).
MAX_POINTERS = 128
#: Most text bytes one name can produce: 255 wire bytes, each at worst a 4-byte ``\\ooo`` escape.
NAME_TEXT_MAX = 1100

OK = 0
E_SHORT = 1
E_NAME_END = 2
E_POINTER = 3
E_LOOP = 4
E_LABEL = 5
E_LONG = 6
E_QUESTION = 7
E_RR = 8
E_RDATA = 9
E_ADDR = 10
E_RDATA_SHORT = 11
E_TXT = 12

#: error code -> what broke (the reader adds where, and expected against actual)
ERRORS = {
    E_SHORT: "message shorter than the 12-byte DNS header",
    E_NAME_END: "name runs past the end of the message",
    E_POINTER: "compression pointer points outside the message",
    E_LOOP: f"compression pointers loop (more than {MAX_POINTERS} hops)",
    E_LABEL: "label with reserved type bits (0x40/0x80)",
    E_LONG: "name longer than 255 bytes",
    E_QUESTION: "question type/class run past the end of the message",
    E_RR: "answer record header runs past the end of the message",
    E_RDATA: "answer rdata runs past the end of the message",
    E_ADDR: "A/AAAA rdata of the wrong length",
    E_RDATA_SHORT: "rdata too short for its record type",
    E_TXT: "TXT character-string runs past its rdata",
}

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_HEXU = np.frombuffer(b"0123456789ABCDEF", np.uint8)
_ROOT = np.frombuffer(b"<Root>", np.uint8)
#: C escapes Wireshark's format_text uses for ASCII controls (0 = octal ``\\ooo``)
_CESC = np.zeros(32, np.int64)
for _c, _e in zip(b"\a\b\t\n\v\f\r", b"abtnvfr", strict=True):
    _CESC[_c] = _e


@functools.cache
def printable_table() -> np.ndarray:
    """Code point -> printable, as GLib's g_unichar_isprint (not Cc, Cf, Cn, Cs), from Python's unicodedata."""
    cat = unicodedata.category
    return np.array([cat(chr(u)) not in ("Cc", "Cf", "Cn", "Cs") for u in range(0x110000)], np.bool_)


@njit(cache=True, inline="always")
def _be16(buf: np.ndarray, p: int) -> int:
    return int((np.int64(buf[p]) << 8) | np.int64(buf[p + 1]))


@njit(cache=True)
def _utf8_len(buf: np.ndarray, p: int, end: int) -> int:
    """Length of the valid UTF-8 sequence at ``p`` (> 0), or minus the length of its maximal invalid subpart."""
    c = buf[p]
    if 0xC2 <= c <= 0xDF:
        need, lo, hi = 1, 0x80, 0xBF
    elif c == 0xE0:
        need, lo, hi = 2, 0xA0, 0xBF
    elif 0xE1 <= c <= 0xEC or c == 0xEE or c == 0xEF:
        need, lo, hi = 2, 0x80, 0xBF
    elif c == 0xED:
        need, lo, hi = 2, 0x80, 0x9F
    elif c == 0xF0:
        need, lo, hi = 3, 0x90, 0xBF
    elif 0xF1 <= c <= 0xF3:
        need, lo, hi = 3, 0x80, 0xBF
    elif c == 0xF4:
        need, lo, hi = 3, 0x80, 0x8F
    else:
        return -1
    for k in range(need):
        q = p + 1 + k
        if q >= end:
            return -(1 + k)
        b = buf[q]
        if k == 0:
            if b < lo or b > hi:
                return -1
        elif b < 0x80 or b > 0xBF:
            return -(1 + k)
    return need + 1


@njit(cache=True)
def _utf8_out(out: np.ndarray, o: int, uc: int) -> int:
    if uc < 0x80:
        out[o] = uc
        return o + 1
    if uc < 0x800:
        out[o] = 0xC0 | (uc >> 6)
        out[o + 1] = 0x80 | (uc & 0x3F)
        return o + 2
    if uc < 0x10000:
        out[o] = 0xE0 | (uc >> 12)
        out[o + 1] = 0x80 | ((uc >> 6) & 0x3F)
        out[o + 2] = 0x80 | (uc & 0x3F)
        return o + 3
    out[o] = 0xF0 | (uc >> 18)
    out[o + 1] = 0x80 | ((uc >> 12) & 0x3F)
    out[o + 2] = 0x80 | ((uc >> 6) & 0x3F)
    out[o + 3] = 0x80 | (uc & 0x3F)
    return o + 4


@njit(cache=True)
def _text(buf: np.ndarray, p: int, end: int, out: np.ndarray, o: int, escape: bool, printable: np.ndarray) -> int:
    """Copy ``buf[p:end]`` as tshark renders it; returns the new output position.

    ``escape`` (names, Wireshark's ``format_text``): C escapes or ``\\ooo`` for ASCII
    controls; each UTF-8 sequence is read by its lead byte and ends, as U+FFFD, at the
    first byte that is not a continuation; a decoded code point that is not printable
    becomes ``\\uXXXX``. Without ``escape`` (TXT): controls stay, invalid UTF-8 is
    replaced by maximal subparts.
    """
    while p < end:
        c = int(buf[p])
        if c < 0x80:
            if escape and (c < 0x20 or c == 0x7F):
                out[o] = 92
                k = _CESC[c] if c < 0x20 else 0
                if k:
                    out[o + 1] = k
                    o += 2
                else:
                    out[o + 1] = 48 + (c >> 6)
                    out[o + 2] = 48 + ((c >> 3) & 7)
                    out[o + 3] = 48 + (c & 7)
                    o += 4
            else:
                out[o] = c
                o += 1
            p += 1
            continue
        if escape:
            p += 1
            if (c & 0xE0) == 0xC0:
                need, uc = 1, c & 0x1F
            elif (c & 0xF0) == 0xE0:
                need, uc = 2, c & 0x0F
            elif (c & 0xF8) == 0xF0:
                need, uc = 3, c & 0x07
            elif (c & 0xFC) == 0xF8:
                need, uc = 4, c & 0x03
            elif (c & 0xFE) == 0xFC:
                need, uc = 5, c & 0x01
            else:
                need, uc = -1, 0
            done = need >= 0
            for _ in range(max(need, 0)):
                if p >= end or (buf[p] & 0xC0) != 0x80:
                    done = False
                    break
                uc = (uc << 6) | (int(buf[p]) & 0x3F)
                p += 1
            if done and (0xD800 <= uc <= 0xDFFF or uc > 0x10FFFF):
                done = False  # surrogate or out of range (an overlong form is decoded as is)
            if not done:
                out[o] = 0xEF
                out[o + 1] = 0xBF
                out[o + 2] = 0xBD
                o += 3
            elif uc < len(printable) and printable[uc]:
                o = _utf8_out(out, o, uc)
            else:
                width = 4 if uc <= 0xFFFF else 8
                out[o] = 92
                out[o + 1] = 117 if width == 4 else 85  # u / U
                o += 2
                for sh in range(4 * (width - 1), -4, -4):
                    out[o] = _HEXU[(uc >> sh) & 0xF]
                    o += 1
            continue
        k = _utf8_len(buf, p, end)
        if k > 0:
            for j in range(k):
                out[o + j] = buf[p + j]
            o += k
            p += k
        else:
            out[o] = 0xEF
            out[o + 1] = 0xBF
            out[o + 2] = 0xBD
            o += 3
            p -= k
    return o


@njit(cache=True)
def _name(buf: np.ndarray, s: int, e: int, p: int, out: np.ndarray, o: int, write: bool,
          printable: np.ndarray) -> tuple[int, int, int]:
    """Read the name at ``p`` of the message ``buf[s:e]``: returns (error, position after it, output position)."""
    after = -1
    hops = 0
    total = 0
    first = True
    while True:
        if p >= e:
            return E_NAME_END, p, o
        ln = int(buf[p])
        if ln >= 0xC0:
            if p + 1 >= e:
                return E_NAME_END, p, o
            if after < 0:
                after = p + 2
            hops += 1
            if hops > MAX_POINTERS:
                return E_LOOP, p, o
            target = s + (((ln & 0x3F) << 8) | int(buf[p + 1]))
            if target >= e:
                return E_POINTER, p, o
            p = target
            continue
        if ln >= 0x40:
            return E_LABEL, p, o
        if ln == 0:
            p += 1
            break
        if p + 1 + ln > e:
            return E_NAME_END, p, o
        total += ln + 1
        if total > 255:
            return E_LONG, p, o
        if write:
            if not first:
                out[o] = 46
                o += 1
            o = _text(buf, p + 1, p + 1 + ln, out, o, True, printable)
        first = False
        p += 1 + ln
    if write and first:
        for k in range(len(_ROOT)):
            out[o + k] = _ROOT[k]
        o += len(_ROOT)
    return OK, (after if after >= 0 else p), o


@njit(cache=True)
def _rdata(buf: np.ndarray, s: int, e: int, t: int, p: int, rl: int, out: np.ndarray, o: int,
           printable: np.ndarray) -> tuple[int, int]:
    """Render one answer's rdata as text; returns (error, output position)."""
    r_end = p + rl
    if t == 1 or t == 28:
        if rl != (4 if t == 1 else 16):
            return E_ADDR, o
        return OK, (write_ipv4(buf, p, out, o) if t == 1 else write_ipv6(buf, p, out, o))
    if t == 2 or t == 5 or t == 12 or t == 39 or t == 6:
        err, _, o = _name(buf, s, e, p, out, o, True, printable)
        return err, o
    if t == 15 or t == 33:
        skip = 2 if t == 15 else 6
        if rl < skip + 1:
            return E_RDATA_SHORT, o
        err, _, o = _name(buf, s, e, p + skip, out, o, True, printable)
        return err, o
    if t == 16:
        while p < r_end:
            ln = int(buf[p])
            if p + 1 + ln > r_end:
                return E_TXT, o
            o = _text(buf, p + 1, p + 1 + ln, out, o, False, printable)
            p += 1 + ln
        return OK, o
    for k in range(rl):
        c = buf[p + k]
        out[o] = _HEX[c >> 4]
        out[o + 1] = _HEX[c & 0xF]
        o += 2
    return OK, o


@njit(cache=True)
def decode_messages(
    buf: np.ndarray, moff: np.ndarray, mlen: np.ndarray, start: int,
    status: np.ndarray, err_pos: np.ndarray, dns_id: np.ndarray, flags: np.ndarray, has_q: np.ndarray,
    qtype: np.ndarray, qclass: np.ndarray, q_off: np.ndarray, q_buf: np.ndarray, q_pos: int,
    a_first: np.ndarray, a_type: np.ndarray, a_ttl: np.ndarray, a_off: np.ndarray, a_buf: np.ndarray,
    a_idx: int, a_pos: int, printable: np.ndarray,
) -> tuple[int, int, int, int]:
    """Decode messages ``start..`` until done or an output buffer might overflow.

    Message ``i`` is ``buf[moff[i]:moff[i] + mlen[i]]``. Returns (next message,
    q_pos, a_idx, a_pos); when next < len(moff) the caller grows the buffers and calls
    again from there. ``q_off``/``a_first``/``a_off`` get their final entry only when done.
    """
    n = len(moff)
    for i in range(start, n):
        s = moff[i]
        ml = mlen[i]
        e = s + ml
        max_rr = ml // 11 + 1
        if (q_pos + NAME_TEXT_MAX > len(q_buf) or a_idx + max_rr + 1 > len(a_type)
                or a_pos + max_rr * NAME_TEXT_MAX + 4 * ml > len(a_buf)):
            return i, q_pos, a_idx, a_pos
        q_off[i] = q_pos
        a_first[i] = a_idx
        a_off[a_idx] = a_pos
        status[i] = OK
        has_q[i] = False
        if ml < 12:
            status[i] = E_SHORT
            err_pos[i] = 0
            continue
        dns_id[i] = _be16(buf, s)
        flags[i] = _be16(buf, s + 2)
        qd = _be16(buf, s + 4)
        an = _be16(buf, s + 6)
        p = s + 12
        err = OK
        q0, ai0, ap0 = q_pos, a_idx, a_pos
        for k in range(qd):
            err, p, q_pos = _name(buf, s, e, p, q_buf, q_pos, k == 0, printable)
            if err != OK:
                break
            if p + 4 > e:
                err = E_QUESTION
                break
            if k == 0:
                has_q[i] = True
                qtype[i] = _be16(buf, p)
                qclass[i] = _be16(buf, p + 2)
            p += 4
        if err == OK:
            for _ in range(an):
                err, p, _o = _name(buf, s, e, p, a_buf, a_pos, False, printable)
                if err != OK:
                    break
                if p + 10 > e:
                    err = E_RR
                    break
                t = _be16(buf, p)
                ttl = (np.int64(_be16(buf, p + 4)) << 16) | _be16(buf, p + 6)
                rl = _be16(buf, p + 8)
                p += 10
                if p + rl > e:
                    err = E_RDATA
                    break
                err, a_pos = _rdata(buf, s, e, t, p, rl, a_buf, a_pos, printable)
                if err != OK:
                    break
                a_type[a_idx] = t
                a_ttl[a_idx] = ttl
                a_idx += 1
                a_off[a_idx] = a_pos
                p += rl
        if err != OK:
            status[i] = err
            err_pos[i] = p - s
            q_pos, a_idx, a_pos = q0, ai0, ap0
            has_q[i] = False
    q_off[n] = q_pos
    a_first[n] = a_idx
    a_off[a_idx] = a_pos
    return n, q_pos, a_idx, a_pos
