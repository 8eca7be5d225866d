"""The shared input mechanisms: body parser, text, numbers, times, cursors, path parameters,
unique violations. Each class of hostile input is answered 4xx on every database."""
from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import run_in_parallel

ERROR_KEYS = {"code", "status", "message", "errors"}


def _assert_error(response, *codes):
    assert response.status_code in codes, (response.status_code, response.get_data(as_text=True)[:300])
    assert set(response.get_json()) == ERROR_KEYS
    return response.get_json()


def _idea_body(**overrides):
    body = {
        "title": "Mehr Bänke am Phoenix-See",
        "body": "Am Ufer fehlen Sitzgelegenheiten für ältere Menschen.",
        "category": "green_spaces",
        "district": "hoerde",
    }
    body.update(overrides)
    return body


def _raw(client, path, text, headers=None):
    return client.post(path, data=text.encode("utf-8", "surrogatepass"), content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("depth", [40, 3000, 100_000])
def test_deeply_nested_json_is_400_everywhere(client, make_user, depth):
    user = make_user()
    nested = "[" * depth + "]" * depth
    _assert_error(_raw(client, "/api/v1/auth/login", nested), 400)
    _assert_error(_raw(client, "/api/v1/ideas", '{"title": ' + nested + "}", user.headers), 400)


def test_integers_beyond_the_int_string_limit_are_400(client, make_user):
    user = make_user()
    huge = "9" * 5000
    _assert_error(_raw(client, "/api/v1/flags", f'{{"target_type": "idea", "target_id": {huge}, "reason": "spam"}}', user.headers), 400)
    _assert_error(_raw(client, "/api/v1/auth/login", f'{{"email": {huge}, "password": "x"}}'), 400)


def test_nan_and_infinity_literals_are_not_json(client, make_user):
    user = make_user()
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = json.dumps(_idea_body()).replace('"hoerde"}', f'"hoerde", "location": {{"lat": {literal}, "lon": 7.4}}}}')
        _assert_error(_raw(client, "/api/v1/ideas", body, user.headers), 400)


def test_lone_surrogates_are_refused_in_any_string(client, make_user):
    user = make_user()
    for field in ("title", "category", "district"):
        body = json.dumps(_idea_body(**{field: "PLACEHOLDER"})).replace("PLACEHOLDER", "ab\\ud800cd")
        _assert_error(_raw(client, "/api/v1/ideas", body, user.headers), 400)
    # In a key too (it would be echoed in the "unknown field" error).
    _assert_error(_raw(client, "/api/v1/auth/login", '{"\\udfff": 1, "email": "a@b.de", "password": "x"}'), 400)
    # Proper pairs (emoji written as escapes) are fine.
    r = _raw(client, "/api/v1/ideas", json.dumps(_idea_body(title="Bänke \\ud83d\\ude00 bitte")).replace("\\\\", "\\"), user.headers)
    assert r.status_code == 201, r.get_json()


def test_nul_bytes_in_text_fields_are_422_on_the_field(client, make_user):
    user = make_user()
    for field in ("title", "category", "district"):
        payload = _idea_body(**{field: "hoer\x00de"})
        errors = _assert_error(client.post("/api/v1/ideas", json=payload, headers=user.headers), 422)["errors"]
        assert field in errors
    assert _assert_error(client.get("/api/v1/ideas?q=a%00b"), 422)["errors"].keys() == {"q"}


def test_german_messages_for_lengths_and_nan(client, make_user):
    user = make_user()
    r = client.post("/api/v1/ideas", json=_idea_body(title="kurz"), headers={**user.headers, "Accept-Language": "de"})
    assert _assert_error(r, 422)["errors"]["title"] == ["Muss zwischen 5 und 120 Zeichen lang sein."]
    r = client.post("/api/v1/ideas", json=_idea_body(title="kurz"), headers={**user.headers, "Accept-Language": "en"})
    assert _assert_error(r, 422)["errors"]["title"] == ["Must be between 5 and 120 characters long."]


@pytest.mark.parametrize("target_id", ["5", 5.5, 5.0, True, "05"])
def test_numbers_must_be_json_integers(client, make_user, target_id):
    user = make_user()
    r = client.post("/api/v1/flags", json={"target_type": "idea", "target_id": target_id, "reason": "spam"}, headers=user.headers)
    assert "target_id" in _assert_error(r, 422)["errors"]


def test_query_numbers_still_arrive_as_digits(client):
    assert client.get("/api/v1/ideas?limit=5").status_code == 200
    _assert_error(client.get("/api/v1/ideas?limit=5.5"), 422)
    _assert_error(client.get("/api/v1/ideas?limit=" + "9" * 5000), 422)


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59+00:00", "1999-12-31T23:59:59+00:00"],
)
def test_datetimes_outside_the_range_are_422(client, make_user, moment):
    moderator = make_user("moderator")
    target = make_user()
    r = client.put(f"/api/v1/moderation/users/{target.id}/block", json={"until": moment, "reason": "spam"}, headers=moderator.headers)
    assert "until" in _assert_error(r, 422)["errors"]


def _cursor(kind, values):
    raw = json.dumps([kind, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("value", [2**31, 2**40, 2**63, -(2**31)])
def test_cursor_values_beyond_their_columns_are_422(client, make_user, value):
    moderator = make_user("moderator")
    _assert_error(client.get("/api/v1/ideas?cursor=" + _cursor("ideas-new", [value])), 422)
    _assert_error(client.get("/api/v1/ideas?sort=top&cursor=" + _cursor("ideas-top", [value, 1])), 422)
    _assert_error(client.get("/api/v1/moderation/queue?cursor=" + _cursor("queue", [value]), headers=moderator.headers), 422)
    _assert_error(client.get("/api/v1/moderation/log?cursor=" + _cursor("moderation-log", [value]), headers=moderator.headers), 422)
    _assert_error(client.get("/api/v1/bodies/jugendparlament/rounds?cursor=" + _cursor("budget_rounds", [value])), 422)
    _assert_error(client.get("/api/v1/news?cursor=" + _cursor("news", [value])), 422)
    _assert_error(client.get("/api/v1/me/notifications?cursor=" + _cursor("notifications", [value]), headers=moderator.headers), 422)
    # The largest value a column holds is a valid (empty) position.
    assert client.get("/api/v1/ideas?cursor=" + _cursor("ideas-new", [2**31 - 1])).status_code == 200
    assert client.get("/api/v1/bodies/jugendparlament/rounds?cursor=" + _cursor("budget_rounds", [2**31 - 1])).status_code == 200


def test_nul_bytes_in_path_parameters_are_404(client):
    for path in ("/api/v1/bodies/%00/rounds", "/api/v1/bodies/jugend%00parlament/rounds", "/api/v1/bodies/%00/members"):
        _assert_error(client.get(path), 404, 401)


def test_simultaneous_registrations_of_one_address_are_one_201_and_409s(clean_app):
    def register(i):
        client = clean_app.test_client()
        email = "Same.Person@Example.org" if i % 2 else "same.person@example.org"
        return client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "a long password", "display_name": f"Person {i}"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"},
        )

    responses = run_in_parallel(8, register)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, codes
    for r in responses:
        if r.status_code == 409:
            assert set(r.get_json()) == ERROR_KEYS


def test_unique_violations_are_409_on_any_route(clean_app):
    """Raised from any route, a unique violation is a conflict, not a 500."""
    from sqlalchemy.exc import IntegrityError

    from api.errors import integrity_conflict

    class Orig(Exception):
        sqlstate = "23505"

    with clean_app.test_request_context():
        response = integrity_conflict(IntegrityError("INSERT ...", {}, Orig("duplicate key")))
        assert response.status_code == 409
        with pytest.raises(IntegrityError):
            integrity_conflict(IntegrityError("INSERT ...", {}, Exception("NOT NULL constraint failed: x")))


def test_every_blueprint_parses_bodies_with_the_house_parser(app):
    from api.parsing import BodyParser

    from api.parsing import Blueprint

    blueprints = [bp for bp in app.blueprints.values() if bp.name not in ("health", "docs_assets")]
    assert blueprints
    for blueprint in blueprints:
        if hasattr(blueprint, "ARGUMENTS_PARSER"):
            assert isinstance(blueprint, Blueprint) and isinstance(blueprint.ARGUMENTS_PARSER, BodyParser), blueprint.name


def test_every_input_field_is_a_house_field(app):
    """Strings, numbers and times in request schemas are the house's fields (api.fields)."""
    import marshmallow as ma
    from marshmallow import fields

    from api import fields as house

    plain = (fields.String, fields.Integer, fields.Float, fields.Boolean, fields.DateTime, fields.Date)
    ours = (house.Text, house.WholeNumber, house.Number, house.Boolean, house.UTCDateTime, house.CalendarDate)

    def walk(field, where):
        if isinstance(field, fields.Nested):
            schema = field.schema
            for name, inner in schema.fields.items():
                yield from walk(inner, f"{where}.{name}")
        elif isinstance(field, fields.List):
            yield from walk(field.inner, f"{where}[]")
        elif isinstance(field, fields.Dict):
            for part in (field.key_field, field.value_field):
                if part is not None:
                    yield from walk(part, f"{where}{{}}")
        elif isinstance(field, plain):
            yield where, field

    seen = 0
    for endpoint, view in app.view_functions.items():
        views = [view]
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            views = [getattr(view_class, m) for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        for func in views:
            for argument in getattr(func, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                schema = argument["schema"]
                schema = schema() if isinstance(schema, type) else schema
                assert isinstance(schema, ma.Schema)
                for name, field in schema.fields.items():
                    for where, leaf in walk(field, f"{endpoint}:{name}"):
                        seen += 1
                        assert isinstance(leaf, ours), f"{where} is a plain {type(leaf).__name__}"
    assert seen > 30


def test_a_round_cannot_end_its_phases_in_the_past(client, make_user):
    staff = make_user("staff")
    body = {"title": "Jugendbudget", "budget": 10_000, "ballot": {"type": "approval"}, "rule": "greedy"}
    for field in ("proposals_end_at", "voting_end_at"):
        r = client.post("/api/v1/bodies/jugendparlament/rounds", json={**body, field: "2024-05-01T12:00:00+02:00"}, headers=staff.headers)
        assert r.status_code == 422 and field in r.get_json()["errors"], r.get_json()
    r = client.post("/api/v1/bodies/jugendparlament/rounds", json={**body, "voting_end_at": "2999-05-01T12:00:00+02:00"}, headers=staff.headers)
    assert r.status_code == 201


def test_nan_latitude_is_refused_in_german(client, make_user):
    user = make_user()
    body = json.dumps(_idea_body(location={"lat": 1e400, "lon": 7.4}))
    r = _raw(client, "/api/v1/ideas", body.replace("Infinity", "1e400"), {**user.headers, "Accept-Language": "de"})
    errors = _assert_error(r, 422)["errors"]
    assert errors["location.lat"] == ["Keine gültige Zahl (NaN und Unendlich sind nicht erlaubt)."]
