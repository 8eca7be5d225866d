"""Demo accounts and content for local use and benchmarks (`flask --app wsgi demo seed`)."""
from __future__ import annotations

import random
import secrets
from dataclasses import replace
from datetime import timedelta

from flask import has_app_context

from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.orm import Session

from models.base import utcnow
from models import ideas as idea_ops
from models import moderation
from models.ideas import Comment, Follow, Idea, IdeaPolicy, Support
from models.moderation import QueueEntry
from models.report_stats import rebuild_report_stats
from models.reports import ReportFollow, ReportMapCell, ReportUpdate, rebuild_map_cells
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
        seed_reports(session, reports, echo)


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


# ---------------------------------------------------------------------------------------
# Reports (Dreckpetze and Angsträume)
# ---------------------------------------------------------------------------------------
#
# Always written in bulk (there is no domain path for a million reports), holding the rows
# to what the operations would have produced: tests/test_demo_seed.py checks districts, page
# cells, derived flags, timelines and the map counts against `models.reports`.

# Category mix per kind: (code, weight). Litter is about 85 % of all reports.
LITTER_SHARE = 0.85
REPORT_CATEGORY_WEIGHTS = {
    "litter": [
        ("overflowing_bin", 24), ("dog_waste", 18), ("illegal_dumping", 16), ("bulky_waste", 14),
        ("glass", 10), ("graffiti", 10), ("litter_other", 8),
    ],
    "unsafe_place": [
        ("poor_lighting", 30), ("underpass", 15), ("overgrown_path", 15), ("hidden_corners", 14),
        ("neglect", 12), ("vacant_building", 8), ("unsafe_other", 6),
    ],
}
REPORT_TEXTS = {
    "overflowing_bin": ["Der Papierkorb an der {street} quillt über.", "Mülleimer an der Haltestelle {street} ist seit Tagen voll."],
    "dog_waste": ["Viel Hundekot auf dem Gehweg an der {street}.", "Hundekot vor dem Spielplatz in {place}."],
    "illegal_dumping": ["Wilde Müllkippe am Feldweg hinter der {street}.", "Jemand hat Bauschutt an der {street} abgeladen."],
    "bulky_waste": ["Sperrmüll (Sofa, Schrank) steht an der {street}.", "Alte Matratzen am Straßenrand in {place}."],
    "glass": ["Glasscherben auf dem Radweg an der {street}.", "Zerbrochene Flaschen am Container in {place}."],
    "graffiti": ["Graffiti an der Unterführung der {street}.", "Frische Schmierereien an der Schule in {place}."],
    "litter_other": ["Viel Müll im Gebüsch an der {street}.", "Verpackungsmüll rund um die Bank in {place}."],
    "poor_lighting": ["Die Laternen an der {street} sind abends aus.", "Der Weg zum Bahnhof in {place} ist nachts stockdunkel."],
    "underpass": ["Die Unterführung an der {street} ist dunkel und eng.", "In der Unterführung in {place} fühle ich mich unwohl."],
    "overgrown_path": ["Der Fußweg an der {street} ist völlig zugewachsen.", "Hecken machen den Weg in {place} unübersichtlich."],
    "hidden_corners": ["Unübersichtliche Ecke am Parkhaus an der {street}.", "Hinter dem Supermarkt in {place} ist es nachts unheimlich."],
    "neglect": ["Die Grünanlage an der {street} verwahrlost.", "Der Platz in {place} wirkt verlassen und ungepflegt."],
    "vacant_building": ["Leerstehendes Haus an der {street}, Fenster eingeschlagen.", "Das leere Ladenlokal in {place} wird zum Treffpunkt."],
    "unsafe_other": ["Abends ist es an der {street} unangenehm.", "Auf dem Heimweg durch {place} fühle ich mich unsicher."],
}
# What staff write on a report's timeline, per status.
REPORT_NOTES = {
    "acknowledged": "Danke, wir haben die Meldung an das zuständige Team gegeben.",
    "in_progress": "Ein Team ist unterwegs.",
    "resolved": "Erledigt. Danke für Ihre Meldung!",
    "duplicate": "Diese Stelle ist bereits gemeldet.",
    "rejected": "Hier sind wir leider nicht zuständig (Privatgelände).",
}
REPORT_SPAN = timedelta(days=730)
REPORT_PHOTOS = 20


def seed_reports(session: Session, count: int, echo=print, seed: int = 2026, city=None, storage=None, photos: int = REPORT_PHOTOS) -> None:
    """`count` reports spread uniformly over the city's area, over the last two years."""
    import time

    import numpy as np

    from models.reference import Category
    from models.reports import REPORT_STATUSES, Report

    started = time.monotonic()
    city = city or _configured_city()
    rng = np.random.default_rng(seed)
    citizen_ids = np.array(_citizens(session, max(50, min(5000, count // 200 or 50))), dtype=np.int64)
    staff_id = session.scalar(select(User.id).where(User.email_key == "staff@demo.dortmund.example"))
    categories = {c.code: c for c in session.scalars(select(Category))}
    codes = [code for kind in ("litter", "unsafe_place") for code, _ in REPORT_CATEGORY_WEIGHTS[kind]]
    had_reports = session.scalar(select(func.count()).select_from(Report)) > 0
    start_id = (session.scalar(select(func.max(Report.id))) or 0) + 1
    ids = np.arange(start_id, start_id + count, dtype=np.int64)

    lat, lon = _points_in(city, count, rng)
    district_idx = _districts_of(city, lat, lon)
    cells = page_cells_of(lat, lon)

    # Kind, then a category of that kind (its index into `codes`).
    is_unsafe = rng.random(count) >= LITTER_SHARE
    cat_idx = np.empty(count, dtype=np.int64)
    offset = 0
    for kind, mask in (("litter", ~is_unsafe), ("unsafe_place", is_unsafe)):
        weights = np.array([w for _, w in REPORT_CATEGORY_WEIGHTS[kind]], dtype=float)
        cat_idx[mask] = offset + rng.choice(len(weights), size=int(mask.sum()), p=weights / weights.sum())
        offset += len(weights)

    # Filed over the last two years, ids ascending with the time (whole seconds).
    now = utcnow()
    span = int(REPORT_SPAN.total_seconds())
    age_s = np.sort(rng.integers(0, span, size=count))[::-1]  # oldest first
    age = age_s / span  # 1 = two years ago

    # The older a report, the likelier the city is done with it.
    status_idx = _statuses(rng, age, is_unsafe)
    s = {name: i for i, name in enumerate(REPORT_STATUSES)}
    public = status_idx != s["pending"]
    duplicate_of = np.zeros(count, dtype=np.int64)
    dup = np.flatnonzero(status_idx == s["duplicate"])
    if len(dup):
        # The original: the previous public report in the same page-grid cell, else rejected.
        pub = np.flatnonzero(public)
        order = pub[np.lexsort((ids[pub], cells[pub]))]
        previous = np.full(count, -1, dtype=np.int64)
        same = cells[order[1:]] == cells[order[:-1]]
        previous[order[1:][same]] = order[:-1][same]
        originals = previous[dup]
        duplicate_of[dup[originals >= 0]] = ids[originals[originals >= 0]]
        status_idx[dup[originals < 0]] = s["rejected"]
    is_open = public & np.isin(status_idx, [s["open"], s["acknowledged"], s["in_progress"]])

    # Timeline: staff answer within days; resolved ones go through `in_progress` first.
    created_s = span - age_s
    step1 = np.minimum(created_s + rng.integers(2 * 3600, 5 * 86400, size=count), span)
    step2 = np.minimum(step1 + rng.integers(3600, 20 * 86400, size=count), span)
    approved_s = np.minimum(created_s + rng.integers(600, 2 * 86400, size=count), span)
    reporters = citizen_ids[rng.integers(0, len(citizen_ids), size=count)]
    street_idx = rng.integers(0, len(STREETS), size=count)
    text_idx = rng.integers(0, 2, size=count)

    origin = now - REPORT_SPAN
    stamp = _stamps(origin, span)
    district_names = dict(DISTRICTS)
    slugs = [slug for slug, _ in city.districts]
    status_names = list(REPORT_STATUSES)
    kinds = [categories[c].kind for c in codes]
    departments = [categories[c].department for c in codes]

    report_rows, update_rows, follow_rows, queue_rows = [], [], [], []
    columns = zip(
        ids.tolist(), cat_idx.tolist(), status_idx.tolist(), lat.tolist(), lon.tolist(), district_idx.tolist(),
        cells.tolist(), duplicate_of.tolist(), reporters.tolist(), created_s.tolist(), step1.tolist(), step2.tolist(),
        approved_s.tolist(), street_idx.tolist(), text_idx.tolist(), public.tolist(), is_open.tolist(),
    )
    for rid, ci, si, la, lo, di, cell, dup_of, reporter, c_s, s1, s2, a_s, st, tx, pub_, open_ in columns:
        code, status, slug = codes[ci], status_names[si], slugs[di]
        kind = kinds[ci]
        description = REPORT_TEXTS[code][tx].format(street=STREETS[st], place=district_names[slug])
        created = stamp(c_s)
        moderated = kind == "unsafe_place" and status != "pending"
        waiting = stamp(a_s) if moderated else created
        updated, resolved_at = waiting, None
        if status in ("acknowledged", "in_progress", "duplicate", "rejected"):
            updated = stamp(s1)
            update_rows.append((rid, status, REPORT_NOTES[status], "city", staff_id, dup_of or None, updated))
        elif status == "resolved":
            update_rows.append((rid, "in_progress", REPORT_NOTES["in_progress"], "city", staff_id, None, stamp(s1)))
            updated = resolved_at = stamp(s2)
            update_rows.append((rid, status, REPORT_NOTES[status], "city", staff_id, None, resolved_at))
        report_rows.append(
            (
                rid, kind, code, departments[ci], description, la, lo, slug, cell, status, "visible", pub_, open_,
                dup_of or None, reporter, 0, 0, 0, waiting, resolved_at,
                "ok" if moderated else None, None, waiting if moderated else None, created, updated, 0,
            )
        )
        follow_rows.append((rid, reporter, created))
        if status == "pending":
            queue_rows.append(("report", rid, "pending", [], 0, reporter, created, excerpt(description)))
    echo(f"demo seed: {count} reports generated in {time.monotonic() - started:.1f} s")

    with _sqlite_bulk_load(session):
        write_rows(session, Report.__table__, REPORT_COLUMNS, report_rows)
        del report_rows
        write_rows(session, ReportUpdate.__table__, UPDATE_COLUMNS, update_rows)
        write_rows(session, ReportFollow.__table__, ("report_id", "user_id", "created_at"), follow_rows)
        write_rows(session, QueueEntry.__table__, QUEUE_COLUMNS, queue_rows)
        echo(f"demo seed: reports written at {time.monotonic() - started:.1f} s")
        if had_reports:
            rebuild_map_cells(session)
        else:
            entries = (ids[public], cat_idx[public], status_idx[public], lat[public], lon[public])
            cells_rows = map_cells_of(*entries, codes=codes, kinds=kinds, statuses=status_names)
            write_rows(session, ReportMapCell.__table__, MAP_CELL_COLUMNS, cells_rows)
        echo(f"demo seed: map counts at {time.monotonic() - started:.1f} s")
        rebuild_report_stats(session)
        echo(f"demo seed: statistics at {time.monotonic() - started:.1f} s")
    _seed_report_photos(session, storage, photos, ids[public][::-1][:photos].tolist())
    _fix_sequences(session, ("reports", "users"))
    session.commit()
    _analyze(session, ("reports", "report_map_cells", "report_stats", "report_resolve_times", "report_updates", "report_follows", "moderation_queue"))
    statuses = np.bincount(status_idx, minlength=len(status_names))
    mix = ", ".join(f"{n} {name}" for name, n in zip(status_names, statuses.tolist()) if n)
    echo(
        f"demo seed: {count} reports ({int(is_unsafe.sum())} unsafe places; {mix}), {len(update_rows)} timeline entries, "
        f"{min(photos, int(public.sum()))} with a photo, in {time.monotonic() - started:.1f} s"
    )


REPORT_COLUMNS = (
    "id", "kind", "category", "department", "description", "lat", "lon", "district", "page_cell", "status",
    "visibility", "is_public", "is_open", "duplicate_of", "reporter_id", "confirmation_count", "helped_count",
    "not_helped_count", "waiting_since", "resolved_at", "moderation_reason_code", "moderation_note",
    "moderation_decided_at", "created_at", "updated_at", "revision",
)
UPDATE_COLUMNS = ("report_id", "status", "note", "by", "author_id", "duplicate_of", "created_at")
QUEUE_COLUMNS = ("target_type", "target_id", "state", "reasons", "flag_count", "author_id", "waiting_since", "excerpt")
MAP_CELL_COLUMNS = ("zoom", "category_key", "status_key", "x", "y", "count", "id_sum", "lat_sum", "lon_sum")


def _analyze(session: Session, tables: tuple[str, ...]) -> None:
    """Fresh planner statistics after a bulk load; on PostgreSQL also VACUUM, which sets the
    visibility map, so that index-only scans (the map's page-cell walk) skip the heap."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
        return
    with session.get_bind().connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


def _configured_city():
    from flask import current_app

    from models.geography import DEFAULT_BOUNDARY_FILE, DEFAULT_DISTRICTS_FILE, city_map

    config = current_app.config if has_app_context() else {}
    return city_map(str(config.get("CITY_BOUNDARY_FILE") or DEFAULT_BOUNDARY_FILE), str(config.get("DISTRICTS_FILE") or DEFAULT_DISTRICTS_FILE))


def _stamps(origin, span: int):
    """Seconds since `origin` -> aware datetimes, memoised (many reports share a second at 1M)."""
    cache: dict[int, object] = {}

    def stamp(seconds: int):
        value = cache.get(seconds)
        if value is None:
            value = cache[seconds] = origin + timedelta(seconds=seconds)
        return value

    return stamp


def _points_in(city, count: int, rng):
    """Points uniform over the city's area: uniform in the bounding box, kept inside the boundary
    (and thinned by cos(latitude), since a degree of longitude is shorter further north)."""
    import numpy as np
    import shapely

    b = city.bounds
    lat_parts, lon_parts, have = [], [], 0
    max_cos = np.cos(np.radians(b.min_lat))
    while have < count:
        n = int((count - have) * 1.8) + 1000
        lon = rng.uniform(b.min_lon, b.max_lon, n)
        lat = rng.uniform(b.min_lat, b.max_lat, n)
        keep = shapely.contains_xy(city.boundary, lon, lat) & (rng.random(n) * max_cos <= np.cos(np.radians(lat)))
        lat_parts.append(lat[keep])
        lon_parts.append(lon[keep])
        have += int(keep.sum())
    return np.concatenate(lat_parts)[:count], np.concatenate(lon_parts)[:count]


def _districts_of(city, lat, lon):
    """Index into `city.districts` of each point, as `CityMap.district_at` decides it."""
    import numpy as np
    import shapely

    found = np.full(len(lat), -1, dtype=np.int64)
    for i, (_slug, geometry) in enumerate(city.districts):
        todo = np.flatnonzero(found < 0)
        if not len(todo):
            break
        found[todo[shapely.contains_xy(geometry, lon[todo], lat[todo])]] = i
    for j in np.flatnonzero(found < 0):  # slivers between districts: the nearest one
        found[j] = [slug for slug, _ in city.districts].index(city.district_at(float(lat[j]), float(lon[j])))
    return found


def page_cells_of(lat, lon):
    """`models.geography.page_cell` for arrays (the same float operations, so the same cells)."""
    import numpy as np

    from models.geography import PAGE_CELL_LAT, PAGE_CELL_LON, PAGE_CELL_STRIDE

    row = np.floor((lat + 90.0) / PAGE_CELL_LAT).astype(np.int64)
    column = np.floor((lon + 180.0) / PAGE_CELL_LON).astype(np.int64)
    return row * PAGE_CELL_STRIDE + column


def cluster_cells_of(lat, lon, zoom: int):
    """`models.geography.cluster_cell` for arrays. numpy's tan/asinh may differ from libm's in
    the last bit, so values within a hair of a cell edge are recomputed with `math`."""
    import math

    import numpy as np

    from models.geography import CELLS_PER_TILE_SIDE, cluster_cell

    n = (2 ** zoom) * CELLS_PER_TILE_SIDE
    x = np.floor((lon + 180.0) / 360.0 * n).astype(np.int64)
    lat_r = np.radians(np.clip(lat, -85.0511, 85.0511))
    v = (1.0 - np.arcsinh(np.tan(lat_r)) / math.pi) / 2.0 * n
    y = np.floor(v).astype(np.int64)
    edge = np.flatnonzero(np.abs(v - np.round(v)) < 1e-6)
    for j in edge:
        y[j] = cluster_cell(float(lat[j]), float(lon[j]), zoom)[1]
    return np.clip(x, 0, n - 1), np.clip(y, 0, n - 1)


def map_cells_of(ids, cat_idx, status_idx, lat, lon, codes: list[str], kinds: list[str], statuses: list[str]) -> list[tuple]:
    """The `report_map_cells` rows of these public reports (arrays in id order; `cat_idx` into
    `codes`, whose kinds are `kinds`), as `models.reports.rebuild_map_cells` counts them: every
    sum added up in id order, so even the float sums come out bit for bit the same."""
    import numpy as np

    from models.geography import CLUSTER_ZOOMS

    if not len(ids):
        return []
    kind_names = sorted(set(kinds))
    kind_of_cat = np.array([kind_names.index(k) for k in kinds], dtype=np.int64)
    # Category keys: 0..len(codes)-1 a category, then the kinds, then "*"; status keys likewise.
    category_keys = list(codes) + [f"kind:{k}" for k in kind_names] + ["*"]
    status_keys = list(statuses) + ["*"]
    star_cat, star_status = len(category_keys) - 1, len(status_keys) - 1
    id_weights = ids.astype(np.float64)  # exact: every sum stays far below 2**53
    rows = []
    for zoom in CLUSTER_ZOOMS:
        x, y = cluster_cells_of(lat, lon, zoom)
        fine = ((x << 20 | y) << 5 | cat_idx) << 4 | status_idx
        groups, inverse = np.unique(fine, return_inverse=True)
        g_x, g_y = groups >> 29, (groups >> 9) & ((1 << 20) - 1)
        g_cat, g_status = (groups >> 4) & 31, groups & 15
        for cats in (g_cat, len(codes) + kind_of_cat[g_cat], np.full_like(g_cat, star_cat)):
            for sts in (g_status, np.full_like(g_status, star_status)):
                coarse = ((g_x << 20 | g_y) << 6 | cats) << 4 | sts
                keys, to_key = np.unique(coarse, return_inverse=True)
                per_report = to_key[inverse]
                counts = np.bincount(per_report)
                id_sums = np.bincount(per_report, weights=id_weights).astype(np.int64)
                lat_sums = np.bincount(per_report, weights=lat)
                lon_sums = np.bincount(per_report, weights=lon)
                k_x, k_y = keys >> 30, (keys >> 10) & ((1 << 20) - 1)
                k_cat, k_status = (keys >> 4) & 63, keys & 15
                rows.extend(
                    (zoom, category_keys[c], status_keys[s], kx, ky, n, i, la, lo)
                    for kx, ky, c, s, n, i, la, lo in zip(
                        k_x.tolist(), k_y.tolist(), k_cat.tolist(), k_status.tolist(), counts.tolist(),
                        id_sums.tolist(), lat_sums.tolist(), lon_sums.tolist(),
                    )
                )
    return rows


def _statuses(rng, age, is_unsafe):
    """Status indexes (models.reports.REPORT_STATUSES): old reports mostly done, new ones open;
    some of the newest unsafe places still wait for a moderator."""
    import numpy as np

    from models.reports import REPORT_STATUSES

    s = {name: i for i, name in enumerate(REPORT_STATUSES)}
    count = len(age)
    roll = rng.random(count)
    closed = rng.random(count) < 0.10 + 0.80 * age
    status = np.where(
        closed,
        np.where(roll < 0.90, s["resolved"], np.where(roll < 0.96, s["duplicate"], s["rejected"])),
        np.where(roll < 0.50, s["open"], np.where(roll < 0.75, s["acknowledged"], s["in_progress"])),
    )
    pending = is_unsafe & (age < 0.05) & (rng.random(count) < 0.5)
    status[pending] = s["pending"]
    return status.astype(np.int64)


def write_rows(session: Session, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows in the session's transaction: PostgreSQL's COPY (psycopg), elsewhere one
    executemany per batch of the values the column types would bind. Same rows either way."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        import json

        dbapi = connection.connection.driver_connection
        json_columns = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        names = ", ".join(f'"{name}"' for name in columns)
        with dbapi.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                if json_columns:
                    row = list(row)
                    for i in json_columns:
                        row[i] = json.dumps(row[i])
                copy.write_row(row)
        return
    if dialect.name != "sqlite":  # pragma: no cover - the two databases this service runs on
        stmt = insert(table)
        for start in range(0, len(rows), BATCH):
            connection.execute(stmt, [dict(zip(columns, row)) for row in rows[start : start + BATCH]])
        return
    # What SQLAlchemy would bind for each column (UTC datetimes as naive strings, JSON as text),
    # computed once per distinct value, then the driver's executemany without per-row overhead.
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    if any(processors):
        converted = []
        for values, process in zip(zip(*rows), processors):
            if process is None:
                converted.append(values)
                continue
            cache: dict = {}
            out = []
            for value in values:
                try:
                    out.append(cache[value])
                except KeyError:
                    out.append(cache.setdefault(value, process(value)))
                except TypeError:  # unhashable (JSON lists)
                    out.append(process(value))
            converted.append(out)
        rows = list(zip(*converted))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    for start in range(0, len(rows), BATCH * 20):
        connection.exec_driver_sql(sql, rows[start : start + BATCH * 20])


def _sqlite_bulk_load(session: Session):
    """For a bulk load on SQLite: a large page cache, and the R*Tree filled once afterwards in
    spatial order instead of by the insert trigger row by row (three times faster at 1M). The
    trigger is put back from its own stored definition, in the same transaction."""
    import contextlib

    @contextlib.contextmanager
    def loading():
        if session.get_bind().dialect.name != "sqlite":
            yield
            return
        cache_size = session.execute(text("PRAGMA cache_size")).scalar()
        session.execute(text("PRAGMA cache_size = -1000000"))
        trigger = session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'reports_rtree_insert'")).scalar()
        first = (session.execute(text("SELECT MAX(id) FROM reports")).scalar() or 0) + 1
        if trigger:
            session.execute(text("DROP TRIGGER reports_rtree_insert"))
        try:
            yield
            if trigger:
                session.execute(
                    text(
                        "INSERT INTO reports_rtree (id, min_lat, max_lat, min_lon, max_lon)"
                        " SELECT id, lat, lat, lon, lon FROM reports WHERE id >= :first ORDER BY page_cell"
                    ),
                    {"first": first},
                )
                session.execute(text(trigger))
        finally:
            session.execute(text(f"PRAGMA cache_size = {int(cache_size)}"))

    return loading()


def _seed_report_photos(session: Session, storage, count: int, report_ids: list[int]) -> None:
    """One real processed photo each for the newest public reports (files through the storage)."""
    if not count or not report_ids:
        return
    from media.photos import process_photo
    from models.reports import Report, store_photo

    if storage is None:
        if not has_app_context():
            return
        from flask import current_app

        from media.storage import storage_from_config

        storage = storage_from_config(current_app.config)
    processed = process_photo(_demo_picture())
    for report_id in report_ids[:count]:
        report = session.get(Report, report_id)
        owner = session.get(User, report.reporter_id)
        photo = store_photo(session, owner, storage, processed)
        photo.report_id = report.id
        photo.created_at = report.created_at
    session.flush()


def _demo_picture() -> bytes:
    """A small phone-like JPEG: a sky-to-street gradient with some texture."""
    from io import BytesIO

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    h, w = 480, 640
    rows = np.linspace(0.0, 1.0, h)[:, None, None]
    sky, street = np.array([150, 180, 215]), np.array([95, 90, 80])
    pixels = (sky * (1 - rows) + street * rows) * np.ones((1, w, 1)) + rng.normal(0, 12, (h, w, 3))
    buffer = BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
