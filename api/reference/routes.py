"""Reference data: districts, categories and bodies (bare arrays, as API.md fixes)."""
from __future__ import annotations

from sqlalchemy import select

from api.cache import cached_json
from api.extensions import current_lang, db
from api.parsing import Blueprint
from api.security import public
from models.reference import Body, Category, District

from .schemas import BodySchema, CategoryQuerySchema, CategorySchema, DistrictSchema

blp = Blueprint("reference", __name__, description="Districts, categories and bodies")


@blp.route("/districts")
@public
@blp.response(200, DistrictSchema(many=True))
def list_districts():
    """Dortmund's 12 Stadtbezirke; `id` is the slug other objects refer to."""
    return cached_json(
        ("districts",),
        lambda: [{"id": d.slug, "name": d.name} for d in db.session.scalars(select(District).order_by(District.position))],
    )


@blp.route("/categories")
@public
@blp.arguments(CategoryQuerySchema(), location="query")
@blp.response(200, CategorySchema(many=True))
def list_categories(args):
    """Categories of ideas, litter reports and unsafe places, named in the caller's language.

    Report categories also name the responsible department and the radius (m) within which
    an open report of the same category is offered as a likely duplicate.
    """
    kind, lang = args.get("kind"), current_lang()

    def build():
        stmt = select(Category).order_by(Category.position)
        if kind is not None:
            stmt = stmt.where(Category.kind == kind)
        return [
            {"code": c.code, "name": c.name(lang), "kind": c.kind, "department": c.department, "nearby_radius_m": c.nearby_radius_m}
            for c in db.session.scalars(stmt)
        ]

    return cached_json(("categories", kind, lang), build)


@blp.route("/bodies")
@public
@blp.response(200, BodySchema(many=True))
def list_bodies():
    """Councils that hold budget votes (Jugendparlament, Seniorenbeirat ...)."""
    return cached_json(
        ("bodies",), lambda: [{"slug": b.slug, "name": b.name} for b in db.session.scalars(select(Body).order_by(Body.id))]
    )
