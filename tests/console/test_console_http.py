"""The staff console over HTTP (no browser): login, who gets in, CSRF, sessions that end, 2FA, the queue.

The browser tests (tests/console/test_console_browser.py) drive the same pages in chromium.
"""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from models.ideas import Idea
from models.moderation import ModerationDecision
from models.two_factor import TwoFactor

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path="/console/login") -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, user, follow=False):
    token = csrf_token(client)
    return client.post("/console/login", data={"email": user.email, "password": user.password, "csrf_token": token},
                       follow_redirects=follow)


def test_pages_need_a_login_and_a_resident_is_refused(client, make_user):
    r = client.get("/console/moderation")
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/login")
    resident = make_user()
    r = login(client, resident)
    assert r.status_code == 403 and "nur für Moderation" in r.get_data(as_text=True)
    assert client.get("/console/moderation").status_code == 302


def test_a_wrong_password_is_401_and_counts_toward_the_api_s_login_throttle(client, make_user, app):
    moderator = make_user("moderator")
    for _ in range(5):
        token = csrf_token(client)
        r = client.post("/console/login", data={"email": moderator.email, "password": "wrong", "csrf_token": token})
        assert r.status_code == 401
    token = csrf_token(client)
    r = client.post("/console/login", data={"email": moderator.email, "password": moderator.password, "csrf_token": token})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # The same counters as POST /api/v1/auth/login.
    assert client.post("/api/v1/auth/login", json={"email": moderator.email, "password": moderator.password}).status_code == 429


def test_a_moderator_approves_a_pending_idea_and_it_is_logged(client, make_user, session, flow):
    author = make_user()
    idea = flow.submit(author)
    moderator = make_user("moderator")
    assert login(client, moderator).status_code == 302
    page = client.get("/console/moderation").get_data(as_text=True)
    assert flow.client is client and IDEA_TITLE_FRAGMENT in page
    token = CSRF.search(page).group(1)
    r = client.post("/console/moderation/decisions", data={
        "csrf_token": token, "target_type": "idea", "target_id": idea["id"], "action": "approve", "reason_code": "ok"})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Idea, idea["id"]).status == "published"
    decision = session.scalars(select(ModerationDecision)).one()
    assert (decision.action, decision.moderator_id) == ("approve", moderator.id)
    assert f"{idea['id']}" in client.get("/console/moderation/log").get_data(as_text=True)
    # The same refusal as the API, with its status: approving twice does not fit the state.
    r = client.post("/console/moderation/decisions", data={
        "csrf_token": token, "target_type": "idea", "target_id": idea["id"], "action": "approve", "reason_code": "ok"})
    assert r.status_code == 409 and 'role="alert"' in r.get_data(as_text=True)


IDEA_TITLE_FRAGMENT = "Phoenix-Sees"


def test_a_forged_or_missing_csrf_token_is_400_and_changes_nothing(client, make_user, session, flow):
    idea = flow.submit(make_user())
    moderator = make_user("moderator")
    login(client, moderator)
    for token in (None, "forged-token"):
        data = {"target_type": "idea", "target_id": idea["id"], "action": "approve", "reason_code": "ok"}
        if token:
            data["csrf_token"] = token
        r = client.post("/console/moderation/decisions", data=data)
        assert r.status_code == 400 and "nichts geändert" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Idea, idea["id"]).status == "pending"
    assert session.scalars(select(ModerationDecision)).all() == []
    # A login form without its token logs nobody in.
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/moderation")})
    r = client.post("/console/login", data={"email": moderator.email, "password": moderator.password})
    assert r.status_code == 400


def test_a_block_or_a_lost_role_ends_the_session_at_once(client, make_user, session):
    from models.users import User, UserRole

    moderator = make_user("moderator")
    login(client, moderator)
    assert client.get("/console/moderation").status_code == 200
    session.execute(UserRole.__table__.delete().where(UserRole.user_id == moderator.id))
    session.commit()
    assert client.get("/console/moderation").status_code == 302
    other = make_user("moderator")
    login(client, other)
    assert client.get("/console/moderation").status_code == 200
    from datetime import timedelta

    from models.base import utcnow

    session.get(User, other.id).blocked_until = utcnow() + timedelta(days=1)
    session.commit()
    r = client.get("/console/moderation")
    assert r.status_code == 302
    assert "Sitzung ist beendet" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_logout_ends_the_login_session(client, make_user):
    moderator = make_user("moderator")
    login(client, moderator)
    token = csrf_token(client, "/console/moderation")
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/moderation").status_code == 302


def test_an_admin_must_set_up_two_factor_and_then_needs_a_code(client, make_user, session):
    admin = make_user("admin")
    r = login(client, admin)
    assert r.headers["Location"] == "/console/two-factor"
    page = client.get("/console/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    qr = client.get("/console/two-factor/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    # Not logged in before the code is confirmed.
    assert client.get("/console/moderation").status_code == 302
    token = CSRF.search(page).group(1)
    assert client.post("/console/two-factor", data={"csrf_token": token, "code": "000000"}).status_code == 422
    r = client.post("/console/two-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", r.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/console/moderation").status_code == 200
    stored = session.get(TwoFactor, admin.id)
    assert stored.confirmed_at is not None and codes[0] not in str(stored.recovery_hashes)
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/moderation")})
    # Next time: password, then a code. The code just used is not accepted again.
    assert login(client, admin).headers["Location"] == "/console/login/code"
    token = csrf_token(client, "/console/login/code")
    assert client.post("/console/login/code", data={"csrf_token": token, "code": "123456"}).status_code == 401
    assert client.post("/console/login/code", data={"csrf_token": token, "code": codes[0]}).status_code == 302
    assert client.get("/console/moderation").status_code == 200
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/moderation")})
    login(client, admin)
    token = csrf_token(client, "/console/login/code")
    # A recovery code works once.
    assert client.post("/console/login/code", data={"csrf_token": token, "code": codes[0]}).status_code == 401


def test_pages_carry_a_strict_policy_and_no_inline_script_or_style(client, make_user, flow):
    flow.submit(make_user())
    moderator = make_user("moderator")
    for path in ("/console/login",):
        r = client.get(path)
        assert "script-src 'self'" in r.headers["Content-Security-Policy"] and "unsafe-inline" not in r.headers["Content-Security-Policy"]
    login(client, moderator)
    for path in ("/console/moderation", "/console/moderation/log", "/console/two-factor"):
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert "unsafe" not in r.headers["Content-Security-Policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path
        assert r.headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie("console_session", path="/console")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_staff_move_a_report_through_its_statuses_and_mark_a_duplicate(client, make_user, session):
    from models.reports import Report, ReportUpdate
    from tests.reports.helpers import LITTER, file_report

    resident = make_user()
    original = file_report(client, resident)
    second = file_report(client, make_user(), **{"lat": LITTER["lat"] + 0.0001})
    staff = make_user("staff")
    assert login(client, staff).headers["Location"] == "/console/"
    listing = client.get("/console/reports").get_data(as_text=True)
    assert f'/console/reports/{original["id"]}"' in listing and f'/console/reports/{second["id"]}"' in listing
    page = client.get(f"/console/reports/{original['id']}").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    for status, note in (("acknowledged", "Gesehen, die EDG ist informiert."), ("in_progress", "Abholung bestellt."), ("resolved", "Abgeholt.")):
        r = client.post(f"/console/reports/{original['id']}/updates", data={"csrf_token": token, "status": status, "note": note})
        assert r.status_code == 302, r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Report, original["id"]).status == "resolved"
    assert [u.status for u in session.query(ReportUpdate).filter_by(report_id=original["id"]).order_by(ReportUpdate.id)] == [
        "acknowledged", "in_progress", "resolved"]
    # Resolved is final for staff: the API's 409 and its words, nothing changed.
    r = client.post(f"/console/reports/{original['id']}/updates", data={"csrf_token": token, "status": "in_progress", "note": "Doch nicht"})
    assert r.status_code == 409 and 'role="alert"' in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Report, original["id"]).status == "resolved"
    # The nearby candidates are offered for a duplicate.
    page = client.get(f"/console/reports/{second['id']}").get_data(as_text=True)
    assert f'<option value="{original["id"]}">' not in page  # resolved: no longer a candidate
    third = file_report(client, make_user(), **{"lat": LITTER["lat"] - 0.0001})
    page = client.get(f"/console/reports/{second['id']}").get_data(as_text=True)
    assert f'<option value="{third["id"]}">' in page
    r = client.post(f"/console/reports/{second['id']}/updates",
                    data={"csrf_token": token, "status": "duplicate", "note": "Schon gemeldet.", "duplicate_of": third["id"]})
    assert r.status_code == 302
    session.expire_all()
    assert (session.get(Report, second["id"]).status, session.get(Report, second["id"]).duplicate_of) == ("duplicate", third["id"])
    # A moderator without the staff role does not get the reports pages.
    client.post("/console/logout", data={"csrf_token": token})
    login(client, make_user("moderator"))
    assert client.get("/console/reports").status_code == 403


def test_the_queue_filters_by_district_in_the_console_and_the_api(client, make_user, flow):
    hoerde = flow.submit(make_user(), district="hoerde")
    eving = flow.submit(make_user(), title="Mehr Licht am Evinger Platz", district="eving")
    published = flow.published(make_user(), title="Ein Spielplatz in Eving", district="eving")
    comment = flow.comment(make_user(), published["id"], body="Bitte auch Schaukeln", approve=False)
    moderator = make_user("moderator")
    api = client.get("/api/v1/moderation/queue?district=eving", headers=moderator.headers).get_json()["items"]
    assert {(i["target_type"], i["target_id"]) for i in api} == {("idea", eving["id"]), ("comment", comment["id"])}
    assert client.get("/api/v1/moderation/queue?district=gotham", headers=moderator.headers).status_code == 422
    login(client, moderator)
    page = client.get("/console/moderation?district=hoerde").get_data(as_text=True)
    assert f"{hoerde['id']} ·" in page and f"{eving['id']} ·" not in page
    page = client.get("/console/moderation?district=eving&type=comment").get_data(as_text=True)
    assert f"{comment['id']} ·" in page and f"{eving['id']} ·" not in page


def test_the_log_shows_each_decision_with_the_content_as_it_was(client, make_user, flow):
    idea = flow.submit(make_user(), title="Ein Titel, der im Protokoll steht")
    flow.approve("idea", idea["id"])
    login(client, make_user("moderator"))
    page = client.get("/console/moderation/log").get_data(as_text=True)
    assert "Ein Titel, der im Protokoll steht" in page and "<details>" in page


def test_the_report_page_draws_tiles_only_where_a_tile_server_is_set(client, make_user, app, monkeypatch):
    from tests.reports.helpers import file_report

    report = file_report(client, make_user())
    login(client, make_user("staff"))
    page = client.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    assert "<svg" in page and 'id="map"' not in page and "leaflet.js" not in page
    monkeypatch.setitem(app.config, "CONSOLE_TILE_URL", "https://tiles.example/{z}/{x}/{y}.png")
    page = client.get(f"/console/reports/{report['id']}").get_data(as_text=True)
    assert 'data-tiles="https://tiles.example/{z}/{x}/{y}.png"' in page and "vendor/leaflet/leaflet.js" in page
    assert client.get("/console/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/console/static/console-map.js").status_code == 200


def test_the_ideas_list_puts_what_waits_for_an_answer_first_page_by_page(client, make_user, flow, monkeypatch):
    import console.views.ideas as ideas_page

    first = flow.published(make_user(), title="Erste Idee zum Warten")
    second = flow.published(make_user(), title="Zweite Idee zum Prüfen")
    third = flow.published(make_user(), title="Dritte Idee, angenommen")
    r = client.post(f"/api/v1/ideas/{second['id']}/response", json={"status": "under_review", "body": "Wir prüfen das."}, headers=flow.staff.headers)
    assert r.status_code == 200, r.get_json()
    r = client.post(f"/api/v1/ideas/{third['id']}/response", json={"status": "accepted", "body": "Machen wir."}, headers=flow.staff.headers)
    assert r.status_code == 200, r.get_json()
    login(client, make_user("staff"))
    page = client.get("/console/ideas").get_data(as_text=True)
    order = [page.index(i["title"]) for i in (second, first, third)]
    assert order == sorted(order)  # under review, then published, then accepted
    html = client.get("/console/ideas?status=awaiting").get_data(as_text=True)
    assert first["title"] in html and second["title"] in html and third["title"] not in html
    monkeypatch.setattr(ideas_page, "PAGE_SIZE", 1)
    titles = [t for t in (first["title"], second["title"], third["title"])]
    seen = []
    for number in (1, 2, 3):
        html = client.get(f"/console/ideas?page={number}").get_data(as_text=True)
        seen += [t for t in titles if t in html]
    assert seen == [second["title"], first["title"], third["title"]]
