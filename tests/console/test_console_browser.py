"""The staff console in chromium (Playwright) against the app served on 127.0.0.1.

Each flow goes through the real pages the way staff would (forms, buttons, keys), checks the
result in the database, and runs axe-core on every page it sees (no WCAG 2.0/2.1 A or AA
violations). Screenshots for the README: `CONSOLE_SCREENSHOTS=1` (see `make screenshots`).
The same pages without a browser: tests/console/test_console_http.py.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

import pyotp
import pytest
from sqlalchemy import select

from api.extensions import db as database
from api.extensions import write_intent
from models.ideas import Idea
from models.moderation import ModerationDecision
from models.reports import Report, ReportUpdate
from tests.console.conftest import axe, de, login, logout, screenshot
from tests.reports.helpers import LITTER, file_report

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def reading(clean_app):
    """`with reading() as session:` reads what the live server's threads wrote, in an app context
    of its own, and ends at once. Take every value needed inside the block.

    Not the `session` fixture: its app context, open around the test client's requests (the
    flows arrange data through the API), would make them share one session. And the reads
    start no write transaction (api.extensions.write_intent): on SQLite, one left open would
    hold the lock the server's next request waits for.
    """

    @contextmanager
    def look():
        with clean_app.app_context():
            token = write_intent.set(False)
            try:
                yield database.session
            finally:
                database.session.rollback()
                write_intent.reset(token)

    return look


def path(url_path: str):
    return re.compile(rf"^https?://[^/]+{re.escape(url_path)}(\?.*)?$")


def queue_item(page, target_type: str, target_id: int, state: str = "pending"):
    return page.get_by_role("article", name=f"{de('target_' + target_type)} {target_id} · {de('state_' + state)}")


# ---------------------------------------------------------------------------- who gets in
def test_the_login_page_and_a_resident_is_refused(page, make_user):
    page.goto("/console/moderation")
    # Not logged in: the login form, which remembers where to go back to.
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text(de("login_title"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    axe(page, "login")
    screenshot(page, "login")

    resident = make_user(password="resident password 1")
    page.get_by_label(de("email")).fill(resident.email)
    page.get_by_label(de("password")).fill("not the password")
    page.get_by_role("button", name=de("login_button")).click()
    expect(page.get_by_role("alert")).to_have_text(de("login_failed"))
    # The address stays filled in after a failed attempt.
    expect(page.get_by_label(de("email"))).to_have_value(resident.email)
    axe(page, "login failed")

    page.get_by_label(de("password")).fill(resident.password)
    page.get_by_role("button", name=de("login_button")).click()
    expect(page.get_by_role("alert")).to_have_text(de("not_for_residents"))
    expect(page.get_by_role("button", name=de("logout"))).to_have_count(0)
    axe(page, "resident refused")
    page.goto("/console/moderation")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_axe_finds_what_it_should(page):
    """The check itself: a form field without its label is a WCAG A violation axe must report."""
    page.goto("/console/login")
    axe(page, "login")
    page.evaluate("() => document.querySelector('label[for=email]').remove()")
    with pytest.raises(pytest.fail.Exception, match=r"label \(critical\)[\s\S]*#email"):
        axe(page, "login without a label")


def test_the_skip_link_and_the_language_switch(page, make_user):
    moderator = make_user("moderator")
    login(page, moderator)
    expect(page).to_have_url(path("/console/moderation"))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=de("skip_to_content"))
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderation queue")
    axe(page, "queue in English")
    # Kept for the session: the next page speaks English too.
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log")
    page.get_by_role("link", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")


# ---------------------------------------------------------------------------- moderation
def test_a_moderator_approves_pending_ideas_by_click_and_by_key_and_sees_them_logged(page, make_user, flow, reading):
    author = make_user()
    first, second, third = (flow.submit(author, title=f"Mehr Bänke am Phoenix-See, Teil {n}") for n in (1, 2, 3))
    moderator = make_user("moderator")
    login(page, moderator)
    # A moderator's day starts at the queue, oldest first.
    expect(page).to_have_url(path("/console/moderation"))
    expect(page.get_by_role("heading", level=1)).to_have_text(de("queue_title"))
    items = page.locator("ol.queue > li")
    expect(items).to_have_count(3)
    expect(items.nth(0).get_by_role("article")).to_have_accessible_name(f"{de('target_idea')} {first['id']} · {de('state_pending')}")
    axe(page, "queue")

    # By click: the item becomes its result in place (htmx), and the keyboard moves on.
    queue_item(page, "idea", first["id"]).get_by_role("button", name=de("action_approve")).click()
    expect(items.nth(0).get_by_role("status")).to_have_text(de("decided"))
    expect(queue_item(page, "idea", second["id"])).to_be_focused()
    # By key: "a" in the focused item approves it.
    page.keyboard.press("a")
    expect(items.nth(1).get_by_role("status")).to_have_text(de("decided"))
    expect(queue_item(page, "idea", third["id"])).to_be_focused()
    axe(page, "queue after decisions")

    with reading() as session:
        assert session.get(Idea, first["id"]).status == "published"
        assert session.get(Idea, second["id"]).status == "published"
        assert session.get(Idea, third["id"]).status == "pending"
        decisions = session.scalars(select(ModerationDecision).order_by(ModerationDecision.id)).all()
        assert [(d.target_id, d.action, d.moderator_id) for d in decisions] == [
            (first["id"], "approve", moderator.id), (second["id"], "approve", moderator.id)]

    # A fresh queue holds only what still waits.
    page.reload()
    expect(items).to_have_count(1)
    expect(queue_item(page, "idea", third["id"])).to_be_visible()

    page.get_by_role("link", name=de("nav_log")).click()
    expect(page).to_have_url(path("/console/moderation/log"))
    expect(page.get_by_role("link", name=de("nav_log"))).to_have_attribute("aria-current", "page")
    rows = page.locator("table.log tbody tr")
    # Newest first.
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(f"{de('target_idea')} {second['id']}")
    expect(rows.nth(1)).to_contain_text(f"{de('target_idea')} {first['id']}")
    expect(rows.nth(1)).to_contain_text(de("action_approve"))
    axe(page, "moderation log")


def test_a_rejection_needs_a_reason_and_a_decision_made_elsewhere_first_is_refused_in_place(page, make_user, flow, reading):
    author = make_user()
    idea = flow.submit(author)
    taken = flow.submit(author, title="Schon entschieden am Phoenix-See")
    login(page, make_user("moderator"))
    item = queue_item(page, "idea", idea["id"])
    # "r" with the default reason ("in Ordnung") is refused in place, with the API's words.
    item.focus()
    page.keyboard.press("r")
    expect(page.get_by_role("alert")).to_be_visible()
    axe(page, "queue with a refused decision")
    with reading() as session:
        assert session.get(Idea, idea["id"]).status == "pending"

    # Another moderator decides first; this one's click answers 409 in the item.
    flow.approve("idea", taken["id"])
    other = queue_item(page, "idea", taken["id"])
    other.get_by_role("button", name=de("action_reject")).click()
    expect(page.get_by_role("alert")).to_have_count(2)
    with reading() as session:
        assert session.get(Idea, taken["id"]).status == "published"
        assert [d.action for d in session.scalars(select(ModerationDecision))] == ["approve"]


# ---------------------------------------------------------------------------- reports
def test_staff_move_a_report_through_its_statuses_and_mark_a_duplicate(page, make_user, client, reading):
    original = file_report(client, make_user())
    second = file_report(client, make_user(), lat=LITTER["lat"] + 0.0001)
    staff = make_user("staff")
    login(page, staff)
    # City staff start at the open reports.
    expect(page).to_have_url(path("/console/reports"))
    expect(page.get_by_role("heading", level=1)).to_have_text(de("reports_title"))
    expect(page.get_by_role("link", name=str(original["id"]), exact=True)).to_be_visible()
    axe(page, "reports")

    page.get_by_role("link", name=str(original["id"]), exact=True).click()
    expect(page).to_have_url(path(f"/console/reports/{original['id']}"))
    expect(page.locator("#report-status")).to_have_text(de("status_open"))
    expect(page.get_by_role("img", name=re.compile(r"51\.5136"))).to_be_visible()  # the district outline with the point
    axe(page, "report")

    notes = {"acknowledged": "Gesehen, die EDG ist informiert.", "in_progress": "Abholung bestellt.", "resolved": "Abgeholt."}
    for status, note in notes.items():
        page.get_by_label(de("status")).select_option(status)
        page.get_by_label(de("note")).fill(note)
        page.get_by_role("button", name=de("post_update")).click()
        expect(page.locator("#report-status")).to_have_text(de(f"status_{status}"))
        expect(page.locator("ol.timeline > li").last).to_contain_text(note)
    expect(page.locator("ol.timeline > li")).to_have_count(3)
    axe(page, "report resolved")
    with reading() as session:
        assert session.get(Report, original["id"]).status == "resolved"
        assert [u.status for u in session.scalars(select(ReportUpdate).where(ReportUpdate.report_id == original["id"]).order_by(ReportUpdate.id))] == [
            "acknowledged", "in_progress", "resolved"]

    # The second one: a duplicate of a third nearby report, chosen from the offered candidates.
    third = file_report(client, make_user(), lat=LITTER["lat"] - 0.0001)
    page.goto(f"/console/reports/{second['id']}")
    candidates = page.get_by_label(de("duplicate_of"))
    expect(candidates.locator(f'option[value="{third["id"]}"]')).to_have_count(1)
    expect(candidates.locator(f'option[value="{original["id"]}"]')).to_have_count(0)  # resolved: no candidate
    page.get_by_label(de("status")).select_option("duplicate")
    candidates.select_option(str(third["id"]))
    page.get_by_label(de("note")).fill("Schon gemeldet.")
    page.get_by_role("button", name=de("post_update")).click()
    expect(page.locator("#report-status")).to_have_text(de("status_duplicate"))
    expect(page.locator(".facts").get_by_role("link", name=str(third["id"]), exact=True)).to_be_visible()
    axe(page, "report marked duplicate")
    with reading() as session:
        marked = session.get(Report, second["id"])
        assert (marked.status, marked.duplicate_of) == ("duplicate", third["id"])


def test_a_moderator_without_the_staff_role_does_not_get_the_reports(page, make_user):
    login(page, make_user("moderator"))
    expect(page.get_by_role("link", name=de("nav_reports"))).to_have_count(0)
    response = page.goto("/console/reports")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_be_visible()
    axe(page, "403")


# ---------------------------------------------------------------------------- forged forms
def test_a_forged_form_is_refused_and_changes_nothing(page, make_user, client, reading):
    report = file_report(client, make_user())
    login(page, make_user("staff"))
    page.goto(f"/console/reports/{report['id']}")
    # Another site's form would carry no token of this session, or a wrong one.
    page.evaluate("""() => { document.querySelector('form[action$="/updates"] input[name="csrf_token"]').value = "forged-token"; }""")
    page.get_by_label(de("status")).select_option("acknowledged")
    page.get_by_label(de("note")).fill("Das sollte nicht ankommen.")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=de("post_update")).click()
    assert answer.value.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text(de("error_title"))
    expect(page.get_by_role("alert")).to_have_text(de("csrf_failed"))
    axe(page, "400 forged form")
    with reading() as session:
        assert session.get(Report, report["id"]).status == "open"
        assert session.scalars(select(ReportUpdate)).all() == []

    # The logout form without its token: still logged in.
    page.goto(f"/console/reports/{report['id']}")
    page.evaluate("""() => document.querySelector('form.logout input[name="csrf_token"]').remove()""")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=de("logout")).click()
    assert answer.value.status == 400
    page.goto(f"/console/reports/{report['id']}")
    expect(page.locator("#report-status")).to_have_text(de("status_open"))


def test_a_login_form_without_its_token_logs_nobody_in(page, make_user):
    moderator = make_user("moderator")
    page.goto("/console/login")
    page.evaluate("""() => document.querySelector('input[name="csrf_token"]').remove()""")
    page.get_by_label(de("email")).fill(moderator.email)
    page.get_by_label(de("password")).fill(moderator.password)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=de("login_button")).click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(de("csrf_failed"))
    page.goto("/console/moderation")
    expect(page).to_have_url(re.compile(r"/console/login"))


# ---------------------------------------------------------------------------- two-factor login
def test_an_admin_enrols_two_factor_with_an_app_code_then_logs_in_with_a_code(page, make_user):
    admin = make_user("admin")
    login(page, admin, expect_in=False)
    # Required for admins: the enrolment comes before any other page.
    expect(page).to_have_url(path("/console/two-factor"))
    expect(page.get_by_text(de("enrol_required"))).to_be_visible()
    qr = page.get_by_role("img", name=de("enrol_qr_alt"))
    expect(qr).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('main img'); return i.complete && i.naturalWidth > 0; }")
    axe(page, "two-factor enrolment")
    screenshot(page, "two-factor")
    secret = page.locator("code.secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)

    page.get_by_label(de("two_factor_code")).fill("000000")
    page.get_by_role("button", name=de("confirm")).click()
    expect(page.get_by_role("alert")).to_have_text(de("two_factor_wrong"))
    axe(page, "two-factor enrolment, wrong code")
    page.get_by_label(de("two_factor_code")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=de("confirm")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("recovery_title"))
    codes = page.locator("ul.codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{6}-[0-9a-f]{6}", c) for c in codes)
    axe(page, "recovery codes")
    page.get_by_role("link", name=de("continue")).click()
    expect(page).to_have_url(path("/console/moderation"))
    page.get_by_role("link", name=de("nav_security")).click()
    expect(page.get_by_text(de("two_factor_active"))).to_be_visible()
    axe(page, "two-factor active")

    logout(page)
    # Next time: password, then a code (here one of the recovery codes; the app's code just used is spent).
    login(page, admin, expect_in=False)
    expect(page).to_have_url(path("/console/login/code"))
    axe(page, "code form")
    page.get_by_label(de("two_factor_code")).fill("123456")
    page.get_by_role("button", name=de("confirm")).click()
    expect(page.get_by_role("alert")).to_have_text(de("two_factor_wrong"))
    page.get_by_label(de("two_factor_code")).fill(codes[0])
    page.get_by_role("button", name=de("confirm")).click()
    expect(page).to_have_url(path("/console/moderation"))
    logout(page)
    page.goto("/console/moderation")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_logout_ends_the_session_in_this_browser(page, make_user):
    login(page, make_user("staff"))
    logout(page)
    expect(page.get_by_role("button", name=de("logout"))).to_have_count(0)
    for target in ("/console/reports", "/console/two-factor"):
        page.goto(target)
        expect(page).to_have_url(re.compile(r"/console/login"))


# ---------------------------------------------------------------------------- ideas, news, blocks
def test_staff_answer_an_idea_and_change_the_answer(page, make_user, flow, reading):
    idea = flow.published(make_user())
    login(page, make_user("staff"))
    page.get_by_role("link", name=de("nav_ideas")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("ideas_title"))
    axe(page, "ideas")
    page.get_by_role("link", name=idea["title"]).click()
    expect(page).to_have_url(path(f"/console/ideas/{idea['id']}"))
    expect(page.get_by_text(de("idea_no_answer"))).to_be_visible()
    axe(page, "idea")

    answers = {"under_review": "Das Grünflächenamt prüft, wo am Nordufer Bänke stehen können.",
               "accepted": "Sechs Bänke werden im Frühjahr aufgestellt."}
    for status, text in answers.items():
        page.get_by_label(de("status")).select_option(status)
        page.get_by_label(de("idea_answer_text")).fill(text)
        page.get_by_role("button", name=de("idea_answer_form")).click()
        expect(page.get_by_role("status")).to_have_text(de("idea_answer_saved"))
        expect(page.locator("#idea-status")).to_have_text(de(f"idea_status_{status}"))
        expect(page.locator("#official-response + blockquote")).to_have_text(text)
    axe(page, "idea answered")
    with reading() as session:
        answered = session.get(Idea, idea["id"])
        assert (answered.status, answered.response_status, answered.response_body) == ("accepted", "accepted", answers["accepted"])
    # What may follow "accepted" only: the form offers no way back to "under review".
    expect(page.get_by_label(de("status")).locator('option[value="under_review"]')).to_have_count(0)


def test_staff_post_an_event_in_dortmund_time_and_withdraw_it(page, make_user, reading):
    from datetime import datetime, timezone

    from models.news import NewsItem

    login(page, make_user("staff"))
    page.get_by_role("link", name=de("nav_news")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("news_title"))
    axe(page, "news")
    page.get_by_role("link", name=de("news_write")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("news_write"))
    axe(page, "news form")
    page.get_by_label(de("news_kind")).select_option("event")
    page.get_by_label(de("district")).select_option("hoerde")
    page.get_by_label(de("news_field_title")).fill("Bürgerforum Phoenix-See")
    page.get_by_label(de("news_field_body")).fill("Wie soll das Nordufer aussehen? Kommen Sie vorbei und reden Sie mit.")
    page.get_by_label(de("news_field_starts_at")).fill("2027-06-12T18:00")
    page.get_by_label(de("news_field_ends_at")).fill("2027-06-12T20:30")
    page.get_by_label(de("news_field_place")).fill("Bezirksverwaltungsstelle Hörde")
    page.get_by_role("button", name=de("news_publish")).click()
    expect(page.get_by_role("status")).to_have_text(de("news_saved"))
    expect(page.get_by_role("link", name=de("news_calendar"))).to_be_visible()
    axe(page, "news item")
    with reading() as session:
        item = session.scalars(select(NewsItem)).one()
        # Typed as Dortmund summer time (UTC+2), kept as UTC.
        assert (item.kind, item.district) == ("event", "hoerde")
        assert item.starts_at.astimezone(timezone.utc) == datetime(2027, 6, 12, 16, 0, tzinfo=timezone.utc)
        assert item.ends_at.astimezone(timezone.utc) == datetime(2027, 6, 12, 18, 30, tzinfo=timezone.utc)
        item_id = item.id
    # The event as a calendar entry (the app serves it under /api/v1).
    ics = page.request.get(f"/api/v1/news/{item_id}.ics")
    assert ics.status == 200 and "DTSTART" in ics.text()

    page.get_by_role("button", name=de("news_withdraw")).click()
    expect(page.get_by_role("status")).to_have_text(de("news_withdrawn_done"))
    expect(page.locator("tbody tr").first).to_contain_text(de("news_withdrawn"))
    axe(page, "news with a withdrawn item")
    with reading() as session:
        assert session.get(NewsItem, item_id).withdrawn_at is not None


def test_a_moderator_blocks_an_account_and_lifts_the_block(page, make_user, reading):
    from models.users import User

    resident = make_user(name="Rudi Rüpel")
    login(page, make_user("moderator"))
    page.get_by_role("link", name=de("nav_blocks")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("blocks_title"))
    axe(page, "blocks")
    page.get_by_label(de("blocks_query")).fill(resident.email)
    page.get_by_role("button", name=de("blocks_search")).click()
    account = page.get_by_role("region", name=de("blocks_account", id=resident.id, name="Rudi Rüpel"))
    expect(account.locator("#block-state")).to_have_text(de("blocks_not_blocked"))
    axe(page, "blocks, an account found")
    account.get_by_label(de("blocks_reason")).fill("Wiederholt beleidigende Kommentare.")
    account.get_by_role("button", name=de("blocks_block")).click()
    expect(page.get_by_role("status")).to_have_text(de("blocks_done"))
    expect(page.locator("#block-state")).to_have_text(de("blocks_blocked_indefinitely"))
    expect(page.get_by_role("table")).to_contain_text("Rudi Rüpel")
    axe(page, "blocks, an account blocked")
    with reading() as session:
        assert session.get(User, resident.id).is_blocked()

    page.locator("section").get_by_role("button", name=de("blocks_unblock")).click()
    expect(page.get_by_role("status")).to_have_text(de("blocks_lifted"))
    expect(page.get_by_text(de("blocks_none"))).to_be_visible()
    with reading() as session:
        assert not session.get(User, resident.id).is_blocked()


# ---------------------------------------------------------------------------- budget rounds
def test_staff_run_a_budget_round_from_creation_to_published_results(page, make_user, client, reading):
    from models.budgets import BudgetRound
    from tests.budgets.conftest import Budgets

    bud = Budgets(client, make_user)
    members = [bud.member() for _ in range(3)]
    login(page, bud.staff)
    page.get_by_role("link", name=de("nav_budgets")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(de("bud_list_title"))
    axe(page, "budget rounds")

    # 1. Create: a Jugendparlament round of 100 €, at most two items per ballot, greedy.
    page.get_by_label(de("bud_body")).select_option("jugendparlament")
    page.get_by_label(de("bud_title"), exact=True).fill("Jugendbudget Hörde 2027")
    page.get_by_label(de("bud_budget")).fill("100")
    page.get_by_label(de("bud_max_items")).fill("2")
    page.get_by_label(de("bud_rule")).select_option("greedy")
    page.get_by_role("button", name=de("bud_create")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{de('bud_round')}: Jugendbudget Hörde 2027")
    status = page.locator("#round-status")
    expect(status).to_have_text(de("bud_status_draft"))
    round_id = int(re.search(r"/rounds/(\d+)", page.url).group(1))
    axe(page, "budget round, draft")

    def move_to(phase: str) -> None:
        page.get_by_role("button", name=de("bud_move_to", phase=de(f"bud_status_{phase}"))).click()
        expect(status).to_have_text(de(f"bud_status_{phase}"))

    # 2. Proposals: one item added here (feasible by default), two proposed by members in the app.
    move_to("proposals")
    page.get_by_label(de("bud_title"), exact=True).fill("Skatepark")
    page.get_by_label(de("bud_description")).fill("Rampen am Phoenix-See")
    page.get_by_label(de("bud_cost_input")).fill("60")
    page.get_by_role("button", name=de("bud_add_item")).click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    bud.item(round_id, "Bänke", 30, user=members[0])
    bud.item(round_id, "Schwimmbad", 90, user=members[1])
    page.reload()
    axe(page, "budget round, proposals to review")

    # 3. Reviews: one feasible, one not (with the reason the results will show).
    for title, feasible, reason in (("Bänke", True, ""), ("Schwimmbad", False, "Zu teuer im Unterhalt")):
        review = page.get_by_role("region", name=de("bud_review_of", title=title))
        review.get_by_label(de("bud_feasible_true") if feasible else de("bud_feasible_false"), exact=True).check()
        if reason:
            review.get_by_label(de("bud_reason")).fill(reason)
        review.get_by_role("button", name=de("bud_review_save")).click()
        expect(page.get_by_role("region", name=de("bud_review_of", title=title)).locator("dd").last).to_have_text(
            de("bud_feasible_true") if feasible else de("bud_feasible_false"))
    axe(page, "budget round, reviewed")

    # 4. Voting (ballots through the app), 5. counting, 6. publishing.
    move_to("voting")
    skatepark, benches = (i["id"] for i in bud.get(round_id)["items"][:2])
    for member, chosen in zip(members, ([skatepark, benches], [skatepark], [benches])):
        bud.vote(round_id, member, item_ids=chosen)
    move_to("closed")
    page.get_by_role("link", name=de("bud_results_link")).click()
    expect(page.get_by_text(de("bud_results_unpublished"))).to_be_visible()
    axe(page, "budget results, not published")
    page.get_by_role("link", name=de("bud_back_to_round")).click()
    move_to("published")
    expect(page.get_by_text(de("bud_final"))).to_be_visible()
    page.get_by_role("link", name=de("bud_results_link")).click()
    expect(page.get_by_text(de("bud_results_unpublished"))).to_have_count(0)
    selected = page.locator("ul.selected > li")
    expect(selected).to_have_count(2)
    expect(selected.nth(0)).to_contain_text("Skatepark")
    expect(selected.nth(1)).to_contain_text("Bänke")
    expect(page.get_by_role("row", name=re.compile("^Schwimmbad"))).to_contain_text("Zu teuer im Unterhalt")
    axe(page, "budget results, published")
    screenshot(page, "budget-results")
    with page.expect_download() as download:
        page.get_by_role("link", name=de("bud_pabulib")).click()
    assert download.value.suggested_filename == f"jugendparlament-{round_id}.pb"
    with reading() as session:
        assert session.get(BudgetRound, round_id).status == "published"


# ---------------------------------------------------------------------------- every page, demo data
class Account:
    def __init__(self, email: str, password: str):
        self.email, self.password = email, password


def test_the_main_pages_with_demo_data(page, clean_app, reading):
    """Every main page filled as `make run` fills it: axe on each; the README's screenshots."""
    from api.demo import DEMO_ACCOUNTS, seed
    from models.reports import ReportPhoto

    accounts = {role: Account(email, password) for email, password, role in DEMO_ACCOUNTS}
    with clean_app.app_context():
        seed(database.session, ideas=40, pending=8, reports=150, echo=lambda *_: None)
        _post_demo_news(database.session, accounts["staff"].email)
    with reading() as session:
        answered = session.scalar(select(Idea.id).where(Idea.response_status.is_not(None)).order_by(Idea.id).limit(1))
        with_photo = session.scalar(
            select(Report.id).join(ReportPhoto, ReportPhoto.report_id == Report.id)
            .where(Report.status.in_(("open", "acknowledged", "in_progress"))).order_by(Report.id.desc()).limit(1))
        assert with_photo is not None

    login(page, accounts["moderator"])
    expect(page.locator("ol.queue > li").nth(7)).to_be_visible()  # the 8 pending ideas (and flagged items)
    axe(page, "queue (demo)")
    screenshot(page, "queue")
    page.get_by_role("link", name=de("nav_log")).click()
    axe(page, "log (demo)")
    screenshot(page, "log")
    logout(page)

    login(page, accounts["staff"])
    expect(page.locator("table tbody tr")).not_to_have_count(0)
    axe(page, "reports (demo)")
    screenshot(page, "reports")
    page.goto(f"/console/reports/{with_photo}")
    photo = page.locator(".photos img").first
    expect(photo).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('.photos img')].every(i => i.complete && i.naturalWidth > 0)")
    axe(page, "report with a photo (demo)")
    screenshot(page, "report")
    page.get_by_role("link", name=de("nav_ideas")).click()
    axe(page, "ideas (demo)")
    screenshot(page, "ideas")
    page.goto(f"/console/ideas/{answered}")
    expect(page.locator("#official-response")).to_be_visible()
    axe(page, "idea with an answer (demo)")
    screenshot(page, "idea")
    page.get_by_role("link", name=de("nav_news")).click()
    expect(page.locator("table tbody tr")).to_have_count(3)
    axe(page, "news (demo)")
    screenshot(page, "news")
    page.get_by_role("link", name=de("news_write")).click()
    axe(page, "news form (demo)")
    screenshot(page, "news-form")
    page.get_by_role("link", name=de("nav_budgets")).click()
    axe(page, "budget rounds (demo)")
    screenshot(page, "budgets")
    page.locator("table tbody th a").first.click()
    expect(page.locator("#round-status")).to_have_text(de("bud_status_proposals"))
    axe(page, "budget round (demo)")
    screenshot(page, "budget-round")
    logout(page)

    login(page, accounts["moderator"])
    page.get_by_role("link", name=de("nav_blocks")).click()
    page.get_by_label(de("blocks_query")).fill(accounts["resident"].email)
    page.get_by_role("button", name=de("blocks_search")).click()
    axe(page, "blocks (demo)")
    screenshot(page, "blocks")
    logout(page)


def _post_demo_news(session, staff_email: str) -> None:
    from datetime import datetime, timedelta, timezone

    from models import news
    from models.users import User

    staff = session.scalar(select(User).where(User.email_key == staff_email))
    soon = datetime.now(timezone.utc).replace(hour=16, minute=0, second=0, microsecond=0) + timedelta(days=9)
    news.post_news(session, staff, title="Sperrmüll-Aktionstag in Eving", kind="news", district="eving",
                   body="Am Samstag nimmt die EDG Sperrmüll an drei Sammelstellen kostenlos an.")
    news.post_news(session, staff, title="Bürgerforum Phoenix-See", kind="event", district="hoerde", starts_at=soon,
                   ends_at=soon + timedelta(hours=2), place="Bezirksverwaltungsstelle Hörde",
                   body="Wie soll das Nordufer aussehen? Kommen Sie vorbei und reden Sie mit.")
    news.post_news(session, staff, title="Sprechstunde der Bezirksbürgermeisterin", kind="office_hours", starts_at=soon + timedelta(days=3),
                   body="Anliegen aus dem Stadtbezirk, ohne Anmeldung.", district="innenstadt-west")
    session.commit()
