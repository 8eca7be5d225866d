from __future__ import annotations

import re

import pytest
from sqlalchemy import event, func, select

from api.extensions import db
from tests.notifications.delivered import inbox
from models.prepared import PreparedSelect
from tests.conftest import run_in_parallel

from tests.idea_flow import IDEA

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def test_submit_returns_pending_idea_with_location(client, make_user):
    author = make_user()
    r = client.post("/api/v1/ideas", json={**IDEA, "location": {"lat": 51.49, "lon": 7.51}}, headers=author.headers)
    assert r.status_code == 201
    idea = r.get_json()
    assert r.headers["Location"] == f"/api/v1/ideas/{idea['id']}"
    assert idea["status"] == "pending" and idea["visibility"] == "visible"
    assert idea["author"] == {"id": author.id, "display_name": "User 1"}
    assert idea["location"] == {"lat": 51.49, "lon": 7.51}
    assert idea["support_count"] == 0 and idea["supported_by_me"] is False and idea["following"] is True
    assert idea["official_response"] is None and idea["moderation"] is None
    assert TIME.match(idea["created_at"]) and TIME.match(idea["updated_at"])
    # The GET shows the same object.
    assert client.get(idea_url := f"/api/v1/ideas/{idea['id']}", headers=author.headers).get_json() == idea
    # Pending ideas are invisible to others.
    assert client.get(idea_url).status_code == 404
    assert client.get(idea_url, headers=make_user().headers).status_code == 404
    assert client.get(idea_url, headers=make_user("moderator").headers).status_code == 200


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": "Kurz"}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"body": "zu kurz"}, "body"),
        ({"body": 42}, "body"),
        ({"title": None}, "title"),
        ({"category": "no_such_category"}, "category"),
        ({"category": "bulky_waste"}, "category"),
        ({"district": "berlin-mitte"}, "district"),
        ({"location": {"lat": 52.52, "lon": 13.40}}, "location"),
        ({"location": {"lat": "north"}}, "location.lat"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(client, make_user, session, change, field):
    from models.ideas import Idea

    r = client.post("/api/v1/ideas", json={**IDEA, **change}, headers=make_user().headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert session.scalar(select(func.count()).select_from(Idea)) == 0


def test_anonymous_cannot_submit_and_auth_comes_before_validation(client):
    assert client.post("/api/v1/ideas", json={}).status_code == 401


def test_list_shows_public_ideas_and_own(client, make_user, flow):
    alice, bob = make_user(), make_user()
    public = flow.published(alice)
    own_pending = flow.submit(bob, title="Bobs eigene Idee hier")
    anon_ids = [i["id"] for i in client.get("/api/v1/ideas").get_json()["items"]]
    assert anon_ids == [public["id"]]
    bob_ids = [i["id"] for i in client.get("/api/v1/ideas", headers=bob.headers).get_json()["items"]]
    assert bob_ids == [own_pending["id"], public["id"]]


def test_paging_walks_public_and_own_ideas_together_in_order(client, make_user, flow):
    """The viewer's own unpublished ideas are merged into the public ones in the list's order,
    page by page, without gaps or repeats (one statement, api/ideas/listing.py)."""
    alice, bob, fan = make_user(), make_user(), make_user()
    expected = []
    for i in range(3):
        expected.append(flow.published(alice, title=f"Öffentliche Idee Nummer {i}")["id"])
        expected.append(flow.submit(bob, title=f"Bobs wartende Idee Nummer {i}")["id"])
    top = expected[0]
    client.put(f"/api/v1/ideas/{top}/support", headers=fan.headers)
    for sort, order in (("new", sorted(expected, reverse=True)), ("top", [top] + sorted(set(expected) - {top}, reverse=True))):
        seen, cursor = [], None
        while True:
            query = f"/api/v1/ideas?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(query, headers=bob.headers).get_json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == order, sort
    others = [i["id"] for i in client.get("/api/v1/ideas?limit=100", headers=alice.headers).get_json()["items"]]
    assert others == sorted(expected[0::2], reverse=True)


def test_filters_and_search_fold_umlauts_and_sharp_s(client, make_user, flow):
    user = make_user()
    a = flow.published(user, title="Neue Straße in Hörde", district="hoerde")
    b = flow.published(user, title="Radweg an der Strasse nach Hoerde", district="hoerde", category="mobility")
    c = flow.published(user, title="Spielplatz in Eving erneuern", district="eving", category="play_and_youth")

    def ids(query):
        r = client.get("/api/v1/ideas?" + query)
        assert r.status_code == 200, r.get_json()
        return sorted(i["id"] for i in r.get_json()["items"])

    assert ids("q=Strasse") == sorted([a["id"], b["id"]])
    assert ids("q=Straße") == sorted([a["id"], b["id"]])
    assert ids("q=hoerde") == sorted([a["id"], b["id"]])
    assert ids("q=H%C3%B6rde") == sorted([a["id"], b["id"]])
    assert ids("district=eving") == [c["id"]]
    assert ids("category=mobility") == [b["id"]]
    assert ids("status=published") == sorted([a["id"], b["id"], c["id"]])
    assert ids("q=100%25") == []
    for bad in ("district=mars", "category=bulky_waste", "status=sleeping", "sort=random", "limit=0", "limit=101", "cursor=garbage"):
        r = client.get("/api/v1/ideas?" + bad)
        assert r.status_code == 422, bad
        assert r.get_json()["errors"], bad


def test_pagination_visits_every_idea_once_while_new_ones_arrive(client, make_user, flow, session):

    user = make_user()
    for i in range(7):
        flow.published(user, title=f"Idee Nummer {i} für Hörde")
    seen = []
    cursor = None
    rounds = 0
    while True:
        url = "/api/v1/ideas?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        seen += [i["id"] for i in page["items"]]
        if rounds == 0:
            flow.published(user, title="Dazwischen eingefügte Idee")
        rounds += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


def test_sort_top_orders_by_support_count(client, make_user, flow):
    author = make_user()
    low = flow.published(author, title="Wenig unterstützte Idee")
    high = flow.published(author, title="Viel unterstützte Idee")
    for _ in range(2):
        assert client.put(f"/api/v1/ideas/{high['id']}/support", headers=make_user().headers).status_code == 204
    client.put(f"/api/v1/ideas/{low['id']}/support", headers=make_user().headers)
    items = client.get("/api/v1/ideas?sort=top").get_json()["items"]
    assert [i["id"] for i in items] == [high["id"], low["id"]]
    assert [i["support_count"] for i in items] == [2, 1]
    page1 = client.get("/api/v1/ideas?sort=top&limit=1").get_json()
    page2 = client.get(f"/api/v1/ideas?sort=top&limit=1&cursor={page1['next_cursor']}").get_json()
    assert [page1["items"][0]["id"], page2["items"][0]["id"]] == [high["id"], low["id"]]
    # A cursor of one ordering is refused by the other.
    assert client.get(f"/api/v1/ideas?sort=new&cursor={page1['next_cursor']}").status_code == 422


def test_support_is_idempotent_and_counts_once(client, make_user, flow):
    idea = flow.published(make_user())
    fan = make_user()
    url = f"/api/v1/ideas/{idea['id']}/support"
    assert client.put(url, headers=fan.headers).status_code == 204
    assert client.put(url, headers=fan.headers).status_code == 204
    got = client.get(f"/api/v1/ideas/{idea['id']}", headers=fan.headers).get_json()
    assert got["support_count"] == 1 and got["supported_by_me"] is True
    assert client.delete(url, headers=fan.headers).status_code == 204
    assert client.delete(url, headers=fan.headers).status_code == 204
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["support_count"] == 0


def test_eight_parallel_supports_from_one_user_count_once(app, make_user, flow):
    idea = flow.published(make_user())
    fan = make_user()
    clients = [app.test_client() for _ in range(8)]
    statuses = run_in_parallel(8, lambda i: clients[i].put(f"/api/v1/ideas/{idea['id']}/support", headers=fan.headers).status_code)
    assert statuses == [204] * 8
    assert app.test_client().get(f"/api/v1/ideas/{idea['id']}").get_json()["support_count"] == 1


def test_parallel_supports_from_many_users_are_all_counted(app, make_user, flow):
    idea = flow.published(make_user())
    fans = [make_user() for _ in range(6)]
    clients = [app.test_client() for _ in range(6)]
    run_in_parallel(6, lambda i: clients[i].put(f"/api/v1/ideas/{idea['id']}/support", headers=fans[i].headers))
    assert app.test_client().get(f"/api/v1/ideas/{idea['id']}").get_json()["support_count"] == 6


def test_support_on_pending_or_hidden_idea_is_404(client, make_user, flow):
    pending = flow.submit(make_user())
    assert client.put(f"/api/v1/ideas/{pending['id']}/support", headers=make_user().headers).status_code == 404
    assert client.put("/api/v1/ideas/999999/support", headers=make_user().headers).status_code == 404


def test_threshold_reached_automatically_and_followers_told(client, make_user, flow, app, session, monkeypatch):
    monkeypatch.setitem(app.config, "IDEA_SUPPORT_THRESHOLD", 2)
    author = make_user()
    idea = flow.published(author)
    follower = make_user()
    client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=follower.headers)
    client.put(f"/api/v1/ideas/{idea['id']}/support", headers=make_user().headers)
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["status"] == "published"
    client.put(f"/api/v1/ideas/{idea['id']}/support", headers=make_user().headers)
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["status"] == "threshold_reached"
    recipients = {m.user_id for m in inbox(app, "idea_status_changed")}
    assert recipients == {author.id, follower.id}


def test_edit_and_delete_only_while_unsupported(client, make_user, flow):
    author = make_user()
    idea = flow.published(author)
    url = f"/api/v1/ideas/{idea['id']}"
    r = client.patch(url, json={"title": "Mehr Bänke und Tische am See"}, headers=author.headers)
    assert r.status_code == 200 and r.get_json()["title"] == "Mehr Bänke und Tische am See"
    assert r.get_json()["status"] == "published"  # a public idea stays public
    assert client.patch(url, json={"title": "Fremde Änderung hier"}, headers=make_user().headers).status_code == 403
    assert client.patch(url, json={"district": "atlantis"}, headers=author.headers).status_code == 422
    client.put(f"{url}/support", headers=make_user().headers)
    assert client.patch(url, json={"title": "Noch eine Änderung hier"}, headers=author.headers).status_code == 409
    assert client.delete(url, headers=author.headers).status_code == 409
    other = flow.published(author, title="Eine zweite Idee zum Löschen")
    assert client.delete(f"/api/v1/ideas/{other['id']}", headers=make_user().headers).status_code == 403
    assert client.delete(f"/api/v1/ideas/{other['id']}", headers=author.headers).status_code == 204
    assert client.get(f"/api/v1/ideas/{other['id']}").status_code == 404


def test_edit_with_personal_data_is_hidden_pending_review(client, make_user, flow):
    author = make_user()
    idea = flow.published(author)
    r = client.patch(
        f"/api/v1/ideas/{idea['id']}",
        json={"body": "Ruft mich an unter 0231 98765432, dann erkläre ich alles genauer."},
        headers=author.headers,
    )
    assert r.status_code == 200
    assert r.get_json()["visibility"] == "hidden"
    assert client.get(f"/api/v1/ideas/{idea['id']}").status_code == 404
    queue = client.get("/api/v1/moderation/queue?state=flagged", headers=flow.moderator.headers).get_json()["items"]
    assert queue[0]["target_id"] == idea["id"] and "prescreen:personal_data" in queue[0]["reasons"]


def test_comments_flat_oldest_first_with_one_level_of_replies(client, make_user, flow):
    idea = flow.published(make_user())
    a, b = make_user(), make_user()
    first = flow.comment(a, idea["id"], "Erster Kommentar")
    reply = flow.comment(b, idea["id"], "Antwort darauf", parent_id=first["id"])
    r = client.post(f"/api/v1/ideas/{idea['id']}/comments", json={"body": "Antwort auf Antwort", "parent_id": reply["id"]}, headers=a.headers)
    assert r.status_code == 422 and "parent_id" in r.get_json()["errors"]
    page = client.get(f"/api/v1/ideas/{idea['id']}/comments").get_json()
    assert [c["id"] for c in page["items"]] == [first["id"], reply["id"]]
    assert page["items"][1]["parent_id"] == first["id"]
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 2
    # Deleting keeps the place in the thread.
    assert client.delete(f"/api/v1/ideas/{idea['id']}/comments/{first['id']}", headers=b.headers).status_code == 403
    assert client.delete(f"/api/v1/ideas/{idea['id']}/comments/{first['id']}", headers=a.headers).status_code == 204
    items = client.get(f"/api/v1/ideas/{idea['id']}/comments").get_json()["items"]
    assert items[0]["status"] == "deleted" and items[0]["body"] == ""
    assert client.get(f"/api/v1/ideas/{idea['id']}").get_json()["comment_count"] == 1


def test_pending_comment_visible_only_to_author_and_moderators(client, make_user, flow):
    idea = flow.published(make_user())
    writer = make_user()
    comment = flow.comment(writer, idea["id"], "Noch nicht freigegeben", approve=False)
    assert comment["status"] == "pending"
    assert client.get(f"/api/v1/ideas/{idea['id']}/comments").get_json()["items"] == []
    assert [c["id"] for c in client.get(f"/api/v1/ideas/{idea['id']}/comments", headers=writer.headers).get_json()["items"]] == [comment["id"]]


def test_comment_on_hidden_idea_is_404(client, make_user, flow):
    idea = flow.published(make_user())
    client.post(
        "/api/v1/moderation/decisions",
        json={"target_type": "idea", "target_id": idea["id"], "action": "hide", "reason_code": "spam"},
        headers=flow.moderator.headers,
    )
    r = client.post(f"/api/v1/ideas/{idea['id']}/comments", json={"body": "Hallo"}, headers=make_user().headers)
    assert r.status_code == 404


def test_new_public_comment_notifies_followers_but_not_the_writer(client, make_user, flow, session):
    author = make_user()
    idea = flow.published(author)
    writer = make_user()
    client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=writer.headers)
    flow.comment(writer, idea["id"])
    recipients = {m.user_id for m in inbox(client.application, "idea_comment")}
    assert recipients == {author.id}


def test_follow_and_unfollow(client, make_user, flow):
    idea = flow.published(make_user())
    fan = make_user()
    url = f"/api/v1/ideas/{idea['id']}/follow"
    assert client.put(url, headers=fan.headers).status_code == 204
    assert client.put(url, headers=fan.headers).status_code == 204
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=fan.headers).get_json()["following"] is True
    assert client.delete(url, headers=fan.headers).status_code == 204
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=fan.headers).get_json()["following"] is False


@pytest.mark.parametrize(
    "path, allowed",
    [
        (["under_review", "accepted", "implemented"], True),
        (["rejected"], True),
        (["accepted", "accepted"], True),
    ],
)
def test_official_response_transitions(client, make_user, flow, session, path, allowed):
    author = make_user()
    idea = flow.published(author)
    for status in path:
        r = client.post(f"/api/v1/ideas/{idea['id']}/response", json={"status": status, "body": f"Antwort: {status}"}, headers=flow.staff.headers)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["status"] == status
        assert r.get_json()["official_response"]["body"] == f"Antwort: {status}"
    # The author follows their own idea: one inbox item per answer.
    assert len(inbox(client.application, "idea_response")) == len(path)


@pytest.mark.parametrize("path", [["implemented"], ["rejected", "accepted"], ["accepted", "under_review"], ["under_review", "under_review", "implemented"]])
def test_illegal_response_transitions_are_409(client, make_user, flow, path):
    idea = flow.published(make_user())
    codes = [
        client.post(f"/api/v1/ideas/{idea['id']}/response", json={"status": s, "body": "Antwort"}, headers=flow.staff.headers).status_code
        for s in path
    ]
    assert codes[-1] == 409 and all(c == 200 for c in codes[:-1])


def test_response_requires_staff_before_validation(client, make_user, flow):
    idea = flow.published(make_user())
    url = f"/api/v1/ideas/{idea['id']}/response"
    assert client.post(url, json={}, headers=make_user().headers).status_code == 403
    assert client.post(url, json={}, headers=flow.moderator.headers).status_code == 403
    assert client.post(url, json={}).status_code == 401
    assert client.post(url, json={"status": "done", "body": "x"}, headers=flow.staff.headers).status_code == 422
    pending = flow.submit(make_user())
    # Staff can read a pending idea, so it is the wrong state (409), not a secret (404).
    assert client.post(f"/api/v1/ideas/{pending['id']}/response", json={"status": "accepted", "body": "Ja"}, headers=flow.staff.headers).status_code == 409


def test_similar_finds_ideas_of_the_same_district(client, make_user, flow):
    user = make_user()
    benches = flow.published(user, title="Sitzbänke am Phoenix-See aufstellen")
    flow.published(user, title="Sitzbänke im Westpark aufstellen", district="innenstadt-west")
    flow.published(user, title="Neue Ampel an der Hauptstraße")
    r = client.get("/api/v1/ideas/similar?district=hoerde&title=Mehr%20Sitzb%C3%A4nke%20am%20See&body=")
    assert r.status_code == 200
    assert [i["id"] for i in r.get_json()["items"]] == [benches["id"]]
    assert client.get("/api/v1/ideas/similar?district=hoerde&title=xyz").get_json()["items"] == []


def test_idempotency_key_replays_and_guards(client, make_user, session):
    from models.ideas import Idea

    user = make_user()
    headers = {**user.headers, "Idempotency-Key": "idea-123"}
    first = client.post("/api/v1/ideas", json=IDEA, headers=headers)
    again = client.post("/api/v1/ideas", json=IDEA, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Location"] == first.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Idea)) == 1
    other = client.post("/api/v1/ideas", json={**IDEA, "title": "Ganz andere Idee hier"}, headers=headers)
    assert other.status_code == 422
    # Keys are per user: another user's identical key creates their own idea.
    second = make_user()
    assert client.post("/api/v1/ideas", json=IDEA, headers={**second.headers, "Idempotency-Key": "idea-123"}).status_code == 201
    assert session.scalar(select(func.count()).select_from(Idea)) == 2
    # A failed request does not burn the key.
    bad = client.post("/api/v1/ideas", json={**IDEA, "title": "x"}, headers={**user.headers, "Idempotency-Key": "k2"})
    assert bad.status_code == 422
    assert client.post("/api/v1/ideas", json=IDEA, headers={**user.headers, "Idempotency-Key": "k2"}).status_code == 201


def test_parallel_requests_with_one_key_create_one_idea(app, make_user):
    from models.ideas import Idea

    user = make_user()
    headers = {**user.headers, "Idempotency-Key": "same-key"}
    clients = [app.test_client() for _ in range(6)]
    statuses = run_in_parallel(6, lambda i: clients[i].post("/api/v1/ideas", json=IDEA, headers=headers).status_code)
    assert set(statuses) <= {201, 409} and 201 in statuses
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Idea)) == 1
        db.session.remove()


def test_list_query_count_does_not_grow_with_page_size(app, client, make_user, flow):
    viewer = make_user()
    for i in range(12):
        idea = flow.published(make_user(), title=f"Idee {i} für den Bezirk")
        client.put(f"/api/v1/ideas/{idea['id']}/support", headers=viewer.headers)
        client.put(f"/api/v1/ideas/{idea['id']}/follow", headers=viewer.headers)

    def statements(limit):
        counter = {"n": 0}

        def count(*args, **kwargs):
            counter["n"] += 1

        # Both ways statements reach the database: through the engine, and prepared ones.
        event.listen(db.engine, "before_cursor_execute", count)
        PreparedSelect.observers.append(count)
        try:
            r = client.get(f"/api/v1/ideas?limit={limit}", headers=viewer.headers)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            PreparedSelect.observers.remove(count)
        assert r.status_code == 200 and len(r.get_json()["items"]) == limit
        assert all(i["supported_by_me"] and i["following"] for i in r.get_json()["items"])
        return counter["n"]

    statements(10)  # every idea rendered once, as a busy server would have them
    assert statements(2) == statements(10) == 3  # caller, page (public and own), supported and followed


def test_blocked_user_reads_but_cannot_contribute(client, make_user, flow):
    idea = flow.published(make_user())
    troll = make_user()
    r = client.put(f"/api/v1/moderation/users/{troll.id}/block", json={"reason": "Beleidigungen"}, headers=flow.moderator.headers)
    assert r.status_code == 204
    assert client.get(f"/api/v1/ideas/{idea['id']}", headers=troll.headers).status_code == 200
    for method, url, body in (
        ("post", "/api/v1/ideas", IDEA),
        ("put", f"/api/v1/ideas/{idea['id']}/support", None),
        ("post", f"/api/v1/ideas/{idea['id']}/comments", {"body": "Hallo"}),
        ("post", "/api/v1/flags", {"target_type": "idea", "target_id": idea["id"], "reason": "spam"}),
    ):
        r = getattr(client, method)(url, json=body, headers=troll.headers)
        assert r.status_code == 403, url
        assert r.get_json()["message"]
    assert client.delete(f"/api/v1/moderation/users/{troll.id}/block", headers=flow.moderator.headers).status_code == 204
    assert client.put(f"/api/v1/ideas/{idea['id']}/support", headers=troll.headers).status_code == 204


def test_list_never_shows_a_stale_rendering(client, make_user, flow):
    """Lists reuse each idea's rendering; every change must show at once, even within a second."""
    author = make_user()
    idea = flow.published(author)
    url = f"/api/v1/ideas/{idea['id']}"

    def listed():
        return client.get("/api/v1/ideas").get_json()["items"][0]

    assert listed()["title"] == idea["title"]
    client.patch(url, json={"title": "Gleich danach geändert"}, headers=author.headers)
    assert listed()["title"] == "Gleich danach geändert"
    client.patch("/api/v1/me", json={"display_name": "Neuer Name"}, headers=author.headers)
    assert listed()["author"]["display_name"] == "Neuer Name"
    client.put(f"{url}/support", headers=make_user().headers)
    assert listed()["support_count"] == 1
    client.post(f"{url}/response", json={"status": "under_review", "body": "Wir prüfen das."}, headers=flow.staff.headers)
    assert listed()["status"] == "under_review" and listed()["official_response"]["body"] == "Wir prüfen das."
    # The author sees the moderation note in the list, others do not.
    client.post(
        "/api/v1/moderation/decisions",
        json={"target_type": "idea", "target_id": idea["id"], "action": "hide", "reason_code": "off_topic", "note": "Bitte präzisieren"},
        headers=flow.moderator.headers,
    )
    assert client.get("/api/v1/ideas").get_json()["items"] == []
    own = client.get("/api/v1/ideas", headers=author.headers).get_json()["items"][0]
    assert own["visibility"] == "hidden" and own["moderation"]["note"] == "Bitte präzisieren"
    assert own == client.get(url, headers=author.headers).get_json()


def test_idempotency_key_in_flight_is_409_and_expires_after_a_day(client, make_user, session):
    from datetime import timedelta

    from models.base import utcnow
    from models.idempotency import IdempotencyRecord
    from models.ideas import Idea

    import hashlib
    import json

    user = make_user()
    body = json.dumps(IDEA).encode()
    # As if the same request were still running in another worker.
    fingerprint = hashlib.sha256(b"POST/api/v1/ideas\0" + body).hexdigest()
    session.add(IdempotencyRecord(owner=f"user:{user.id}", user_id=user.id, key="busy", request_fingerprint=fingerprint, created_at=utcnow()))
    session.commit()
    r = client.post("/api/v1/ideas", data=body, content_type="application/json", headers={**user.headers, "Idempotency-Key": "busy"})
    assert r.status_code == 409
    first = client.post("/api/v1/ideas", json=IDEA, headers={**user.headers, "Idempotency-Key": "old"})
    assert first.status_code == 201
    record = session.get(IdempotencyRecord, (f"user:{user.id}", "old"))
    session.refresh(record)
    record.created_at = utcnow() - timedelta(hours=25)
    session.commit()
    # After 24 hours the key is forgotten: the same request creates anew.
    again = client.post("/api/v1/ideas", json=IDEA, headers={**user.headers, "Idempotency-Key": "old"})
    assert again.status_code == 201 and again.get_json()["id"] != first.get_json()["id"]
    assert session.scalar(select(func.count()).select_from(Idea)) == 2
