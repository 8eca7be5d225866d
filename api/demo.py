"""Demo accounts and content for local use (`flask --app wsgi demo seed`)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.users import User, create_or_promote

DEMO_ACCOUNTS = [
    ("resident@demo.dortmund.example", "demo-resident-2026", "resident"),
    ("moderator@demo.dortmund.example", "demo-moderator-2026", "moderator"),
    ("staff@demo.dortmund.example", "demo-staff-2026", "staff"),
    ("admin@demo.dortmund.example", "demo-admin-2026", "admin"),
]


def seed(session: Session, ideas: int = 0, reports: int = 0, if_empty: bool = False, echo=print) -> None:
    if if_empty and session.scalar(select(func.count()).select_from(User)):
        echo("demo seed: accounts exist already, nothing to do")
        return
    for email, password, role in DEMO_ACCOUNTS:
        user, _ = create_or_promote(session, email, password, role)
        user.display_name = f"Demo {role.capitalize()}"
    session.commit()
    echo("demo accounts (local use only):")
    for email, password, role in DEMO_ACCOUNTS:
        echo(f"  {role:<10} {email}  password: {password}")
    for name, seeder in _content_seeders():
        count = {"ideas": ideas, "reports": reports}.get(name, 0)
        if count:
            seeder(session, count, echo)


def _content_seeders():
    """Content seeders arrive with their features (ideas, reports)."""
    return []
