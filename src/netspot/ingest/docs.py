"""Render docs/formats.md from the readers' own docstrings: ``python -m netspot.ingest.docs``.

The module docstring of each registered reader is its documentation (format, mapping,
quarantine rules); this only puts them in one page, in detection order.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys

from netspot.ingest.registry import BUILTIN_READERS

INTRO = """# Input formats

Generated from the readers' docstrings by `python -m netspot.ingest.docs > docs/formats.md`; do not edit by hand.

`netspot ingest PATH...` detects each file's format from its content (the first 64 KiB, decompressed: gzip, bzip2
and xz are read as they are); `--format NAME` forces one. A raw packet capture is read by two readers: `dns-pcap`
(its DNS messages) and `pcap-flow` (its flows); a capture of NetFlow/IPFIX export traffic by `netflow-pcap` alone.
Live exports are received by `netspot collect --listen HOST:PORT` (see `netflow-pcap` for the decoding rules).

Every reader streams Arrow record batches of its data type (see [data-model.md](data-model.md)) in bounded memory.
A record it cannot accept goes to the `quarantine` table with its file, its line, packet or record number, a reason
(`field_count`, `bad_value`, `bad_timestamp`, `malformed`, `truncated`, `unsupported`, `no_template`), a detail that
says what was expected and what was found, and up to 4 KiB of its raw bytes. Input that is simply not for the reader
(a non-DNS packet, another program's syslog line, nfdump's summary lines) is counted as *skipped* in the report.
Record ids (`rid`) number every record of a source in order, quarantined ones included, so they are stable.
"""


_SECTION = re.compile(r"^(Examples|References|Parameters)\n-+\n", flags=re.M)


def _rst_to_md(text: str) -> str:
    """numpy-style docstring to Markdown: Parameters as a code block, References as text, Examples dropped."""
    text = re.sub(r":(?:class|func|mod|data|meth):`~?([^`]+)`", lambda m: f"`{m.group(1).split('.')[-1]}`", text)
    text = text.replace("``", "`")
    pieces = _SECTION.split(text)
    out = [pieces[0]]
    for title, body in zip(pieces[1::2], pieces[2::2], strict=True):
        if title == "Parameters":
            out.append("Parameters:\n\n```text\n" + body.strip("\n") + "\n```\n")
        elif title == "References":
            out.append("References: " + " ".join(body.split()) + "\n")
    return "\n".join(out)


def render() -> str:
    parts = [INTRO]
    seen_modules: set[str] = set()
    for name, target in BUILTIN_READERS.items():
        module_name, _, cls_name = target.partition(":")
        module = importlib.import_module(module_name)
        cls = getattr(module, cls_name)
        parts.append(f"\n## `{name}` → `{cls.kind.value}`\n")
        parts.append(_rst_to_md(inspect.cleandoc(cls.__doc__ or "")).strip() + "\n")
        if module_name not in seen_modules:
            seen_modules.add(module_name)
            parts.append(_rst_to_md(inspect.getdoc(module) or "").strip() + "\n")
        else:
            parts.append(f"(The module notes are under the first reader of `{module_name}`.)\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
