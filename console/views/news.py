"""District news for city staff: every item (withdrawn ones marked), writing, editing and
withdrawing news, events, consultations and office hours — through the same schemas and
operations as `POST /news`, `PATCH /news/{id}` and `DELETE /news/{id}` (staff, like the API).
Start and end are typed as Dortmund wall-clock times and stored as UTC."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from api.extensions import db
from api.news.schemas import NewsCreateSchema, NewsUpdateSchema
from api.pagination import SortKey, keyset_page
from api.transactions import writes
from models import news as domain
from models.errors import DomainError
from models.news import CALENDAR_KINDS, NEWS_KINDS, NewsItem
from models.reference import District

from ..texts import register_texts, t
from . import blp, page
from .forms import FormInvalid, berlin_input, field_errors, load, read_times

PAGE_SIZE = 50
FIELDS = ("title", "body", "kind", "district", "starts_at", "ends_at", "place")
TIME_FIELDS = ("starts_at", "ends_at")
CITY_WIDE = "city"

register_texts({
    "news_title": ("Neuigkeiten, Termine und Sprechstunden", "News, events and office hours"),
    "news_caption": ("Alle Beiträge, neueste zuerst (zurückgezogene markiert)", "All items, newest first (withdrawn ones marked)"),
    "news_empty": ("Keine Beiträge mit diesen Filtern.", "No items with these filters."),
    "news_write": ("Neuen Beitrag schreiben", "Write a new item"),
    "news_edit": ("Beitrag {id} bearbeiten", "Edit item {id}"),
    "news_item": ("Beitrag {id}", "Item {id}"),
    "news_kind": ("Art", "Kind"),
    "news_kind_news": ("Nachricht", "News"),
    "news_kind_event": ("Veranstaltung", "Event"),
    "news_kind_consultation": ("Beteiligungsverfahren", "Consultation"),
    "news_kind_office_hours": ("Sprechstunde", "Office hours"),
    "news_city_wide": ("Ganze Stadt", "Whole city"),
    "news_district_hint": ("„Ganze Stadt“ erscheint in der Liste jedes Stadtbezirks. Wer den Bezirk abonniert hat, erhält eine Mitteilung (nur beim ersten Veröffentlichen).",
                           "'Whole city' appears in every district's list. Subscribers of the district are notified (on first publication only)."),
    "news_field_title": ("Titel", "Title"),
    "news_field_body": ("Text", "Text"),
    "news_field_starts_at": ("Beginn", "Start"),
    "news_field_ends_at": ("Ende", "End"),
    "news_field_place": ("Ort (optional)", "Place (optional)"),
    "news_times_hint": ("Veranstaltungen und Sprechstunden brauchen einen Beginn und erhalten einen Kalendereintrag. Ortszeit Dortmund (Europe/Berlin).",
                        "Events and office hours need a start and get a calendar entry. Local time in Dortmund (Europe/Berlin)."),
    "news_publish": ("Veröffentlichen", "Publish"),
    "news_save": ("Änderungen speichern", "Save changes"),
    "news_withdraw": ("Beitrag zurückziehen", "Withdraw item"),
    "news_withdraw_hint": ("Der Beitrag verschwindet aus der App; ein Kalendereintrag wird als abgesagt gemeldet. Das lässt sich nicht rückgängig machen.",
                           "The item leaves the app; a calendar entry is reported as cancelled. This cannot be undone."),
    "news_state": ("Zustand", "State"),
    "news_live": ("Veröffentlicht", "Published"),
    "news_withdrawn": ("Zurückgezogen", "Withdrawn"),
    "news_withdrawn_at": ("Zurückgezogen am {when}", "Withdrawn on {when}"),
    "news_created": ("Veröffentlicht am", "Published on"),
    "news_calendar": ("Kalendereintrag (.ics)", "Calendar entry (.ics)"),
    "news_saved": ("Der Beitrag ist veröffentlicht.", "The item is published."),
    "news_changed": ("Die Änderungen sind gespeichert.", "The changes are saved."),
    "news_withdrawn_done": ("Der Beitrag ist zurückgezogen.", "The item is withdrawn."),
})


def _districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.position)))


def _notice() -> str | None:
    key = session.pop("console_notice", None)
    return t(key) if key else None


def _read_form() -> tuple[dict, dict, dict]:
    """The typed values (to show again), the body the API would get, and refused times."""
    form = request.form
    typed = {name: form.get(name, "") for name in FIELDS}
    times, time_errors = read_times(form, TIME_FIELDS)
    body = {
        "title": typed["title"], "body": typed["body"], "kind": typed["kind"],
        "district": typed["district"].strip() or None, "place": typed["place"].strip() or None, **times,
    }
    return typed, body, time_errors


def _values(item: NewsItem) -> dict:
    return {
        "title": item.title, "body": item.body, "kind": item.kind, "district": item.district or "",
        "starts_at": berlin_input(item.starts_at), "ends_at": berlin_input(item.ends_at), "place": item.place or "",
    }


def _form_page(item: NewsItem | None, form: dict, *, error: str | None = None, status: int = 200, fields: dict | None = None):
    return render_template(
        "console/news_form.html", item=item, form=form, fields=fields or {}, error=error, kinds=NEWS_KINDS,
        calendar_kinds=CALENDAR_KINDS, districts=_districts(), notice=_notice(),
    ), status


@blp.get("/news")
@page("staff")
def news():
    districts = _districts()
    district = request.args.get("district")
    if district != CITY_WIDE and district not in {d.slug for d in districts}:
        district = None
    kind = request.args.get("kind") if request.args.get("kind") in NEWS_KINDS else None
    stmt = select(NewsItem)
    if district == CITY_WIDE:
        stmt = stmt.where(NewsItem.district.is_(None))
    elif district:
        stmt = stmt.where(NewsItem.district == district)
    if kind:
        stmt = stmt.where(NewsItem.kind == kind)
    rows, next_cursor = keyset_page(db.session, stmt, [SortKey(NewsItem.id)], "console-news", PAGE_SIZE, request.args.get("cursor"))
    return render_template(
        "console/news.html", items=rows, next_cursor=next_cursor, districts=districts, district=district, kind=kind,
        kinds=NEWS_KINDS, district_names={d.slug: d.name for d in districts}, notice=_notice(), city_wide=CITY_WIDE,
    )


@blp.get("/news/new")
@page("staff")
def news_new():
    return _form_page(None, {name: "" for name in FIELDS} | {"kind": "news"})


@blp.post("/news")
@page("staff")
@writes
def news_create():
    typed, body, time_errors = _read_form()
    try:
        payload = load(NewsCreateSchema(), body, time_errors)
        item = domain.post_news(db.session, g.console_user, **payload)
    except FormInvalid as invalid:
        return _form_page(None, typed, error=t("forms_invalid"), status=422, fields=invalid.fields)
    except DomainError as error:
        db.session.rollback()
        return _form_page(None, typed, error=t(error.message_key, **error.params), status=error.http_status,
                          fields=field_errors(error))
    session["console_notice"] = "news_saved"
    return redirect(url_for("console.news_item", news_id=item.id))


@blp.get("/news/<id:news_id>")
@page("staff")
def news_item(news_id):
    # Withdrawn items are shown too (read only): the list links them.
    item = domain.get_news(db.session, news_id, withdrawn=True)
    return _form_page(item, _values(item))


@blp.post("/news/<id:news_id>")
@page("staff")
@writes
def news_update(news_id):
    item = domain.get_news(db.session, news_id)
    typed, body, time_errors = _read_form()
    try:
        payload = load(NewsUpdateSchema(), body, time_errors)
        domain.edit_news(db.session, item, payload)
    except FormInvalid as invalid:
        return _form_page(item, typed, error=t("forms_invalid"), status=422, fields=invalid.fields)
    except DomainError as error:
        db.session.rollback()
        item = domain.get_news(db.session, news_id)
        return _form_page(item, typed, error=t(error.message_key, **error.params), status=error.http_status,
                          fields=field_errors(error))
    session["console_notice"] = "news_changed"
    return redirect(url_for("console.news_item", news_id=news_id))


@blp.post("/news/<id:news_id>/withdraw")
@page("staff")
@writes
def news_withdraw(news_id):
    domain.withdraw_news(db.session, domain.get_news(db.session, news_id))
    session["console_notice"] = "news_withdrawn_done"
    return redirect(url_for("console.news"))
