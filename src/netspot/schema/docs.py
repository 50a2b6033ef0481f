"""Render docs/data-model.md from the schemas' field metadata: ``python -m netspot.schema.docs``."""

from __future__ import annotations

import sys

from netspot.schema import SCHEMAS, DataKind, describe

INTRO = """# netspot data model

Generated from `src/netspot/schema/` by `python -m netspot.schema.docs > docs/data-model.md`; do not edit by hand.

netspot stores four data types, the modernised form of Apache Spot's Open Data Model, plus a quarantine of
rejected records. All timestamps are UTC with millisecond precision. IP addresses are text (IPv4 dotted quad or
IPv6 compressed form). Ports are integers; protocols are names. Each type is a Parquet dataset partitioned by hour
(`<type>/y=YYYY/m=MM/d=DD/h=HH/*.parquet`) and a view of the same name in `netspot query`.

The *Spot* column names the Apache Spot column the field replaces, *ECS* the Elastic Common Schema field and *OCSF*
the OCSF attribute (classes: flow = Network Activity 4001, dns = DNS Activity 4003, proxy = HTTP Activity 4002,
event = Authentication 3002 / Detection Finding 2004 by category).
"""


def render() -> str:
    parts = [INTRO]
    for kind in DataKind:
        parts.append(f"\n## `{kind.value}`\n")
        parts.append("| field | type | description | Spot | ECS | OCSF |\n|---|---|---|---|---|---|")
        for f in SCHEMAS[kind]:
            d = {k: v.replace("|", "\\|") for k, v in describe(f).items()}
            null = "" if f.nullable else " (required)"
            parts.append(
                f"| `{f.name}` | `{f.type}`{null} | {d.get('doc', '')} | {d.get('spot', '')} | "
                f"{d.get('ecs', '')} | {d.get('ocsf', '')} |"
            )
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
