"""Pabulib data folder and pabutools reference runs shared by the voting tests."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from voting import BallotType, Election, write_pabulib

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data" / "pabulib"


def data_files() -> list[Path]:
    return sorted(DATA.glob("*.pb")) if DATA.is_dir() else []


def meta_of(path: Path) -> dict[str, str]:
    meta: dict[str, str] = {}
    with path.open(encoding="utf-8-sig") as fh:
        next(fh)
        for line in fh:
            if line.strip().upper() == "PROJECTS":
                break
            key, _, value = line.rstrip("\n").partition(";")
            meta[key.strip()] = value.strip()
    return meta


def require_data(path: Path | None = None) -> None:
    if not DATA.is_dir():
        pytest.skip(f"../shared/data/pabulib not found: expected Pabulib files in {DATA.resolve()}")
    if path is not None and not path.exists():
        pytest.skip(f"../shared/data/pabulib not found: {path.name} missing in {DATA.resolve()}")


def to_pabutools(election: Election):
    """The same election as a pabutools instance/profile, plus file-order tie-breaking."""
    from pabutools.election.pabulib import parse_pabulib_from_string
    from pabutools.tiebreaking import TieBreakingRule

    rule = "equalshares"
    instance, profile = parse_pabulib_from_string(write_pabulib(election, "mes", "none"))
    assert instance.meta["rule"] == rule
    order = {pid: i for i, pid in enumerate(election.project_ids)}
    tie = TieBreakingRule(lambda inst, prof, proj: order[proj.name])
    return instance, profile, tie, order


def sat_class(election: Election):
    from pabutools.election import Additive_Cardinal_Sat, Cost_Sat

    return Cost_Sat if election.ballot_type is BallotType.APPROVAL else Additive_Cardinal_Sat


def pabutools_greedy(election: Election) -> list[str]:
    """pabutools greedy ranked by approval count (Cost_Sat / cost), unvoted projects removed."""
    from pabutools.election import Instance
    from pabutools.rules import greedy_utilitarian_welfare

    instance, profile, tie, order = to_pabutools(election)
    voted = {pid for pid, v in zip(election.project_ids, election.supporters_count()) if v > 0}
    only_voted = Instance((p for p in instance if p.name in voted), budget_limit=instance.budget_limit)
    chosen = greedy_utilitarian_welfare(only_voted, profile, sat_class=sat_class(election), tie_breaking=tie)
    return sorted((p.name for p in chosen), key=order.__getitem__)


def pabutools_mes(election: Election, extra_per_voter: int = 0) -> list[str]:
    """One pabutools MES pass with each voter's share raised by ``extra_per_voter``."""
    from pabutools.election import AbstractApprovalProfile
    from pabutools.rules.budgetallocation import BudgetAllocation
    from pabutools.rules.mes.mes_rule import method_of_equal_shares_scheme

    instance, profile, tie, order = to_pabutools(election)
    if profile.num_ballots() == 0:
        return []
    share = Fraction(election.budget, profile.num_ballots()) + extra_per_voter
    chosen = method_of_equal_shares_scheme(
        instance,
        profile,
        profile.as_sat_profile(sat_class(election)),
        share,
        BudgetAllocation(),
        tie,
        binary_sat=isinstance(profile, AbstractApprovalProfile),
    )
    return sorted((p.name for p in chosen), key=order.__getitem__)


def reference_add1(election: Election) -> list[str]:
    """The Add1 completion as specified, built on pabutools' single MES pass."""
    costs = {p.id: p.cost for p in election.projects}
    votable = {
        pid
        for pid, u in zip(election.project_ids, (election.weights @ election.utilities()).tolist())
        if u > 0
    }
    outcome = pabutools_mes(election)
    extra = 0
    while set(outcome) != votable:
        extra += 1
        nxt = pabutools_mes(election, extra)
        if sum(costs[p] for p in nxt) > election.budget:
            break
        outcome = nxt
    return outcome
