"""District news: the city's feed of news, events, consultations and office hours."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from api.extensions import db
from api.pagination import SortKey, keyset_page
from api.parsing import Blueprint
from api.responses import created, json_response
from api.security import login_required, public, require_user
from api.transactions import writes
from models import news as domain
from models.errors import NotFound
from models.news import NewsItem

from .schemas import NewsCreateSchema, NewsItemSchema, NewsListArgs, NewsPageSchema, NewsUpdateSchema

blp = Blueprint("news", __name__, description="District news: news, events, consultations and office hours")

BERLIN = ZoneInfo("Europe/Berlin")
PRODID = "-//Stadt Dortmund//Beteiligung Dortmund News//DE"
UID_DOMAIN = "beteiligung.dortmund.de"
ITEM = NewsItemSchema()


def present(item: NewsItem) -> dict:
    return ITEM.dump(item)


@blp.route("/news")
class NewsFeed(MethodView):
    @public
    @blp.arguments(NewsListArgs(), location="query")
    @blp.response(200, NewsPageSchema)
    def get(self, args):
        """Items newest first; with `district`, that district's and the city-wide ones."""
        stmt = domain.feed_query(args.get("district"), args.get("kind"))
        rows, next_cursor = keyset_page(db.session, stmt, [SortKey(NewsItem.id)], "news", args["limit"], args["cursor"])
        return json_response({"items": [present(item) for item in rows], "next_cursor": next_cursor})

    @login_required(role="staff")
    @writes(idempotent=True)
    @blp.arguments(NewsCreateSchema())
    @blp.response(201, NewsItemSchema)
    def post(self, payload):
        """Post an item (staff); it is pushed to the district's subscribers (all of them when city-wide)."""
        item = domain.post_news(db.session, require_user(), **payload)
        return created(present(item), f"/api/v1/news/{item.id}")


@blp.route("/news/<id:news_id>")
class NewsResource(MethodView):
    @public
    @blp.response(200, NewsItemSchema)
    def get(self, news_id):
        """One item; a withdrawn one is 404."""
        return json_response(present(domain.get_news(db.session, news_id)))

    @login_required(role="staff")
    @writes
    @blp.arguments(NewsUpdateSchema())
    @blp.response(200, NewsItemSchema)
    def patch(self, payload, news_id):
        """Change some fields (staff); the calendar entry's SEQUENCE rises, nobody is notified again."""
        item = domain.edit_news(db.session, domain.get_news(db.session, news_id), payload)
        return json_response(present(item))

    @login_required(role="staff")
    @writes
    @blp.response(204)
    def delete(self, news_id):
        """Withdraw an item (staff): it leaves the feed, its calendar entry turns cancelled."""
        domain.withdraw_news(db.session, domain.get_news(db.session, news_id))


@blp.route("/news/<id:news_id>.ics")
@public
@blp.doc(
    responses={
        "200": {
            "description": "An iCalendar file with one VEVENT in Europe/Berlin time (`STATUS:CANCELLED`, `METHOD:CANCEL` once withdrawn).",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    }
)
def calendar_entry(news_id):
    """The calendar entry of an event or office hours; still served once withdrawn, as a cancellation."""
    item = domain.get_news(db.session, news_id, withdrawn=True)
    if not item.has_calendar_entry:
        raise NotFound()
    return Response(
        calendar_of(item),
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="news-{item.id}.ics"'},
    )


def calendar_of(item: NewsItem) -> bytes:
    """RFC 5545 text for one item: a stable UID and a rising SEQUENCE, so that importing it
    again (or a subscription refreshing) updates or cancels the same entry."""
    cancelled = item.withdrawn
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"news-{item.id}@{UID_DOMAIN}")
    # The last change, not the moment of download: the same state gives the same file.
    event.add("dtstamp", item.updated_at)
    event.add("created", item.created_at)
    event.add("last-modified", item.updated_at)
    event.add("sequence", item.sequence)
    # Local time with its VTIMEZONE: phones show the hour as it is on the city's posters.
    event.add("dtstart", item.starts_at.astimezone(BERLIN))
    if item.ends_at is not None:
        event.add("dtend", item.ends_at.astimezone(BERLIN))
    event.add("summary", item.title)
    event.add("description", item.body)
    if item.place:
        event.add("location", item.place)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(berlin_timezone())
    calendar.add_component(event)
    return calendar.to_ical()


def berlin_timezone() -> Timezone:
    """Europe/Berlin as the EU's yearly rule (since 1996), as calendar apps write it.

    icalendar's `add_missing_timezones` lists every transition as RDATEs up to 2038 only;
    the rule covers every date the API accepts (2000-2999) in a few lines.
    """
    daylight = TimezoneDaylight()
    daylight.add("tzname", "CEST")
    daylight.add("tzoffsetfrom", timedelta(hours=1))
    daylight.add("tzoffsetto", timedelta(hours=2))
    daylight.add("dtstart", datetime(1970, 3, 29, 2, 0, 0))
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    standard = TimezoneStandard()
    standard.add("tzname", "CET")
    standard.add("tzoffsetfrom", timedelta(hours=2))
    standard.add("tzoffsetto", timedelta(hours=1))
    standard.add("dtstart", datetime(1970, 10, 25, 3, 0, 0))
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    zone = Timezone()
    zone.add("tzid", "Europe/Berlin")
    zone.add_component(daylight)
    zone.add_component(standard)
    return zone
