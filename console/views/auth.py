"""Login with password and, where set up or required, a TOTP code; enrolment; logout."""
from __future__ import annotations

from io import BytesIO
from urllib.parse import urlsplit

import segno
from flask import Response, current_app, g, redirect, render_template, request, session, url_for

from api.extensions import db
from api.throttle import Throttled, account_address_key, account_key, address_key, count
from api.transactions import writes
from models import two_factor, users

from ..texts import t
from . import CONSOLE_ROLES, blp, console_caller, end_session, page

PENDING_SECONDS = 300


def _safe_next(target: str | None) -> str:
    # Only a path of the console itself: never a redirect to another site.
    if target and target.startswith("/console/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console.home")


def _needs_second_factor(user) -> bool:
    return user.has_role("admin") or current_app.config["CONSOLE_REQUIRE_2FA"]


def _start_session(user_id: int) -> None:
    user = db.session.get(users.User, user_id)
    login = users.open_session(db.session, user)
    keep_lang, target = session.get("lang"), session.get("next")
    session.clear()
    session.permanent = True
    session.update(sid=login.id, uid=user_id)
    if keep_lang:
        session["lang"] = keep_lang
    session["next"] = target


@blp.get("/")
def home():
    caller = console_caller()
    if caller is None:
        return redirect(url_for("console.login"))
    # Where each one's day starts: moderators at the queue, city staff at the open reports.
    return redirect(url_for("console.queue" if caller.is_moderator else "console.reports"))


@blp.get("/login")
def login():
    if console_caller() is not None:
        return redirect(url_for("console.home"))
    if request.args.get("next"):
        session["next"] = _safe_next(request.args["next"])
    notice = session.pop("notice", None)
    return render_template("console/login.html", notice=t(notice) if notice else None)


@blp.post("/login")
@writes
def login_submit():
    email = (request.form.get("email") or "").strip()
    password = request.form.get("password") or ""
    try:
        # The API's counters: the console is no way around the login throttle.
        guess = count(
            ("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", account_address_key("login", email)),
            ("LOGIN_LIMIT_PER_ACCOUNT", account_key("login", email)),
            ("LOGIN_LIMIT_PER_ADDRESS", address_key("login")),
        )
    except Throttled as throttled:
        minutes = max(1, -(-throttled.retry_after // 60))
        response = Response(render_template("console/login.html", error=t("login_throttled", minutes=minutes), email=email), status=429)
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    user = users.authenticate(db.session, email, password) if email and password else None
    if user is None:
        return render_template("console/login.html", error=t("login_failed"), email=email), 401
    guess.refund()
    if user.is_blocked() or not any(user.has_role(r) for r in CONSOLE_ROLES):
        return render_template("console/login.html", error=t("not_for_residents")), 403
    if two_factor.is_enrolled(db.session, user.id):
        session["pending_uid"] = user.id
        return redirect(url_for("console.second_factor"))
    if _needs_second_factor(user):
        two_factor.enrolment(db.session, user.id)
        session["pending_uid"] = user.id
        session["enrolling"] = True
        return redirect(url_for("console.enrol"))
    _start_session(user.id)
    return redirect(_safe_next(session.pop("next", None)))


@blp.get("/login/code")
def second_factor():
    if session.get("pending_uid") is None:
        return redirect(url_for("console.login"))
    return render_template("console/second_factor.html")


@blp.post("/login/code")
@writes
def second_factor_submit():
    user_id = session.get("pending_uid")
    if user_id is None:
        return redirect(url_for("console.login"))
    user = db.session.get(users.User, user_id)
    try:
        guess = count(("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", account_address_key("login-code", user.email or "")))
    except Throttled as throttled:
        return render_template("console/second_factor.html", error=t("login_throttled", minutes=max(1, throttled.retry_after // 60))), 429
    if not two_factor.verify(db.session, user_id, request.form.get("code") or ""):
        # The failed guess stays counted; nothing else is written.
        return render_template("console/second_factor.html", error=t("two_factor_wrong")), 401
    guess.refund()
    _start_session(user_id)
    return redirect(_safe_next(session.pop("next", None)))


def _enrolling_user_id():
    if session.get("pending_uid") is not None and session.get("enrolling"):
        return session["pending_uid"]
    caller = console_caller()
    return caller.id if caller is not None else None


@blp.get("/two-factor")
def enrol():
    user_id = _enrolling_user_id()
    if user_id is None:
        return redirect(url_for("console.login"))
    g.console_user = console_caller()
    row = db.session.get(two_factor.TwoFactor, user_id)
    if row is not None and row.is_active:
        return render_template("console/enrol.html", active=True)
    return render_template("console/enrol.html", secret=row.secret if row else None, required=session.get("enrolling"))


@blp.post("/two-factor/start")
@page()
@writes
def enrol_start():
    two_factor.enrolment(db.session, g.console_user.id)
    return redirect(url_for("console.enrol"))


@blp.get("/two-factor/qr.svg")
def enrol_qr():
    user_id = _enrolling_user_id()
    if user_id is None:
        return "", 404
    row = db.session.get(two_factor.TwoFactor, user_id)
    if row is None or row.is_active:
        return "", 404
    user = db.session.get(users.User, user_id)
    # Drawn here, never by an outside service: the secret does not leave the server.
    qr = segno.make(two_factor.provisioning_uri(row, user.email or str(user.id)), error="m")
    # A file of its own needs the SVG namespace (svg_inline leaves it out: browsers show no image).
    drawn = BytesIO()
    qr.save(drawn, kind="svg", scale=5, dark="#000", light="#fff", xmldecl=False, svgns=True, title=None)
    response = Response(drawn.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.post("/two-factor")
@writes
def enrol_submit():
    user_id = _enrolling_user_id()
    if user_id is None:
        return redirect(url_for("console.login"))
    row = db.session.get(two_factor.TwoFactor, user_id)
    codes = two_factor.confirm_enrolment(db.session, row, request.form.get("code") or "") if row is not None else None
    if codes is None:
        return render_template("console/enrol.html", secret=row.secret if row else "", error=t("two_factor_wrong"),
                               required=session.get("enrolling")), 422
    if session.pop("enrolling", None):
        _start_session(user_id)
    g.console_user = console_caller()
    return render_template("console/recovery.html", codes=codes)


@blp.post("/logout")
@page()
@writes
def logout():
    users.revoke_session(db.session, session["sid"])
    end_session()
    return redirect(url_for("console.login"))
