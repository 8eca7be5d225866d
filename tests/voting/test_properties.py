"""Random small elections with many ties: our rules equal pabutools' with file-order tie-breaking."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voting import BallotType, Election, Project, tally

from pb_reference import pabutools_greedy, pabutools_mes, reference_add1


@st.composite
def elections(draw, ballot_type: BallotType) -> Election:
    n = draw(st.integers(1, 8))
    # Few distinct small costs make equal rho values (true ties) common.
    costs = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))
    projects = [Project(f"p{i}", c) for i, c in enumerate(costs)]
    ids = [p.id for p in projects]
    budget = draw(st.integers(1, 40))
    if ballot_type is BallotType.APPROVAL:
        ballot = st.sets(st.sampled_from(ids), max_size=n)
    else:
        ballot = st.dictionaries(st.sampled_from(ids), st.integers(1, 4), max_size=n)
    ballots = draw(st.lists(ballot, min_size=1, max_size=30))
    return Election.from_ballots(budget, projects, ballot_type, ballots)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(elections(BallotType.APPROVAL))
def test_greedy_equals_pabutools(election):
    assert list(tally(election, "greedy").selected) == pabutools_greedy(election)


@SETTINGS
@given(st.sampled_from(list(BallotType)).flatmap(elections))
def test_single_pass_mes_equals_pabutools(election):
    assert list(tally(election, "mes", "none").selected) == pabutools_mes(election)


@SETTINGS
@given(st.sampled_from(list(BallotType)).flatmap(elections))
def test_add1_equals_reference_loop(election):
    assert list(tally(election, "mes", "add1").selected) == reference_add1(election)


@SETTINGS
@given(st.sampled_from(list(BallotType)).flatmap(elections))
def test_outcomes_stay_within_budget_and_only_fund_voted_projects(election):
    for rule, completion in (("greedy", None), ("greedy_no_skip", None), ("mes", "none"), ("mes", "add1")):
        outcome = tally(election, rule, completion)
        assert outcome.total_cost <= election.budget
        for r in outcome.projects:
            assert r.selected == (r.id in outcome.selected)
            if r.selected:
                assert r.votes > 0
