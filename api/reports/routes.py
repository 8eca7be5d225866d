"""Reports (Dreckpetze, Angsträume): file with photos, find duplicates, follow, the city's timeline, the map."""
from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from sqlalchemy import select

from api import presenters
from api.errors import abort_json
from api.extensions import db
from api.pagination import PageArgs, SortKey, keyset_page
from api.parsing import Blueprint, accepts
from api.responses import created, json_response
from api.security import current_user, login_required, public, require_user
from api.transactions import writes
from media.photos import process_photo
from media.storage import storage_from_config, validate_key
from models import reports as domain
from models.geography import Bounds
from models.reports import MAX_PHOTOS, Report, ReportFilters, ReportPolicy, policy_from_config

from . import messages  # noqa: F401  (registers the texts)
from .listing import geojson_page, present_many, present_one, report_page
from .schemas import (
    ClusterArgs,
    FeatureCollectionSchema,
    FeedbackCreateSchema,
    FeedbackSchema,
    GeoJSONArgs,
    NearbyArgs,
    NearbyListSchema,
    ReopenSchema,
    ReportCreateSchema,
    ReportListArgs,
    ReportPageSchema,
    ReportSchema,
    StaffUpdateCreateSchema,
    UploadedPhotoSchema,
)

blp = Blueprint("reports", __name__, description="Litter reports (Dreckpetze) and unsafe places (Angsträume)")

MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "category", "description", "lat", "lon"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["litter", "unsafe_place"]},
                        "category": {"type": "string"},
                        "description": {"type": "string", "minLength": 3, "maxLength": 2000},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "photo": {"type": "array", "maxItems": MAX_PHOTOS, "items": {"type": "string", "format": "binary"}},
                    },
                }
            }
        }
    }
}
PHOTO_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["photo"], "properties": {"photo": {"type": "string", "format": "binary"}}}
            }
        },
    }
}


def report_policy() -> ReportPolicy:
    return policy_from_config(current_app.config)


def photo_storage():
    storage = current_app.extensions.get("photo_storage")
    if storage is None:
        storage = current_app.extensions["photo_storage"] = storage_from_config(current_app.config)
    return storage


def _uploaded_files() -> list:
    return request.files.getlist("photo") if request.mimetype == "multipart/form-data" else []


def _process(upload) -> object:
    config = current_app.config
    # One byte more than allowed is enough to know it is too large: never read a whole 30 MB.
    data = upload.stream.read(config["PHOTO_MAX_BYTES"] + 1)
    return process_photo(data, max_bytes=config["PHOTO_MAX_BYTES"], max_pixels=config["PHOTO_MAX_PIXELS"])


def _filters(args) -> ReportFilters:
    return ReportFilters(
        kind=args.get("kind"), category=args.get("category"), status=args.get("status"),
        department=args.get("department"), district=args.get("district"),
    )


def _bounds(args) -> Bounds | None:
    box = args.get("bbox")
    return Bounds(*box) if box is not None else None


@blp.route("/reports")
class Reports(MethodView):
    @public
    @blp.arguments(ReportListArgs(), location="query")
    @blp.response(200, ReportPageSchema)
    def get(self, args):
        """Public reports in a map box (or the whole city), newest first; `sort=waiting` gives staff their queue."""
        policy = report_policy()
        if args["sort"] == "waiting":
            stmt = domain.queue_statement(_filters(args))
            if args.get("bbox") is not None:
                box = _bounds(args)
                stmt = stmt.where(Report.lat.between(box.min_lat, box.max_lat), Report.lon.between(box.min_lon, box.max_lon))
            rows, next_cursor = keyset_page(
                db.session, stmt, [SortKey(Report.waiting_since, descending=False), SortKey(Report.id, descending=False)],
                "reports-waiting", args["limit"], args["cursor"],
            )
            return json_response({"items": present_many(list(rows)), "next_cursor": next_cursor})
        body = report_page(current_user(), policy.city, _bounds(args), _filters(args), args["limit"], args["cursor"])
        return current_app.response_class(body, mimetype="application/json")

    @accepts("multipart/form-data", "application/x-www-form-urlencoded", max_content_length="REPORT_UPLOAD_MAX_CONTENT_LENGTH")
    @login_required(contributes=True, confirmed_email=True)
    @writes(idempotent=True)
    @blp.arguments(ReportCreateSchema())
    @blp.doc(**MULTIPART_DOC)
    @blp.response(201, ReportSchema)
    @blp.alt_response(413, description="A photo or the whole upload is too large")
    @blp.alt_response(415, description="A photo is not JPEG, PNG, WebP or HEIC (recognised by its content)")
    @blp.alt_response(503, description="The photo could not be stored; nothing was saved")
    def post(self, payload):
        """File a report: JSON (photos uploaded before, `photo_ids`) or multipart with up to three `photo` files.

        Litter is public at once; unsafe places wait for moderation (`pending`). The district
        follows from the point, which must lie inside Dortmund.
        """
        user = require_user()
        policy = report_policy()
        uploads = _uploaded_files()
        if uploads and payload["photo_ids"]:
            abort_json(422, "photo_ids_with_files", errors={"photo_ids": ["photo_ids_with_files"]})
        if len(uploads) > MAX_PHOTOS:
            abort_json(422, "too_many_photos", errors={"photo": ["too_many_photos"]}, max=MAX_PHOTOS)
        # Everything about the report itself is checked before any photo is decoded or stored.
        domain.check_submission(db.session, policy, payload["kind"], payload["category"], payload["lat"], payload["lon"])
        if uploads:
            storage = photo_storage()
            photos = [domain.store_photo(db.session, user, storage, _process(upload), position) for position, upload in enumerate(uploads)]
        else:
            photos = domain.claim_uploaded_photos(db.session, user, policy, payload["photo_ids"])
        report = domain.submit_report(
            db.session, user, policy, kind=payload["kind"], category=payload["category"],
            description=payload["description"], lat=payload["lat"], lon=payload["lon"], photos=photos,
        )
        return created(present_one(report), f"/api/v1/reports/{report.id}")


@blp.route("/me/reports")
@login_required
@blp.arguments(PageArgs(), location="query")
@blp.response(200, ReportPageSchema)
def my_reports(args):
    """The caller's own reports in every state (pending and hidden ones too), newest first."""
    stmt = select(Report).where(Report.reporter_id == require_user().id)
    rows, next_cursor = keyset_page(db.session, stmt, [SortKey(Report.id)], "my-reports", args["limit"], args["cursor"])
    return json_response({"items": present_many(list(rows)), "next_cursor": next_cursor})


@blp.route("/reports/photos", methods=["POST"])
@accepts("multipart/form-data", max_content_length="PHOTO_UPLOAD_MAX_CONTENT_LENGTH")
@login_required(contributes=True, confirmed_email=True)
@writes(idempotent=True)
@blp.doc(**PHOTO_UPLOAD_DOC)
@blp.response(201, UploadedPhotoSchema)
@blp.alt_response(413, description="The photo is too large")
@blp.alt_response(415, description="Not a JPEG, PNG, WebP or HEIC image (recognised by its content)")
@blp.alt_response(503, description="The photo could not be stored")
def upload_photo():
    """Photo first: store one photo before the report exists; answers the location read from its GPS, which is then discarded."""
    user = require_user()
    uploads = _uploaded_files()
    if len(uploads) != 1:
        abort_json(422, "photo_required", errors={"photo": ["photo_required"]})
    policy = report_policy()
    storage = photo_storage()
    # Uploads nobody used leave with the next ones (and with `flask reports expire-photos`).
    domain.expire_unattached_photos(db.session, storage, policy, limit=20)
    processed = _process(uploads[0])
    photo = domain.store_photo(db.session, user, storage, processed)
    location = processed.suggested_location
    body = {
        "id": photo.id,
        "url": presenters.photo_url(photo.image_key),
        "thumbnail_url": presenters.photo_url(photo.thumbnail_key),
        "width": photo.width,
        "height": photo.height,
        "suggested_location": {"lat": location[0], "lon": location[1]} if location else None,
        "expires_at": presenters.iso(photo.created_at + policy.photo_upload_ttl),
    }
    return created(body, presenters.photo_url(photo.image_key))


@blp.route("/reports/geojson")
@public
@blp.arguments(GeoJSONArgs(), location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def geojson(args):
    """The same reports as a GeoJSON FeatureCollection (`[lon, lat]`, feature `id` = report id), newest first."""
    policy = report_policy()
    body = geojson_page(policy.city, _bounds(args), _filters(args), args["limit"], args["cursor"])
    return json_response(body, headers={"Content-Type": "application/geo+json"})


@blp.route("/reports/clusters")
@public
@blp.arguments(ClusterArgs(), location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def clusters(args):
    """Pins counted per grid cell for zooms where single pins would be too many: Points with `{count}` (and `report_id` for a single report)."""
    policy = report_policy()
    filters = ReportFilters(kind=args.get("kind"), category=args.get("category"), status=args.get("status"))
    zoom, found = domain.clusters(db.session, policy.city, _bounds(args), args["zoom"], filters)
    features = []
    for cluster in found:
        properties = {"count": cluster.count}
        if cluster.report_id is not None:
            properties["report_id"] = cluster.report_id
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(cluster.lon, 6), round(cluster.lat, 6)]}, "properties": properties}
        )
    response = json_response({"type": "FeatureCollection", "zoom": zoom, "features": features})
    response.headers["Content-Type"] = "application/geo+json"
    return response


@blp.route("/reports/nearby")
@public
@blp.arguments(NearbyArgs(), location="query")
@blp.response(200, NearbyListSchema)
def nearby(args):
    """Likely duplicates before filing: open public reports of the category close by (25–250 m by category) and recent."""
    found = domain.nearby(db.session, report_policy(), args["lat"], args["lon"], args["category"])
    items = present_many([report for report, _ in found])
    for item, (_report, distance) in zip(items, found):
        item["distance_m"] = round(distance, 1)
    return json_response({"items": items})


@blp.route("/reports/<id:report_id>")
@public
@blp.response(200, ReportSchema)
def get_report(report_id):
    """One report with its public timeline; reports that are not public only for their reporter, moderators and staff."""
    return json_response(present_one(domain.get_visible_report(db.session, report_id, current_user())))


@blp.route("/reports/<id:report_id>/confirm", methods=["POST"])
@login_required(contributes=True, confirmed_email=True)
@writes
@blp.response(204)
@blp.alt_response(409, description="The report is closed already")
def confirm(report_id):
    """ "Me too": counted once per user (repeats change nothing); the confirmer follows the report."""
    domain.confirm(db.session, require_user(), report_id)


@blp.route("/reports/<id:report_id>/follow")
class FollowResource(MethodView):
    @login_required(contributes=False)
    @writes
    @blp.response(204)
    def put(self, report_id):
        """Follow a report: a notification on every update."""
        domain.follow(db.session, require_user(), report_id)

    @login_required(contributes=False)
    @writes
    @blp.response(204)
    def delete(self, report_id):
        """Stop following."""
        domain.unfollow(db.session, require_user(), report_id)


@blp.route("/reports/<id:report_id>/updates", methods=["POST"])
@login_required(role="staff")
@writes
@blp.arguments(StaffUpdateCreateSchema())
@blp.response(200, ReportSchema)
@blp.alt_response(409, description="The report is not public, or the status cannot follow its current one")
def post_update(payload, report_id):
    """The city's update: a status along the transitions (or the same one with a note); the reporter and followers are notified."""
    user = require_user()
    report = domain.get_visible_report(db.session, report_id, user)
    domain.post_update(db.session, user, report, report_policy(), payload["status"], payload["note"], payload["duplicate_of"])
    return json_response(present_one(report))


@blp.route("/reports/<id:report_id>/reopen", methods=["POST"])
@login_required(contributes=True)
@writes
@blp.arguments(ReopenSchema())
@blp.response(200, ReportSchema)
@blp.alt_response(409, description="The report is not resolved, or the time to reopen it is over")
def reopen(payload, report_id):
    """The reporter reopens a resolved report within the configured time (`REPORT_REOPEN_DAYS`)."""
    user = require_user()
    report = domain.get_visible_report(db.session, report_id, user)
    domain.reopen(db.session, user, report, report_policy(), payload["note"])
    return json_response(present_one(report))


@blp.route("/reports/<id:report_id>/feedback", methods=["POST"])
@login_required(contributes=True)
@writes(idempotent=True)
@blp.arguments(FeedbackCreateSchema())
@blp.response(201, FeedbackSchema)
@blp.alt_response(409, description="The report is not resolved, or the reporter has answered already")
def feedback(payload, report_id):
    """ "Did it help?": the reporter answers once for a resolved report."""
    user = require_user()
    report = domain.get_visible_report(db.session, report_id, user)
    answer = domain.give_feedback(db.session, user, report, payload["helped"], payload["comment"])
    body = {"report_id": report.id, "helped": answer.helped, "comment": answer.comment, "created_at": presenters.iso(answer.created_at)}
    return created(body, f"/api/v1/reports/{report.id}")


@blp.route("/photos/<path:key>")
@public
@blp.response(200, content_type="image/jpeg", description="The photo (EXIF-free JPEG)")
@blp.alt_response(304, description="Not modified (If-None-Match)")
def serve_photo(key):
    """A report photo or thumbnail; photos of reports that are not public only for those who may see the report."""
    try:
        validate_key(key)
    except ValueError:
        # Not a key this service ever hands out (NUL, "..", other characters): nothing there.
        abort_json(404, "not_found")
    found = domain.photo_by_key(db.session, key)
    if found is None:
        abort_json(404, "not_found")
    photo, _thumbnail = found
    viewer = current_user()
    if not domain.photo_visible_to(photo, viewer):
        abort_json(404, "not_found")
    public_photo = photo.report is not None and photo.report.is_public
    etag = key.replace("/", "-")
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        data = photo_storage().get(key)
        if data is None:
            abort_json(404, "not_found")
        response = current_app.response_class(data, mimetype=photo.content_type)
    response.set_etag(etag)
    # Content under a key never changes; a photo of a hidden report must not sit in shared caches.
    response.headers["Cache-Control"] = "public, max-age=86400" if public_photo else "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
