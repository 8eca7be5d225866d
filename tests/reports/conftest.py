"""Fixtures shared by the report tests."""
from __future__ import annotations

import pytest

from media.storage import LocalDirectoryStorage


@pytest.fixture
def storage(app, tmp_path, monkeypatch):
    """A photo storage of this test's own, so "nothing left" can be checked exactly."""
    root = tmp_path / "photos"
    root.mkdir()
    store = LocalDirectoryStorage(root)
    store.root_path = root
    monkeypatch.setitem(app.extensions, "photo_storage", store)
    return store


@pytest.fixture
def people(make_user):
    """A reporter, a staff member and a moderator."""

    class People:
        reporter = make_user()
        staff = make_user("staff")
        moderator = make_user("moderator")

    return People
