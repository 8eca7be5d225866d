"""Reading and writing Pabulib ``.pb`` files (https://pabulib.org/format).

The reader is our own rather than pabutools': it counts identical ``vote``
strings before looking at them, so a 100,000-voter file costs one C-level CSV
pass plus work proportional to the number of *distinct* ballots.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .model import BallotType, Election, Project

RULE_NAMES = ("greedy", "greedy_no_skip", "mes")
COMPLETIONS = ("none", "add1")

# Our (rule, completion) <-> Pabulib META ``rule``.  Greedy has no completion.
_TO_PABULIB: dict[tuple[str, str | None], str] = {
    ("greedy", None): "greedy",
    ("greedy_no_skip", None): "greedy-no-skip",
    ("mes", "none"): "equalshares",
    ("mes", "add1"): "equalshares/add1",
}
_FROM_PABULIB = {v: k for k, v in _TO_PABULIB.items()}


class PabulibError(ValueError):
    """The file is not a Pabulib file we can read."""


class UnsupportedVoteType(PabulibError):
    """The file's ballots cannot be counted by our rules (e.g. ordinal)."""


class UnknownRule(ValueError):
    """A rule name that has no counterpart in our rules."""


def normalise_rule(rule: str, completion: str | None = None) -> tuple[str, str | None]:
    """Canonical ``(rule, completion)``; greedy drops the completion, mes defaults to add1.

    Accepts the CLI spelling ``greedy-no-skip`` as well as ``greedy_no_skip``.
    """
    rule = rule.strip().replace("-", "_")
    if rule not in RULE_NAMES:
        raise UnknownRule(f"unknown rule {rule!r}; expected one of {', '.join(RULE_NAMES)}")
    if rule != "mes":
        return rule, None
    completion = completion or "add1"
    if completion not in COMPLETIONS:
        raise UnknownRule(f"unknown completion {completion!r}; expected none or add1")
    return rule, completion


def to_pabulib_rule(rule: str, completion: str | None = None) -> str:
    """``("mes", "add1")`` -> ``"equalshares/add1"`` etc."""
    return _TO_PABULIB[normalise_rule(rule, completion)]


def from_pabulib_rule(value: str) -> tuple[str, str | None]:
    """``"equalshares/add1"`` -> ``("mes", "add1")``; raises :class:`UnknownRule`."""
    try:
        return _FROM_PABULIB[value.strip().lower()]
    except KeyError:
        raise UnknownRule(
            f"rule {value!r} in the file is not one we implement "
            f"(known: {', '.join(_FROM_PABULIB)})"
        ) from None


@dataclass(frozen=True, eq=False)
class PabulibFile:
    election: Election
    meta: Mapping[str, str]
    # Every PROJECTS column as written, in file order (e.g. "selected", "votes").
    project_fields: tuple[Mapping[str, str], ...] = field(default_factory=tuple)

    def published_selection(self) -> list[str] | None:
        """Project ids marked ``selected`` in the file, or None when absent."""
        if not self.project_fields or "selected" not in self.project_fields[0]:
            return None
        return [f["project_id"] for f in self.project_fields if f.get("selected", "0").strip() not in ("0", "", "none")]


def _whole_number(text: str, what: str) -> int:
    try:
        value = Fraction(text.strip().replace(",", "."))
    except (ValueError, ZeroDivisionError):
        raise PabulibError(f"{what} {text!r} is not a number") from None
    if value.denominator != 1:
        raise PabulibError(f"{what} {text!r} is not a whole amount")
    return int(value)


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        name = line.strip().lower()
        if name in ("meta", "projects", "votes"):
            current = sections.setdefault(name, [])
        elif current is not None and line.strip():
            current.append(line)
    for needed in ("meta", "projects", "votes"):
        if needed not in sections:
            raise PabulibError(f"section {needed.upper()} missing")
    return sections


def parse_pabulib(text: str) -> PabulibFile:
    """Parse the contents of a ``.pb`` file."""
    if text.startswith("\ufeff"):
        text = text[1:]
    sec = _sections(text)
    meta_rows = list(csv.reader(sec["meta"], delimiter=";"))
    meta = {r[0].strip(): (r[1].strip() if len(r) > 1 else "") for r in meta_rows[1:] if r}

    vote_type = meta.get("vote_type", "approval").strip().lower()
    if vote_type in ("approval", "choose-1"):
        ballot_type = BallotType.APPROVAL
    elif vote_type == "cumulative":
        ballot_type = BallotType.CUMULATIVE
    else:
        raise UnsupportedVoteType(f"vote_type {vote_type!r} cannot be counted (only approval, choose-1, cumulative)")
    if "budget" not in meta:
        raise PabulibError("META has no budget")
    budget = _whole_number(meta["budget"], "budget")

    project_rows = list(csv.reader(sec["projects"], delimiter=";"))
    header = [h.strip() for h in project_rows[0]]
    if "project_id" not in header or "cost" not in header:
        raise PabulibError("PROJECTS needs project_id and cost columns")
    fields = tuple(
        {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        for row in project_rows[1:]
        if row
    )
    projects = tuple(
        Project(f["project_id"], _whole_number(f["cost"], f"cost of project {f['project_id']}"), f.get("name", ""))
        for f in fields
    )

    reader = csv.reader(sec["votes"], delimiter=";")
    vheader = [h.strip() for h in next(reader)]
    if "vote" not in vheader:
        raise PabulibError("VOTES needs a vote column")
    vi = vheader.index("vote")
    # Count raw strings first: parsing then happens once per distinct ballot.
    if ballot_type is BallotType.APPROVAL:
        raw = Counter(row[vi] if len(row) > vi else "" for row in reader)
        counted: Counter[tuple] = Counter()
        for vote, n in raw.items():
            counted[tuple(s.strip() for s in vote.split(",") if s.strip() and s.strip().lower() != "none")] += n
    else:
        if "points" not in vheader:
            raise PabulibError("cumulative VOTES need a points column")
        pi = vheader.index("points")
        raw = Counter((row[vi], row[pi]) if len(row) > max(vi, pi) else ("", "") for row in reader)
        counted = Counter()
        for (vote, pts), n in raw.items():
            ids = [s.strip() for s in vote.split(",") if s.strip() and s.strip().lower() != "none"]
            values = [s.strip() for s in pts.split(",") if s.strip() and s.strip().lower() != "none"]
            if len(ids) != len(values):
                raise PabulibError(f"vote {vote!r} and points {pts!r} differ in length")
            counted[tuple(zip(ids, (_whole_number(v, "points") for v in values)))] += n
    try:
        election = Election.from_counted_ballots(budget, projects, ballot_type, counted, meta)
    except ValueError as exc:
        raise PabulibError(str(exc)) from None
    return PabulibFile(election, meta, fields)


def read_pabulib(path: str | Path) -> PabulibFile:
    return parse_pabulib(Path(path).read_text(encoding="utf-8-sig"))


def write_pabulib(
    election: Election,
    rule: str,
    completion: str | None = None,
    *,
    outcome=None,
    description: str = "",
    country: str = "Germany",
    unit: str = "Dortmund",
    instance: str = "",
    date_begin: str | None = None,
    date_end: str | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    max_sum_cost: int | None = None,
    max_points: int | None = None,
    extra_meta: Mapping[str, str] | None = None,
    leave_out_unvoted: bool = False,
) -> str:
    """Serialise an election, and its result under ``rule``, as a Pabulib file.

    ``outcome`` (a :class:`voting.rules.Outcome`) is computed with
    :func:`voting.rules.tally` when not given.  Voter ids are anonymous
    counters over the ballots sorted by content; identical ballots are written
    out once per voter. ``leave_out_unvoted``
    omits projects nobody voted for (see below).
    """
    from .rules import tally  # rules imports this module for the rule names

    rule, completion = normalise_rule(rule, completion)
    if outcome is None:
        outcome = tally(election, rule, completion)
    cumulative = election.ballot_type is BallotType.CUMULATIVE
    # Projects nobody voted for are never funded by our rules, but pabutools' greedy funds one
    # that fits: left out, the file gives every reader the published result.
    listed = [(p, r) for p, r in zip(election.projects, outcome.projects) if r.votes > 0 or not leave_out_unvoted]
    meta: dict[str, str] = {
        "description": description,
        "country": country,
        "unit": unit,
        "instance": instance,
        "num_projects": str(len(listed)),
        "num_votes": str(election.num_ballots),
        "budget": str(election.budget),
        "vote_type": election.ballot_type.value,
        "rule": to_pabulib_rule(rule, completion),
    }
    optional = {
        "date_begin": date_begin,
        "date_end": date_end,
        "min_length": min_length,
        "max_length": max_length,
        "max_sum_cost": max_sum_cost,
        "max_points" if not cumulative else "max_sum_points": max_points,
    }
    meta.update({k: str(v) for k, v in optional.items() if v is not None})
    meta.update({k: str(v) for k, v in (extra_meta or {}).items()})

    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    out.write("META\n")
    w.writerow(["key", "value"])
    w.writerows(meta.items())
    out.write("PROJECTS\n")
    w.writerow(["project_id", "cost", "name", "votes", "score", "selected"])
    for p, r in listed:
        w.writerow([p.id, p.cost, p.name, r.votes, r.score, int(r.selected)])
    out.write("VOTES\n")
    w.writerow(["voter_id", "vote", "points"] if cumulative else ["voter_id", "vote"])
    ids = election.project_ids
    # Ballots in the order they were cast, numbered in that order, could be matched with who
    # voted when: sorted by their content (projects in PROJECTS order, then points) and
    # numbered 1..n in that order, the section depends on nothing but the ballots cast.
    contents = []
    for row, weight in zip(election.points, election.weights):
        (given,) = row.nonzero()
        contents.append((tuple((int(i), int(row[i])) for i in given), row, given, int(weight)))
    contents.sort(key=lambda c: c[0])
    voter = 0
    lines: list[str] = []
    for _key, row, given, weight in contents:
        vote = ",".join(ids[i] for i in given)
        if cumulative:
            # pabutools reads an empty points field as a number; "none" means no points.
            tail = f"{vote};{','.join(str(int(row[i])) for i in given) or 'none'}"
        else:
            tail = vote
        for _ in range(weight):
            voter += 1
            lines.append(f"{voter};{tail}")
    out.write("\n".join(lines))
    if lines:
        out.write("\n")
    return out.getvalue()
