"""Throttles that hold: counted before the work, under parallel requests, per account and address."""
from __future__ import annotations

import pytest

from api import create_app
from api.config import ConfigError
from tests.conftest import run_in_parallel

LOGIN = "/api/v1/auth/login"


def _login(client, email, password, address="198.51.100.7"):
    return client.post(LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_parallel_guesses_cannot_outrun_the_login_limit(clean_app, make_user, monkeypatch):
    """40 simultaneous logins for one account (39 wrong, 1 right): at most 5 passwords are checked."""
    from models import users

    user = make_user(email="target@example.org", password="the right password")
    checked = []
    real_verify = users._verify

    def counting_verify(password_hash, password):
        checked.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(users, "_verify", counting_verify)

    def guess(i):
        client = clean_app.test_client()
        password = user.password if i == 20 else f"wrong guess {i}"
        return _login(client, user.email, password).status_code

    codes = run_in_parallel(40, guess)
    limit = 5
    successes = codes.count(200)
    # A successful login is refunded and lets one more attempt in; failures never do.
    assert len(checked) <= limit + successes
    assert codes.count(401) <= limit
    assert codes.count(429) >= 40 - limit - 1
    assert set(codes) <= {200, 401, 429}


def test_a_strangers_guesses_do_not_lock_the_owner_out(client, make_user):
    owner = make_user(password="owner's real password")
    for i in range(8):
        _login(client, owner.email, f"wrong {i}", address="203.0.113.66")
    assert _login(client, owner.email, "wrong again", address="203.0.113.66").status_code == 429
    # The owner's own phone, elsewhere, still gets in.
    assert _login(client, owner.email, owner.password, address="198.51.100.20").status_code == 200


def test_account_wide_limit_holds_across_addresses(clean_app, make_user):
    clean_app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "6 per 15 minutes"
    try:
        client = clean_app.test_client()
        user = make_user()
        codes = [_login(client, user.email, "wrong", address=f"198.51.100.{i}").status_code for i in range(1, 8)]
        assert codes == [401] * 6 + [429]
        assert _login(client, user.email, user.password, address="198.51.100.99").status_code == 429
    finally:
        clean_app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "50 per 15 minutes"


def test_per_address_limit_spans_accounts(clean_app):
    clean_app.config["LOGIN_LIMIT_PER_ADDRESS"] = "4 per 15 minutes"
    try:
        client = clean_app.test_client()
        codes = [_login(client, f"nobody{i}@example.org", "wrong").status_code for i in range(5)]
        assert codes == [401] * 4 + [429]
        r = _login(client, "someone-else@example.org", "wrong")
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.get_json()["code"] == 429
        assert _login(client, "someone-else@example.org", "wrong", address="198.51.100.8").status_code == 401
    finally:
        clean_app.config["LOGIN_LIMIT_PER_ADDRESS"] = "100 per 15 minutes"


def test_successful_logins_do_not_count(client, make_user):
    user = make_user()
    for _ in range(12):
        assert _login(client, user.email, user.password).status_code == 200
    for _ in range(5):
        assert _login(client, user.email, "wrong").status_code == 401
    assert _login(client, user.email, "wrong").status_code == 429


def test_ipv6_addresses_count_per_64(client, make_user):
    user = make_user()
    for i in range(5):
        assert _login(client, user.email, "wrong", address=f"2001:db8:1:2::{i + 1}").status_code == 401
    # Another address of the same /64 is the same client.
    assert _login(client, user.email, user.password, address="2001:db8:1:2:ffff::9").status_code == 429
    # A different /64 is another client.
    assert _login(client, user.email, user.password, address="2001:db8:1:3::1").status_code == 200


def test_a_school_class_registers_and_logs_in_from_one_address(clean_app):
    """30 pupils behind the school's one address, with the default limits."""
    from api.config import load_config

    defaults = load_config({"APP_ENV": "test", "DATABASE_URL": "sqlite://"})
    saved = clean_app.config["REGISTER_LIMIT_PER_ADDRESS"]
    clean_app.config["REGISTER_LIMIT_PER_ADDRESS"] = defaults["REGISTER_LIMIT_PER_ADDRESS"]
    try:
        client = clean_app.test_client()
        for i in range(30):
            r = client.post(
                "/api/v1/auth/register",
                json={"email": f"pupil{i}@school.example", "password": "a long password", "display_name": f"Schüler {i}"},
                environ_base={"REMOTE_ADDR": "192.0.2.1"},
            )
            assert r.status_code == 201, (i, r.get_json())
        for i in range(30):
            # A few typos on the way do not lock the class out.
            if i % 5 == 0:
                assert _login(client, f"pupil{i}@school.example", "typo", address="192.0.2.1").status_code == 401
            assert _login(client, f"pupil{i}@school.example", "a long password", address="192.0.2.1").status_code == 200
    finally:
        clean_app.config["REGISTER_LIMIT_PER_ADDRESS"] = saved


def test_registration_limit_holds_under_parallel_requests(clean_app):
    clean_app.config["REGISTER_LIMIT_PER_ADDRESS"] = "3 per hour"
    try:
        def register(i):
            client = clean_app.test_client()
            return client.post(
                "/api/v1/auth/register",
                json={"email": f"burst{i}@example.org", "password": "a long password", "display_name": f"Burst {i}"},
                environ_base={"REMOTE_ADDR": "192.0.2.50"},
            ).status_code

        codes = run_in_parallel(12, register)
        assert codes.count(201) == 3 and codes.count(429) == 9
    finally:
        clean_app.config["REGISTER_LIMIT_PER_ADDRESS"] = "1000 per hour"


def test_counting_is_atomic_on_redis():
    """The same count-first mechanism on the Redis all workers share."""
    import redis

    from api.throttle import Counters
    from limits import parse

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    redis.Redis.from_url(url).flushdb()
    counters = Counters(url)
    item = parse("5 per 15 minutes")
    try:
        values = run_in_parallel(40, lambda i: counters.incr(item, "parallel", 1)[0])
        assert sorted(values) == list(range(1, 41))
        assert sum(1 for v in values if v <= item.amount) == 5
    finally:
        redis.Redis.from_url(url).flushdb()


def test_production_refuses_to_start_without_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app({"APP_ENV": "production", "DATABASE_URL": "sqlite://", "JWT_SECRET_KEY": "x" * 40})
