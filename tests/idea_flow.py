from __future__ import annotations

IDEA = {
    "title": "Mehr Bänke am Phoenix-See",
    "body": "Am Nordufer des Phoenix-Sees fehlen Sitzbänke für ältere Menschen und Familien.",
    "category": "green_spaces",
    "district": "hoerde",
}


class IdeaFlow:
    """Submit and approve ideas through the HTTP API, as the app and moderators would."""

    def __init__(self, client, make_user):
        self.client = client
        self.make_user = make_user
        self.moderator = make_user("moderator")
        self.staff = make_user("staff")

    def submit(self, author, **overrides):
        r = self.client.post("/api/v1/ideas", json={**IDEA, **overrides}, headers=author.headers)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def approve(self, target_type, target_id):
        r = self.client.post(
            "/api/v1/moderation/decisions",
            json={"target_type": target_type, "target_id": target_id, "action": "approve", "reason_code": "ok"},
            headers=self.moderator.headers,
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def published(self, author, **overrides):
        idea = self.submit(author, **overrides)
        self.approve("idea", idea["id"])
        return self.client.get(f"/api/v1/ideas/{idea['id']}").get_json()

    def comment(self, author, idea_id, body="Gute Idee, bin dafür!", parent_id=None, approve=True):
        payload = {"body": body}
        if parent_id is not None:
            payload["parent_id"] = parent_id
        r = self.client.post(f"/api/v1/ideas/{idea_id}/comments", json=payload, headers=author.headers)
        assert r.status_code == 201, r.get_json()
        comment = r.get_json()
        if approve:
            self.approve("comment", comment["id"])
        return comment
