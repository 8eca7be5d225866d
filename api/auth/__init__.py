# Routes of recovery.py register on the auth blueprint of routes.py.
from . import recovery  # noqa: F401
