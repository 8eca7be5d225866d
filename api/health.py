"""Liveness and readiness probes for the load balancer."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

health = Blueprint("health", __name__)


@health.route("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@health.route("/readyz")
def readyz():
    """The database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
