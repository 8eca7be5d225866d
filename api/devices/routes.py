"""Phones that receive pushes, and what the caller wants to hear about.

Registering a phone and choosing notifications are not contributions: blocked users may still
do them (they keep hearing about their own content), hence `contributes=False` throughout.
"""
from __future__ import annotations

from flask.views import MethodView

from api import presenters
from api.extensions import current_lang, db
from api.i18n import register_messages
from api.parsing import Blueprint
from api.responses import created, json_response
from api.security import login_required, require_user
from api.transactions import writes
from models import notifications as domain
from models.errors import NotFound

from .schemas import DeviceCreateSchema, DeviceListSchema, DeviceSchema, PreferencesSchema

blp = Blueprint("devices", __name__, description="Devices for push notifications, and notification preferences")

register_messages(
    {
        "quiet_hours_clock": {
            "de": "Bitte eine Uhrzeit als HH:MM angeben (00:00 bis 23:59).",
            "en": "Please give a time of day as HH:MM (00:00 to 23:59).",
        },
        "quiet_hours_empty": {
            "de": "Beginn und Ende der Ruhezeit dürfen nicht gleich sein.",
            "en": "Quiet hours cannot start and end at the same time.",
        },
    }
)


def present(device: domain.Device) -> dict:
    # Never the token: whoever holds it can push to that phone.
    return {"id": device.id, "platform": device.platform, "locale": device.locale, "created_at": presenters.iso(device.created_at)}


def own_device(device_id: int) -> domain.Device:
    device = db.session.get(domain.Device, device_id)
    if device is None or device.user_id != require_user().id:
        raise NotFound()
    return device


@blp.route("/devices")
class Devices(MethodView):
    @login_required(contributes=False)
    @writes(idempotent=True)
    @blp.arguments(DeviceCreateSchema())
    @blp.response(201, DeviceSchema)
    def post(self, payload):
        """Register this phone for pushes to the caller, until logout or DELETE.

        A token already registered (a shared phone, a reinstall) moves to the caller and keeps
        its `id`. `locale` defaults to the request's `Accept-Language`.
        """
        user = require_user()
        device = domain.register_device(
            db.session, user, user.session_id, payload["token"], payload["platform"], payload.get("locale") or current_lang()
        )
        return created(present(device), f"/api/v1/devices/{device.id}")

    @login_required(contributes=False)
    @blp.response(200, DeviceListSchema)
    def get(self):
        """The caller's registered devices, oldest first (tokens are never shown)."""
        return json_response({"items": [present(d) for d in domain.own_devices(db.session, require_user().id)]})


@blp.route("/devices/<id:device_id>")
class DeviceResource(MethodView):
    @login_required(contributes=False)
    @blp.response(200, DeviceSchema)
    def get(self, device_id):
        """One of the caller's devices; anyone else's is 404."""
        return json_response(present(own_device(device_id)))

    @login_required(contributes=False)
    @writes
    @blp.response(204)
    def delete(self, device_id):
        """Stop pushes to this device; anyone else's is 404."""
        domain.detach_device(db.session, require_user().id, device_id)


@blp.route("/me/preferences")
class Preferences(MethodView):
    @login_required(contributes=False)
    @blp.response(200, PreferencesSchema)
    def get(self):
        """What the caller is pushed; a new account: everything but district news, no districts, no quiet hours."""
        return json_response(domain.preferences_of(db.session, require_user().id))

    @login_required(contributes=False)
    @writes
    @blp.arguments(PreferencesSchema())
    @blp.response(200, PreferencesSchema)
    def put(self, payload):
        """Replace the preferences: the whole document, every part required (`quiet_hours` may be null).

        Unknown district ids are 422 on `districts`; times must be HH:MM (00:00–23:59) in
        Europe/Berlin, start and end different (22:00–07:00 spans midnight).
        """
        return json_response(
            domain.set_preferences(db.session, require_user().id, payload["push"], payload["districts"], payload["quiet_hours"])
        )
