"""Demo accounts and content for local use and benchmarks (`flask --app wsgi demo seed`)."""
from __future__ import annotations

import random
import secrets
from dataclasses import replace
from datetime import timedelta

from flask import has_app_context

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from models.base import utcnow
from models import ideas as idea_ops
from models import moderation
from models.ideas import Comment, Follow, Idea, IdeaPolicy, Support
from models.moderation import QueueEntry
from models.reference import DISTRICTS
from models.text import excerpt, fold
from models.users import User, create_or_promote, hash_password

DEMO_ACCOUNTS = [
    ("resident@demo.dortmund.example", "demo-resident-2026", "resident"),
    ("moderator@demo.dortmund.example", "demo-moderator-2026", "moderator"),
    ("staff@demo.dortmund.example", "demo-staff-2026", "staff"),
    ("admin@demo.dortmund.example", "demo-admin-2026", "admin"),
]

# (title, body, category): each template filed under the category its subject belongs to.
IDEA_TEMPLATES = [
    ("Mehr Sitzbänke in {place}", "In {place} fehlen Sitzbänke, besonders für ältere Menschen und Familien mit Kindern.", "social"),
    ("Sicherer Radweg an der {street}", "Auf der {street} in {place} ist Radfahren gefährlich; ein abgetrennter Radweg würde helfen.", "mobility"),
    ("Spielplatz in {place} erneuern", "Die Geräte auf dem Spielplatz in {place} sind alt und teilweise kaputt. Bitte erneuern.", "play_and_youth"),
    ("Bäume pflanzen an der {street}", "Die {street} in {place} heizt sich im Sommer stark auf. Mehr Bäume würden Schatten spenden.", "green_spaces"),
    ("Öffentliche Toilette am Markt in {place}", "Am Markt in {place} gibt es keine öffentliche Toilette; das wäre für alle eine Hilfe.", "social"),
    ("Zebrastreifen vor der Schule an der {street}", "Kinder überqueren die {street} in {place} ohne sichere Querung. Ein Zebrastreifen fehlt.", "mobility"),
    ("Jugendtreff in {place}", "Jugendliche in {place} haben keinen Ort zum Treffen. Ein offener Jugendtreff wäre toll.", "play_and_youth"),
    ("Mehr Mülleimer an der {street}", "An der {street} in {place} liegt viel Müll, weil Mülleimer fehlen.", "cleanliness"),
    ("Trinkbrunnen im Park in {place}", "Im Park in {place} sollte es im Sommer einen Trinkbrunnen geben.", "green_spaces"),
    ("Bessere Beleuchtung an der {street}", "Die {street} in {place} ist abends sehr dunkel. Mehr Laternen würden helfen.", "mobility"),
    ("Freies WLAN am Marktplatz in {place}", "Am Marktplatz in {place} gibt es kein offenes WLAN. Ein kostenloses Netz würde vielen helfen.", "digital"),
    ("Bolzplatz in {place} sanieren", "Der Bolzplatz in {place} hat kaputte Tore und tiefe Löcher im Rasen. Bitte sanieren.", "sports"),
    ("Open-Air-Kino im Sommer in {place}", "Ein Open-Air-Kino an Sommerabenden würde {place} beleben und Nachbarn zusammenbringen.", "culture"),
]
STREETS = ["Hauptstraße", "Kaiserstraße", "Hörder Bahnhofstraße", "Mallinckrodtstraße", "Hohe Straße", "Rheinische Straße", "Evinger Straße", "Märkische Straße"]
COMMENTS = ["Gute Idee, unterstütze ich!", "Das wünsche ich mir schon lange.", "Wie soll das bezahlt werden?"]
# Official answers: (share of public ideas, the statuses staff move them through, the text).
RESPONSES = [
    (0.06, ("under_review",), "Wir prüfen den Vorschlag mit dem zuständigen Amt."),
    (0.04, ("accepted",), "Der Vorschlag wird umgesetzt; die Planung beginnt."),
    (0.02, ("accepted", "implemented"), "Umgesetzt. Danke für den Vorschlag!"),
    (0.01, ("rejected",), "Das ist hier leider nicht möglich, siehe Begründung des Amtes."),
]
# Seeds up to this size go through the domain operations, so they obey every rule by
# construction; benchmark-sized ones write rows in bulk (tests/test_demo_seed.py holds both
# to the same rules).
DOMAIN_SEED_MAX = 1000
BATCH = 5000


def seed(session: Session, ideas: int = 0, reports: int = 0, if_empty: bool = False, pending: int = 0, echo=print, bulk: bool | None = None) -> None:
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
    seed_budget_round(session, echo)
    if ideas or pending:
        seed_ideas(session, ideas, pending, echo, bulk=bulk)
    if reports:
        echo("demo seed: reports arrive with the reports feature; --reports ignored")


def seed_budget_round(session: Session, echo=print) -> None:
    """The demo resident sits in the Jugendparlament, whose round takes proposals."""
    from datetime import date

    from models import budgets
    from models.reference import Body

    body = session.scalar(select(Body).where(Body.slug == "jugendparlament"))
    if body is None or session.scalar(select(func.count()).select_from(budgets.BudgetRound).where(budgets.BudgetRound.body_id == body.id)):
        return
    admin = session.scalar(select(User).where(User.email_key == "admin@demo.dortmund.example"))
    resident = session.scalar(select(User).where(User.email_key == "resident@demo.dortmund.example"))
    this_year = date.today().year
    budgets.set_membership(session, admin, body, resident.id, date(this_year, 1, 1), date(this_year + 1, 12, 31))
    rnd = budgets.create_round(
        session,
        admin,
        body,
        {
            "title": f"Jugendbudget {this_year + 1}",
            "budget": 50_000,
            "ballot": {"type": "approval", "max_items": 3},
            "rule": "mes",
        },
    )
    for title, description, cost in (
        ("Skateanlage im Westpark", "Neue Rampen und Rails für die Skatefläche.", 25_000),
        ("Bolzplatz Eving sanieren", "Neue Tore, Netze und ein Zaun.", 12_000),
        ("Offene Jugendbibliothek", "Längere Öffnungszeiten am Wochenende.", 8_000),
        ("Graffiti-Wand am Hafen", "Eine legale Fläche für Street-Art.", 5_000),
    ):
        budgets.add_item(session, admin, rnd.id, {"title": title, "description": description, "cost": cost})
    budgets.transition(session, admin, rnd.id, "proposals")
    session.commit()
    echo(f"demo seed: budget round {rnd.id} of the Jugendparlament takes proposals; the demo resident is a member")


def _bulk(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def _citizens(session: Session, count: int) -> list[int]:
    """Demo residents who support and comment; they share one unusable random password."""
    existing = session.scalar(select(func.count()).select_from(User).where(User.email_key.like("citizen%@demo.dortmund.example")))
    password_hash = hash_password(secrets.token_urlsafe(24))
    now = utcnow()
    rows = [
        {
            "email": f"citizen{i}@demo.dortmund.example",
            "email_key": f"citizen{i}@demo.dortmund.example",
            "password_hash": password_hash,
            "display_name": f"Bürger*in {i}",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(existing, count)
    ]
    _bulk(session, User, rows)
    return list(session.scalars(select(User.id).where(User.email_key.like("citizen%@demo.dortmund.example")).order_by(User.id)))[:count]


def configured_policy() -> IdeaPolicy:
    if has_app_context():
        from api.ideas.routes import idea_policy

        return idea_policy()
    return IdeaPolicy()


def seed_ideas(session: Session, count: int, pending: int, echo=print, seed: int = 2026, policy: IdeaPolicy | None = None, bulk: bool | None = None) -> None:
    """`count` public ideas with about ten supports each (popular ones many more), and
    `pending` ideas waiting in the moderation queue."""
    policy = policy or configured_policy()
    if bulk is None:
        bulk = count + pending > DOMAIN_SEED_MAX
    rng = random.Random(seed)
    citizen_ids = _citizens(session, max(50, min(5000, count // 20 or 50)))
    (_seed_in_bulk if bulk else _seed_through_domain)(session, count, pending, policy, rng, citizen_ids, echo)


def _draft(rng: random.Random) -> tuple[str, str, str, str]:
    """Title, body, category and district of one demo idea."""
    district_slug, district_name = DISTRICTS[rng.randrange(len(DISTRICTS))]
    title_t, body_t, category = IDEA_TEMPLATES[rng.randrange(len(IDEA_TEMPLATES))]
    values = {"place": district_name, "street": rng.choice(STREETS)}
    return title_t.format(**values), body_t.format(**values), category, district_slug


def _supporter_count(rng: random.Random, citizens: int) -> int:
    # Popularity is skewed like on real platforms: a few ideas gather most supports.
    return min(citizens, int(20 * rng.random() ** 2 * (1 + 9 * (rng.random() < 0.1))))


def _response(rng: random.Random):
    """The official answer an idea gets, or None (most ideas get none)."""
    roll = rng.random()
    for share, statuses, answer in RESPONSES:
        if roll < share:
            return statuses, answer
        roll -= share
    return None


def _seed_through_domain(session: Session, count: int, pending: int, policy: IdeaPolicy, rng: random.Random, citizen_ids: list[int], echo) -> None:
    """Every idea, support, comment and answer by the operation a person would cause."""
    citizens = list(session.scalars(select(User).where(User.id.in_(citizen_ids)).order_by(User.id)))
    moderator = session.scalar(select(User).where(User.email_key == "moderator@demo.dortmund.example"))
    staff = session.scalar(select(User).where(User.email_key == "staff@demo.dortmund.example"))
    # Demo ideas wait for a moderator whatever the platform's setting: pending ones stay in
    # the queue, the others are approved by the demo moderator.
    submitting = replace(policy, premoderate_ideas=True)
    supports = 0
    public = []
    for n in range(count + pending):
        title, body, category, district = _draft(rng)
        body += f" (Vorschlag {n + 1})"
        author = rng.choice(citizens)
        idea = idea_ops.submit_idea(session, author, submitting, title=title, body=body, category=category, district=district)
        if n >= count:
            continue
        moderation.decide(session, moderator, "idea", idea.id, "approve", "ok", None)
        for supporter in rng.sample(citizens, _supporter_count(rng, len(citizens))):
            idea_ops.support(session, supporter, idea.id, policy)
            supports += 1
        answer = _response(rng)
        if answer is not None:
            statuses, text = answer
            for status in statuses:
                idea_ops.respond(session, staff, idea, status, text)
        # Ids only: ORM UPDATEs scan every object the session holds, so the session must not
        # hold the whole seed (1,000 ideas would take minutes instead of seconds).
        public.append(idea.id)
        if n % 200 == 199:
            session.commit()
    # A few comments on the newest public ideas, so the demo app has threads to show.
    for idea_id in public[-50:]:
        comment = idea_ops.add_comment(session, rng.choice(citizens), idea_id, policy, rng.choice(COMMENTS), None)
        if comment.status == "pending":
            moderation.decide(session, moderator, "comment", comment.id, "approve", "ok", None)
    session.commit()
    echo(f"demo seed: {count} public ideas with {supports} supports, {pending} pending ideas in the moderation queue")


def _seed_in_bulk(session: Session, count: int, pending: int, policy: IdeaPolicy, rng: random.Random, citizen_ids: list[int], echo) -> None:
    """Rows written directly, fast enough for benchmark sizes, with what the operations would
    have produced: the status follows the supports and the threshold unless staff answered."""
    start_id = (session.scalar(select(func.max(Idea.id))) or 0) + 1
    now = utcnow()
    idea_rows, support_rows, follow_rows, queue_rows = [], [], [], []
    total = count + pending
    for n in range(total):
        idea_id = start_id + n
        title, body, category, district = _draft(rng)
        body += f" (Vorschlag {idea_id})"
        is_pending = n >= count
        author_id = rng.choice(citizen_ids)
        supporters = [] if is_pending else rng.sample(citizen_ids, _supporter_count(rng, len(citizen_ids)))
        created = now - timedelta(minutes=total - n)
        answer = None if is_pending else _response(rng)
        if is_pending:
            status = "pending"
        elif answer is not None:
            status = answer[0][-1]
        else:
            status = "threshold_reached" if len(supporters) >= policy.support_threshold else "published"
        idea_rows.append(
            {
                "id": idea_id,
                "title": title,
                "body": body,
                "category": category,
                "district": district,
                "lat": None,
                "lon": None,
                "status": status,
                "visibility": "visible",
                "is_public": not is_pending,
                "author_id": author_id,
                "support_count": len(supporters),
                "comment_count": 0,
                "search_text": fold(f"{title}\n{body}"),
                "response_status": status if answer is not None else None,
                "response_body": answer[1] if answer is not None else None,
                "responded_at": created if answer is not None else None,
                "moderation_reason_code": None if is_pending else "ok",
                "moderation_decided_at": None if is_pending else created,
                "created_at": created,
                "updated_at": created,
            }
        )
        support_rows.extend({"idea_id": idea_id, "user_id": u, "created_at": created} for u in supporters)
        follow_rows.append({"idea_id": idea_id, "user_id": author_id, "created_at": created})
        if is_pending:
            queue_rows.append(
                {
                    "target_type": "idea",
                    "target_id": idea_id,
                    "state": "pending",
                    "reasons": [],
                    "flag_count": 0,
                    "author_id": author_id,
                    "waiting_since": created,
                    "excerpt": excerpt(f"{title}: {body}"),
                }
            )
    _bulk(session, Idea, idea_rows)
    _bulk(session, Support, support_rows)
    _bulk(session, Follow, follow_rows)
    _bulk(session, QueueEntry, queue_rows)
    if count and idea_rows:
        # A few (approved) comments on the newest public ideas, so the demo app has threads to show.
        comment_rows = [
            {
                "idea_id": row["id"],
                "parent_id": None,
                "body": rng.choice(COMMENTS),
                "author_id": rng.choice(citizen_ids),
                "status": "published",
                "visibility": "visible",
                "created_at": now,
                "updated_at": now,
            }
            for row in idea_rows[max(0, count - 50) : count]
        ]
        _bulk(session, Comment, comment_rows)
        session.execute(
            Idea.__table__.update().where(Idea.id.in_([r["idea_id"] for r in comment_rows])).values(comment_count=1)
        )
    _fix_sequences(session, ("ideas", "users"))
    session.commit()
    # Fresh planner statistics: without them SQLite may walk the wrong index on big tables.
    session.execute(text("ANALYZE"))
    session.commit()
    echo(f"demo seed: {count} public ideas with {len(support_rows)} supports, {pending} pending ideas in the moderation queue")


def _fix_sequences(session: Session, tables) -> None:
    # Explicit ids bypass PostgreSQL's sequences; move them past the highest id.
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"))
