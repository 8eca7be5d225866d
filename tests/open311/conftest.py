"""Fixtures of the Open311 tests: API keys, the specification's schemas (the live server is in tests/conftest.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "open311-schema"


@pytest.fixture
def open311_key(clean_app):
    """A fresh active key: (name, key)."""
    from api.extensions import db
    from models.open311 import create_key

    def make(name: str = "edg-crm", rate_limit: str | None = None) -> str:
        with clean_app.app_context():
            key = create_key(db.session, name, rate_limit)
            db.session.commit()
            db.session.remove()
        return key

    return make


@pytest.fixture(scope="session")
def open311_schemas():
    """validate(document, "requests.json") against ../shared/data/open311-schema/."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"the Open311 JSON Schemas are not here ({SCHEMAS}): ../shared/data is absent")
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    documents = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json") if p.name != "swagger.json"}
    registry = Registry().with_resources(
        (name, Resource.from_contents(doc, default_specification=DRAFT7)) for name, doc in documents.items()
    )

    def validate(document, schema_name: str) -> None:
        validator = jsonschema.Draft7Validator(
            documents[schema_name], registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]

    return validate
