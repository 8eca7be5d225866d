from __future__ import annotations


def test_twelve_districts_with_slug_ids(client):
    districts = client.get("/api/v1/districts").get_json()
    assert len(districts) == 12
    assert districts[0] == {"id": "innenstadt-west", "name": "Innenstadt-West"}
    assert {"id": "hoerde", "name": "Hörde"} in districts
    assert districts[-1]["id"] == "mengede"


def test_categories_by_kind_and_language(client):
    all_categories = client.get("/api/v1/categories").get_json()
    assert {c["kind"] for c in all_categories} == {"idea", "litter", "unsafe_place"}
    assert len({c["code"] for c in all_categories}) == len(all_categories)
    litter_de = client.get("/api/v1/categories?kind=litter").get_json()
    litter_en = client.get("/api/v1/categories?kind=litter", headers={"Accept-Language": "en"}).get_json()
    assert all(c["kind"] == "litter" for c in litter_de)
    assert litter_de[0]["code"] == litter_en[0]["code"] and litter_de[0]["name"] != litter_en[0]["name"]
    r = client.get("/api/v1/categories?kind=cars")
    assert r.status_code == 422 and "kind" in r.get_json()["errors"]


def test_bodies(client):
    slugs = [b["slug"] for b in client.get("/api/v1/bodies").get_json()]
    assert slugs == ["jugendparlament", "seniorenbeirat"]


def test_db_upgrade_is_safe_to_run_again(app):
    from api.extensions import db
    from api.migrate import upgrade
    from models.reference import sync_reference_data

    with app.app_context():
        upgrade(db.engine)
        sync_reference_data(db.session)
        from sqlalchemy import func, select

        from models.reference import District

        assert db.session.scalar(select(func.count()).select_from(District)) == 12
