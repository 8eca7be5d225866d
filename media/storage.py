"""Photo storage behind one small interface, picked by configuration (`PHOTO_STORAGE`).

`local` (the default) keeps files under `MEDIA_DIR`; `memory` is for tests. Keys are chosen by
the server (`new_photo_key`), never by a client, and are still checked here so that no key can
reach outside the storage root.
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from models.errors import DomainError

_KEY = re.compile(r"[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*")
_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# 26 characters of a 36-letter alphabet: about 134 bits, unguessable like token_urlsafe(16).
_KEY_LENGTH = 26


class StorageUnavailable(DomainError):
    http_status = 503

    def __init__(self, **params):
        super().__init__("photo_storage_unavailable", errors={"photo": ["photo_storage_unavailable"]}, **params)


@runtime_checkable
class PhotoStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def validate_key(key: str) -> str:
    """The key itself when it is a safe relative path of [a-z0-9/._-]; ValueError otherwise."""
    if not isinstance(key, str) or len(key) > 255 or not _KEY.fullmatch(key):
        raise ValueError(f"invalid photo key: {key!r}")
    if ".." in key:
        raise ValueError(f"invalid photo key: {key!r}")
    return key


def new_photo_key(suffix: str = ".jpg") -> str:
    """A random key such as "k3/k3x9…q.jpg"; the first two letters shard the directory."""
    token = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(_KEY_LENGTH))
    return validate_key(f"{token[:2]}/{token}{suffix}")


class LocalDirectoryStorage:
    """Files under a root directory; every write lands whole or not at all (temp file + rename)."""

    def __init__(self, root: str | os.PathLike, *, fsync: bool = False):
        self.root = Path(root)
        self.fsync = fsync

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        tmp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Same directory as the target, so os.replace is a rename on one file system.
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self.fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
            tmp_name = None
        except OSError as exc:
            raise StorageUnavailable() from exc
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise StorageUnavailable() from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            raise StorageUnavailable() from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class MemoryStorage:
    """A dict, for tests; keeps the content type so tests can check what was stored."""

    def __init__(self):
        self.files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self.files[validate_key(key)] = (bytes(data), content_type)

    def get(self, key: str) -> bytes | None:
        entry = self.files.get(validate_key(key))
        return None if entry is None else entry[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self.files.pop(validate_key(key), None)

    def exists(self, key: str) -> bool:
        return validate_key(key) in self.files


def storage_from_config(config: dict) -> PhotoStorage:
    """`PHOTO_STORAGE` = "local" (default, under `MEDIA_DIR`) or "memory"."""
    kind = (config.get("PHOTO_STORAGE") or "local").lower()
    if kind == "memory":
        return MemoryStorage()
    if kind == "local":
        media_dir = config.get("MEDIA_DIR")
        if not media_dir:
            raise ValueError("PHOTO_STORAGE=local needs MEDIA_DIR")
        return LocalDirectoryStorage(media_dir, fsync=bool(config.get("PHOTO_STORAGE_FSYNC", False)))
    raise ValueError(f"unknown PHOTO_STORAGE {kind!r} (expected 'local' or 'memory')")
