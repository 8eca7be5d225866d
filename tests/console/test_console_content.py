"""The console's content pages over HTTP: the city's answers to ideas, district news, blocks.

Each change is made through a console form and checked through the API (what the app sees);
each refusal shows the API's own words with its status and changes nothing.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from models.news import NewsItem
from models.users import User
from tests.console.test_console_http import CSRF, csrf_token, login
from tests.idea_flow import IDEA

API = "/api/v1"


@pytest.fixture
def db(session):
    """The test's session, rolled back at the end.

    A read right after a console POST runs in the thread's kept read session with the POST's
    write intent still set, so on SQLite it opens a BEGIN IMMEDIATE that the kept session's
    teardown does not end: without this rollback the next test's wipe finds the database locked.
    """
    yield session
    session.rollback()


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def alert(response) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert found, response.get_data(as_text=True)
    return html.unescape(found.group(1)).strip()


def api_message(response) -> str:
    return response.get_json()["message"]


def assert_clean_page(response) -> None:
    """The pages keep to the console's policy: no inline script, no style attribute or element."""
    page = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert " style=" not in page and "<style" not in page
    assert page.count("<h1") == 1
    for form in re.findall(r'<form method="post".*?</form>', page, re.S):
        assert 'name="csrf_token"' in form
    # Every control has its label.
    for control in re.findall(r'<(?:input|select|textarea)\b[^>]*>', page):
        if 'type="hidden"' in control:
            continue
        control_id = re.search(r'\bid="([^"]+)"', control).group(1)
        assert f'<label for="{control_id}">' in page, control


# ---------------------------------------------------------------------------------- ideas
def test_staff_answer_an_idea_as_the_api_would(client, make_user, flow):
    idea = flow.published(make_user())
    answered = flow.published(make_user(), title="Trinkbrunnen im Westfalenpark")
    staff = make_user("staff")
    assert login(client, staff).status_code == 302
    r = client.post(f"{API}/ideas/{answered['id']}/response", json={"status": "accepted", "body": "Kommt 2027."},
                    headers=staff.headers)
    assert r.status_code == 200
    listing = client.get("/console/ideas")
    assert listing.status_code == 200
    assert_clean_page(listing)
    page = listing.get_data(as_text=True)
    # Awaiting an answer first: the published idea before the accepted one.
    assert page.index(f'/console/ideas/{idea["id"]}"') < page.index(f'/console/ideas/{answered["id"]}"')
    only_awaiting = client.get("/console/ideas?status=awaiting").get_data(as_text=True)
    assert f'/console/ideas/{idea["id"]}"' in only_awaiting and f'/console/ideas/{answered["id"]}"' not in only_awaiting
    assert f'/console/ideas/{idea["id"]}"' not in client.get("/console/ideas?district=mengede").get_data(as_text=True)

    detail = client.get(f"/console/ideas/{idea['id']}")
    assert_clean_page(detail)
    offered = re.findall(r'<option value="([a-z_]+)"', detail.get_data(as_text=True))
    # Exactly what models.ideas.respond allows from `published`.
    assert offered == ["under_review", "accepted", "rejected"]
    token = CSRF.search(detail.get_data(as_text=True)).group(1)
    r = client.post(f"/console/ideas/{idea['id']}/response",
                    data={"csrf_token": token, "status": "accepted", "body": "  Die Stadt stellt im Frühjahr drei Bänke auf.  "})
    assert r.status_code == 302 and r.headers["Location"] == f"/console/ideas/{idea['id']}"
    seen = client.get(f"{API}/ideas/{idea['id']}").get_json()
    assert seen["status"] == "accepted"
    assert seen["official_response"]["status"] == "accepted"
    assert seen["official_response"]["body"] == "Die Stadt stellt im Frühjahr drei Bänke auf."
    page = client.get(f"/console/ideas/{idea['id']}")
    assert "Die Stadt stellt im Frühjahr drei Bänke auf." in text_of(page)
    assert "Die Antwort ist veröffentlicht." in text_of(page)
    assert re.findall(r'<option value="([a-z_]+)"', page.get_data(as_text=True)) == ["accepted", "implemented"]

    # accepted → under_review is not allowed: the API's message and 409, nothing changed.
    expected = api_message(client.post(f"{API}/ideas/{idea['id']}/response", json={"status": "under_review", "body": "Doch noch prüfen."},
                                       headers=staff.headers))
    r = client.post(f"/console/ideas/{idea['id']}/response", data={"csrf_token": token, "status": "under_review", "body": "Doch noch prüfen."})
    assert r.status_code == 409
    assert alert(r) == expected == "Vom Status „accepted“ geht es nicht zu „under_review“."
    assert "Doch noch prüfen." in text_of(r)  # what was typed stays in the form
    # Invalid input is 422 (the API's schema): an empty answer, a status that is no answer.
    for data in ({"status": "implemented", "body": "   "}, {"status": "published", "body": "Zurück auf Anfang."}):
        r = client.post(f"/console/ideas/{idea['id']}/response", data={"csrf_token": token, **data})
        assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    seen = client.get(f"{API}/ideas/{idea['id']}").get_json()
    assert seen["status"] == "accepted" and seen["official_response"]["body"] == "Die Stadt stellt im Frühjahr drei Bänke auf."


def test_an_idea_out_of_public_view_gets_no_answer(client, make_user, flow):
    pending = flow.submit(make_user())
    staff = make_user("staff")
    login(client, staff)
    page = client.get(f"/console/ideas/{pending['id']}")
    assert page.status_code == 200 and "nur auf öffentliche Ideen" in text_of(page)
    assert f'/console/ideas/{pending["id"]}"' not in client.get("/console/ideas").get_data(as_text=True)
    token = csrf_token(client, "/console/ideas")
    r = client.post(f"/console/ideas/{pending['id']}/response", data={"csrf_token": token, "status": "accepted", "body": "Ja."})
    assert r.status_code == 409 and "nur auf öffentliche Ideen" in alert(r)
    assert client.post("/console/ideas/999999/response", data={"csrf_token": token, "status": "accepted", "body": "Ja."}).status_code == 404


# ----------------------------------------------------------------------------------- news
def feed_item(client, news_id: int, **query) -> dict | None:
    items = client.get(f"{API}/news", query_string=query).get_json()["items"]
    return next((item for item in items if item["id"] == news_id), None)


def test_staff_post_edit_and_withdraw_an_event(client, make_user):
    staff = make_user("staff")
    login(client, staff)
    form_page = client.get("/console/news/new")
    assert form_page.status_code == 200
    assert_clean_page(form_page)
    assert 'type="datetime-local"' in form_page.get_data(as_text=True)
    token = CSRF.search(form_page.get_data(as_text=True)).group(1)
    event = {
        "csrf_token": token, "kind": "event", "district": "hoerde", "title": "Stadtteilfest am Phoenix-See",
        "body": "Musik, Essen und Infostände am Nordufer.", "starts_at": "2027-07-01T18:00", "ends_at": "2027-07-01T20:30",
        "place": "Phoenix-See, Nordufer",
    }
    r = client.post("/console/news", data=event)
    assert r.status_code == 302, text_of(r)
    news_id = int(re.fullmatch(r"/console/news/(\d+)", r.headers["Location"]).group(1))
    # 18:00 in Dortmund in July (CEST) is 16:00 UTC.
    item = feed_item(client, news_id, district="hoerde")
    assert item is not None and feed_item(client, news_id, district="mengede") is None
    assert (item["kind"], item["district"], item["title"], item["place"]) == ("event", "hoerde", event["title"], event["place"])
    assert (item["starts_at"], item["ends_at"]) == ("2027-07-01T16:00:00+00:00", "2027-07-01T18:30:00+00:00")
    assert item["calendar_url"] == f"{API}/news/{news_id}.ics"

    edit = client.get(f"/console/news/{news_id}")
    assert_clean_page(edit)
    page = edit.get_data(as_text=True)
    assert 'value="2027-07-01T18:00"' in page and 'value="2027-07-01T20:30"' in page
    assert "Der Beitrag ist veröffentlicht." in text_of(edit)
    # Edited: another title, a winter date (CET: 18:00 is 17:00 UTC), city-wide, no end, no place.
    changed = event | {"title": "Stadtteilfest (verschoben)", "district": "", "starts_at": "2027-01-15T18:00", "ends_at": "", "place": ""}
    r = client.post(f"/console/news/{news_id}", data=changed)
    assert r.status_code == 302
    item = client.get(f"{API}/news/{news_id}").get_json()
    assert (item["title"], item["district"], item["starts_at"], item["ends_at"], item["place"]) == (
        "Stadtteilfest (verschoben)", None, "2027-01-15T17:00:00+00:00", None, None)
    assert feed_item(client, news_id, district="mengede") is not None  # city-wide: in every district's list

    # Refusals with the API's words, 422, and nothing changed.
    expected = api_message(client.patch(f"{API}/news/{news_id}", json={"starts_at": None}, headers=staff.headers))
    r = client.post(f"/console/news/{news_id}", data=changed | {"starts_at": "", "title": "Ohne Beginn"})
    assert r.status_code == 422 and alert(r) == expected
    assert 'id="starts_at-error"' in r.get_data(as_text=True) and 'value="Ohne Beginn"' in r.get_data(as_text=True)
    r = client.post(f"/console/news/{news_id}", data=changed | {"ends_at": "2027-01-15T17:00"})
    assert r.status_code == 422 and "Das Ende muss nach dem Beginn liegen." in alert(r)
    # 02:30 on the last Sunday of March does not exist in Dortmund; nor does a year the API refuses.
    for starts_at in ("2027-03-28T02:30", "1999-12-31T12:00", "morgen früh"):
        r = client.post(f"/console/news/{news_id}", data=changed | {"starts_at": starts_at, "title": "Falsche Zeit"})
        assert r.status_code == 422 and 'id="starts_at-error"' in r.get_data(as_text=True), starts_at
    r = client.post(f"/console/news/{news_id}", data=changed | {"title": "ab"})
    assert r.status_code == 422 and 'id="title-error"' in r.get_data(as_text=True)
    assert client.get(f"{API}/news/{news_id}").get_json()["title"] == "Stadtteilfest (verschoben)"

    r = client.post(f"/console/news/{news_id}/withdraw", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/console/news"
    assert client.get(f"{API}/news/{news_id}").status_code == 404
    assert feed_item(client, news_id) is None
    assert b"STATUS:CANCELLED" in client.get(f"{API}/news/{news_id}.ics").data
    listing = client.get("/console/news")
    assert_clean_page(listing)
    row = re.search(rf'<tr class="withdrawn"><td>{news_id}</td>.*?</tr>', listing.get_data(as_text=True), re.S)
    assert row and "Zurückgezogen" in row.group(0)
    # Shown, read only; withdrawn twice or edited after: 404 as in the API.
    withdrawn_page = client.get(f"/console/news/{news_id}").get_data(as_text=True)
    assert "Zurückgezogen am" in withdrawn_page and f'action="/console/news/{news_id}"' not in withdrawn_page
    assert client.post(f"/console/news/{news_id}/withdraw", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/console/news/{news_id}", data=changed).status_code == 404


def test_news_without_a_start_posts_and_unknown_districts_are_refused(client, make_user, db):
    staff = make_user("staff")
    login(client, staff)
    token = csrf_token(client, "/console/news/new")
    r = client.post("/console/news", data={"csrf_token": token, "kind": "news", "district": "", "title": "Neue Öffnungszeiten",
                                           "body": "Das Bürgerbüro öffnet samstags.", "starts_at": "", "ends_at": "", "place": ""})
    assert r.status_code == 302
    item = client.get(f"{API}/news").get_json()["items"][0]
    assert (item["kind"], item["district"], item["starts_at"], item["calendar_url"]) == ("news", None, None, None)
    r = client.post("/console/news", data={"csrf_token": token, "kind": "news", "district": "atlantis", "title": "Anderswo",
                                           "body": "Gibt es nicht.", "starts_at": "", "ends_at": "", "place": ""})
    assert r.status_code == 422 and alert(r) == "Unbekannter Stadtbezirk."
    r = client.post("/console/news", data={"csrf_token": token, "kind": "flyer", "district": "", "title": "Falsche Art",
                                           "body": "Gibt es nicht.", "starts_at": "", "ends_at": "", "place": ""})
    assert r.status_code == 422 and 'id="kind-error"' in r.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(NewsItem)) == 1


# --------------------------------------------------------------------------------- blocks
def test_a_moderator_blocks_and_unblocks_a_user(client, make_user, db):
    resident = make_user(name="Kim Kramer")
    moderator = make_user("moderator")
    login(client, moderator)
    found = client.get("/console/blocks", query_string={"q": resident.email.upper()})
    assert found.status_code == 200
    assert_clean_page(found)
    assert "Konto %d: Kim Kramer" % resident.id in text_of(found) and "Nicht gesperrt" in text_of(found)
    assert "Zurzeit ist kein Konto gesperrt." in text_of(found)
    assert "Kein Konto" in text_of(client.get("/console/blocks?q=999999"))
    token = CSRF.search(found.get_data(as_text=True)).group(1)

    r = client.post(f"/console/blocks/{resident.id}/block",
                    data={"csrf_token": token, "reason": "Wiederholt Werbung gepostet.", "until": "2030-01-01T12:00"})
    assert r.status_code == 302 and r.headers["Location"] == f"/console/blocks?q={resident.id}"
    db.expire_all()
    user = db.get(User, resident.id)
    assert user.blocked_until == datetime(2030, 1, 1, 11, 0, tzinfo=timezone.utc)  # 12:00 CET
    assert user.block_reason == "Wiederholt Werbung gepostet."
    # The account reads but writes nothing through the API.
    r = client.post(f"{API}/ideas", json=IDEA, headers=resident.headers)
    assert r.status_code == 403
    page = client.get(f"/console/blocks?q={resident.id}")
    assert "Gesperrt bis 01.01.2030, 12:00 Uhr" in text_of(page) and "Das Konto ist gesperrt." in text_of(page)
    assert re.search(rf'<th scope="row"><a href="/console/blocks\?q={resident.id}">', page.get_data(as_text=True))

    r = client.post(f"/console/blocks/{resident.id}/unblock", data={"csrf_token": token})
    assert r.status_code == 302
    db.expire_all()
    assert db.get(User, resident.id).blocked_until is None
    assert client.post(f"{API}/ideas", json=IDEA, headers=resident.headers).status_code == 201
    assert "Die Sperre ist aufgehoben." in text_of(client.get(f"/console/blocks?q={resident.id}"))

    # Without an end the block lasts until it is lifted.
    assert client.post(f"/console/blocks/{resident.id}/block", data={"csrf_token": token, "reason": "Beleidigungen.", "until": ""}).status_code == 302
    assert "Gesperrt, bis die Sperre aufgehoben wird" in text_of(client.get("/console/blocks"))
    assert client.post(f"{API}/ideas", json=IDEA, headers=resident.headers).status_code == 403


def test_block_refusals_show_the_api_s_words(client, make_user, db):
    resident = make_user()
    admin = make_user("admin")
    staff_member = make_user("staff")
    moderator = make_user("moderator")
    login(client, moderator)
    token = csrf_token(client, "/console/blocks")
    data = {"csrf_token": token, "reason": "Test.", "until": ""}
    for target, status in ((moderator, 403), (admin, 403), (staff_member, 403)):
        expected = api_message(client.put(f"{API}/moderation/users/{target.id}/block", json={"reason": "Test."}, headers=moderator.headers))
        r = client.post(f"/console/blocks/{target.id}/block", data=data)
        assert r.status_code == status and alert(r) == expected
    assert "eigene Sperre" in alert(client.post(f"/console/blocks/{moderator.id}/unblock", data={"csrf_token": token}))
    r = client.post(f"/console/blocks/{resident.id}/block", data=data | {"until": "2020-01-01T00:00"})
    assert r.status_code == 422 and "Das Ende der Sperre muss in der Zukunft liegen." in text_of(r)
    assert 'id="until-error"' in r.get_data(as_text=True)
    r = client.post(f"/console/blocks/{resident.id}/block", data=data | {"reason": "  "})
    assert r.status_code == 422 and 'id="reason-error"' in r.get_data(as_text=True)
    assert client.post("/console/blocks/999999/block", data=data).status_code == 404
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(User).where(User.blocked_until.is_not(None))) == 0


# ----------------------------------------------------------------------- who gets in, CSRF
def test_each_page_is_for_its_role_only(client, make_user, flow, db):
    idea = flow.published(make_user())
    resident = make_user()
    for path in ("/console/ideas", f"/console/ideas/{idea['id']}", "/console/news", "/console/news/new", "/console/blocks"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/console/login"), path
    assert login(client, resident).status_code == 403
    assert client.get("/console/ideas").status_code == 302

    login(client, make_user("moderator"))
    token = csrf_token(client, "/console/blocks")
    nav = client.get("/console/blocks").get_data(as_text=True)
    assert 'href="/console/blocks"' in nav and 'href="/console/ideas"' not in nav
    for path in ("/console/ideas", f"/console/ideas/{idea['id']}", "/console/news", "/console/news/new"):
        assert client.get(path).status_code == 403, path
    r = client.post("/console/news", data={"csrf_token": token, "kind": "news", "title": "Von der Moderation", "body": "Nein."})
    assert r.status_code == 403
    r = client.post(f"/console/ideas/{idea['id']}/response", data={"csrf_token": token, "status": "accepted", "body": "Nein."})
    assert r.status_code == 403
    client.post("/console/logout", data={"csrf_token": token})

    login(client, make_user("staff"))
    token = csrf_token(client, "/console/ideas")
    nav = client.get("/console/ideas").get_data(as_text=True)
    assert 'href="/console/ideas"' in nav and 'href="/console/news"' in nav and 'href="/console/blocks"' not in nav
    assert client.get("/console/blocks").status_code == 403
    assert client.post(f"/console/blocks/{resident.id}/block", data={"csrf_token": token, "reason": "Nein."}).status_code == 403
    db.expire_all()
    assert db.get(User, resident.id).blocked_until is None
    assert db.scalar(select(func.count()).select_from(NewsItem)) == 0
    assert client.get(f"{API}/ideas/{idea['id']}").get_json()["official_response"] is None


@pytest.mark.parametrize("forged", [None, "forged-token"])
def test_a_forged_csrf_token_is_400_on_every_form(client, make_user, flow, db, forged):
    idea = flow.published(make_user())
    resident = make_user()
    staff_moderator = make_user("staff", "moderator")
    login(client, staff_moderator)
    token = csrf_token(client, "/console/news/new")
    r = client.post("/console/news", data={"csrf_token": token, "kind": "news", "district": "", "title": "Echt",
                                           "body": "Mit Token.", "starts_at": "", "ends_at": "", "place": ""})
    news_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert client.post(f"/console/blocks/{resident.id}/block", data={"csrf_token": token, "reason": "Echt."}).status_code == 302
    forms = [
        (f"/console/ideas/{idea['id']}/response", {"status": "accepted", "body": "Gefälscht."}),
        ("/console/news", {"kind": "news", "district": "", "title": "Gefälscht", "body": "Ohne Token."}),
        (f"/console/news/{news_id}", {"kind": "news", "district": "", "title": "Gefälscht", "body": "Ohne Token."}),
        (f"/console/news/{news_id}/withdraw", {}),
        (f"/console/blocks/{resident.id}/unblock", {}),
        (f"/console/blocks/{idea['author']['id']}/block", {"reason": "Gefälscht."}),
    ]
    for path, data in forms:
        if forged:
            data = data | {"csrf_token": forged}
        r = client.post(path, data=data)
        assert r.status_code == 400 and "nichts geändert" in text_of(r), path
    db.expire_all()
    assert client.get(f"{API}/ideas/{idea['id']}").get_json()["official_response"] is None
    assert [item["title"] for item in client.get(f"{API}/news").get_json()["items"]] == ["Echt"]
    assert db.get(User, resident.id).blocked_until is not None
    assert db.get(User, idea["author"]["id"]).blocked_until is None
