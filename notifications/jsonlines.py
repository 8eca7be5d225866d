"""The `log` gateways' one output: JSON lines appended to a file (stderr without one)."""
from __future__ import annotations

import json
import sys
import threading


class JsonLines:
    def __init__(self, path: str | None = None):
        self.path = path
        self._lock = threading.Lock()

    def write(self, records: list[dict]) -> None:
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        if not text:
            return
        with self._lock:
            if self.path is None:
                sys.stderr.write(text)
                sys.stderr.flush()
                return
            # Whole lines in one append: lines of several workers do not interleave.
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(text)
