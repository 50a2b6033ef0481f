"""Watch a folder and ingest files as they arrive (``netspot watch DIR``).

Files already in the folder are ingested first. A new or changed file is ingested once it
has been unchanged for ``settle_s`` seconds (writers that append slowly are not caught
half-way); hidden, metadata and temporary files (``.name``, ``_name``, ``*.tmp``, ``*.part``) are ignored.
Because the store keeps fingerprints, a file seen twice is stored once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from netspot.ingest.collect import IngestReport, Sink, expand, ingest

__all__ = ["watch"]

_IGNORED_SUFFIXES = (".tmp", ".part", ".swp")


def _wanted(path: Path, root: Path) -> bool:
    rel = path.relative_to(root) if path.is_relative_to(root) else path
    return not any(p[0] in "._" for p in rel.parts) and not path.name.endswith(_IGNORED_SUFFIXES)


class _Pending(FileSystemEventHandler):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.changed: dict[Path, float] = {}

    def note(self, path: Path) -> None:
        if _wanted(path, self.root):
            with self.lock:
                self.changed[path] = time.monotonic()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        target = getattr(event, "dest_path", "") or event.src_path
        self.note(Path(str(target)))


def watch(
    folder: Path,
    sink: Sink,
    fmt: str | None = None,
    settle_s: float = 2.0,
    stop: threading.Event | None = None,
    on_report: Callable[[IngestReport], None] | None = None,
    poll_s: float = 0.2,
) -> list[IngestReport]:
    """Ingest ``folder`` and then every file that arrives, until ``stop`` is set; all the reports."""
    stop = stop or threading.Event()
    pending = _Pending(folder)
    observer = Observer()
    observer.schedule(pending, str(folder), recursive=True)
    observer.start()
    reports: list[IngestReport] = []
    sizes: dict[Path, int] = {}
    try:
        for f in expand([folder]):
            pending.note(f)
        while not stop.is_set():
            now = time.monotonic()
            with pending.lock:
                ready = [p for p, t in pending.changed.items() if now - t >= settle_s]
            for path in ready:
                size = path.stat().st_size if path.exists() else -1
                with pending.lock:
                    if sizes.get(path) != size:  # still growing: look again after another settle period
                        sizes[path] = size
                        pending.changed[path] = now
                        continue
                    pending.changed.pop(path, None)
                sizes.pop(path, None)
                if size >= 0:
                    reports.extend(ingest([path], sink, fmt, on_report=on_report))
            stop.wait(poll_s)
    finally:
        observer.stop()
        observer.join()
    return reports
