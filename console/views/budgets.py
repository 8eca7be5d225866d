"""Budget rounds for city staff: create a round, add and review items, move phases, see results
and download the Pabulib file — through the same schemas and operations as the API's
`/bodies/{slug}/rounds`, `/rounds/{id}/items`, `/rounds/{id}/transition`, `/rounds/{id}/results`
and `/rounds/{id}/pabulib` (every one of them needs the staff role there, as here).

Forms are read into the API's own request schemas (as form text: `api.fields.FormFields`), so
every limit on a title, an amount or a time is the one the API checks. Times are entered on
Dortmund's wall clock (`<input type="datetime-local">`) and turned into UTC by the console's
one mechanism for that (`console.views.forms.read_times`).
"""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for
from sqlalchemy import select

from api.budgets.routes import pabulib_answer, result_answer
from api.budgets.schemas import BudgetItemInSchema, BudgetReviewInSchema, BudgetRoundInSchema, BudgetTransitionInSchema
from api.extensions import db
from api.fields import FormFields
from api.presenters import iso
from api.transactions import writes
from models import budgets as domain
from models.budgets import BALLOT_TYPES, BEFORE_VOTING, RULES, TRANSITIONS, BudgetRound
from models.errors import DomainError
from models.reference import Body

from ..texts import lang, register_texts, t
from . import blp, page
from .forms import FormInvalid, load, read_times
from .forms import field_errors as domain_field_errors

register_texts({
    "bud_list_title": ("Bürgerbudgets: Runden", "Budget rounds"),
    "bud_rounds_caption": ("Runden von {body}, neueste zuerst", "Rounds of {body}, newest first"),
    "bud_no_rounds": ("Noch keine Runde.", "No round yet."),
    "bud_new_round": ("Neue Runde anlegen", "Create a round"),
    "bud_create": ("Runde anlegen", "Create round"),
    "bud_body": ("Gremium", "Body"),
    "bud_round": ("Runde", "Round"),
    "bud_title": ("Titel", "Title"),
    "bud_budget": ("Budget (ganze Euro)", "Budget (whole euros)"),
    "bud_budget_short": ("Budget", "Budget"),
    "bud_ballot": ("Stimmzettel", "Ballot"),
    "bud_ballot_type": ("Art des Stimmzettels", "Ballot type"),
    "bud_ballot_approval": ("Zustimmung (Projekte ankreuzen)", "Approval (tick items)"),
    "bud_ballot_cumulative": ("Punkte verteilen", "Cumulative (give out points)"),
    "bud_min_items": ("Mindestens anzukreuzende Projekte", "Fewest items per ballot"),
    "bud_min_items_hint": ("Leer lassen: 1.", "Leave empty for 1."),
    "bud_max_items": ("Höchstens anzukreuzende Projekte", "Most items per ballot"),
    "bud_max_cost": ("Höchste Gesamtkosten eines Stimmzettels (ganze Euro)", "Highest total cost per ballot (whole euros)"),
    "bud_no_limit_hint": ("Leer lassen: keine Grenze.", "Leave empty for no limit."),
    "bud_points": ("Punkte je Stimmzettel", "Points per ballot"),
    "bud_points_hint": ("Nur beim Punkteverteilen: Jeder Stimmzettel vergibt genau so viele Punkte.",
                        "Cumulative ballots only: every ballot gives out exactly this many points."),
    "bud_rule": ("Auszählungsregel", "Counting rule"),
    "bud_rule_greedy": ("Meiste Stimmen zuerst (zu teure werden übersprungen)", "Most votes first (items that do not fit are skipped)"),
    "bud_rule_greedy_no_skip": ("Meiste Stimmen zuerst (Schluss beim ersten, das nicht passt)",
                                "Most votes first (stops at the first item that does not fit)"),
    "bud_rule_mes": ("Methode der gleichen Anteile (Equal Shares)", "Method of Equal Shares"),
    "bud_schedule": ("Zeitplan", "Schedule"),
    "bud_schedule_hint": ("Uhrzeit in Dortmund. Leer lassen: Die Phase wird von Hand weitergeschaltet.",
                          "Time in Dortmund. Leave empty to move the phase on by hand."),
    "bud_proposals_end_at": ("Ende der Vorschlagsphase", "End of the proposal phase"),
    "bud_voting_end_at": ("Ende der Abstimmung", "End of voting"),
    "bud_choose_body": ("Bitte ein Gremium wählen.", "Please choose a body."),
    "bud_fix_fields": ("Bitte diese Angaben prüfen:", "Please check these fields:"),
    "bud_status_draft": ("Entwurf", "Draft"),
    "bud_status_proposals": ("Vorschlagsphase", "Proposals"),
    "bud_status_voting": ("Abstimmung läuft", "Voting"),
    "bud_status_closed": ("Ausgezählt, nicht veröffentlicht", "Counted, not published"),
    "bud_status_published": ("Ergebnis veröffentlicht", "Results published"),
    "bud_none": ("–", "–"),
    "bud_items": ("Projekte und Vorschläge", "Items and proposals"),
    "bud_items_caption": ("Projekte der Runde in der Reihenfolge ihrer Einreichung", "The round's items in the order they were added"),
    "bud_no_items": ("Noch kein Projekt.", "No item yet."),
    "bud_item": ("Projekt", "Item"),
    "bud_cost": ("Kosten", "Cost"),
    "bud_cost_input": ("Kosten (ganze Euro)", "Cost (whole euros)"),
    "bud_description": ("Beschreibung", "Description"),
    "bud_feasibility": ("Umsetzbarkeit", "Feasibility"),
    "bud_feasible_none": ("Noch nicht geprüft", "Not reviewed yet"),
    "bud_feasible_true": ("Umsetzbar", "Feasible"),
    "bud_feasible_false": ("Nicht umsetzbar", "Not feasible"),
    "bud_reason": ("Begründung", "Reason"),
    "bud_reason_hint": ("Pflicht, wenn der Vorschlag nicht umsetzbar ist.", "Required when the item is not feasible."),
    "bud_review": ("Vorschläge prüfen", "Review proposals"),
    "bud_review_of": ("Prüfung: {title}", "Review: {title}"),
    "bud_review_save": ("Prüfung speichern", "Save review"),
    "bud_review_closed": ("Nach Beginn der Abstimmung kann nichts mehr geprüft werden.", "Nothing can be reviewed once voting has started."),
    "bud_add_item": ("Projekt hinzufügen", "Add an item"),
    "bud_add_item_hint": ("Projekte der Verwaltung gelten als umsetzbar.", "Items added by staff count as feasible."),
    "bud_phase": ("Phase", "Phase"),
    "bud_next_phase": ("Nächste Phase", "Next phase"),
    "bud_move_to": ("Weiter zu: {phase}", "Move to: {phase}"),
    "bud_move_hint": ("Ein Phasenwechsel lässt sich nicht rückgängig machen. Beim Abschluss wird ausgezählt.",
                      "A phase change cannot be undone. Closing the vote counts it."),
    "bud_final": ("Die Runde ist abgeschlossen.", "The round is finished."),
    "bud_results": ("Ergebnis", "Results"),
    "bud_results_of": ("Ergebnis: {title}", "Results: {title}"),
    "bud_results_link": ("Ergebnis ansehen", "See the results"),
    "bud_results_unpublished": ("Noch nicht veröffentlicht: nur für Mitarbeitende sichtbar.",
                                "Not published yet: visible to staff only."),
    "bud_selected_items": ("Ausgewählte Projekte", "Selected items"),
    "bud_nothing_selected": ("Kein Projekt wurde ausgewählt.", "No item was selected."),
    "bud_all_items": ("Alle Projekte mit Begründung", "All items with their explanation"),
    "bud_results_caption": ("Stimmen, Punktzahl und Erklärung je Projekt", "Votes, score and explanation per item"),
    "bud_votes": ("Stimmen", "Votes"),
    "bud_score": ("Punktzahl", "Score"),
    "bud_selected": ("Ausgewählt", "Selected"),
    "bud_yes": ("Ja", "Yes"),
    "bud_no": ("Nein", "No"),
    "bud_explanation": ("Erklärung", "Explanation"),
    "bud_total_cost": ("Ausgegeben", "Spent"),
    "bud_ballots": ("Abgegebene Stimmzettel", "Ballots cast"),
    "bud_eligible": ("Stimmberechtigte", "Eligible voters"),
    "bud_pabulib": ("Pabulib-Datei herunterladen", "Download the Pabulib file"),
    "bud_pabulib_hint": ("Anonyme Stimmzettel und Ergebnis im offenen Format von pabulib.org.",
                         "Anonymous ballots and the result in pabulib.org's open format."),
    "bud_back_to_round": ("Zurück zur Runde", "Back to the round"),
    "bud_back_to_list": ("Zurück zu allen Runden", "Back to all rounds"),
})

# Where the API's field names (errors are keyed by them) sit in the console's forms.
INPUT_FOR = {"ballot.type": "ballot_type", "ballot.min_items": "min_items", "ballot.max_items": "max_items",
             "ballot.max_cost": "max_cost", "ballot.points": "points"}
PUBLIC_RESULTS = ("closed", "published")
TIME_FIELDS = ("proposals_end_at", "voting_end_at")


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _inputs(errors: dict[str, str]) -> dict[str, str]:
    return {INPUT_FOR.get(name, name): text for name, text in errors.items()}


def _euros(amount: int | None) -> str:
    if amount is None:
        return t("bud_none")
    grouped = f"{amount:,}"
    return f"€{grouped}" if lang() == "en" else f"{grouped.replace(',', '.')} €"


HELPERS = {"euros": _euros, "iso": iso}


def _bodies() -> list[Body]:
    return list(db.session.scalars(select(Body).order_by(Body.id)))


def _rounds_page(error: str | None = None, field_errors: dict | None = None, status: int = 200):
    bodies = _bodies()
    listing = [
        (body, list(db.session.scalars(domain.rounds_query(body, g.console_user).order_by(BudgetRound.id.desc()))))
        for body in bodies
    ]
    chosen = request.form.get("body") or request.args.get("body")
    form = request.form if request.method == "POST" else {}
    return render_template(
        "console/budget_rounds.html", listing=listing, bodies=bodies, chosen_body=chosen, form=form,
        field_errors=field_errors or {}, error=error, ballot_types=BALLOT_TYPES, rules=RULES, **HELPERS,
    ), status


@blp.get("/budgets")
@page("staff")
def budget_rounds():
    return _rounds_page()


def _round_payload() -> dict:
    """The create form as the API's `BudgetRoundInSchema` body (form text, as any form)."""
    times, time_errors = read_times(request.form, TIME_FIELDS)
    ballot = FormFields(type=_text("ballot_type"))
    for name in ("min_items", "max_items", "max_cost", "points"):
        if _text(name):
            ballot[name] = _text(name)
    data = {"title": request.form.get("title", ""), "budget": _text("budget"), "rule": _text("rule"), "ballot": ballot,
            **{name: value for name, value in times.items() if value is not None}}
    return load(BudgetRoundInSchema(), data, time_errors)


@blp.post("/budgets")
@page("staff")
@writes
def budget_create():
    bodies = {body.slug: body for body in _bodies()}
    try:
        payload = _round_payload()
        body = bodies.get(request.form.get("body") or "")
        if body is None:
            raise FormInvalid({"body": ["bud_choose_body"]})
        rnd = domain.create_round(db.session, g.console_user, body, payload)
    except FormInvalid as invalid:
        return _rounds_page(t("invalid_input"), _inputs(invalid.fields), 422)
    except DomainError as error:
        db.session.rollback()
        return _rounds_page(t(error.message_key, **error.params), _inputs(domain_field_errors(error)), error.http_status)
    return redirect(url_for("console.budget_round", round_id=rnd.id))


def _round_page(rnd: BudgetRound, status: int = 200, error: str | None = None, failed: str | None = None,
                field_errors: dict | None = None):
    """The round with its items; `failed` names the form whose entries are shown again ("item", "review-<id>")."""
    return render_template(
        "console/budget_round.html", rnd=rnd, items=rnd.items, next_phases=TRANSITIONS.get(rnd.status, ()),
        may_change_items=rnd.status in BEFORE_VOTING, has_results=rnd.status in PUBLIC_RESULTS,
        error=error, failed=failed, field_errors=field_errors or {}, form=request.form if failed else {}, **HELPERS,
    ), status


def _refused(round_id: int, error: DomainError | FormInvalid, failed: str | None = None):
    """The page again with the API's words and status; nothing of the refused change is kept."""
    db.session.rollback()
    rnd = domain.get_round(db.session, g.console_user, round_id)
    if isinstance(error, FormInvalid):
        return _round_page(rnd, 422, t("invalid_input"), failed, _inputs(error.fields))
    return _round_page(rnd, error.http_status, t(error.message_key, **error.params), failed, _inputs(domain_field_errors(error)))


@blp.get("/budgets/rounds/<id:round_id>")
@page("staff")
def budget_round(round_id):
    return _round_page(domain.get_round(db.session, g.console_user, round_id))


@blp.post("/budgets/rounds/<id:round_id>/transition")
@page("staff")
@writes
def budget_transition(round_id):
    domain.get_round(db.session, g.console_user, round_id)  # 404 first, as the API
    try:
        payload = load(BudgetTransitionInSchema(), {"to": _text("to")})
        domain.transition(db.session, g.console_user, round_id, payload["to"])
    except (DomainError, FormInvalid) as error:
        return _refused(round_id, error)
    return redirect(url_for("console.budget_round", round_id=round_id))


@blp.post("/budgets/rounds/<id:round_id>/items")
@page("staff")
@writes
def budget_add_item(round_id):
    rnd = domain.get_round(db.session, g.console_user, round_id)
    if current_app.config["REQUIRE_CONFIRMED_EMAIL"] and not g.console_user.email_confirmed:
        # As `POST /rounds/{id}/items` (api.security.login_required(confirmed_email=True)).
        return _round_page(rnd, 403, t("email_unconfirmed"))
    try:
        # Phase first, then the body (the API's order: 409 before 422).
        domain.check_may_propose(db.session, g.console_user, rnd)
        payload = load(BudgetItemInSchema(), {
            "title": request.form.get("title", ""), "description": request.form.get("description", ""), "cost": _text("cost")})
        domain.add_item(db.session, g.console_user, round_id, payload)
    except (DomainError, FormInvalid) as error:
        return _refused(round_id, error, "item")
    return redirect(url_for("console.budget_round", round_id=round_id) + "#items")


@blp.post("/budgets/rounds/<id:round_id>/items/<id:item_id>/review")
@page("staff")
@writes
def budget_review(round_id, item_id):
    rnd = domain.get_round(db.session, g.console_user, round_id)
    if not any(item.id == item_id for item in rnd.items):
        return _round_page(rnd, 404, t("not_found"))
    try:
        domain.check_may_review(rnd)
        data = {"feasible": _text("feasible"), "reason": request.form.get("reason", "")}
        if not data["feasible"]:
            del data["feasible"]  # "Missing data for required field", as the API says
        payload = load(BudgetReviewInSchema(), data)
        domain.review_item(db.session, g.console_user, round_id, item_id, payload["feasible"], payload["reason"])
    except (DomainError, FormInvalid) as error:
        return _refused(round_id, error, f"review-{item_id}")
    return redirect(url_for("console.budget_round", round_id=round_id) + f"#item-{item_id}")


@blp.get("/budgets/rounds/<id:round_id>/results")
@page("staff")
def budget_results(round_id):
    rnd, result = domain.get_result(db.session, g.console_user, round_id)
    answer = result_answer(rnd, result.outcome, lang())
    reasons = {item.id: item.feasibility_reason for item in rnd.items}
    return render_template("console/budget_results.html", rnd=rnd, result=answer, reasons=reasons, **HELPERS,
                           selected=[item for item in answer["items"] if item["selected"]])


@blp.get("/budgets/rounds/<id:round_id>/pabulib")
@page("staff")
def budget_pabulib(round_id):
    return pabulib_answer(*domain.get_result(db.session, g.console_user, round_id))
