"""Reference data: districts, categories and bodies (bare arrays, as API.md fixes)."""
from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy import select

from api.extensions import current_lang, db
from api.security import public
from models.reference import Body, Category, District

from .schemas import BodySchema, CategoryQuerySchema, CategorySchema, DistrictSchema

blp = Blueprint("reference", __name__, description="Districts, categories and bodies")


@blp.route("/districts")
@public
@blp.response(200, DistrictSchema(many=True))
def list_districts():
    """Dortmund's 12 Stadtbezirke; `id` is the slug other objects refer to."""
    return db.session.scalars(select(District).order_by(District.position)).all()


@blp.route("/categories")
@public
@blp.arguments(CategoryQuerySchema, location="query")
@blp.response(200, CategorySchema(many=True))
def list_categories(args):
    """Categories of ideas, litter reports and unsafe places, named in the caller's language."""
    stmt = select(Category).order_by(Category.position)
    if "kind" in args:
        stmt = stmt.where(Category.kind == args["kind"])
    lang = current_lang()
    return [{"code": c.code, "kind": c.kind, "name": c.name(lang)} for c in db.session.scalars(stmt)]


@blp.route("/bodies")
@public
@blp.response(200, BodySchema(many=True))
def list_bodies():
    """Councils that hold budget votes (Jugendparlament, Seniorenbeirat ...)."""
    return db.session.scalars(select(Body).order_by(Body.id)).all()
