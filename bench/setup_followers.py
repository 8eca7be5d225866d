"""Bench setup: two public ideas, one followed by N residents (with a phone each), one by
nobody but its author. Prints `quiet_idea=<id>` and `busy_idea=<id>`.

    $PY bench/setup_followers.py N
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from api import create_app  # noqa: E402
from api.extensions import db  # noqa: E402
from models import ideas, moderation  # noqa: E402
from models.ideas import Follow, IdeaPolicy  # noqa: E402
from models.notifications import Device, token_digest  # noqa: E402
from models.users import User, create_or_promote  # noqa: E402


def main(followers: int) -> None:
    app = create_app()
    with app.app_context():
        session = db.session
        author, _ = create_or_promote(session, "bench-author@example.org", "bench-password-1234", "resident")
        moderator, _ = create_or_promote(session, "bench-moderator@example.org", "bench-password-1234", "moderator")
        policy = IdeaPolicy()
        made = []
        for title in ("Mehr Bänke am Phoenix-See", "Sichere Radwege in der Nordstadt"):
            idea = ideas.submit_idea(session, author, policy, title=title, body="Ein Vorschlag für den Stadtbezirk, der vielen hilft.",
                                     category="mobility", district="innenstadt-nord")
            moderation.decide(session, moderator, "idea", idea.id, "approve", "ok", None)
            made.append(idea)
        session.commit()
        busy = made[1]
        first = (session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) or 0) + 1
        rows = [{"id": first + i, "email": f"follower{i}@bench.example", "email_key": f"follower{i}@bench.example",
                 "display_name": f"Follower {i}", "revision": 0} for i in range(followers)]
        for start in range(0, followers, 2000):
            session.execute(insert(User), rows[start:start + 2000])
        session.execute(insert(Follow), [{"idea_id": busy.id, "user_id": first + i} for i in range(followers)])
        session.execute(insert(Device), [
            {"user_id": first + i, "token": f"bench-token-{i}", "token_digest": token_digest(f"bench-token-{i}"),
             "platform": "android", "locale": "de", "topics": [], "topics_due": False}
            for i in range(followers)
        ])
        session.commit()
        print(f"quiet_idea={made[0].id}")
        print(f"busy_idea={busy.id}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
