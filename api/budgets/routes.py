"""Budget rounds, items, ballots and results."""
from __future__ import annotations

from functools import wraps

from flask import Response
from flask.views import MethodView
from api.parsing import Blueprint

from api.errors import abort_json
from api.extensions import current_lang, db
from api.pagination import PageArgs, SortKey, keyset_page, page_schema
from api.security import current_user, login_required, public, require_user
from api.presenters import iso
from api.responses import json_response
from api.transactions import one_statement_write, writes
from models import budgets
from models.budgets import BudgetItem, BudgetRound

from . import messages  # noqa: F401 - registers the message catalogue
from .schemas import (
    BudgetBallotInSchema,
    BudgetBallotSchema,
    BudgetItemInSchema,
    BudgetItemSchema,
    BudgetMemberListSchema,
    BudgetMembershipInSchema,
    BudgetResultSchema,
    BudgetReviewInSchema,
    BudgetRoundInSchema,
    BudgetRoundSchema,
    BudgetTransitionInSchema,
)

blp = Blueprint("budgets", __name__, description="Budget votes of bodies")

BudgetRoundPageSchema = page_schema(BudgetRoundSchema, "BudgetRoundPage")


def checked_first(check):
    """Run `check(session, user, **view_args)` before the body is read: 404/403/409 come before 422."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            check(db.session, require_user(), **kwargs)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _may_propose(session, user, round_id):
    budgets.check_may_propose(session, user, budgets.get_round(session, user, round_id))


def _may_review(session, user, round_id, item_id):
    rnd = budgets.get_round(session, user, round_id)
    item = session.get(BudgetItem, item_id)
    if item is None or item.round_id != rnd.id:
        abort_json(404, "not_found")
    budgets.check_may_review(rnd)


def vote_checked_first(view):
    """404/403/409 before 422, as `checked_first`, without a read on the happy path.

    A round this worker has seen in voting is not read again before the ballot: the ballot
    statement checks phase and membership itself. Only when the answer is going to be an
    error is the round read, so that a non-member still hears 403 rather than 422.
    """

    @wraps(view)
    def wrapper(*args, round_id, **kwargs):
        session, user = db.session, require_user()
        if budgets.known_voting_form(session, round_id) is None:
            budgets.ballot_box(session, user, round_id).check_may_vote()
            return view(*args, round_id=round_id, **kwargs)
        try:
            return view(*args, round_id=round_id, **kwargs)
        except Exception:
            budgets.ballot_box(session, user, round_id).check_may_vote()
            raise

    return wrapper


# --- bodies and members ------------------------------------------------------------------------


@blp.route("/bodies/<slug>/members")
@login_required(role="admin")
@blp.response(200, BudgetMemberListSchema)
def list_members(slug):
    """Members of a body with their terms (inclusive dates, Europe/Berlin)."""
    body = budgets.get_body(db.session, slug)
    return {"items": budgets.list_members(db.session, body)}


@blp.route("/bodies/<slug>/members/<id:user_id>")
class Membership(MethodView):
    @login_required(role="admin")
    @writes
    @blp.arguments(BudgetMembershipInSchema())
    @blp.response(204)
    def put(self, payload, slug, user_id):
        """Make a user a member for a term, or change the term (audited)."""
        body = budgets.get_body(db.session, slug)
        budgets.set_membership(db.session, require_user(), body, user_id, payload["term_start"], payload["term_end"])

    @login_required(role="admin")
    @writes
    @blp.response(204)
    def delete(self, slug, user_id):
        """End a membership (audited); removing one that does not exist changes nothing."""
        body = budgets.get_body(db.session, slug)
        budgets.remove_membership(db.session, require_user(), body, user_id)


# --- rounds ------------------------------------------------------------------------------------


@blp.route("/bodies/<slug>/rounds")
class Rounds(MethodView):
    @public
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, BudgetRoundPageSchema)
    def get(self, args, slug):
        """A body's budget rounds, newest first; drafts only for staff."""
        body = budgets.get_body(db.session, slug)
        stmt = budgets.rounds_query(body, current_user())
        rows, next_cursor = keyset_page(
            db.session, stmt, [SortKey(BudgetRound.id)], "budget_rounds", args["limit"], args["cursor"]
        )
        return {"items": rows, "next_cursor": next_cursor}

    @login_required(role="staff", contributes=True)
    @writes(idempotent=True)
    @blp.arguments(BudgetRoundInSchema())
    @blp.response(201, BudgetRoundSchema)
    def post(self, payload, slug):
        """Open a new round in `draft` (staff)."""
        body = budgets.get_body(db.session, slug)
        rnd = budgets.create_round(db.session, require_user(), body, payload)
        return rnd, 201, {"Location": f"/api/v1/rounds/{rnd.id}"}


@blp.route("/rounds/<id:round_id>")
@public
@blp.response(200, BudgetRoundSchema)
def get_round(round_id):
    """A round with its items (a draft is 404 to everyone but staff)."""
    return budgets.get_round(db.session, current_user(), round_id)


@blp.route("/rounds/<id:round_id>/transition", methods=["POST"])
@login_required(role="staff", contributes=True)
@writes
@blp.arguments(BudgetTransitionInSchema())
@blp.response(200, BudgetRoundSchema)
@blp.alt_response(409, description="Illegal transition, or unreviewed / no feasible items when opening the vote")
def transition(payload, round_id):
    """Move a round to its next phase: draft → proposals | voting → closed → published (audited)."""
    return budgets.transition(db.session, require_user(), round_id, payload["to"])


# --- items -------------------------------------------------------------------------------------


@blp.route("/rounds/<id:round_id>/items", methods=["POST"])
@login_required(contributes=True, confirmed_email=True)
@writes(idempotent=True)
@checked_first(_may_propose)
@blp.arguments(BudgetItemInSchema())
@blp.response(201, BudgetItemSchema)
def add_item(payload, round_id):
    """Propose an item (current members during `proposals`) or add one (staff, before `voting`)."""
    item = budgets.add_item(db.session, require_user(), round_id, payload)
    return item, 201, {"Location": f"/api/v1/rounds/{round_id}/items/{item.id}"}


@blp.route("/rounds/<id:round_id>/items/<id:item_id>", methods=["PATCH"])
@login_required(role="staff", contributes=True)
@writes
@checked_first(_may_review)
@blp.arguments(BudgetReviewInSchema())
@blp.response(200, BudgetItemSchema)
@blp.alt_response(409, description="The round is in `voting` or later")
def review_item(payload, round_id, item_id):
    """Decide whether an item is feasible (staff, before `voting`; a reason is required for false)."""
    return budgets.review_item(db.session, require_user(), round_id, item_id, payload["feasible"], payload["reason"])


# --- ballots -----------------------------------------------------------------------------------


def present_ballot(ballot: dict) -> dict:
    return {**ballot, "cast_at": iso(ballot["cast_at"])}


@blp.route("/rounds/<id:round_id>/ballot")
class OwnBallot(MethodView):
    @login_required
    @blp.response(200, BudgetBallotSchema)
    def get(self, round_id):
        """The caller's own ballot (nobody else can read it)."""
        return json_response(present_ballot(budgets.get_own_ballot(db.session, require_user(), round_id).as_dict()))

    @login_required(contributes=True, confirmed_email=True)
    @one_statement_write
    @vote_checked_first
    @blp.arguments(BudgetBallotInSchema())
    @blp.response(200, BudgetBallotSchema)
    @blp.alt_response(409, description="The round is not in `voting`")
    def put(self, payload, round_id):
        """Cast or replace the caller's ballot (current members, during `voting`).

        Approval: `{item_ids}`; cumulative: `{points}` adding up to exactly the round's `points`.
        """
        ballot = budgets.cast_ballot(db.session, require_user(), round_id, payload)
        return json_response(present_ballot(ballot))


# --- results -----------------------------------------------------------------------------------


def result_answer(rnd: BudgetRound, outcome: dict, lang: str) -> dict:
    """The stored outcome as `GET /rounds/{id}/results` shows it (also the staff console's results page)."""
    from voting import texts

    answer = {k: outcome[k] for k in ("rule", "budget", "total_cost", "ballots", "eligible_voters", "selected")}
    answer["items"] = [
        {
            **{k: item[k] for k in ("id", "title", "cost", "votes", "score", "selected")},
            "explanation": {"code": item["code"], "text": texts(item["code"], lang)},
        }
        for item in outcome["items"]
    ]
    if rnd.status == "published":
        answer["receipts"] = outcome["receipts"]
    return answer


@blp.route("/rounds/<id:round_id>/results")
@public
@blp.response(200, BudgetResultSchema)
@blp.alt_response(403, description="Staff before the round is `closed`")
def results(round_id):
    """The stored result: staff once `closed`, everyone once `published` (receipts only then)."""
    rnd, result = budgets.get_result(db.session, current_user(), round_id)
    return result_answer(rnd, result.outcome, current_lang())


@blp.route("/rounds/<id:round_id>/pabulib")
@public
@blp.alt_response(403, description="Staff before the round is `closed`")
@blp.doc(
    responses={
        "200": {
            "description": "The round as a Pabulib file (https://pabulib.org/format), anonymous voter ids",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    }
)
def pabulib(round_id):
    """The round's items, anonymous ballots and result as a Pabulib file (same access as results)."""
    return pabulib_answer(*budgets.get_result(db.session, current_user(), round_id))


def pabulib_answer(rnd: BudgetRound, result) -> Response:
    """The stored Pabulib file as a download (also the staff console's)."""
    return Response(
        result.pabulib,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{rnd.body.slug}-{rnd.id}.pb"'},
    )
