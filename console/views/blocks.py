"""Blocks for moderators: find an account by e-mail address or id, block it with a reason and
an optional end, lift a block, and the accounts blocked now — through the same schema and
operations as `PUT /moderation/users/{id}/block` and `DELETE …/block` (models.moderation,
where the rules live: nobody blocks themself, staff and admins only an admin blocks)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from api.extensions import db
from api.fields import MAX_DB_INT
from api.moderation.schemas import BlockSchema
from api.pagination import SortKey, keyset_page
from api.transactions import writes
from models import moderation as domain
from models.base import utcnow
from models.errors import DomainError
from models.moderation import INDEFINITE_BLOCK
from models.users import User, find_by_email

from ..texts import register_texts, t
from . import blp, page
from .forms import FormInvalid, field_errors, load, read_times

PAGE_SIZE = 50

register_texts({
    "nav_blocks": ("Sperren", "Blocks"),
    "blocks_title": ("Konten sperren", "Blocking accounts"),
    "blocks_find": ("Konto suchen", "Find an account"),
    "blocks_query": ("E-Mail-Adresse oder Konto-Nummer", "E-mail address or account number"),
    "blocks_search": ("Suchen", "Search"),
    "blocks_not_found": ("Kein Konto mit dieser E-Mail-Adresse oder Nummer.", "No account with this e-mail address or number."),
    "blocks_account": ("Konto {id}: {name}", "Account {id}: {name}"),
    "blocks_roles": ("Rollen", "Roles"),
    "blocks_state": ("Sperre", "Block"),
    "blocks_not_blocked": ("Nicht gesperrt", "Not blocked"),
    "blocks_blocked_until": ("Gesperrt bis {when}", "Blocked until {when}"),
    "blocks_blocked_indefinitely": ("Gesperrt, bis die Sperre aufgehoben wird", "Blocked until the block is lifted"),
    "blocks_reason": ("Grund", "Reason"),
    "blocks_reason_hint": ("Der Grund wird im Protokoll festgehalten.", "The reason is kept in the audit log."),
    "blocks_until": ("Ende der Sperre (optional)", "End of the block (optional)"),
    "blocks_until_hint": ("Leer lassen für eine Sperre, bis sie aufgehoben wird. Ortszeit Dortmund (Europe/Berlin).",
                          "Leave empty for a block until it is lifted. Local time in Dortmund (Europe/Berlin)."),
    "blocks_block": ("Sperren", "Block"),
    "blocks_change": ("Sperre ändern", "Change the block"),
    "blocks_unblock": ("Sperre aufheben", "Lift the block"),
    "blocks_account_ref": ("Konto {id}", "account {id}"),
    "blocks_current": ("Zurzeit gesperrte Konten", "Accounts blocked now"),
    "blocks_current_caption": ("Gesperrte Konten, neueste zuerst", "Blocked accounts, newest first"),
    "blocks_none": ("Zurzeit ist kein Konto gesperrt.", "No account is blocked now."),
    "blocks_account_col": ("Konto", "Account"),
    "blocks_action": ("Aktion", "Action"),
    "blocks_done": ("Das Konto ist gesperrt.", "The account is blocked."),
    "blocks_lifted": ("Die Sperre ist aufgehoben.", "The block is lifted."),
    "role_resident": ("Bürger*in", "Resident"),
    "role_moderator": ("Moderation", "Moderator"),
    "role_staff": ("Stadtverwaltung", "City staff"),
    "role_admin": ("Admin", "Admin"),
})


def _notice() -> str | None:
    key = session.pop("console_notice", None)
    return t(key) if key else None


def _find(query: str) -> User | None:
    """An account by its id or its e-mail address (erased accounts are gone)."""
    query = query.strip()
    if query.isascii() and query.isdigit():
        user = db.session.get(User, int(query)) if 0 < int(query) <= MAX_DB_INT else None
    elif "@" in query and len(query) <= 254 and "\x00" not in query:
        user = find_by_email(db.session, query)
    else:
        user = None
    return user if user is not None and user.deleted_at is None else None


def _blocked_page():
    stmt = select(User).where(User.blocked_until > utcnow(), User.deleted_at.is_(None))
    return keyset_page(db.session, stmt, [SortKey(User.id)], "console-blocks", PAGE_SIZE, request.args.get("cursor"))


def _page(found: User | None, query: str, *, error: str | None = None, status: int = 200, fields: dict | None = None,
          form: dict | None = None):
    blocked, next_cursor = _blocked_page()
    return render_template(
        "console/blocks.html", found=found, query=query, searched=bool(query.strip()), blocked=blocked,
        next_cursor=next_cursor, error=error, fields=fields or {}, form=form or {}, notice=_notice(),
        indefinite=INDEFINITE_BLOCK, now=utcnow(),
        # The e-mail address is shown to its owner and staff only (API.md), not to every moderator.
        show_email=g.console_user.is_staff,
    ), status


@blp.get("/blocks")
@page("moderator")
def blocks():
    query = (request.args.get("q") or "")[:300]
    return _page(_find(query) if query.strip() else None, query)


def _refused(user_id: int, error: DomainError, form: dict | None = None):
    """The API's words and status for a refusal (403 for oneself or an admin's account); nothing kept."""
    db.session.rollback()
    found = _find(str(user_id))
    return _page(found, str(user_id), error=t(error.message_key, **error.params), status=error.http_status,
                 fields=field_errors(error), form=form)


@blp.post("/blocks/<id:user_id>/block")
@page("moderator")
@writes
def block(user_id):
    form = {"reason": request.form.get("reason", ""), "until": request.form.get("until", "")}
    times, time_errors = read_times(request.form, ("until",))
    try:
        payload = load(BlockSchema(), {"reason": form["reason"], **times}, time_errors)
        domain.block_user(db.session, g.console_user, user_id, payload["until"], payload["reason"])
    except FormInvalid as invalid:
        return _page(_find(str(user_id)), str(user_id), error=t("forms_invalid"), status=422, fields=invalid.fields, form=form)
    except DomainError as error:
        return _refused(user_id, error, form)
    session["console_notice"] = "blocks_done"
    return redirect(url_for("console.blocks", q=user_id))


@blp.post("/blocks/<id:user_id>/unblock")
@page("moderator")
@writes
def unblock(user_id):
    try:
        domain.unblock_user(db.session, g.console_user, user_id)
    except DomainError as error:
        return _refused(user_id, error)
    session["console_notice"] = "blocks_lifted"
    return redirect(url_for("console.blocks", q=user_id))
