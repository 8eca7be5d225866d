"""Photo storage: one contract for every backend, atomic local writes, failures as 503s."""
from __future__ import annotations

import errno
import os
import re

import pytest

from media.storage import (
    LocalDirectoryStorage,
    MemoryStorage,
    PhotoStorage,
    StorageUnavailable,
    new_photo_key,
    storage_from_config,
    validate_key,
)

PHOTO = b"\xff\xd8\xff" + b"photo-bytes" * 100


@pytest.fixture(params=["local", "memory"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalDirectoryStorage(tmp_path / "media")
    return MemoryStorage()


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# -- the contract ----------------------------------------------------------------------------------

def test_put_get_exists_delete(storage):
    key = new_photo_key()
    assert isinstance(storage, PhotoStorage)
    assert storage.get(key) is None
    assert not storage.exists(key)
    storage.put(key, PHOTO, "image/jpeg")
    assert storage.exists(key)
    assert storage.get(key) == PHOTO
    storage.put(key, b"replaced", "image/jpeg")
    assert storage.get(key) == b"replaced"
    storage.delete(key)
    assert not storage.exists(key)
    assert storage.get(key) is None
    storage.delete(key)  # missing is fine


def test_keys_are_independent(storage):
    first, second = new_photo_key(), new_photo_key(".thumb.jpg")
    storage.put(first, b"one", "image/jpeg")
    storage.put(second, b"two", "image/jpeg")
    storage.delete(first)
    assert storage.get(second) == b"two"


@pytest.mark.parametrize("key", [
    "", "/etc/passwd", "../outside.jpg", "ab/../../x.jpg", "ab/..", "ab//c.jpg", "AB/c.jpg",
    "ab/c d.jpg", "ab\\c.jpg", "ab/c.jpg\x00", ".hidden", "ab/.tmp-x", "ab/c..jpg", "ab/c.jpg/",
    "ä/b.jpg", "a" * 300,
])
def test_unsafe_keys_are_refused(storage, key):
    for call in (lambda: storage.put(key, b"x", "image/jpeg"), lambda: storage.get(key),
                 lambda: storage.delete(key), lambda: storage.exists(key)):
        with pytest.raises(ValueError):
            call()


def test_safe_keys_pass():
    for key in ("ab/abcdef.jpg", "ab/abcdef.thumb.jpg", "a_b-c/d.e", "x.jpg"):
        assert validate_key(key) == key


def test_new_photo_keys_are_random_sharded_and_safe():
    keys = {new_photo_key() for _ in range(2000)}
    assert len(keys) == 2000
    for key in keys:
        match = re.fullmatch(r"([a-z0-9]{2})/([a-z0-9]{26})\.jpg", key)
        assert match, key
        assert match[2].startswith(match[1])
    assert len({key[:2] for key in keys}) > 300  # spread over many directories
    assert new_photo_key(".webp").endswith(".webp")


# -- local directory: atomic, no leftovers -------------------------------------------------------------

def test_local_files_land_under_the_sharded_path(tmp_path):
    storage = LocalDirectoryStorage(tmp_path)
    key = new_photo_key()
    storage.put(key, PHOTO, "image/jpeg")
    assert (tmp_path / key).read_bytes() == PHOTO
    assert files_under(tmp_path) == [key]  # no temp file left beside it
    assert oct((tmp_path / key).stat().st_mode & 0o777) == oct(0o644)


def test_fsync_option_writes_the_same(tmp_path):
    storage = storage_from_config({"MEDIA_DIR": str(tmp_path), "PHOTO_STORAGE_FSYNC": True})
    storage.put("ab/c.jpg", PHOTO, "image/jpeg")
    assert storage.get("ab/c.jpg") == PHOTO


def test_a_failed_rename_leaves_the_old_file_and_no_partial(tmp_path, monkeypatch):
    storage = LocalDirectoryStorage(tmp_path)
    storage.put("ab/photo.jpg", b"old", "image/jpeg")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(StorageUnavailable) as caught:
        storage.put("ab/photo.jpg", PHOTO, "image/jpeg")
    assert caught.value.http_status == 503
    assert caught.value.message_key == "photo_storage_unavailable"
    assert caught.value.errors == {"photo": ["photo_storage_unavailable"]}
    monkeypatch.undo()
    assert storage.get("ab/photo.jpg") == b"old"
    assert files_under(tmp_path) == ["ab/photo.jpg"]


def test_a_disk_full_while_writing_leaves_no_partial(tmp_path, monkeypatch):
    storage = LocalDirectoryStorage(tmp_path)
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fd, mode):
            self.handle = real_fdopen(fd, mode)

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(os, "fdopen", HalfWriter)
    with pytest.raises(StorageUnavailable):
        storage.put("cd/photo.jpg", PHOTO, "image/jpeg")
    monkeypatch.undo()
    assert not storage.exists("cd/photo.jpg")
    assert files_under(tmp_path) == []


def test_a_root_that_is_a_file_is_unavailable(tmp_path):
    # Stands in for a read-only or unmounted MEDIA_DIR: tests run as root, where chmod stops nothing.
    root = tmp_path / "media"
    root.write_bytes(b"not a directory")
    storage = LocalDirectoryStorage(root)
    with pytest.raises(StorageUnavailable):
        storage.put("ab/photo.jpg", PHOTO, "image/jpeg")
    assert root.read_bytes() == b"not a directory"
    assert storage.get("ab/photo.jpg") is None
    assert not storage.exists("ab/photo.jpg")
    storage.delete("ab/photo.jpg")


def test_a_missing_root_is_created(tmp_path):
    storage = LocalDirectoryStorage(tmp_path / "not" / "yet" / "there")
    storage.put("ab/photo.jpg", PHOTO, "image/jpeg")
    assert storage.get("ab/photo.jpg") == PHOTO


def test_a_key_that_is_a_directory_reads_as_unavailable(tmp_path):
    (tmp_path / "ab" / "photo.jpg").mkdir(parents=True)
    storage = LocalDirectoryStorage(tmp_path)
    assert not storage.exists("ab/photo.jpg")
    with pytest.raises(StorageUnavailable):
        storage.get("ab/photo.jpg")
    with pytest.raises(StorageUnavailable):
        storage.put("ab/photo.jpg", PHOTO, "image/jpeg")
    assert files_under(tmp_path) == []


# -- configuration -------------------------------------------------------------------------------------------

def test_storage_from_config(tmp_path):
    local = storage_from_config({"MEDIA_DIR": str(tmp_path)})
    assert isinstance(local, LocalDirectoryStorage) and local.root == tmp_path
    assert isinstance(storage_from_config({"PHOTO_STORAGE": "local", "MEDIA_DIR": str(tmp_path)}),
                      LocalDirectoryStorage)
    memory = storage_from_config({"PHOTO_STORAGE": "memory"})
    assert isinstance(memory, MemoryStorage)
    assert storage_from_config({"PHOTO_STORAGE": "memory"}) is not memory  # no state shared between apps
    with pytest.raises(ValueError):
        storage_from_config({"PHOTO_STORAGE": "s3", "MEDIA_DIR": str(tmp_path)})
    with pytest.raises(ValueError):
        storage_from_config({"PHOTO_STORAGE": "local"})


def test_memory_storage_keeps_the_content_type():
    storage = MemoryStorage()
    storage.put("ab/c.jpg", bytearray(b"abc"), "image/jpeg")
    assert storage.files["ab/c.jpg"] == (b"abc", "image/jpeg")
