"""The fingerprint registry: which sources the store already holds, so that ingesting twice stores once.

A source is identified by the SHA-256 of its bytes and the reader that read it (a raw
capture is read twice: for DNS and for flows). The registry gives each such source a
*number* (``rid = number << 32 | record``) and remembers whether its ingest finished.
A source whose ingest was interrupted keeps its number: the next attempt first removes
the partial files, then writes the same file names again.

It is a small SQLite database (``_registry.sqlite``) beside the Parquet folders.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from netspot.errors import StoreError

__all__ = ["Claim", "Registry", "fingerprint"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    number      INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    reader      TEXT NOT NULL,
    path        TEXT NOT NULL,
    status      TEXT NOT NULL,            -- 'started' | 'done'
    started     REAL NOT NULL,
    finished    REAL,
    report      TEXT,                     -- JSON of the IngestReport
    UNIQUE (fingerprint, reader)
)
"""


def fingerprint(path: Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes, as hex.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> fingerprint(Path(f.name))[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """The registry's answer to "may I ingest this source?"."""

    number: int
    done: bool  # already stored: skip it
    resumed: bool  # an earlier attempt was interrupted: clean its files first


class Registry:
    """Source numbers and ingest status, in SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the registry: {exc}") from exc

    def claim(self, fp: str, reader: str, source_path: str) -> Claim:
        """Number for (fingerprint, reader); whether it is already stored or was interrupted."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT number, status FROM sources WHERE fingerprint = ? AND reader = ?", (fp, reader)
            ).fetchone()
            if row is not None:
                number, status = int(row[0]), str(row[1])
                if status == "started":
                    self._db.execute("UPDATE sources SET path = ?, started = ? WHERE number = ?",
                                     (source_path, time.time(), number))
                return Claim(number, done=status == "done", resumed=status == "started")
            cur = self._db.execute(
                "INSERT INTO sources (fingerprint, reader, path, status, started) VALUES (?, ?, ?, 'started', ?)",
                (fp, reader, source_path, time.time()),
            )
            return Claim(int(cur.lastrowid or 0), done=False, resumed=False)

    def finish(self, number: int, report: dict[str, object]) -> None:
        """Mark a source as stored, with its report."""
        self._db.execute(
            "UPDATE sources SET status = 'done', finished = ?, report = ? WHERE number = ?",
            (time.time(), json.dumps(report, default=str), number),
        )

    def forget(self, number: int) -> None:
        """Drop a source whose ingest failed as a whole (e.g. the file was not in its format)."""
        self._db.execute("DELETE FROM sources WHERE number = ?", (number,))

    def sources(self) -> list[dict[str, object]]:
        """Every registered source, oldest first."""
        cur = self._db.execute(
            "SELECT number, fingerprint, reader, path, status, started, finished, report FROM sources ORDER BY number"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self._db.close()
