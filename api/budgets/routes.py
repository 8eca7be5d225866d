"""Budget rounds, items, ballots and results."""
from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("budgets", __name__, description="Budget votes of bodies")
