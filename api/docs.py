"""Swagger UI assets served by the app itself, so /api/v1/docs works offline and sends no visitor to a CDN."""
from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png", "favicon-16x16.png"}

docs_assets = Blueprint("docs_assets", __name__)


@docs_assets.route("/api/v1/docs/assets/<path:filename>")
def swagger_asset(filename: str):
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
