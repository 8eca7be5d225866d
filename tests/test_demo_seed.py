"""Demo data obeys the rules it demonstrates, on both paths: small seeds through the domain
operations, benchmark-sized ones in bulk."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from api.demo import seed
from models.ideas import Comment, Idea, Support
from models.moderation import QueueEntry

THRESHOLD = 6

# What each demo subject is about, decided here independently of the templates.
SUBJECT_CATEGORY = {
    "Radweg": "mobility",
    "Zebrastreifen": "mobility",
    "Beleuchtung": "mobility",
    "Spielplatz": "play_and_youth",
    "Jugendtreff": "play_and_youth",
    "Bäume": "green_spaces",
    "Trinkbrunnen": "green_spaces",
    "Mülleimer": "cleanliness",
    "Sitzbänke": "social",
    "Toilette": "social",
    "WLAN": "digital",
    "Bolzplatz": "sports",
    "Kino": "culture",
}
ANSWERED = {"under_review", "accepted", "rejected", "implemented"}


@pytest.mark.parametrize("bulk", [False, True], ids=["domain", "bulk"])
def test_seeded_ideas_obey_the_rules(clean_app, session, monkeypatch, bulk):
    monkeypatch.setitem(clean_app.config, "IDEA_SUPPORT_THRESHOLD", THRESHOLD)
    seed(session, ideas=60, pending=5, echo=lambda *_: None, bulk=bulk)
    session.expire_all()
    rows = session.scalars(select(Idea).order_by(Idea.id)).all()
    assert len(rows) == 65
    supports = dict(session.execute(select(Support.idea_id, func.count()).group_by(Support.idea_id)).all())
    public_comments = dict(
        session.execute(
            select(Comment.idea_id, func.count())
            .where(Comment.status == "published", Comment.visibility == "visible")
            .group_by(Comment.idea_id)
        ).all()
    )
    statuses = set()
    for idea in rows:
        statuses.add(idea.status)
        assert idea.is_public == (idea.visibility == "visible" and idea.status != "pending"), idea.id
        assert idea.support_count == supports.get(idea.id, 0), idea.id
        assert idea.comment_count == public_comments.get(idea.id, 0), idea.id
        if idea.status in ANSWERED:
            assert idea.response_status == idea.status and idea.response_body and idea.responded_at, idea.id
        elif idea.status != "pending":
            assert idea.response_status is None, idea.id
            assert idea.status == ("threshold_reached" if idea.support_count >= THRESHOLD else "published"), idea.id
        subjects = [s for s in SUBJECT_CATEGORY if s in idea.title]
        assert len(subjects) == 1 and idea.category == SUBJECT_CATEGORY[subjects[0]], idea.title
    assert {"pending", "published", "threshold_reached"} <= statuses
    pending = {i.id for i in rows if i.status == "pending"}
    assert len(pending) == 5
    queued = set(session.execute(select(QueueEntry.target_type, QueueEntry.target_id)).all())
    assert queued == {("idea", i) for i in pending}
    assert sum(public_comments.values()) > 0


def test_small_seeds_go_through_the_domain_and_big_ones_in_bulk(clean_app, session, monkeypatch):
    import api.demo as demo

    calls = []
    monkeypatch.setattr(demo, "_seed_through_domain", lambda *a: calls.append("domain"))
    monkeypatch.setattr(demo, "_seed_in_bulk", lambda *a: calls.append("bulk"))
    demo.seed_ideas(session, 200, 10)
    demo.seed_ideas(session, demo.DOMAIN_SEED_MAX + 1, 0)
    assert calls == ["domain", "bulk"]


def test_make_run_seed_through_the_command_line(clean_app):
    r = clean_app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty", "--ideas", "12", "--pending", "2"])
    assert r.exit_code == 0, r.output
    assert "12 public ideas" in r.output and "2 pending ideas" in r.output
