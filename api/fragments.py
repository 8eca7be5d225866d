"""Per-worker renderings of list items, reused while nothing they depend on has changed.

A busy list answer is mostly the same objects again and again. Each object's public
rendering is encoded to JSON once per worker and kept under a key made of everything the
rendering depends on (counts, status, revision ...), read by the page query itself: a
changed object arrives with a new key and is rendered anew, so an answer is never stale,
and a worker that never saw an object renders it from the database. Only the viewer's own
fields are added per request.
"""
from __future__ import annotations

from typing import Callable, Hashable

MAX_FRAGMENTS = 50_000


class FragmentCache:
    """object id -> (key, parts...). `render(keys_by_id)` returns {id: parts} for the missing ones."""

    def __init__(self, render: Callable[[dict[int, Hashable]], dict[int, tuple]], max_size: int = MAX_FRAGMENTS):
        self._render = render
        self._max_size = max_size
        self._entries: dict[int, tuple[Hashable, tuple]] = {}

    def parts(self, keys_by_id: dict[int, Hashable]) -> dict[int, tuple]:
        entries = self._entries
        missing = {object_id: key for object_id, key in keys_by_id.items() if entries.get(object_id, (None,))[0] != key}
        if missing:
            if len(entries) + len(missing) > self._max_size:
                entries.clear()
            for object_id, parts in self._render(missing).items():
                entries[object_id] = (missing[object_id], parts)
        return {object_id: entries[object_id][1] for object_id in keys_by_id if object_id in entries}

    def clear(self) -> None:
        self._entries.clear()
