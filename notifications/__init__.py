"""Delivery after commit: outbox rows written by requests, sent by a worker (`flask notifications drain`).

Imports `models/` and below, never `api/`: the worker runs without any request.
"""
