"""GET /stats/reports: counts by category, district and Berlin month; resolution times, "did it help?",
the litter trend; kept up to date by every write; caching; bad input."""
from __future__ import annotations

from datetime import UTC

import pytest

from tests.reports.helpers import (
    ALTER_MARKT,
    ALTER_MARKT_DISTRICT,
    PHOENIX_SEE,
    PHOENIX_SEE_DISTRICT,
)
from tests.stats.helpers import (
    STATS,
    advance,
    category_counts,
    district_counts,
    feedback,
    file_at,
    kept_tables,
    moderate,
    month_counts,
    rebuilt_tables,
    recounted_tables,
    reopen,
    stats,
    update,
)

CENTRE, HOERDE = ALTER_MARKT, PHOENIX_SEE


# ---------------------------------------------------------------------------------------
# What is counted where
# ---------------------------------------------------------------------------------------


def test_months_are_reckoned_in_berlin(client, clock, people):
    for when in (
        "2026-03-31T21:30:00+00:00",  # 23:30 CEST: still March
        "2026-03-31T22:30:00+00:00",  # 00:30 CEST on 1 April
        "2026-10-31T22:30:00+00:00",  # 23:30 CET: still October
        "2026-10-31T23:30:00+00:00",  # 00:30 CET on 1 November
        "2025-12-31T23:00:00+00:00",  # midnight: New Year in Berlin
        "2026-02-28T22:59:59+00:00",  # 23:59:59 CET: still February
    ):
        file_at(client, clock, people.reporter, when, CENTRE)
    answer = stats(client, **{"from": "2025-12", "to": "2026-11"})
    assert month_counts(answer) == {"2026-01": 1, "2026-02": 1, "2026-03": 1, "2026-04": 1, "2026-10": 1, "2026-11": 1}
    assert [row["month"] for row in answer["by_month"]] == [
        "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
    ]
    assert answer["total"] == 6
    # The range is inclusive at both ends, in Berlin months.
    assert stats(client, **{"from": "2026-04", "to": "2026-10"})["total"] == 2
    assert stats(client, **{"from": "2026-03", "to": "2026-03"})["total"] == 1


def test_counts_by_category_and_district_list_every_one(client, clock, people):
    clock.set("2026-05-10T08:00:00+00:00")
    file_at(client, clock, people.reporter, None, CENTRE, category="glass")
    file_at(client, clock, people.reporter, None, CENTRE, category="glass")
    file_at(client, clock, people.neighbour, None, HOERDE, category="graffiti")
    unsafe = file_at(client, clock, people.reporter, None, HOERDE, kind="unsafe_place", category="underpass")
    # Pending unsafe places wait for moderation: not public, not counted.
    answer = stats(client, **{"from": "2026-05", "to": "2026-05"})
    assert answer["total"] == 3
    assert category_counts(answer) == {"glass": 2, "graffiti": 1}
    moderate(client, people.moderator, unsafe["id"], "approve")
    answer = stats(client, **{"from": "2026-05", "to": "2026-05"})
    assert answer["total"] == 4
    assert category_counts(answer) == {"glass": 2, "graffiti": 1, "underpass": 1}
    assert district_counts(answer) == {ALTER_MARKT_DISTRICT: 2, PHOENIX_SEE_DISTRICT: 2}
    assert answer["by_month"] == [{"month": "2026-05", "count": 4, "litter": 3, "unsafe_place": 1}]
    # Every report category in the reference order, every district in the city's order, zeros included.
    from models.reference import CATEGORIES, DISTRICTS

    assert [(row["category"], row["kind"]) for row in answer["by_category"]] == [
        (code, kind) for code, kind, *_ in CATEGORIES if kind in ("litter", "unsafe_place")
    ]
    assert [row["district"] for row in answer["by_district"]] == [slug for slug, _ in DISTRICTS]
    assert sum(row["count"] for row in answer["by_category"]) == sum(row["count"] for row in answer["by_district"]) == 4


def test_every_district_is_counted_where_its_reports_are(client, clock, people, district_points):
    clock.set("2026-07-01T12:00:00+00:00")
    for n, (slug, point) in enumerate(sorted(district_points.items())):
        for _ in range(n % 3 + 1):
            file_at(client, clock, people.reporter, None, point)
    answer = stats(client, **{"from": "2026-07", "to": "2026-07"})
    assert district_counts(answer) == {slug: n % 3 + 1 for n, slug in enumerate(sorted(district_points))}
    assert answer["total"] == sum(n % 3 + 1 for n in range(len(district_points)))


def test_filters_by_district_and_kind(client, clock, people):
    clock.set("2026-08-03T09:00:00+00:00")
    file_at(client, clock, people.reporter, None, CENTRE)
    file_at(client, clock, people.reporter, None, HOERDE)
    file_at(client, clock, people.reporter, None, HOERDE, category="glass")
    for point in (CENTRE, HOERDE):
        unsafe = file_at(client, clock, people.reporter, None, point, kind="unsafe_place")
        moderate(client, people.moderator, unsafe["id"], "approve")
    months = {"from": "2026-08", "to": "2026-08"}
    assert stats(client, **months)["total"] == 5
    answer = stats(client, district=PHOENIX_SEE_DISTRICT, **months)
    assert answer["district"] == PHOENIX_SEE_DISTRICT and answer["total"] == 3
    assert answer["by_district"] == [{"district": PHOENIX_SEE_DISTRICT, "count": 3}]
    assert category_counts(answer) == {"illegal_dumping": 1, "glass": 1, "poor_lighting": 1}
    answer = stats(client, kind="unsafe_place", **months)
    assert answer["kind"] == "unsafe_place" and answer["total"] == 2
    assert {row["kind"] for row in answer["by_category"]} == {"unsafe_place"}
    assert answer["by_month"] == [{"month": "2026-08", "count": 2, "litter": 0, "unsafe_place": 2}]
    answer = stats(client, kind="litter", district=ALTER_MARKT_DISTRICT, **months)
    assert answer["total"] == 1 and district_counts(answer) == {ALTER_MARKT_DISTRICT: 1}


# ---------------------------------------------------------------------------------------
# Kept up to date by every write
# ---------------------------------------------------------------------------------------


def test_resolution_times_median_and_reopening(client, clock, people, session):
    months = {"from": "2026-06", "to": "2026-06"}
    first = file_at(client, clock, people.reporter, "2026-06-01T08:00:00+00:00", CENTRE)
    second = file_at(client, clock, people.reporter, "2026-06-02T08:00:00+00:00", CENTRE)
    third = file_at(client, clock, people.reporter, "2026-06-03T08:00:00+00:00", HOERDE)
    answer = stats(client, **months)
    assert answer["resolved"] == 0 and answer["median_hours_to_resolve"] is None
    clock.set("2026-06-02T14:30:00+00:00")  # first: 30.5 h, counted as 30
    advance(client, people.staff, first["id"], "in_progress")
    assert stats(client, **months)["median_hours_to_resolve"] is None
    advance(client, people.staff, first["id"], "resolved")
    answer = stats(client, **months)
    assert answer["resolved"] == 1 and answer["median_hours_to_resolve"] == 30
    clock.set("2026-06-07T11:00:00+00:00")  # second: 5 days 3 h, counted as 5 days
    advance(client, people.staff, second["id"], "resolved")
    answer = stats(client, **months)
    assert answer["resolved"] == 2 and answer["median_hours_to_resolve"] == (30 + 120) / 2
    clock.set("2026-06-04T08:59:59+00:00")  # third: 24 h 59 min 59 s, counted as 24
    advance(client, people.staff, third["id"], "resolved")
    answer = stats(client, **months)
    assert answer["resolved"] == 3 and answer["median_hours_to_resolve"] == 30
    # A note on a resolved report changes nothing; reopening takes it out of the resolved.
    advance(client, people.staff, third["id"], "resolved")
    assert stats(client, **months)["median_hours_to_resolve"] == 30
    clock.set("2026-06-08T08:00:00+00:00")
    reopen(client, people.reporter, second["id"])
    answer = stats(client, **months)
    assert answer["total"] == 3 and answer["resolved"] == 2 and answer["median_hours_to_resolve"] == (24 + 30) / 2
    # Resolved again later: the new resolution counts (from filing: 7 days and 2 h).
    clock.set("2026-06-09T10:00:00+00:00")
    advance(client, people.staff, second["id"], "resolved")
    answer = stats(client, **months)
    assert answer["resolved"] == 3 and answer["median_hours_to_resolve"] == 30
    assert kept_tables(session) == recounted_tables(session) == rebuilt_tables(session)


def test_feedback_share_helped(client, clock, people, session):
    months = {"from": "2026-06", "to": "2026-06"}
    reports = [file_at(client, clock, people.reporter, f"2026-06-1{n}T08:00:00+00:00", CENTRE) for n in range(3)]
    assert stats(client, **months)["feedback"] == {"answers": 0, "helped": 0, "share_helped": None}
    clock.set("2026-06-20T08:00:00+00:00")
    for report in reports:
        advance(client, people.staff, report["id"], "resolved")
    feedback(client, people.reporter, reports[0]["id"], True)
    assert stats(client, **months)["feedback"] == {"answers": 1, "helped": 1, "share_helped": 1.0}
    feedback(client, people.reporter, reports[1]["id"], False)
    feedback(client, people.reporter, reports[2]["id"], True)
    assert stats(client, **months)["feedback"] == {"answers": 3, "helped": 2, "share_helped": 0.6667}
    # A second answer is refused and counts nothing.
    r = client.post(f"/api/v1/reports/{reports[0]['id']}/feedback", json={"helped": False}, headers=people.reporter.headers)
    assert r.status_code == 409
    assert stats(client, **months)["feedback"]["answers"] == 3
    # Feedback belongs to its report's month and district.
    assert stats(client, **{"from": "2026-07", "to": "2026-07"})["feedback"]["answers"] == 0
    assert stats(client, district=PHOENIX_SEE_DISTRICT, **months)["feedback"]["answers"] == 0
    assert kept_tables(session) == recounted_tables(session)


def test_hidden_and_duplicate_reports_drop_out(client, clock, people, app, make_user, session):
    months = {"from": "2026-06", "to": "2026-06"}
    original = file_at(client, clock, people.reporter, "2026-06-05T08:00:00+00:00", CENTRE)
    again = file_at(client, clock, people.neighbour, "2026-06-05T09:00:00+00:00", CENTRE)
    other = file_at(client, clock, people.neighbour, "2026-06-05T10:00:00+00:00", HOERDE)
    assert stats(client, **months)["total"] == 3
    moderate(client, people.moderator, other["id"], "hide")
    assert stats(client, **months)["total"] == 2
    moderate(client, people.moderator, other["id"], "restore")
    assert stats(client, **months)["total"] == 3
    # Hidden automatically after enough flags, then rejected in moderation: gone for good.
    for _ in range(app.config["FLAG_HIDE_THRESHOLD"]):
        r = client.post("/api/v1/flags", json={"target_type": "report", "target_id": other["id"], "reason": "spam"}, headers=make_user().headers)
        assert r.status_code == 201
    assert stats(client, **months)["total"] == 2
    moderate(client, people.moderator, other["id"], "reject")
    assert stats(client, **months)["total"] == 2
    # The same problem twice: the duplicate leaves the statistics, the original stays.
    advance(client, people.staff, again["id"], "duplicate", duplicate_of=original["id"])
    answer = stats(client, **months)
    assert answer["total"] == 1 and district_counts(answer) == {ALTER_MARKT_DISTRICT: 1}
    # Rejected by staff is still a public report that was filed: it counts (not as resolved).
    advance(client, people.staff, original["id"], "rejected")
    answer = stats(client, **months)
    assert answer["total"] == 1 and answer["resolved"] == 0
    assert kept_tables(session) == recounted_tables(session) == rebuilt_tables(session)


def test_a_resolved_report_with_feedback_leaves_with_it_when_hidden(client, clock, people, session):
    months = {"from": "2026-06", "to": "2026-06"}
    report = file_at(client, clock, people.reporter, "2026-06-05T08:00:00+00:00", CENTRE)
    clock.set("2026-06-05T11:00:00+00:00")
    advance(client, people.staff, report["id"], "resolved")
    feedback(client, people.reporter, report["id"], True)
    answer = stats(client, **months)
    assert (answer["resolved"], answer["median_hours_to_resolve"], answer["feedback"]["answers"]) == (1, 3, 1)
    moderate(client, people.moderator, report["id"], "hide")
    answer = stats(client, **months)
    assert (answer["total"], answer["resolved"], answer["median_hours_to_resolve"], answer["feedback"]["answers"]) == (0, 0, None, 0)
    moderate(client, people.moderator, report["id"], "restore")
    answer = stats(client, **months)
    assert (answer["resolved"], answer["median_hours_to_resolve"], answer["feedback"]["answers"]) == (1, 3, 1)
    assert kept_tables(session) == recounted_tables(session) == rebuilt_tables(session)


# ---------------------------------------------------------------------------------------
# The litter trend
# ---------------------------------------------------------------------------------------


def test_litter_change_against_the_same_months_a_year_earlier(client, clock, people):
    # 20 litter reports in March and April 2025, 19 in March and April 2026: 5 % less.
    for year, count in ((2025, 20), (2026, 19)):
        for n in range(count):
            file_at(client, clock, people.reporter, f"{year}-0{3 + n % 2}-1{n % 10}T10:00:00+00:00", CENTRE if n % 4 else HOERDE)
    # Unsafe places and months outside the two ranges do not move the litter trend.
    unsafe = file_at(client, clock, people.reporter, "2026-03-20T10:00:00+00:00", CENTRE, kind="unsafe_place")
    moderate(client, people.moderator, unsafe["id"], "approve")
    file_at(client, clock, people.reporter, "2025-05-01T10:00:00+00:00", CENTRE)
    file_at(client, clock, people.reporter, "2025-02-28T10:00:00+00:00", CENTRE)
    answer = stats(client, **{"from": "2026-03", "to": "2026-04"})
    assert answer["total"] == 20
    assert answer["litter_trend"] == {"count": 19, "year_before": 20, "change": -0.05}
    # Always litter, even when the rest of the answer is about unsafe places.
    answer = stats(client, kind="unsafe_place", **{"from": "2026-03", "to": "2026-04"})
    assert answer["total"] == 1 and answer["litter_trend"] == {"count": 19, "year_before": 20, "change": -0.05}
    # In one district: HOERDE had 5 reports (n = 0, 4, … 16) in 2025 and 5 (n = 0 … 16) in 2026.
    answer = stats(client, district=PHOENIX_SEE_DISTRICT, **{"from": "2026-03", "to": "2026-04"})
    assert answer["litter_trend"] == {"count": 5, "year_before": 5, "change": 0.0}
    # A year before with nothing: no change to speak of.
    answer = stats(client, **{"from": "2025-03", "to": "2025-04"})
    assert answer["litter_trend"] == {"count": 20, "year_before": 0, "change": None}
    # More litter: a positive change.
    answer = stats(client, **{"from": "2025-03", "to": "2025-05"})
    assert answer["litter_trend"]["count"] == 21


def test_default_range_is_the_last_twelve_berlin_months(client, clock, people):
    clock.set("2026-12-31T23:30:00+00:00")  # already January 2027 in Berlin
    file_at(client, clock, people.reporter, None, CENTRE)
    answer = stats(client)
    assert (answer["from"], answer["to"]) == ("2026-02", "2027-01")
    assert len(answer["by_month"]) == 12 and month_counts(answer) == {"2027-01": 1}
    answer = stats(client, to="2026-06")
    assert (answer["from"], answer["to"]) == ("2025-07", "2026-06")
    answer = stats(client, **{"from": "2026-10"})
    assert (answer["from"], answer["to"]) == ("2026-10", "2027-01")
    # Ten years is the most.
    assert stats(client, **{"from": "2017-02", "to": "2027-01"})["total"] == 1


# ---------------------------------------------------------------------------------------
# Bad input: 422 on the parameter, never 5xx
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field",
    [
        ({"from": "2026-13"}, "from"),
        ({"from": "2026-00"}, "from"),
        ({"from": "2026-3"}, "from"),
        ({"from": "2026-03-01"}, "from"),
        ({"from": "03/2026"}, "from"),
        ({"from": ""}, "from"),
        ({"from": "１９９９-03"}, "from"),
        ({"from": "1999-12"}, "from"),
        ({"to": "3000-01"}, "to"),
        ({"to": "2026-03\x00"}, "to"),
        ({"to": "2026- 03"}, "to"),
        ({"to": "x" * 5000}, "to"),
        ({"from": "2026-04", "to": "2026-03"}, "from"),
        ({"from": "2016-01", "to": "2026-01"}, "from"),
        ({"district": "dortmund"}, "district"),
        ({"district": ""}, "district"),
        ({"district": "hoerde\x00"}, "district"),
        ({"kind": "idea"}, "kind"),
        ({"kind": "LITTER"}, "kind"),
    ],
)
def test_bad_queries_are_422_on_the_parameter(client, query, field):
    r = client.get(STATS, query_string=query)
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["code"] == 422 and body["status"] == "Unprocessable Entity"
    assert list(body["errors"]) == [field], body


def test_bad_input_messages_speak_german_and_english(client):
    r = client.get(STATS, query_string={"from": "2026-13"})
    assert r.get_json()["errors"]["from"] == ["Kein gültiger Monat (JJJJ-MM)."]
    r = client.get(STATS, query_string={"from": "2026-13"}, headers={"Accept-Language": "en"})
    assert r.get_json()["errors"]["from"] == ["Not a valid month (YYYY-MM)."]
    r = client.get(STATS, query_string={"from": "2026-04", "to": "2026-03"}, headers={"Accept-Language": "en"})
    assert r.get_json()["message"] == "The first month (from) must not come after the last one (to)."
    r = client.get(STATS, query_string={"from": "2010-01", "to": "2026-03"})
    assert r.get_json()["errors"]["from"] == ["Höchstens 10 Jahre auf einmal."]


# ---------------------------------------------------------------------------------------
# Caching: ETag, 304, Cache-Control, the worker's copy
# ---------------------------------------------------------------------------------------


def test_etag_304_and_cache_control(client, clock, people, app, monkeypatch):
    file_at(client, clock, people.reporter, "2026-06-05T08:00:00+00:00", CENTRE)
    query = {"from": "2026-06", "to": "2026-06"}
    r = client.get(STATS, query_string=query)
    assert r.status_code == 200
    etag = r.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/"), etag  # strong
    assert r.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(STATS, query_string=query)
    assert again.headers["ETag"] == etag and again.data == r.data
    r = client.get(STATS, query_string=query, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.data == b""
    assert r.headers["ETag"] == etag and r.headers["Cache-Control"] == "public, max-age=300"
    r = client.get(STATS, query_string=query, headers={"If-None-Match": f'"other", {etag}'})
    assert r.status_code == 304
    # Another question has another answer and tag.
    other = client.get(STATS, query_string={**query, "kind": "litter"})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    # A write changes the answer (no worker cache in tests): the old tag no longer matches.
    file_at(client, clock, people.reporter, "2026-06-06T08:00:00+00:00", CENTRE)
    r = client.get(STATS, query_string=query, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.get_json()["total"] == 2 and r.headers["ETag"] != etag
    monkeypatch.setitem(app.config, "STATS_MAX_AGE", 120)
    assert client.get(STATS, query_string=query).headers["Cache-Control"] == "public, max-age=120"


def test_the_worker_keeps_an_answer_for_stats_cache_seconds(client, clock, people, app, monkeypatch):
    import api.cache

    monkeypatch.setitem(app.config, "STATS_CACHE_SECONDS", 60)
    moment = {"now": 1000.0}
    monkeypatch.setattr(api.cache.time, "monotonic", lambda: moment["now"])
    clock.set("2026-06-05T08:00:00+00:00")
    file_at(client, clock, people.reporter, None, CENTRE)
    assert stats(client)["total"] == 1
    file_at(client, clock, people.reporter, None, CENTRE)
    # The same question, however it is written (defaults filled in), is the same kept answer.
    assert stats(client)["total"] == 1
    assert stats(client, **{"from": "2025-07", "to": "2026-06"})["total"] == 1
    assert stats(client, to="2026-06")["total"] == 1
    # Another question is computed afresh.
    assert stats(client, kind="litter")["total"] == 2
    moment["now"] += 61
    assert stats(client)["total"] == 2


def test_kept_answers_stay_bounded(client, app, monkeypatch):
    import api.cache

    monkeypatch.setitem(app.config, "STATS_CACHE_SECONDS", 60)
    monkeypatch.setattr(api.cache, "MAX_ANSWERS", 5)
    for month in range(1, 13):
        stats(client, **{"from": f"2026-{month:02d}", "to": "2026-12"})
    assert len(api.cache._answers) <= 5


# ---------------------------------------------------------------------------------------
# The kept counts equal a recount after a mixed history
# ---------------------------------------------------------------------------------------


def test_kept_counts_equal_the_rebuild_after_a_mixed_history(client, clock, people, make_user, district_points, session, app):
    import random
    from datetime import timedelta

    rng = random.Random(11)
    points = list(district_points.values()) + [CENTRE, HOERDE]
    residents = [people.reporter, people.neighbour, make_user()]
    litter = ["illegal_dumping", "glass", "graffiti", "dog_waste"]
    # Moments near month ends and clock changes, and ordinary ones, over two years.
    moments = [
        "2025-03-30T00:30:00+00:00", "2025-03-31T21:59:59+00:00", "2025-03-31T22:00:00+00:00", "2025-10-26T00:30:00+00:00",
        "2025-10-31T22:59:59+00:00", "2025-10-31T23:00:00+00:00", "2025-12-31T22:59:59+00:00", "2025-12-31T23:00:01+00:00",
        "2026-02-28T23:00:00+00:00", "2026-06-30T21:59:00+00:00", "2026-06-30T22:00:00+00:00",
    ]
    known = []  # (report, reporter)
    for n in range(45):
        when = moments[n] if n < len(moments) else f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:15:00+00:00"
        reporter = rng.choice(residents)
        kind = "unsafe_place" if rng.random() < 0.25 else "litter"
        extra = {"category": rng.choice(litter)} if kind == "litter" else {}
        report = file_at(client, clock, reporter, when, rng.choice(points), kind=kind, **extra)
        known.append((report, reporter))
        if kind == "unsafe_place" and rng.random() < 0.8:
            moderate(client, people.moderator, report["id"], "approve")
    assert kept_tables(session) == rebuilt_tables(session)
    for report, reporter in known:
        created = clock.set(report["created_at"])
        roll = rng.random()
        if report["status"] == "pending" or roll < 0.15:
            continue
        # Resolution after minutes, hours or days, across the 48-hour edge.
        clock.now = created + timedelta(seconds=rng.choice([59, 3600, 3599 * 5, 47 * 3600 + 3599, 48 * 3600, 3 * 86400 + 7, 40 * 86400]))
        if roll < 0.6:
            advance(client, people.staff, report["id"], rng.choice(["acknowledged", "in_progress"]))
            advance(client, people.staff, report["id"], "resolved")
            if rng.random() < 0.5:
                feedback(client, reporter, report["id"], rng.random() < 0.7)
            if rng.random() < 0.3:
                clock.advance(days=1)
                reopen(client, reporter, report["id"])
        elif roll < 0.7:
            original = rng.choice([other for other, _ in known if other["id"] != report["id"]])
            r = update(client, people.staff, report["id"], "duplicate", duplicate_of=original["id"])
            assert r.status_code in (200, 422), r.get_json()  # the original may be hidden or circular
        elif roll < 0.8:
            advance(client, people.staff, report["id"], "rejected")
        elif roll < 0.9:
            moderate(client, people.moderator, report["id"], "hide")
        else:
            moderate(client, people.moderator, report["id"], "hide")
            moderate(client, people.moderator, report["id"], "restore")
    kept = kept_tables(session)
    assert kept == rebuilt_tables(session) == recounted_tables(session)
    assert kept[1], "some reports were resolved"
    # The answer adds up to the tables.
    answer = stats(client, **{"from": "2025-01", "to": "2026-12"})
    assert answer["total"] == sum(filed for filed, *_ in kept[0].values())
    assert answer["resolved"] == sum(row[1] for row in kept[0].values()) == sum(n for (n,) in kept[1].values())


def test_rebuild_and_migration_count_seeded_reports_as_the_kept_path_would(clean_app, session):
    """The seed's reports (two years, every status) in the statistics: the SQL of the rebuild and of
    migration 0010 against the Python of the kept deltas, also at month ends and clock changes."""
    from datetime import datetime, timedelta
    from importlib import import_module

    from sqlalchemy import delete, select
    from sqlalchemy import update as sql_update

    from api.demo import seed
    from models.report_stats import ReportResolveTime, ReportStats
    from models.reports import Report

    seed(session, reports=1500, echo=lambda *_: None)
    assert kept_tables(session) == recounted_tables(session)
    # Tricky moments for a few reports (as if filed then), resolution times across the edges.
    edges = [
        datetime(2025, 3, 31, 21, 59, 59), datetime(2025, 3, 31, 22, 0, 0), datetime(2025, 3, 30, 0, 59, 59), datetime(2025, 3, 30, 1, 0, 0),
        datetime(2025, 10, 26, 0, 59, 59), datetime(2025, 10, 26, 1, 0, 0), datetime(2025, 10, 31, 22, 59, 59), datetime(2025, 10, 31, 23, 0, 0),
        datetime(2025, 12, 31, 23, 0, 0), datetime(2026, 2, 28, 22, 59, 59), datetime(2026, 9, 30, 22, 0, 0), datetime(2026, 9, 30, 21, 59, 59),
    ]
    resolved = session.scalars(select(Report.id).where(Report.status == "resolved").order_by(Report.id).limit(len(edges) * 3)).all()
    for n, report_id in enumerate(resolved):
        created = edges[n % len(edges)].replace(tzinfo=UTC)
        took = [timedelta(hours=47, minutes=59, seconds=59), timedelta(hours=48), timedelta(seconds=3599)][n // len(edges)]
        session.execute(sql_update(Report).where(Report.id == report_id).values(created_at=created, resolved_at=created + took))
    session.commit()
    recount = recounted_tables(session)
    assert rebuilt_tables(session) == recount
    # Migration 0010 fills the tables from the reports already there, the same way (its fill
    # run on its own: downgrading would take every later migration with it).
    migration = import_module("migrations.versions.0010_report_stats")
    session.execute(delete(ReportStats))
    session.execute(delete(ReportResolveTime))
    connection = session.connection()
    migration.fill(connection.exec_driver_sql, connection.dialect.name)
    session.commit()
    assert kept_tables(session) == recount
