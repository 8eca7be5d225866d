"""Plain data for a participatory-budgeting election.

Ballots are stored collapsed: every distinct ballot appears once together with
the number of voters who cast it.  Real elections repeat the same few ballots
thousands of times, so the counting rules work on far fewer rows than voters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class BallotType(StrEnum):
    APPROVAL = "approval"
    CUMULATIVE = "cumulative"


@dataclass(frozen=True)
class Project:
    id: str
    cost: int
    name: str = ""


@dataclass(frozen=True, eq=False)
class Election:
    """An election ready to be counted.

    ``points[b, p]`` is what unique ballot ``b`` gives project ``p`` (1/0 for
    approval ballots); ``weights[b]`` is how many voters cast that ballot.
    Project order is the order of creation and decides every tie.
    """

    budget: int
    projects: tuple[Project, ...]
    ballot_type: BallotType
    points: np.ndarray
    weights: np.ndarray
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def num_ballots(self) -> int:
        return int(self.weights.sum())

    @property
    def project_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.projects)

    @property
    def costs(self) -> np.ndarray:
        return np.fromiter((p.cost for p in self.projects), dtype=np.int64, count=len(self.projects))

    def supporters_count(self) -> np.ndarray:
        """Number of ballots giving each project anything."""
        return self.weights @ (self.points > 0).astype(np.int64)

    def score(self) -> np.ndarray:
        """What greedy ranks by: approvals, or the sum of points."""
        return self.weights @ self.points.astype(np.int64)

    def utilities(self) -> np.ndarray:
        """Per-ballot utility of each project as used by equal shares.

        Approval ballots use cost utilities (a supporter values a project at its
        price), cumulative ballots the points given.
        """
        if self.ballot_type is BallotType.APPROVAL:
            return self.points.astype(np.int64) * self.costs
        return self.points.astype(np.int64)

    @classmethod
    def from_ballots(
        cls,
        budget: int,
        projects: Sequence[Project],
        ballot_type: BallotType | str,
        ballots: Iterable[Iterable[str] | Mapping[str, int]],
        meta: Mapping[str, str] | None = None,
    ) -> Election:
        """Build an election from one ballot per voter.

        Approval ballots are collections of project ids, cumulative ballots
        mappings of project id to points.  Identical ballots are collapsed.
        """
        ballot_type = BallotType(ballot_type)
        counts: Counter[tuple] = Counter()
        if ballot_type is BallotType.APPROVAL:
            for ballot in ballots:
                counts[tuple(sorted(set(ballot)))] += 1
        else:
            for ballot in ballots:
                counts[tuple(sorted((k, int(v)) for k, v in dict(ballot).items() if int(v) != 0))] += 1
        return cls.from_counted_ballots(budget, projects, ballot_type, counts, meta)

    @classmethod
    def from_counted_ballots(
        cls,
        budget: int,
        projects: Sequence[Project],
        ballot_type: BallotType | str,
        counted: Mapping[tuple, int],
        meta: Mapping[str, str] | None = None,
    ) -> Election:
        """Like :meth:`from_ballots` but with ballots already counted.

        Keys are tuples of project ids (approval) or of ``(id, points)`` pairs
        (cumulative).
        """
        ballot_type = BallotType(ballot_type)
        projects = tuple(projects)
        index = {p.id: i for i, p in enumerate(projects)}
        if len(index) != len(projects):
            raise ValueError("project ids must be unique")
        # Ballots that differ only in order collapse into one row.
        merged: Counter[tuple] = Counter()
        for key, count in counted.items():
            try:
                if ballot_type is BallotType.APPROVAL:
                    canon = tuple(sorted({index[pid] for pid in key}))
                else:
                    acc: dict[int, int] = {}
                    for pid, pts in key:
                        acc[index[pid]] = acc.get(index[pid], 0) + int(pts)
                    canon = tuple(sorted((i, v) for i, v in acc.items() if v != 0))
            except KeyError as exc:
                raise ValueError(f"ballot names unknown project {exc.args[0]!r}") from None
            merged[canon] += int(count)
        rows = list(merged)
        weights = np.fromiter((merged[r] for r in rows), dtype=np.int64, count=len(rows))
        max_points = 1
        if ballot_type is BallotType.CUMULATIVE:
            max_points = max((abs(v) for r in rows for _, v in r), default=1)
            if any(v < 0 for r in rows for _, v in r):
                raise ValueError("negative points are not allowed")
        dtype = np.uint8 if max_points <= 255 else np.int64
        points = np.zeros((len(rows), len(projects)), dtype=dtype)
        if rows:
            if ballot_type is BallotType.APPROVAL:
                lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
                cols = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
                points[np.repeat(np.arange(len(rows)), lengths), cols] = 1
            else:
                for b, r in enumerate(rows):
                    for i, v in r:
                        points[b, i] = v
        return cls(int(budget), projects, ballot_type, points, weights, dict(meta or {}))
