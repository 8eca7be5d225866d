"""The console blueprint, who may see it, and how its pages answer errors."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, make_response, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError

from api.errors import register_error_renderer
from api.extensions import db
from models import users

from .. import csrf

from ..texts import lang, reason_name, t

blp = Blueprint(
    "console", __name__, url_prefix="/console",
    template_folder="../templates", static_folder="../static", static_url_path="/static",
)

# Roles that open the console; admins pass every check (models.users.Permissions).
CONSOLE_ROLES = ("moderator", "staff")


@blp.app_context_processor
def console_globals():
    return {"t": t, "lang": lang, "reason_name": reason_name, "console_user": g.get("console_user")}


@blp.before_request
def remember_language_and_check_forms():
    # An outer app context (CLI, tests) may outlive a request: nothing is inherited from the last
    # one, neither its caller nor the CSRF token Flask-WTF keeps in `g` for the session it had.
    g.console_user = None
    g.pop("csrf_token", None)
    chosen = request.args.get("lang")
    if chosen in ("de", "en"):
        session["lang"] = chosen
    if request.method == "POST":
        # Every form of the console carries the session's token; a forged one changes nothing.
        csrf.protect()


@blp.errorhandler(CSRFError)
def forged_form(error):  # noqa: ARG001
    return render_template("console/error.html", message=t("csrf_failed")), 400


def render_error(code: int, message: str, errors: dict | None, headers: dict | None):
    """Every other error under /console/ (api.errors): a page in the console's layout, same status."""
    details = [text for texts in (errors or {}).values() for text in texts]
    response = make_response(render_template("console/error.html", message=" ".join([message, *details])), code)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


register_error_renderer("/console/", render_error)


def end_session(message_key: str | None = None) -> None:
    """Forget the login in this browser (its login session row is ended by logout and by blocks)."""
    keep_lang = session.get("lang")
    session.clear()
    if keep_lang:
        session["lang"] = keep_lang
    if message_key:
        session["notice"] = message_key


def console_caller():
    """The logged-in staff member, re-read on every request: a block or a lost role ends the session now."""
    sid, uid = session.get("sid"), session.get("uid")
    if not sid or uid is None:
        return None
    caller = users.caller_for_session(db.session, sid, str(uid))
    if caller is None:
        end_session("session_ended")
        return None
    if caller.is_blocked() or not any(caller.has_role(r) for r in CONSOLE_ROLES):
        end_session("session_ended")
        return None
    return caller


def page(*roles: str):
    """A console page for callers with one of `roles` (moderator, staff); others go to the login."""
    needed = roles or CONSOLE_ROLES

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            caller = console_caller()
            if caller is None:
                target = url_for("console.login", next=request.full_path if request.method == "GET" else None)
                if request.headers.get("HX-Request"):
                    # htmx would follow a redirect and put the login page inside the item: send the page there.
                    response = make_response("", 200)
                    response.headers["HX-Redirect"] = url_for("console.login")
                    return response
                return redirect(target)
            g.console_user = caller
            if not any(caller.has_role(r) for r in needed):
                return render_template("console/error.html", message=t("forbidden")), 403
            return view(*args, **kwargs)

        return wrapper

    return decorate


from . import auth, blocks, budgets, ideas, moderation, news, reports  # noqa: E402,F401 - the pages register themselves
