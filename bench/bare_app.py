"""The ceiling: a bare Flask app that answers a constant JSON document.

Served by `bench/run.py` under gunicorn with exactly the same settings as the real app, so
the ratio app/ceiling says how much of this stack's capacity (gunicorn + Flask + Python on
this machine) an endpoint keeps. No database, no extensions, no before/after-request hooks.

    gunicorn -w 2 -b 127.0.0.1:8001 --chdir bench bare_app:app
"""
from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)

# Roughly the shape of a small API answer (a short list of objects).
DOCUMENT = [{"id": f"item-{i}", "name": f"Item {i}", "position": i} for i in range(3)]


@app.get("/", defaults={"path": ""})
@app.get("/<path:path>")
def constant(path: str):  # noqa: ARG001
    return jsonify(DOCUMENT)
