"""Reference data: Dortmund's districts, content categories, and the councils (bodies)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, delete, select
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
    ("overgrown_path", "unsafe_place", "Zugewachsener Weg", "Overgrown path"),
    ("underpass", "unsafe_place", "Unterführung", "Underpass"),
    ("vacant_building", "unsafe_place", "Leerstehendes Gebäude", "Vacant building"),
    ("hidden_corners", "unsafe_place", "Unübersichtliche Ecken", "Hidden corners"),
    ("neglect", "unsafe_place", "Verwahrlosung", "Neglect"),
    ("unsafe_other", "unsafe_place", "Sonstiger Angstraum", "Other unsafe place"),
]

# The departments reports are routed to: (code, German name, English name).
DEPARTMENTS: list[tuple[str, str, str]] = [
    ("edg", "EDG Entsorgung Dortmund", "EDG (Dortmund waste services)"),
    ("ordnungsamt", "Ordnungsamt", "Public order office"),
    ("tiefbauamt", "Tiefbauamt", "Civil engineering office"),
    ("gruenflaechenamt", "Grünflächenamt", "Parks department"),
    ("bauordnungsamt", "Bauordnungsamt", "Building control office"),
]

# Report categories: responsible department and how close a report of the same category
# must be (metres) to be offered as a likely duplicate. A pile of bulky waste is one spot;
# a dark stretch of path is long.
REPORT_ROUTING: dict[str, tuple[str, int]] = {
    "bulky_waste": ("edg", 50),
    "illegal_dumping": ("edg", 100),
    "overflowing_bin": ("edg", 25),
    "glass": ("edg", 50),
    "dog_waste": ("edg", 25),
    "graffiti": ("ordnungsamt", 25),
    "litter_other": ("edg", 50),
    "poor_lighting": ("tiefbauamt", 150),
    "overgrown_path": ("gruenflaechenamt", 150),
    "underpass": ("tiefbauamt", 100),
    "vacant_building": ("bauordnungsamt", 100),
    "hidden_corners": ("ordnungsamt", 100),
    "neglect": ("ordnungsamt", 100),
    "unsafe_other": ("ordnungsamt", 250),
}
# Categories of earlier releases that are no longer offered (removed when nothing uses them).
RETIRED_CATEGORIES = ("harassment",)

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


class Department(Base):
    """A department of the city (or its waste company) that reports are routed to."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_de: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name_de: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    # Report categories only: who deals with it, and the radius of likely duplicates.
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    nearby_radius_m: Mapped[int | None] = mapped_column(Integer)

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
    departments = {d.code: d for d in session.scalars(select(Department))}
    for position, (code, name_de, name_en) in enumerate(DEPARTMENTS):
        row = departments.get(code) or Department(code=code)
        row.name_de, row.name_en, row.position = name_de, name_en, position
        session.add(row)
    session.flush()
    categories = {c.code: c for c in session.scalars(select(Category))}
    for position, (code, kind, name_de, name_en) in enumerate(CATEGORIES):
        row = categories.get(code) or Category(code=code)
        row.kind, row.name_de, row.name_en, row.position = kind, name_de, name_en, position
        row.department, row.nearby_radius_m = REPORT_ROUTING.get(code, (None, None))
        session.add(row)
    _retire_categories(session)
    bodies = {b.slug: b for b in session.scalars(select(Body))}
    for slug, name in BODIES:
        if slug not in bodies:
            session.add(Body(slug=slug, name=name))
    session.commit()


def _retire_categories(session: Session) -> None:
    from .ideas import Idea
    from .reports import Report

    for code in RETIRED_CATEGORIES:
        used = session.scalar(select(Idea.id).where(Idea.category == code).limit(1)) or session.scalar(
            select(Report.id).where(Report.category == code).limit(1)
        )
        if not used:
            session.execute(delete(Category).where(Category.code == code))


def department_exists(session: Session, code: str) -> bool:
    return session.get(Department, code) is not None


def district_exists(session: Session, slug: str) -> bool:
    return session.get(District, slug) is not None


def category_of_kind(session: Session, code: str, kind: str) -> Category | None:
    category = session.get(Category, code)
    return category if category is not None and category.kind == kind else None
