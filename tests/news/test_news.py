"""District news: the feed, staff posting and editing, withdrawal, calendar entries, the push event."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

API = "/api/v1"
# 16:00 UTC in July is 18:00 in Dortmund (CEST); in January 17:00 UTC is 18:00 (CET).
SUMMER_START = "2027-07-01T16:00:00+00:00"
SUMMER_END = "2027-07-01T18:30:00+00:00"
WINTER_START = "2027-01-15T17:00:00Z"


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def post(client, staff):
    def post(**fields):
        body = {"title": "Stadtteilfest", "body": "Musik, Essen und Infostände.", "kind": "news"} | fields
        r = client.post(f"{API}/news", json=body, headers=staff.headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return post


def ics(client, news_id: int) -> Calendar:
    r = client.get(f"{API}/news/{news_id}.ics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(r.data)


def only_event(calendar: Calendar):
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_staff_post_answers_the_item_as_get_shows_it(client, staff):
    body = {
        "title": "  Bürgersprechstunde  ",
        "body": "Die Bezirksbürgermeisterin hört zu.",
        "kind": "office_hours",
        "district": "hoerde",
        "starts_at": "2027-07-01T18:00:00+02:00",
        "ends_at": SUMMER_END,
        "place": "Bezirksverwaltungsstelle Hörde, Hörder Bahnhofstraße 16",
    }
    r = client.post(f"{API}/news", json=body, headers=staff.headers)
    assert r.status_code == 201
    item = r.get_json()
    assert r.headers["Location"] == f"{API}/news/{item['id']}"
    assert item["title"] == "Bürgersprechstunde"
    # Input with any offset comes back in UTC, the house format.
    assert item["starts_at"] == SUMMER_START and item["ends_at"] == SUMMER_END
    assert item["district"] == "hoerde" and item["kind"] == "office_hours"
    assert item["calendar_url"] == f"{API}/news/{item['id']}.ics"
    assert set(item) >= {"id", "title", "body", "kind", "district", "starts_at", "ends_at", "place", "created_at", "updated_at"}
    assert client.get(r.headers["Location"]).get_json() == item


def test_news_and_consultations_may_carry_a_period_or_none(post):
    plain = post(kind="news")
    assert plain["starts_at"] is None and plain["ends_at"] is None and plain["place"] is None
    assert plain["district"] is None and plain["calendar_url"] is None
    consultation = post(kind="consultation", starts_at=SUMMER_START, ends_at="2027-08-01T00:00:00Z", place="online")
    assert consultation["ends_at"] == "2027-08-01T00:00:00+00:00"


def test_city_wide_items_appear_in_every_district_list(client, post):
    city = post(title="Stadtweit")
    hoerde = post(title="Nur Hörde", district="hoerde")
    eving = post(title="Nur Eving", district="eving")

    def ids(query=""):
        r = client.get(f"{API}/news{query}")
        assert r.status_code == 200
        return [i["id"] for i in r.get_json()["items"]]

    # Newest first.
    assert ids() == [eving["id"], hoerde["id"], city["id"]]
    assert ids("?district=hoerde") == [hoerde["id"], city["id"]]
    assert ids("?district=eving") == [eving["id"], city["id"]]
    assert ids("?district=mengede") == [city["id"]]


def test_kind_filter(client, post):
    event = post(kind="event", starts_at=SUMMER_START, district="brackel")
    post(kind="news", district="brackel")
    hours = post(kind="office_hours", starts_at=WINTER_START)
    items = client.get(f"{API}/news?kind=event").get_json()["items"]
    assert [i["id"] for i in items] == [event["id"]]
    items = client.get(f"{API}/news?kind=office_hours&district=brackel").get_json()["items"]
    assert [i["id"] for i in items] == [hours["id"]]


def test_cursor_pages_yield_every_item_exactly_once_while_new_ones_arrive(client, post):
    posted = {post(title=f"Meldung {n}", district="hombruch" if n % 2 else None)["id"] for n in range(7)}
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "?district=hombruch&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{API}/news{query}").get_json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        if pages == 1:
            # Arrives after the first page: it belongs to a later listing, not this one.
            post(title="Neu dazwischen", district="hombruch")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(posted) and len(seen) == len(set(seen))
    assert client.get(f"{API}/news?cursor=nonsense").status_code == 422
    assert client.get(f"{API}/news?limit=0").status_code == 422


def test_only_staff_post_edit_and_withdraw(client, make_user, post, session):
    item = post()
    resident, moderator = make_user(), make_user("moderator")
    body = {"title": "Hallo", "body": "Text", "kind": "news"}
    for user in (resident, moderator):
        assert client.post(f"{API}/news", json=body, headers=user.headers).status_code == 403
        assert client.patch(f"{API}/news/{item['id']}", json={"title": "Anders"}, headers=user.headers).status_code == 403
        assert client.delete(f"{API}/news/{item['id']}", headers=user.headers).status_code == 403
    # 401 comes before the body is looked at.
    assert client.post(f"{API}/news", json={"kind": "nope"}).status_code == 401
    assert client.patch(f"{API}/news/{item['id']}", json={"title": "Anders"}).status_code == 401
    assert client.delete(f"{API}/news/{item['id']}").status_code == 401
    # Reading is for everyone.
    assert client.get(f"{API}/news/{item['id']}").status_code == 200
    assert client.get(f"{API}/news/{item['id']}", headers=resident.headers).status_code == 200


def test_blocked_staff_cannot_post(client, make_user, session):
    from models.users import User

    blocked = make_user("staff")
    session.get(User, blocked.id).blocked_until = datetime.now(timezone.utc) + timedelta(days=1)
    session.commit()
    r = client.post(f"{API}/news", json={"title": "Hallo", "body": "Text", "kind": "news"}, headers=blocked.headers)
    assert r.status_code == 403
    assert client.get(f"{API}/news", headers=blocked.headers).status_code == 200


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"kind": "party"}, "kind"),
        ({"district": "gotham"}, "district"),
        ({"kind": "event"}, "starts_at"),
        ({"kind": "office_hours", "ends_at": SUMMER_END}, "starts_at"),
        ({"kind": "event", "starts_at": SUMMER_END, "ends_at": SUMMER_START}, "ends_at"),
        ({"kind": "event", "starts_at": SUMMER_START, "ends_at": SUMMER_START}, "ends_at"),
        ({"kind": "news", "ends_at": SUMMER_END}, "ends_at"),
        ({"kind": "event", "starts_at": "2027-07-01T18:00:00"}, "starts_at"),
        ({"title": "Fest\x00ival"}, "title"),
        ({"title": "Da"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 10001}, "body"),
        ({"place": "x" * 201}, "place"),
    ],
)
def test_invalid_posts_are_422_on_the_field(client, staff, session, fields, field):
    from models.news import NewsItem
    from models.outbox import NotificationEvent

    body = {"title": "Stadtteilfest", "body": "Musik.", "kind": "news"} | fields
    r = client.post(f"{API}/news", json=body, headers=staff.headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]
    assert session.scalars(select(NewsItem)).all() == []
    assert session.scalars(select(NotificationEvent)).all() == []


def test_messages_in_german_and_english(client, staff):
    body = {"title": "Sprechstunde", "body": "Offen für alle.", "kind": "office_hours"}
    de = client.post(f"{API}/news", json=body, headers=staff.headers).get_json()["errors"]["starts_at"]
    en = client.post(f"{API}/news", json=body, headers=staff.headers | {"Accept-Language": "en"}).get_json()["errors"]["starts_at"]
    assert de == ["Veranstaltungen und Sprechstunden brauchen einen Beginn (starts_at)."]
    assert en == ["Events and office hours need a start (starts_at)."]


def test_unknown_district_or_kind_in_the_query_is_422(client):
    for query in ("district=gotham", "kind=party", "district=hoerde%00"):
        r = client.get(f"{API}/news?{query}")
        assert r.status_code == 422
        assert set(r.get_json()["errors"]) <= {"district", "kind"} and r.get_json()["errors"]


def test_patch_is_partial_and_raises_the_sequence(client, staff, post):
    item = post(kind="event", starts_at=SUMMER_START, district="aplerbeck", place="Marktplatz")
    first = only_event(ics(client, item["id"]))
    r = client.patch(f"{API}/news/{item['id']}", json={"place": "Bürgerhaus", "ends_at": SUMMER_END}, headers=staff.headers)
    assert r.status_code == 200
    changed = r.get_json()
    assert changed["place"] == "Bürgerhaus" and changed["ends_at"] == SUMMER_END
    assert {k: changed[k] for k in ("title", "body", "kind", "district", "starts_at")} == {
        k: item[k] for k in ("title", "body", "kind", "district", "starts_at")}
    assert client.get(f"{API}/news/{item['id']}").get_json() == changed
    second = only_event(ics(client, item["id"]))
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(second["LOCATION"]) == "Bürgerhaus"
    # City-wide by null; an edit that leaves everything as it was changes no sequence.
    r = client.patch(f"{API}/news/{item['id']}", json={"district": None}, headers=staff.headers)
    assert r.get_json()["district"] is None
    third = int(only_event(ics(client, item["id"]))["SEQUENCE"])
    assert client.patch(f"{API}/news/{item['id']}", json={"district": None}, headers=staff.headers).status_code == 200
    assert int(only_event(ics(client, item["id"]))["SEQUENCE"]) == third


def test_patch_keeps_the_rules_of_the_kind(client, staff, post):
    news = post(kind="news")
    event = post(kind="event", starts_at=SUMMER_START, ends_at=SUMMER_END)
    cases = [
        (news, {"kind": "event"}, "starts_at"),
        (event, {"starts_at": None}, "starts_at"),
        (event, {"ends_at": "2027-07-01T15:00:00Z"}, "ends_at"),
        (event, {"district": "gotham"}, "district"),
        (event, {"title": "A\x00"}, "title"),
        (event, {"kind": "meeting"}, "kind"),
    ]
    for item, change, field in cases:
        r = client.patch(f"{API}/news/{item['id']}", json=change, headers=staff.headers)
        assert r.status_code == 422 and field in r.get_json()["errors"], (change, r.get_json())
    assert client.get(f"{API}/news/{event['id']}").get_json() == event
    # With a start in the same edit, news can become an event (and gains a calendar entry).
    r = client.patch(f"{API}/news/{news['id']}", json={"kind": "event", "starts_at": WINTER_START}, headers=staff.headers)
    assert r.status_code == 200 and r.get_json()["calendar_url"]
    assert client.patch(f"{API}/news/999999", json={"title": "Gibt es nicht"}, headers=staff.headers).status_code == 404


def test_withdraw_hides_the_item_and_cancels_its_calendar_entry(client, staff, post, session):
    from models.news import visible_news_ids

    event = post(kind="event", starts_at=SUMMER_START, district="eving")
    other = post(kind="news", district="eving")
    before = only_event(ics(client, event["id"]))
    assert client.delete(f"{API}/news/{event['id']}", headers=staff.headers).status_code == 204

    assert client.get(f"{API}/news/{event['id']}").status_code == 404
    for query in ("", "?district=eving", "?kind=event"):
        assert event["id"] not in [i["id"] for i in client.get(f"{API}/news{query}").get_json()["items"]]
    assert client.delete(f"{API}/news/{event['id']}", headers=staff.headers).status_code == 404
    assert client.patch(f"{API}/news/{event['id']}", json={"title": "Doch nicht"}, headers=staff.headers).status_code == 404
    assert visible_news_ids(session, [event["id"], other["id"], 424242]) == {other["id"]}
    assert visible_news_ids(session, []) == set()

    # Still served, so that calendars which imported the event learn it is off.
    calendar = ics(client, event["id"])
    assert str(calendar["METHOD"]) == "CANCEL"
    cancelled = only_event(calendar)
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == str(before["UID"])
    assert int(cancelled["SEQUENCE"]) > int(before["SEQUENCE"])


def test_calendar_entry_in_local_time(client, post):
    summer = post(
        kind="event", title="Sommerkonzert im Westfalenpark", body="Open Air; Eintritt frei.\nBitte Decken mitbringen.",
        starts_at=SUMMER_START, ends_at=SUMMER_END, place="Westfalenpark, Dortmund", district="innenstadt-ost",
    )
    winter = post(kind="office_hours", title="Sprechstunde", starts_at=WINTER_START)

    calendar = ics(client, summer["id"])
    assert str(calendar["VERSION"]) == "2.0" and "Dortmund" in str(calendar["PRODID"])
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    # The VTIMEZONE itself tells a phone the city's clock, around the switches and past 2038.
    zone, berlin = calendar.walk("VTIMEZONE")[0].to_tz(), ZoneInfo("Europe/Berlin")
    for moment in ("2027-03-28T00:59", "2027-03-28T01:00", "2027-10-31T00:59", "2027-10-31T01:00", "2045-07-01T12:00", "2045-12-01T12:00"):
        utc = datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
        assert utc.astimezone(zone).utcoffset() == utc.astimezone(berlin).utcoffset(), moment
    event = only_event(calendar)
    assert str(event["UID"]) == f"news-{summer['id']}@beteiligung.dortmund.de"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert (start.hour, start.minute, start.utcoffset()) == (18, 0, timedelta(hours=2))
    assert (end.hour, end.minute) == (20, 30)
    assert start.astimezone(timezone.utc) == datetime(2027, 7, 1, 16, 0, tzinfo=timezone.utc)
    assert str(event["SUMMARY"]) == "Sommerkonzert im Westfalenpark"
    assert str(event["DESCRIPTION"]) == "Open Air; Eintritt frei.\nBitte Decken mitbringen."
    assert str(event["LOCATION"]) == "Westfalenpark, Dortmund"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DTSTAMP" in event and int(event["SEQUENCE"]) == 0
    # The same state gives the same file (subscriptions refresh without churn).
    assert client.get(f"{API}/news/{summer['id']}.ics").data == client.get(f"{API}/news/{summer['id']}.ics").data

    wevent = only_event(ics(client, winter["id"]))
    wstart = wevent.decoded("DTSTART")
    assert (wstart.hour, wstart.utcoffset()) == (18, timedelta(hours=1))
    assert "DTEND" not in wevent and "LOCATION" not in wevent


def test_no_calendar_entry_for_news_consultations_or_unknown_ids(client, post):
    news = post(kind="news", starts_at=SUMMER_START)
    consultation = post(kind="consultation", starts_at=SUMMER_START)
    for news_id in (news["id"], consultation["id"], 999999):
        r = client.get(f"{API}/news/{news_id}.ics")
        assert r.status_code == 404 and r.get_json()["code"] == 404
    assert client.get(f"{API}/news/999999").status_code == 404


def test_each_post_records_one_event_for_the_district_subscribers(client, staff, session):
    from models.outbox import NotificationEvent, district_subscribers

    body = {"title": "Neue Spielplätze in Huckarde", "body": "Ab Montag offen.", "kind": "news", "district": "huckarde"}
    headers = staff.headers | {"Idempotency-Key": "news-1"}
    first = client.post(f"{API}/news", json=body, headers=headers)
    again = client.post(f"{API}/news", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    city = client.post(f"{API}/news", json=body | {"district": None, "kind": "event", "starts_at": SUMMER_START}, headers=staff.headers)
    item, city_item = first.get_json(), city.get_json()
    # An edit and a withdrawal are no news to push.
    client.patch(f"{API}/news/{item['id']}", json={"title": "Neue Spielplätze"}, headers=staff.headers)
    client.delete(f"{API}/news/{city_item['id']}", headers=staff.headers)

    events = session.scalars(select(NotificationEvent).order_by(NotificationEvent.id)).all()
    assert [(e.type, e.object_type, e.object_id) for e in events] == [
        ("district_news", "news", item["id"]), ("district_news", "news", city_item["id"])]
    district, citywide = events
    assert district.audience == district_subscribers("huckarde")
    assert citywide.audience == district_subscribers(None)
    assert district.exclude == [staff.id]
    assert district.title == "Neue Spielplätze in Huckarde"
    assert district.data == {"news_id": str(item["id"]), "kind": "news", "district": "huckarde"}
    assert citywide.data == {"news_id": str(city_item["id"]), "kind": "event", "district": ""}
