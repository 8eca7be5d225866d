"""Participatory-budgeting counting: greedy and the Method of Equal Shares.

Pure Python + NumPy; no web framework or database imports.
"""

from .explain import Explanation, texts
from .model import BallotType, Election, Project
from .pabulib import (
    PabulibError,
    PabulibFile,
    UnknownRule,
    UnsupportedVoteType,
    from_pabulib_rule,
    normalise_rule,
    parse_pabulib,
    read_pabulib,
    to_pabulib_rule,
    write_pabulib,
)
from .rules import Outcome, ProjectResult, tally

__all__ = [
    "BallotType",
    "Election",
    "Explanation",
    "Outcome",
    "PabulibError",
    "PabulibFile",
    "Project",
    "ProjectResult",
    "UnknownRule",
    "UnsupportedVoteType",
    "from_pabulib_rule",
    "normalise_rule",
    "parse_pabulib",
    "read_pabulib",
    "tally",
    "texts",
    "to_pabulib_rule",
    "write_pabulib",
]
