"""From one recorded event to inbox items and pushes, outside any request.

`expand` turns a claimed batch of `NotificationEvent`s into inbox items (every recipient,
push or not) and `PushDelivery` rows (recipients who want the push, one per device; one per
FCM topic and locale for broadcasts). Each event's recipients are chosen by SQL from its
audience and written with INSERT … SELECT, so 10,000 followers cost the worker two
statements, and the request that recorded the event nothing at all.

`send_pushes` delivers a claimed batch of `PushDelivery` rows through the push gateway:
each object is re-checked just before sending (hidden, removed or deleted since: the push is
dropped and the item leaves the inbox), texts follow the device's locale, and FCM's verdict
on each token is acted on (dead tokens are forgotten, quota and server errors retried).

`sync_topics` keeps FCM topic subscriptions in line with devices and preferences, in batches
of at most 1,000 tokens per call.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from typing import Iterable

from sqlalchemy import delete, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.delivery import PENDING
from models.notifications import (
    DEFAULT_PUSH,
    LOCALES,
    Device,
    Notification,
    NotificationPreferences,
    PushDelivery,
    forget_device,
    news_topic,
    news_topics,
    quiet_hours_of,
)
from models.outbox import NotificationEvent, category_of

from . import render
from .push import PushGateway, PushMessage, PushOutcome, TopicMessage
from .worker import SENT_VERDICT, Outbox, Verdict

log = logging.getLogger("notifications.fanout")

TOPIC_BATCH = 1000


# ---------------------------------------------------------------------------------------------
# Audiences


def _audience_select(event: NotificationEvent):
    """The recipients' user ids of an event, as a SELECT (never materialised in Python)."""
    from models.ideas import Follow
    from models.users import BodyMembership, User

    audience = event.audience
    kind = audience.get("kind")
    if kind == "idea_followers":
        stmt = select(Follow.user_id.label("user_id")).where(Follow.idea_id == audience["idea_id"])
        column = Follow.user_id
    elif kind == "report_followers":
        from models.reports import ReportFollow

        stmt = select(ReportFollow.user_id.label("user_id")).where(ReportFollow.report_id == audience["report_id"])
        column = ReportFollow.user_id
    elif kind == "body_members":
        on = date.fromisoformat(audience["on"])
        stmt = select(BodyMembership.user_id.label("user_id")).where(
            BodyMembership.body_id == audience["body_id"], BodyMembership.term_start <= on, BodyMembership.term_end >= on
        )
        column = BodyMembership.user_id
    elif kind == "district_subscribers":
        # Which districts a subscriber chose is a JSON list: filtered in `_district_subscribers`.
        stmt = select(NotificationPreferences.user_id.label("user_id")).where(NotificationPreferences.district_news.is_(True))
        column = NotificationPreferences.user_id
    else:
        raise ValueError(f"unknown audience {kind!r}")
    if event.exclude:
        stmt = stmt.where(column.not_in([int(e) for e in event.exclude]))
    # Erased accounts hear nothing.
    return stmt.where(column.in_(select(User.id).where(User.deleted_at.is_(None))))


def _district_subscribers(session: Session, event: NotificationEvent) -> list[int]:
    district = event.audience.get("district")
    rows = session.execute(_audience_select(event).add_columns(NotificationPreferences.districts)).all()
    # City-wide news reaches every subscriber; a district's news those who chose it.
    return [user_id for user_id, districts in rows if district is None or district in (districts or [])]


# ---------------------------------------------------------------------------------------------
# Visibility, re-checked before a push leaves


def visible_objects(session: Session, keys: Iterable[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
    """Which (event type, object type, id) may still be told about.

    A moderation decision is told to the author however the content stands (hidden is its
    news); everything else only while its object is public. "Did it help?" is asked only
    while the report is still resolved as it was when the question was recorded and nobody
    has answered it.
    """
    from models.budgets import BudgetRound
    from models.ideas import Comment, Idea
    from models.reports import Report

    keys = set(keys)
    by_type: dict[str, set[int]] = defaultdict(set)
    for _event_type, object_type, object_id in keys:
        by_type[object_type].add(object_id)
    public: dict[str, set[int]] = {}
    existing: dict[str, set[int]] = {}
    if by_type.get("idea"):
        rows = session.execute(select(Idea.id, Idea.is_public).where(Idea.id.in_(by_type["idea"]))).all()
        existing["idea"] = {r[0] for r in rows}
        public["idea"] = {r[0] for r in rows if r[1]}
    if by_type.get("comment"):
        rows = session.execute(
            select(Comment.id, Comment.status, Comment.visibility, Idea.is_public)
            .join(Idea, Idea.id == Comment.idea_id)
            .where(Comment.id.in_(by_type["comment"]))
        ).all()
        existing["comment"] = {r[0] for r in rows if r[1] != "deleted"}
        public["comment"] = {r[0] for r in rows if r[1] == "published" and r[2] == "visible" and r[3]}
    if by_type.get("round"):
        rows = session.execute(select(BudgetRound.id, BudgetRound.status).where(BudgetRound.id.in_(by_type["round"]))).all()
        existing["round"] = {r[0] for r in rows}
        public["round"] = {r[0] for r in rows if r[1] != "draft"}
    if by_type.get("news"):
        from models.news import visible_news_ids

        existing["news"] = public["news"] = set(visible_news_ids(session, sorted(by_type["news"])))
    if by_type.get("report"):
        rows = session.execute(select(Report.id, Report.is_public).where(Report.id.in_(by_type["report"]))).all()
        existing["report"] = {r[0] for r in rows}
        public["report"] = {r[0] for r in rows if r[1]}
    found = set()
    for key in keys:
        event_type, object_type, object_id = key
        pool = existing if event_type == "moderation_decision" else public
        if object_id in pool.get(object_type, set()):
            found.add(key)
    return found


def _feedback_no_longer_wanted(session: Session, events: list[NotificationEvent]) -> set[int]:
    """Ids of "did it help?" events that are no longer worth sending (see `visible_objects`)."""
    from models.reports import still_asking_for_feedback

    asked: dict[int, set[str]] = defaultdict(set)
    for event in events:
        if event.type == "report_feedback_request":
            asked[event.object_id].add(event.data.get("resolved_at", ""))
    alive = still_asking_for_feedback(session, dict(asked))
    return {
        e.id for e in events if e.type == "report_feedback_request" and (e.object_id, e.data.get("resolved_at", "")) not in alive
    }


# ---------------------------------------------------------------------------------------------
# Expansion


def expand_batch(session: Session, events: list[NotificationEvent]) -> set[int]:
    """Inbox items and push deliveries for a batch of events, in the caller's transaction.

    Returns the ids of the events dropped because their object is no longer visible.

    A handful of statements per batch, not per event: an explicit list of recipients (the
    author of moderated content, say) is one multi-row INSERT for the whole batch; audiences
    found by SQL (followers, members) one INSERT … SELECT each; the pushes of every event
    one INSERT … SELECT per preference category.
    """
    now = utcnow()
    visible = visible_objects(session, [(e.type, e.object_type, e.object_id) for e in events])
    unwanted = _feedback_no_longer_wanted(session, events)
    live = [e for e in events if (e.type, e.object_type, e.object_id) in visible and e.id not in unwanted]
    dropped = {e.id for e in events} - {e.id for e in live}
    if not live:
        return dropped
    ids = [e.id for e in live]
    # Repeated expansion (a worker that died after writing but before recording the outcome)
    # must not add a second item per recipient: whatever a previous run left goes first.
    session.execute(delete(PushDelivery).where(PushDelivery.event_id.in_(ids)))
    session.execute(delete(Notification).where(Notification.event_id.in_(ids)))

    listed: list[dict] = []
    topics: list[dict] = []
    for event in live:
        base = _inbox_fields(event, now)
        kind = event.audience.get("kind")
        if kind == "users":
            excluded = set(event.exclude or ())
            recipients = [int(u) for u in event.audience.get("ids", []) if int(u) not in excluded]
            listed.extend({**base, "user_id": user_id} for user_id in recipients)
        elif kind == "district_subscribers":
            recipients = _district_subscribers(session, event)
            listed.extend({**base, "user_id": user_id} for user_id in recipients)
            # One push per locale to the district's topic, whatever the audience; quiet
            # hours do not hold broadcasts back.
            topics.extend(
                {"event_id": event.id, "topic": news_topic(event.audience.get("district"), locale), "locale": locale,
                 "created_at": now, "status": PENDING, "attempts": 0, "next_attempt_at": _due(event, now)}
                for locale in LOCALES
            )
        else:
            audience = _audience_select(event).subquery()
            session.execute(
                insert(Notification).from_select(
                    ["user_id", *base],
                    select(audience.c.user_id, *(literal(v, type_=Notification.__table__.c[k].type) for k, v in base.items())),
                )
            )
    if listed:
        # Erased accounts hear nothing (audiences found by SQL leave them out themselves).
        erased = _erased(session, {row["user_id"] for row in listed})
        rows = [row for row in listed if row["user_id"] not in erased]
        if rows:
            session.execute(insert(Notification), rows)
    if topics:
        session.execute(insert(PushDelivery), topics)

    personal = [e for e in live if e.audience.get("kind") != "district_subscribers"]
    by_category: dict[str, list[NotificationEvent]] = defaultdict(list)
    for event in personal:
        by_category[category_of(event.type, event.object_type)].append(event)
    for category, group in by_category.items():
        _insert_pushes(session, category, group, now)
    if personal:
        _hold_back_for_quiet_hours(session, [e.id for e in personal], now)
    return dropped


def _due(event: NotificationEvent, now) -> object:
    # Pushes are due when their event was: a drain delivers what was due when it started.
    return min(event.next_attempt_at, now)


def _inbox_fields(event: NotificationEvent, now) -> dict:
    return {
        "event_id": event.id,
        "type": event.type,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "title": event.title,
        "data": event.data,
        "created_at": now,
        "push_failed": False,
    }


def _erased(session: Session, user_ids: set[int]) -> set[int]:
    from models.users import User

    if not user_ids:
        return set()
    return set(session.scalars(select(User.id).where(User.id.in_(user_ids), User.deleted_at.is_not(None))))


def _insert_pushes(session: Session, category: str, events: list[NotificationEvent], now) -> int:
    """One push per device of every recipient who wants this category's pushes."""
    prefs = NotificationPreferences
    wants_push = func.coalesce(getattr(prefs, category), DEFAULT_PUSH[category])
    due = min(_due(e, now) for e in events)
    created = session.execute(
        insert(PushDelivery).from_select(
            ["event_id", "notification_id", "device_id", "locale", "created_at", "status", "attempts", "next_attempt_at"],
            select(
                Notification.event_id, Notification.id, Device.id, Device.locale,
                literal(now, type_=PushDelivery.__table__.c.created_at.type),
                literal(PENDING), literal(0), literal(due, type_=PushDelivery.__table__.c.next_attempt_at.type),
            )
            .select_from(Notification)
            .join(Device, Device.user_id == Notification.user_id)
            .outerjoin(prefs, prefs.user_id == Notification.user_id)
            .where(Notification.event_id.in_([e.id for e in events]), wants_push == true()),
        )
    )
    return created.rowcount or 0


def _hold_back_for_quiet_hours(session: Session, event_ids: list[int], now) -> None:
    """Pushes to someone inside their quiet hours wait until the hours end (Europe/Berlin)."""
    quiet = session.execute(
        select(NotificationPreferences.user_id, NotificationPreferences.quiet_start, NotificationPreferences.quiet_end)
        .where(
            NotificationPreferences.quiet_start.is_not(None),
            NotificationPreferences.user_id.in_(select(Notification.user_id).where(Notification.event_id.in_(event_ids))),
        )
    ).all()
    waits: dict = defaultdict(list)
    for user_id, start, end in quiet:
        hours = quiet_hours_of(start, end)
        if hours is not None and hours.contains(now):
            waits[hours.ends_after(now)].append(user_id)
    for until, user_ids in waits.items():
        session.execute(
            update(PushDelivery)
            .where(
                PushDelivery.notification_id.in_(
                    select(Notification.id).where(Notification.event_id.in_(event_ids), Notification.user_id.in_(user_ids))
                ),
            )
            .values(next_attempt_at=until),
            execution_options={"synchronize_session": False},
        )


# ---------------------------------------------------------------------------------------------
# Sending


def send_pushes(session: Session, gateway: PushGateway, deliveries: list[PushDelivery]) -> list[Verdict]:
    """Send a claimed batch; returns a verdict per delivery, in order."""
    if not deliveries:
        return []
    events = {e.id: e for e in session.scalars(select(NotificationEvent).where(NotificationEvent.id.in_({d.event_id for d in deliveries})))}
    personal = [d for d in deliveries if d.device_id is not None]
    # Plain rows, not ORM objects: a batch is 500 pushes, and only a few columns matter.
    recipients = dict(
        session.execute(select(Notification.id, Notification.user_id).where(Notification.id.in_({d.notification_id for d in personal})))
        .tuples().all()
    ) if personal else {}
    devices = {
        row[0]: row
        for row in session.execute(
            select(Device.id, Device.user_id, Device.token, Device.locale).where(Device.id.in_({d.device_id for d in personal}))
        ).tuples()
    } if personal else {}
    keys = {(e.type, e.object_type, e.object_id) for e in events.values()}
    still_visible = visible_objects(session, keys)

    verdicts: dict[int, Verdict] = {}
    gone_items: set[int] = set()
    gone_events: set[int] = set()
    messages: list[PushMessage] = []
    sent_for: list[PushDelivery] = []
    for delivery in deliveries:
        event = events.get(delivery.event_id)
        if event is None or (event.type, event.object_type, event.object_id) not in still_visible:
            verdicts[delivery.id] = Verdict(error="object no longer visible")
            if delivery.notification_id is not None:
                gone_items.add(delivery.notification_id)
            if event is not None:
                gone_events.add(event.id)
            continue
        if delivery.topic is not None:
            verdicts[delivery.id] = _verdict(gateway.send_to_topic(_topic_message(event, delivery)))
            continue
        device = devices.get(delivery.device_id)
        recipient = recipients.get(delivery.notification_id)
        if device is None or recipient is None or device[1] != recipient:
            # The phone was logged out, moved to someone else or forgotten meanwhile.
            verdicts[delivery.id] = Verdict(error="device no longer the recipient's")
            continue
        messages.append(_personal_message(event, delivery.notification_id, token=device[2], locale=device[3]))
        sent_for.append(delivery)
    if messages:
        for delivery, outcome in zip(sent_for, gateway.send(messages)):
            if outcome.remove_device:
                forget_device(session, delivery.device_id)
            verdicts[delivery.id] = _verdict(outcome)
    if gone_items or gone_events:
        # Hidden or deleted since: the event's items leave every inbox (also of recipients
        # without a phone), with whatever else was queued for them.
        session.execute(delete(Notification).where(Notification.id.in_(gone_items) | Notification.event_id.in_(gone_events)))
    return [verdicts[d.id] for d in deliveries]


def _verdict(outcome: PushOutcome) -> Verdict:
    if outcome.ok:
        return SENT_VERDICT
    return Verdict(retry=outcome.retry and not outcome.remove_device, error=outcome.error or "refused")


def _personal_message(event: NotificationEvent, notification_id: int, token: str, locale: str) -> PushMessage:
    key = render.collapse_key(event.object_type, event.object_id, event.data)
    return PushMessage(
        token=token,
        title=event.title,
        body=render.body(event.type, event.data, locale),
        data=render.payload(event.type, event.object_type, event.object_id, event.data, notification_id),
        collapse_key=key,
        channel=render.channel(event.type, event.object_type),
        thread_id=key,
    )


def _topic_message(event: NotificationEvent, delivery: PushDelivery) -> TopicMessage:
    key = render.collapse_key(event.object_type, event.object_id, event.data)
    return TopicMessage(
        topic=delivery.topic,
        title=event.title,
        body=render.body(event.type, event.data, delivery.locale),
        data=render.payload(event.type, event.object_type, event.object_id, event.data),
        collapse_key=key,
        channel=render.channel(event.type, event.object_type),
        thread_id=key,
    )


def note_given_up(session: Session, notification_ids: Iterable[int]) -> None:
    """Pushes that failed for good: the inbox item stays, marked (the app may say so)."""
    ids = sorted(set(notification_ids))
    if ids:
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(push_failed=True))


# ---------------------------------------------------------------------------------------------
# Topic subscriptions


def sync_topics(session: Session, gateway: PushGateway, limit: int = 5000) -> int:
    """Subscribe and unsubscribe devices whose wanted news topics changed; returns how many."""
    devices = list(
        session.scalars(select(Device).where(Device.topics_due.is_(True)).order_by(Device.id).limit(limit).with_for_update(skip_locked=True))
    )
    if not devices:
        session.rollback()
        return 0
    user_ids = {d.user_id for d in devices if d.user_id is not None}
    prefs = {p.user_id: p for p in session.scalars(select(NotificationPreferences).where(NotificationPreferences.user_id.in_(user_ids or [-1])))}
    wanted: dict[int, set[str]] = {}
    joins: dict[str, list[Device]] = defaultdict(list)
    leaves: dict[str, list[Device]] = defaultdict(list)
    for device in devices:
        pref = prefs.get(device.user_id)
        topics = set(news_topics(pref.districts or [], device.locale)) if device.user_id is not None and pref is not None and pref.district_news else set()
        wanted[device.id] = topics
        have = set(device.topics or [])
        for topic in topics - have:
            joins[topic].append(device)
        for topic in have - topics:
            leaves[topic].append(device)
    dead: set[int] = set()
    for topics, call in ((joins, gateway.subscribe), (leaves, gateway.unsubscribe)):
        for topic, members in topics.items():
            for start in range(0, len(members), TOPIC_BATCH):
                batch = members[start:start + TOPIC_BATCH]
                for device, outcome in zip(batch, call([d.token for d in batch], topic)):
                    if outcome.remove_device:
                        dead.add(device.id)
    for device in devices:
        if device.id in dead or device.user_id is None:
            # Detached devices are kept only until they have left their topics.
            session.delete(device)
        else:
            device.topics = sorted(wanted[device.id])
            device.topics_due = False
    session.commit()
    return len(devices)


__all__ = ["event_outbox", "expand_batch", "note_given_up", "push_outbox", "send_pushes", "sync_topics", "visible_objects"]



# ---------------------------------------------------------------------------------------------
# The worker's outboxes


def event_outbox(batch_size: int = 50) -> Outbox:
    """Events expand in batches: each into its inbox items and deliveries, one commit per batch."""

    def expand_all(session: Session, events: list[NotificationEvent]) -> list[Verdict]:
        dropped = expand_batch(session, events)
        return [Verdict(error="object no longer visible") if e.id in dropped else SENT_VERDICT for e in events]

    return Outbox("events", NotificationEvent, deliver_batch=expand_all, batch_size=batch_size)


def push_outbox(gateway: PushGateway, batch_size: int = 500, max_attempts: int | None = None) -> Outbox:
    """Pushes go out 500 at a time: the most FCM's `send_each` takes in one call."""

    def given_up(session: Session, deliveries: list[PushDelivery]) -> None:
        note_given_up(session, [d.notification_id for d in deliveries if d.notification_id is not None])

    return Outbox(
        "push",
        PushDelivery,
        deliver_batch=lambda session, deliveries: send_pushes(session, gateway, deliveries),
        batch_size=batch_size,
        on_given_up=given_up,
        max_attempts=max_attempts,
    )
