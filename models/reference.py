"""Reference data: Dortmund's districts, content categories, and the councils (bodies)."""
from __future__ import annotations

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base

# The 12 Stadtbezirke, in the city's official order.
DISTRICTS: list[tuple[str, str]] = [
    ("innenstadt-west", "Innenstadt-West"),
    ("innenstadt-nord", "Innenstadt-Nord"),
    ("innenstadt-ost", "Innenstadt-Ost"),
    ("eving", "Eving"),
    ("scharnhorst", "Scharnhorst"),
    ("brackel", "Brackel"),
    ("aplerbeck", "Aplerbeck"),
    ("hoerde", "Hörde"),
    ("hombruch", "Hombruch"),
    ("luetgendortmund", "Lütgendortmund"),
    ("huckarde", "Huckarde"),
    ("mengede", "Mengede"),
]

# (code, kind, German name, English name). Codes are unique across kinds because the API
# names a category by its code alone.
CATEGORIES: list[tuple[str, str, str, str]] = [
    ("mobility", "idea", "Verkehr und Mobilität", "Traffic and mobility"),
    ("green_spaces", "idea", "Grünflächen und Umwelt", "Green spaces and environment"),
    ("play_and_youth", "idea", "Spielen und Jugend", "Play and youth"),
    ("cleanliness", "idea", "Sauberkeit", "Cleanliness"),
    ("culture", "idea", "Kultur", "Culture"),
    ("sports", "idea", "Sport und Freizeit", "Sports and leisure"),
    ("social", "idea", "Soziales und Nachbarschaft", "Social life and neighbourhood"),
    ("digital", "idea", "Digitales", "Digital services"),
    ("idea_other", "idea", "Sonstiges", "Other"),
    ("bulky_waste", "litter", "Sperrmüll", "Bulky waste"),
    ("illegal_dumping", "litter", "Wilde Müllkippe", "Illegal dumping"),
    ("overflowing_bin", "litter", "Überfüllter Papierkorb", "Overflowing litter bin"),
    ("glass", "litter", "Glasscherben", "Broken glass"),
    ("dog_waste", "litter", "Hundekot", "Dog waste"),
    ("graffiti", "litter", "Graffiti", "Graffiti"),
    ("litter_other", "litter", "Sonstiger Müll", "Other litter"),
    ("poor_lighting", "unsafe_place", "Schlechte Beleuchtung", "Poor lighting"),
    ("hidden_corners", "unsafe_place", "Unübersichtliche Ecken", "Hidden corners"),
    ("harassment", "unsafe_place", "Belästigung", "Harassment"),
    ("neglect", "unsafe_place", "Verwahrlosung", "Neglect"),
    ("unsafe_other", "unsafe_place", "Sonstiger Angstraum", "Other unsafe place"),
]

CATEGORY_KINDS = ("idea", "litter", "unsafe_place")

BODIES: list[tuple[str, str]] = [
    ("jugendparlament", "Jugendparlament Dortmund"),
    ("seniorenbeirat", "Seniorenbeirat der Stadt Dortmund"),
]


class District(Base):
    __tablename__ = "districts"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name_de: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de


class Body(Base):
    """A council with members and budget rounds (Jugendparlament, Seniorenbeirat, ...)."""

    __tablename__ = "bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))


def sync_reference_data(session: Session) -> None:
    """Insert or update the built-in districts, categories and bodies; safe to run again."""
    districts = {d.slug: d for d in session.scalars(select(District))}
    for position, (slug, name) in enumerate(DISTRICTS):
        row = districts.get(slug) or District(slug=slug)
        row.name, row.position = name, position
        session.add(row)
    categories = {c.code: c for c in session.scalars(select(Category))}
    for position, (code, kind, name_de, name_en) in enumerate(CATEGORIES):
        row = categories.get(code) or Category(code=code)
        row.kind, row.name_de, row.name_en, row.position = kind, name_de, name_en, position
        session.add(row)
    bodies = {b.slug: b for b in session.scalars(select(Body))}
    for slug, name in BODIES:
        if slug not in bodies:
            session.add(Body(slug=slug, name=name))
    session.commit()


def district_exists(session: Session, slug: str) -> bool:
    return session.get(District, slug) is not None


def category_of_kind(session: Session, code: str, kind: str) -> Category | None:
    category = session.get(Category, code)
    return category if category is not None and category.kind == kind else None
