"""Bench setup: a Jugendparlament round in `voting` with 12 feasible items, and the given
account as a current member, so that it can cast ballots. Prints `round_id=<id>`.

    $PY bench/setup_ballot.py EMAIL
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from api import create_app  # noqa: E402
from api.extensions import db  # noqa: E402
from models import budgets  # noqa: E402
from models.reference import Body  # noqa: E402
from models.users import User, find_by_email  # noqa: E402


def main(email: str) -> None:
    app = create_app()
    with app.app_context():
        session = db.session
        member = find_by_email(session, email)
        staff = session.scalar(select(User).where(User.email_key == "staff@demo.dortmund.example"))
        admin = session.scalar(select(User).where(User.email_key == "admin@demo.dortmund.example"))
        body = session.scalar(select(Body).where(Body.slug == "jugendparlament"))
        today = date.today()
        budgets.set_membership(session, admin, body, member.id, today - timedelta(days=30), today + timedelta(days=365))
        rnd = budgets.create_round(
            session,
            staff,
            body,
            {"title": "Jugendbudget 2027", "budget": 100_000, "ballot": {"type": "approval", "max_items": 5}, "rule": "greedy"},
        )
        for i in range(12):
            budgets.add_item(session, staff, rnd.id, {"title": f"Projekt {i + 1}", "description": "Ein Vorschlag", "cost": 5_000 + 1_000 * i})
        budgets.transition(session, staff, rnd.id, "voting")
        session.commit()
        item_ids = [item.id for item in rnd.items][:3]
        print(f"round_id={rnd.id}")
        print("item_ids=" + ",".join(map(str, item_ids)))


if __name__ == "__main__":
    main(sys.argv[1])
