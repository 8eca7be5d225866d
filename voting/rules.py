"""Counting rules and the single entry point :func:`tally`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


from .equal_shares import equal_shares
from .explain import Explanation
from .model import Election
from .pabulib import normalise_rule


@dataclass(frozen=True)
class ProjectResult:
    id: str
    votes: int  # ballots supporting it
    score: int  # what greedy ranks by: approvals, or sum of points
    selected: bool
    explanation: Explanation


@dataclass(frozen=True)
class Outcome:
    rule: str  # greedy | greedy_no_skip | mes
    completion: str | None  # none | add1 for mes, None for greedy
    selected: tuple[str, ...]  # funded project ids in order of creation (file order)
    selection_order: tuple[str, ...]  # the same ids in the order the rule picked them
    projects: tuple[ProjectResult, ...]  # one per project, in order of creation
    budget: int
    total_cost: int
    voter_share: Fraction | None = None  # mes: each voter's share in the returned pass

    def result(self, project_id: str) -> ProjectResult:
        return next(r for r in self.projects if r.id == project_id)


def greedy(election: Election, candidates: Iterable[int], skip: bool = True) -> list[int]:
    """Fund by score, highest first, earlier-created first on equal score.

    With ``skip=False`` (greedy-no-skip) counting stops at the first project
    that does not fit.  Projects without any score are never funded.
    """
    score = election.score()
    costs = election.costs
    ranked = sorted((p for p in candidates if score[p] > 0), key=lambda p: (-int(score[p]), p))
    left = election.budget
    chosen = []
    for p in ranked:
        if costs[p] <= left:
            chosen.append(p)
            left -= int(costs[p])
        elif not skip:
            break
    return chosen


def tally(
    election: Election,
    rule: str,
    completion: str | None = None,
    infeasible: Iterable[str] = (),
) -> Outcome:
    """Count an election.

    ``rule``: ``greedy``, ``greedy_no_skip`` (or ``greedy-no-skip``) or ``mes``;
    ``completion`` (mes only): ``add1`` (default) or ``none``.  Projects whose
    ids are in ``infeasible`` are never funded.
    """
    rule, completion = normalise_rule(rule, completion)
    ids = election.project_ids
    blocked = set(infeasible)
    unknown = blocked - set(ids)
    if unknown:
        raise ValueError(f"unknown infeasible project ids: {sorted(unknown)}")
    candidates = [i for i, pid in enumerate(ids) if pid not in blocked]
    share = None
    if rule == "mes":
        run = equal_shares(election, candidates, completion or "add1")
        order = list(run.selected)
        share = run.share
    else:
        order = greedy(election, candidates, skip=(rule == "greedy"))

    votes = election.supporters_count()
    score = election.score()
    costs = election.costs
    funded = set(order)
    spent = int(sum(int(costs[p]) for p in order))
    left = election.budget - spent
    results = []
    for i, pid in enumerate(ids):
        if i in funded:
            why = Explanation.SELECTED
        elif pid in blocked:
            why = Explanation.NOT_FEASIBLE
        elif votes[i] == 0:
            # Nobody voted for it, so nobody's money was there to pay for it.
            why = Explanation.NO_SUPPORT_LEFT
        elif rule != "mes" or costs[i] > left:
            # Greedy only ever stops a voted project for lack of budget; under
            # equal shares a project costing more than the unspent budget was
            # out of reach however much its supporters had.
            why = Explanation.DID_NOT_FIT
        else:
            why = Explanation.NO_SUPPORT_LEFT
        results.append(ProjectResult(pid, int(votes[i]), int(score[i]), i in funded, why))
    return Outcome(
        rule=rule,
        completion=completion,
        selected=tuple(ids[i] for i in sorted(order)),
        selection_order=tuple(ids[i] for i in order),
        projects=tuple(results),
        budget=election.budget,
        total_cost=spent,
        voter_share=share,
    )
