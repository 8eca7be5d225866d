"""One transaction per changing request, and `Idempotency-Key` for creating POSTs.

`@writes` sits between the access decorator and `@blp.arguments`: the view flushes its
changes, the answer is serialized, and only then is everything committed at once. For an
idempotent creation the stored answer is part of that same commit, so a retry can never
find the object created but the answer missing.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import wraps

from flask import Response, g, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from models.base import utcnow
from models.idempotency import IdempotencyRecord, user_owner

from .errors import abort_json
from .extensions import db
from .security import require_user

REPLAYED_HEADERS = ("Location", "Content-Type", "ETag")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(b"\0")
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # A retried upload has a new boundary: the same fields and files make the same request.
        # (And a form read already, to find whose key it is, has no raw body left to hash.)
        _digest_form(digest)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _digest_form(digest) -> None:
    for name, value in sorted(request.form.items(multi=True), key=lambda item: (str(item[0]), str(item[1]))):
        digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogatepass"))
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        digest.update(f"{name}\0".encode("utf-8", "surrogatepass"))
        position = upload.stream.tell()
        upload.stream.seek(0)
        for chunk in iter(lambda: upload.stream.read(1 << 16), b""):
            digest.update(chunk)
        upload.stream.seek(position)
        digest.update(b"\0")


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str
    headers: dict


def _claim_key(owner: str, user_id: int | None, key: str, fingerprint: str) -> StoredAnswer | None:
    """Reserve the key in its own short transaction; return a finished answer to replay.

    Raises 409 while another request holds the key and 422 when it was used for another body.
    """
    session = db.session
    for _ in range(3):
        record = session.get(IdempotencyRecord, (owner, key), populate_existing=True)
        now = utcnow()
        if record is not None and (record.is_expired(now) or record.is_abandoned(now)):
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
            )
            session.commit()
            record = None
        if record is not None:
            # Read it all before ending the transaction: another request may delete the row.
            same_body = record.request_fingerprint == fingerprint
            finished = record.completed_at is not None
            answer = StoredAnswer(record.response_status, record.response_body, dict(record.response_headers or {})) if finished else None
            session.rollback()
            if not same_body:
                abort_json(422, "idempotency_key_reused", errors={"Idempotency-Key": ["idempotency_key_reused"]})
            if answer is None:
                abort_json(409, "idempotency_in_flight")
            return answer
        session.add(IdempotencyRecord(owner=owner, user_id=user_id, key=key, request_fingerprint=fingerprint))
        try:
            session.commit()
            return None
        except IntegrityError:
            # Someone else claimed it between our read and our insert: look again.
            session.rollback()
    abort_json(409, "idempotency_in_flight")


def _release_key(owner: str, key: str) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key))
    db.session.commit()


def _replay(answer: StoredAnswer) -> Response:
    response = Response(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _run(view, args, kwargs) -> Response:
    from flask import current_app

    return current_app.make_response(view(*args, **kwargs))


def one_statement_write(view):
    """For a change that is one statement checking its own preconditions (a ballot, say).

    The request runs without a transaction of its own, like a read: its queries take no
    lock, and the statement commits by itself (on SQLite it queues for the writer lock just
    while it runs). Nothing can be stored half-way: there is nothing but that statement.
    """
    in_open_transaction = writes(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("without_transaction"):
            return _run(view, args, kwargs)
        # A session already open in this thread (a test's, a script's) takes the statement
        # into its transaction: commit it as any change.
        return in_open_transaction(*args, **kwargs)

    wrapper.autocommit = True
    return wrapper


def _account_owner() -> tuple[str, int]:
    user = require_user()
    return user_owner(user.id), user.id


def writes(func=None, *, idempotent: bool = False, owner=_account_owner):
    """Commit the view's changes after a successful answer; roll back on any error.

    `idempotent`: a request with `Idempotency-Key` is answered once; `owner()` says whose key
    it is (`(owner, user id or None)`; the account by default, an Open311 key there) and
    refuses the request (401/403) before any key is claimed.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            key = request.headers.get("Idempotency-Key") if idempotent else None
            if key is None:
                try:
                    response = _run(view, args, kwargs)
                except BaseException:
                    db.session.rollback()
                    raise
                if response.status_code < 400:
                    db.session.commit()
                else:
                    db.session.rollback()
                return response

            if not (0 < len(key) <= 255 and key.isprintable() and key.isascii()):
                abort_json(422, "idempotency_key_invalid", errors={"Idempotency-Key": ["idempotency_key_invalid"]})
            scope, user_id = owner()
            finished = _claim_key(scope, user_id, key, _fingerprint())
            if finished is not None:
                return _replay(finished)
            try:
                response = _run(view, args, kwargs)
            except BaseException:
                _release_key(scope, key)
                raise
            if response.status_code >= 400:
                _release_key(scope, key)
                return response
            record = db.session.get(IdempotencyRecord, (scope, key))
            if record is None:  # taken over as abandoned meanwhile: store the answer anyway
                record = IdempotencyRecord(owner=scope, user_id=user_id, key=key, request_fingerprint=_fingerprint())
                db.session.add(record)
            record.completed_at = utcnow()
            record.response_status = response.status_code
            record.response_body = response.get_data(as_text=True)
            record.response_headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
            db.session.commit()
            return response

        if idempotent:
            apidoc = dict(getattr(wrapper, "_apidoc", {}))
            manual = dict(apidoc.get("manual_doc", {}))
            manual["parameters"] = list(manual.get("parameters", [])) + [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "Repeat a creating request safely: the same key and body return the first answer (kept 24 hours, per user).",
                    "schema": {"type": "string", "maxLength": 255},
                }
            ]
            apidoc["manual_doc"] = manual
            wrapper._apidoc = apidoc
        return wrapper

    return decorate(func) if func is not None else decorate


