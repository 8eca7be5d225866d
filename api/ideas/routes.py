"""Ideas (KümmertEuch): submit, list, support, follow, comment, and the city's answer."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from api.parsing import Blueprint
from sqlalchemy import select

from api import presenters
from api.extensions import db
from api.pagination import PageArgs, SortKey, keyset_page
from api.responses import created, json_response
from api.security import current_user, login_required, public, require_user
from api.transactions import writes
from models import ideas as domain
from models.ideas import Comment, Idea, IdeaPolicy

from .listing import idea_page
from .schemas import (
    CommentCreateSchema,
    CommentPageSchema,
    CommentSchema,
    IdeaCreateSchema,
    IdeaListArgs,
    IdeaListSchema,
    IdeaPageSchema,
    IdeaSchema,
    IdeaUpdateSchema,
    ResponseCreateSchema,
    SimilarArgs,
)

blp = Blueprint("ideas", __name__, description="Ideas for the districts (KümmertEuch)")


def idea_policy() -> IdeaPolicy:
    config = current_app.config
    return IdeaPolicy(
        support_threshold=config["IDEA_SUPPORT_THRESHOLD"],
        premoderate_ideas=config["PREMODERATE_IDEAS"],
        premoderate_comments=config["PREMODERATE_COMMENTS"],
    )


def present_one(idea: Idea) -> dict:
    return present_many([idea])[0]


def present_many(ideas: list[Idea]) -> list[dict]:
    viewer = current_user()
    supported, following = domain.viewer_relations(db.session, viewer, [i.id for i in ideas])
    return [presenters.idea(i, viewer, i.id in supported, i.id in following) for i in ideas]


@blp.route("/ideas")
class Ideas(MethodView):
    @public
    @blp.arguments(IdeaListArgs(), location="query")
    @blp.response(200, IdeaPageSchema)
    def get(self, args):
        """Public ideas (and the caller's own), newest or most supported first."""
        return current_app.response_class(idea_page(current_user(), args), mimetype="application/json")

    @login_required(contributes=True, confirmed_email=True)
    @writes(idempotent=True)
    @blp.arguments(IdeaCreateSchema())
    @blp.response(201, IdeaSchema)
    def post(self, payload):
        """Submit an idea; it waits for moderation (`pending`) unless pre-moderation is off."""
        idea = domain.submit_idea(db.session, require_user(), idea_policy(), **payload)
        return created(present_one(idea), f"/api/v1/ideas/{idea.id}")


@blp.route("/ideas/similar")
@public
@blp.arguments(SimilarArgs(), location="query")
@blp.response(200, IdeaListSchema)
def similar(args):
    """Up to five public ideas of the district that look like a draft: support instead of duplicating."""
    found = domain.similar_ideas(db.session, args.get("district"), args["title"], args["body"])
    return json_response({"items": present_many(found)})


@blp.route("/ideas/<id:idea_id>")
class IdeaResource(MethodView):
    @public
    @blp.response(200, IdeaSchema)
    def get(self, idea_id):
        """One idea; not public ones only for their author, moderators and staff."""
        return json_response(present_one(domain.get_visible_idea(db.session, idea_id, current_user())))

    @login_required(contributes=True)
    @writes
    @blp.arguments(IdeaUpdateSchema())
    @blp.response(200, IdeaSchema)
    @blp.alt_response(409, description="Someone besides the author supports the idea, or it was removed")
    def patch(self, payload, idea_id):
        """Edit one's own idea while nobody supports it."""
        user = require_user()
        idea = domain.get_visible_idea(db.session, idea_id, user)
        domain.edit_idea(db.session, user, idea, payload)
        return json_response(present_one(idea))

    @login_required(contributes=True)
    @writes
    @blp.response(204)
    @blp.alt_response(409, description="Someone besides the author supports the idea")
    def delete(self, idea_id):
        """Withdraw one's own idea while nobody supports it."""
        user = require_user()
        domain.delete_idea(db.session, user, domain.get_visible_idea(db.session, idea_id, user))


@blp.route("/ideas/<id:idea_id>/support")
class SupportResource(MethodView):
    @login_required(contributes=True, confirmed_email=True)
    @writes
    @blp.response(204)
    def put(self, idea_id):
        """Support a public idea (once per user; repeating changes nothing)."""
        domain.support(db.session, require_user(), idea_id, idea_policy())

    @login_required(contributes=True)
    @writes
    @blp.response(204)
    def delete(self, idea_id):
        """Withdraw one's support."""
        domain.unsupport(db.session, require_user(), idea_id)


@blp.route("/ideas/<id:idea_id>/follow")
class FollowResource(MethodView):
    @login_required(contributes=False)
    @writes
    @blp.response(204)
    def put(self, idea_id):
        """Follow an idea: notifications on status changes, answers and new comments."""
        domain.follow(db.session, require_user(), idea_id)

    @login_required(contributes=False)
    @writes
    @blp.response(204)
    def delete(self, idea_id):
        """Stop following."""
        domain.unfollow(db.session, require_user(), idea_id)


@blp.route("/ideas/<id:idea_id>/comments")
class Comments(MethodView):
    @public
    @blp.arguments(PageArgs(), location="query")
    @blp.response(200, CommentPageSchema)
    def get(self, args, idea_id):
        """Comments of an idea, oldest first, replies in the same flat list (by `parent_id`)."""
        viewer = current_user()
        domain.get_visible_idea(db.session, idea_id, viewer)
        stmt = select(Comment).where(Comment.idea_id == idea_id)
        if viewer is None:
            stmt = stmt.where((Comment.status == "deleted") | ((Comment.status == "published") & (Comment.visibility == "visible")))
        elif not (viewer.is_moderator or viewer.is_staff):
            stmt = stmt.where(
                (Comment.status == "deleted")
                | ((Comment.status == "published") & (Comment.visibility == "visible"))
                | ((Comment.author_id == viewer.id) & (Comment.visibility != "removed"))
            )
        rows, next_cursor = keyset_page(
            db.session, stmt, [SortKey(Comment.id, descending=False)], "comments", args["limit"], args["cursor"]
        )
        return json_response({"items": [presenters.comment(c) for c in rows], "next_cursor": next_cursor})

    @login_required(contributes=True, confirmed_email=True)
    @writes(idempotent=True)
    @blp.arguments(CommentCreateSchema())
    @blp.response(201, CommentSchema)
    def post(self, payload, idea_id):
        """Comment on a public idea, or reply to a top-level comment (one level of replies)."""
        comment = domain.add_comment(db.session, require_user(), idea_id, idea_policy(), payload["body"], payload["parent_id"])
        return created(presenters.comment(comment), f"/api/v1/ideas/{idea_id}/comments/{comment.id}")


@blp.route("/ideas/<id:idea_id>/comments/<id:comment_id>", methods=["DELETE"])
@login_required(contributes=True)
@writes
@blp.response(204)
def delete_comment(idea_id, comment_id):
    """Delete one's own comment; it stays in the thread as deleted."""
    domain.delete_comment(db.session, require_user(), idea_id, comment_id)


@blp.route("/ideas/<id:idea_id>/response", methods=["POST"])
@login_required(role="staff")
@writes
@blp.arguments(ResponseCreateSchema())
@blp.response(200, IdeaSchema)
@blp.alt_response(409, description="The idea is not public, or the status cannot follow its current one")
def respond(payload, idea_id):
    """The city's official answer; moves the status and notifies followers."""
    user = require_user()
    idea = domain.get_visible_idea(db.session, idea_id, user)
    domain.respond(db.session, user, idea, payload["status"], payload["body"])
    return json_response(present_one(idea))
