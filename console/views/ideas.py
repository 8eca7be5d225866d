"""Ideas for city staff: the public ideas, those awaiting the city's answer first, and one idea
with its official answer — answered through the same schema and operation as
`POST /ideas/{id}/response` (models.ideas.respond decides which status may follow which)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for
from sqlalchemy import literal, select, union_all

from api.extensions import db
from api.ideas.schemas import ResponseCreateSchema
from api.transactions import writes
from models import ideas as domain
from models.errors import DomainError
from models.ideas import RESPONSE_STATUSES, RESPONSE_TRANSITIONS, Idea
from models.reference import Category, District

from ..texts import register_texts, t
from . import blp, page
from .forms import FormInvalid, field_errors, load

PAGE_SIZE = 50
# Awaiting an answer: reached the support threshold, being reviewed, or just published.
AWAITING = ("threshold_reached", "under_review", "published")
# The order of the list: what waits for the city first, then what may still move (accepted).
LIST_ORDER = (*AWAITING, "accepted", "rejected", "implemented")
MAX_PAGE = 10_000

register_texts({
    "ideas_title": ("Ideen: Antworten der Stadt", "Ideas: the city's answers"),
    "ideas_caption": ("Öffentliche Ideen, die auf eine Antwort warten, zuerst", "Public ideas, those awaiting an answer first"),
    "ideas_empty": ("Keine öffentlichen Ideen mit diesen Filtern.", "No public ideas with these filters."),
    "ideas_awaiting": ("Warten auf Antwort", "Awaiting an answer"),
    "idea_title_col": ("Titel", "Title"),
    "idea_supports": ("Unterstützungen", "Supports"),
    "idea_comments": ("Kommentare", "Comments"),
    "idea_created": ("Eingereicht", "Submitted"),
    "idea_visibility": ("Sichtbarkeit", "Visibility"),
    "idea_answered": ("Beantwortet", "Answered"),
    "idea_answer": ("Antwort der Stadt", "The city's answer"),
    "idea_no_answer": ("Die Stadt hat noch nicht geantwortet.", "The city has not answered yet."),
    "idea_answer_form": ("Antwort veröffentlichen", "Publish an answer"),
    "idea_answer_text": ("Antworttext (wird öffentlich angezeigt)", "Answer text (shown publicly)"),
    "idea_answer_status_hint": ("Es stehen nur die Status zur Wahl, die auf den jetzigen folgen dürfen; derselbe Status ändert nur den Text. Wer der Idee folgt, wird benachrichtigt.",
                                "Only the statuses that may follow the current one are offered; the same status only changes the text. Followers are notified."),
    "idea_answer_saved": ("Die Antwort ist veröffentlicht.", "The answer is published."),
    "ideas_pages": ("Seiten", "Pages"),
    "idea_next_page": ("Nächste Seite", "Next page"),
    "idea_previous_page": ("Vorige Seite", "Previous page"),
    "idea_status_pending": ("Wartet auf Moderation", "Awaiting moderation"),
    "idea_status_published": ("Veröffentlicht", "Published"),
    "idea_status_threshold_reached": ("Schwelle erreicht", "Threshold reached"),
    "idea_status_under_review": ("In Prüfung", "Under review"),
    "idea_status_accepted": ("Angenommen", "Accepted"),
    "idea_status_rejected": ("Abgelehnt", "Rejected"),
    "idea_status_implemented": ("Umgesetzt", "Implemented"),
    "idea_visibility_visible": ("Sichtbar", "Visible"),
    "idea_visibility_hidden": ("Ausgeblendet", "Hidden"),
    "idea_visibility_removed": ("Entfernt", "Removed"),
    "idea_author_deleted": ("Gelöschtes Konto", "Deleted account"),
})


def _districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.position)))


def _category_names() -> dict[str, Category]:
    return {c.code: c for c in db.session.scalars(select(Category).where(Category.kind == "idea"))}


def _page_number() -> int:
    raw = request.args.get("page") or "1"
    return min(int(raw), MAX_PAGE) if raw.isdigit() and raw.isascii() and int(raw) >= 1 else 1


def _ranked_page(statuses: tuple[str, ...], district: str | None, offset: int) -> list[Idea]:
    """A page of public ideas in the list's status order, longest waiting first within each.

    One walk of ix_ideas_public_status per status, each stopping after offset + a page (a
    sort of every public idea by a computed rank took 204 ms on the demo's ideas), merged
    under the page's ORDER BY; then the page's ideas themselves.
    """
    arms = []
    for position, status in enumerate(statuses):
        arm = select(Idea.id.label("id"), literal(position).label("rank")).where(Idea.is_public.is_(True), Idea.status == status)
        if district:
            arm = arm.where(Idea.district == district)
        arms.append(arm.order_by(Idea.id).limit(offset + PAGE_SIZE + 1).subquery(f"status{position}"))
    merged = union_all(*(select(arm.c.id, arm.c.rank) for arm in arms)).subquery("ranked")
    ids = list(db.session.scalars(select(merged.c.id).order_by(merged.c.rank, merged.c.id).offset(offset).limit(PAGE_SIZE + 1)))
    found = {idea.id: idea for idea in db.session.scalars(select(Idea).where(Idea.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


@blp.get("/ideas")
@page("staff")
def ideas():
    districts = _districts()
    district = request.args.get("district")
    if district not in {d.slug for d in districts}:
        district = None
    status = request.args.get("status")
    if status != "awaiting" and status not in LIST_ORDER:
        status = None
    number = _page_number()
    wanted = AWAITING if status == "awaiting" else (status,) if status else LIST_ORDER
    rows = _ranked_page(wanted, district, (number - 1) * PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    return render_template(
        "console/ideas.html", ideas=rows[:PAGE_SIZE], districts=districts, district=district, status=status,
        statuses=LIST_ORDER, awaiting=AWAITING, number=number, more=more,
        district_names={d.slug: d.name for d in districts}, notice=_notice(),
    )


def _notice() -> str | None:
    key = session.pop("console_notice", None)
    return t(key) if key else None


def _allowed(idea: Idea) -> list[str]:
    """The statuses `respond` accepts from the current one (the same one only updates the text)."""
    return [s for s in RESPONSE_STATUSES if s == idea.status or s in RESPONSE_TRANSITIONS.get(idea.status, set())]


def _detail(idea: Idea, *, error: str | None = None, status: int = 200, fields: dict | None = None, form: dict | None = None):
    categories = _category_names()
    category = categories.get(idea.category)
    districts = {d.slug: d.name for d in _districts()}
    return render_template(
        "console/idea.html", idea=idea, allowed=_allowed(idea), error=error, fields=fields or {}, form=form or {},
        category=category, district_name=districts.get(idea.district, idea.district),
        not_public=None if idea.is_public else t("idea_not_public"), notice=_notice(),
    ), status


@blp.get("/ideas/<id:idea_id>")
@page("staff")
def idea(idea_id):
    return _detail(domain.get_visible_idea(db.session, idea_id, g.console_user))


@blp.post("/ideas/<id:idea_id>/response")
@page("staff")
@writes
def idea_response(idea_id):
    found = domain.get_visible_idea(db.session, idea_id, g.console_user)
    form = {"status": request.form.get("status", ""), "body": request.form.get("body", "")}
    try:
        payload = load(ResponseCreateSchema(), form)
        domain.respond(db.session, g.console_user, found, payload["status"], payload["body"])
    except FormInvalid as invalid:
        return _detail(found, error=t("forms_invalid"), status=422, fields=invalid.fields, form=form)
    except DomainError as error:
        # The API's words and status (409 for a status that cannot follow); nothing is kept.
        db.session.rollback()
        found = domain.get_visible_idea(db.session, idea_id, g.console_user)
        return _detail(found, error=t(error.message_key, **error.params), status=error.http_status,
                       fields=field_errors(error), form=form)
    session["console_notice"] = "idea_answer_saved"
    return redirect(url_for("console.idea", idea_id=idea_id))
