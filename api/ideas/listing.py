"""The idea list: the busiest answer of the app, rendered from per-idea fragments (api.fragments).

The fragment key is the page query's row: the idea's counts, status, visibility and
revision. Only the viewer's own flags (supported, following, moderation) are added per
request.
"""
from __future__ import annotations

import orjson

from api import presenters
from api.extensions import db
from api.fragments import FragmentCache
from api.pagination import decode_cursor, encode_cursor
from models import ideas as domain
from models.ideas import Idea
from models.users import User



def _render(keys_by_id: dict[int, tuple]) -> dict[int, tuple[bytes, bytes]]:
    """(JSON of the idea without its closing brace and viewer fields, moderation JSON) per idea."""
    rendered = {}
    stmt = domain.list_columns().where(Idea.id.in_(list(keys_by_id)))
    for row in db.session.execute(stmt):
        author = presenters.user_ref_from(row.author_id, row.author_name, row.author_deleted_at)
        fields = presenters.idea_fields(row, author, show_moderation=True, supported=False, following=False)
        moderation = orjson.dumps(fields.pop("moderation"))
        del fields["supported_by_me"], fields["following"]
        rendered[row.id] = (orjson.dumps(fields)[:-1], moderation)
    return rendered


FRAGMENTS = FragmentCache(_render)


def idea_page(viewer: User | None, args: dict) -> bytes:
    sort = args["sort"]
    kind = f"ideas-{sort}"
    columns = [Idea.__table__.c[name] for name in domain.LIST_SORT_COLUMNS[sort]]
    after = decode_cursor(kind, args["cursor"], columns) if args["cursor"] else None
    limit = args["limit"]
    rows = domain.list_page_keys(
        db.session,
        viewer,
        sort,
        limit,
        after,
        district=args.get("district"),
        category=args.get("category"),
        status=args.get("status"),
        q=args.get("q"),
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(kind, [last[0]] if sort == "new" else [last[1], last[0]])

    fragments = FRAGMENTS.parts({row[0]: row for row in rows})
    supported, following = domain.viewer_relations(db.session, viewer, [row[0] for row in rows])
    true, false, null = b"true", b"false", b"null"
    items = []
    for row in rows:
        idea_id = row[0]
        prefix, moderation = fragments[idea_id]
        show_moderation = presenters.may_see_moderation(viewer, row[6])
        items.append(
            b"".join(
                (
                    prefix,
                    b',"moderation":',
                    moderation if show_moderation else null,
                    b',"supported_by_me":',
                    true if idea_id in supported else false,
                    b',"following":',
                    true if idea_id in following else false,
                    b"}",
                )
            )
        )
    return b'{"items":[' + b",".join(items) + b'],"next_cursor":' + orjson.dumps(next_cursor) + b"}"
