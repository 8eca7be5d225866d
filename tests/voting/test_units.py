"""Writer, parser, explanations, infeasible projects and the command contract."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from voting import (
    BallotType,
    Election,
    Explanation,
    Project,
    UnsupportedVoteType,
    from_pabulib_rule,
    parse_pabulib,
    tally,
    texts,
    to_pabulib_rule,
    write_pabulib,
)
from voting.cli import main, tally_file

from pb_reference import REPO, pabutools_mes

PROJECTS = [Project("a", 60, "Skatepark; groß"), Project("b", 30, 'Bänke "neu"'), Project("c", 30), Project("d", 50)]
APPROVALS = [{"a"}, {"a"}, {"a", "b"}, {"b", "c"}, {"c"}, {"b"}, set()]


def approval_election(budget: int = 100) -> Election:
    return Election.from_ballots(budget, PROJECTS, "approval", APPROVALS)


def write(tmp_path: Path, text: str, name: str = "e.pb") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_identical_ballots_are_collapsed():
    e = Election.from_ballots(10, PROJECTS, "approval", [["a", "b"], ["b", "a"], ["a", "b"], ["c"]])
    assert e.num_ballots == 4 and len(e.weights) == 2
    assert sorted(e.weights.tolist()) == [1, 3]


@pytest.mark.parametrize("rule,completion", [("greedy", None), ("greedy_no_skip", None), ("mes", "none"), ("mes", "add1")])
def test_writer_round_trip_with_pabutools(rule, completion):
    from pabutools.election.pabulib import parse_pabulib_from_string

    election = approval_election()
    text = write_pabulib(election, rule, completion, description="Test", instance="2025",
                         date_begin="01.03.2025", date_end="31.03.2025", min_length=1, max_length=3)
    instance, profile = parse_pabulib_from_string(text)
    assert instance.budget_limit == 100 and profile.num_ballots() == 7
    assert instance.meta["rule"] == to_pabulib_rule(rule, completion)
    assert {p.name for p in instance} == {"a", "b", "c", "d"}
    ours = parse_pabulib(text)
    assert [p.name for p in ours.election.projects] == [p.name for p in PROJECTS]  # quoted names survive
    expected = tally(election, rule, completion).selected
    assert tuple(ours.published_selection()) == expected
    assert tuple(tally(ours.election, rule, completion).selected) == expected
    assert pabutools_mes(ours.election) == list(tally(election, "mes", "none").selected)


def test_cumulative_round_trip():
    e = Election.from_ballots(90, PROJECTS, "cumulative", [{"a": 3, "b": 2}, {"c": 5}, {"a": 1, "d": 4}, {}])
    back = parse_pabulib(write_pabulib(e, "mes", max_points=5)).election
    assert back.num_ballots == 4
    assert tally(back, "mes").selected == tally(e, "mes").selected
    assert back.score().tolist() == e.score().tolist() == [4, 2, 5, 4]


def test_rule_name_mapping():
    assert to_pabulib_rule("greedy") == "greedy"
    assert to_pabulib_rule("greedy_no_skip") == to_pabulib_rule("greedy-no-skip") == "greedy-no-skip"
    assert to_pabulib_rule("mes", "none") == "equalshares"
    assert to_pabulib_rule("mes") == to_pabulib_rule("mes", "add1") == "equalshares/add1"
    for value in ("greedy", "greedy-no-skip", "equalshares", "equalshares/add1"):
        assert to_pabulib_rule(*from_pabulib_rule(value)) == value


def test_votes_score_and_explanations_greedy():
    outcome = tally(approval_election(budget=100), "greedy")
    r = {x.id: x for x in outcome.projects}
    assert (r["a"].votes, r["b"].votes, r["c"].votes, r["d"].votes) == (3, 3, 2, 0)
    assert outcome.selected == ("a", "b") and outcome.selection_order == ("a", "b")
    assert r["c"].explanation is Explanation.DID_NOT_FIT
    assert r["d"].explanation is Explanation.NO_SUPPORT_LEFT  # nobody voted for it
    assert r["a"].explanation is Explanation.SELECTED


def test_greedy_no_skip_stops_at_first_misfit():
    e = Election.from_ballots(70, PROJECTS, "approval", [{"a", "b", "c"}, {"a", "b", "c"}, {"a", "c"}, {"c"}])
    # scores c=4, a=3, b=2; after c (30 €) a (60 €) no longer fits
    assert tally(e, "greedy").selection_order == ("c", "b")
    assert tally(e, "greedy").selected == ("b", "c")  # reported in file order
    assert tally(e, "greedy_no_skip").selected == ("c",)
    assert tally(e, "greedy_no_skip").result("b").explanation is Explanation.DID_NOT_FIT


def test_greedy_ties_go_to_earlier_project():
    e = Election.from_ballots(30, PROJECTS, "approval", [{"b", "c"}, {"b", "c"}])
    assert tally(e, "greedy").selected == ("b",)
    assert tally(e, "mes", "none").selected == ("b",)


def test_infeasible_projects_are_never_funded():
    outcome = tally(approval_election(), "mes", infeasible=["a"])
    assert "a" not in outcome.selected
    assert outcome.result("a").explanation is Explanation.NOT_FEASIBLE
    assert tally(approval_election(), "greedy", infeasible=["a"]).selected == ("b", "c")
    with pytest.raises(ValueError):
        tally(approval_election(), "greedy", infeasible=["zzz"])


def test_mes_explanations():
    # d is too expensive for its single supporter, b and c share voters with a.
    e = Election.from_ballots(100, PROJECTS, "approval", [{"a"}] * 6 + [{"d"}] + [{"b"}] * 3)
    outcome = tally(e, "mes", "none")
    assert outcome.selected == ("a", "b")
    assert outcome.result("d").explanation is Explanation.DID_NOT_FIT  # 50 € > the 10 € left
    assert outcome.result("c").explanation is Explanation.NO_SUPPORT_LEFT


def test_texts_in_german_and_english():
    for code in Explanation:
        assert texts(code) and texts(code, "en") and texts(code.value, "de") != texts(code, "en")
    assert "Budget" in texts("did_not_fit")


def test_cli_prints_only_ids_in_file_order(tmp_path, capsys):
    path = write(tmp_path, write_pabulib(approval_election(), "greedy"))
    out, err = io.StringIO(), io.StringIO()
    assert main(path, out=out, err=err) == 0
    assert out.getvalue() == "a\nb\n" and err.getvalue() == ""
    assert tally_file(path, "mes", "none") == list(tally(approval_election(), "mes", "none").selected)
    assert tally_file(path, "greedy", "none") == ["a", "b"]  # completion ignored by greedy


def test_cli_unknown_file_rule_exits_2(tmp_path):
    text = write_pabulib(approval_election(), "greedy").replace("rule;greedy", "rule;unknown")
    path = write(tmp_path, text)
    out, err = io.StringIO(), io.StringIO()
    assert main(path, out=out, err=err) == 2
    assert out.getvalue() == "" and "unknown" in err.getvalue()
    assert main(path, rule="greedy", out=io.StringIO(), err=io.StringIO()) == 0


ORDINAL = """META
key;value
budget;100
vote_type;ordinal
rule;greedy
PROJECTS
project_id;cost
1;50
2;60
VOTES
voter_id;vote
1;2,1
"""


def test_ordinal_file_exits_2(tmp_path):
    path = write(tmp_path, ORDINAL)
    with pytest.raises(UnsupportedVoteType):
        parse_pabulib(ORDINAL)
    out, err = io.StringIO(), io.StringIO()
    assert main(path, out=out, err=err) == 2
    assert out.getvalue() == "" and "ordinal" in err.getvalue()


def test_choose_1_counts_as_approval():
    e = parse_pabulib(ORDINAL.replace("ordinal", "choose-1").replace("2,1", "2")).election
    assert e.ballot_type is BallotType.APPROVAL and tally(e, "greedy").selected == ("2",)


def test_python_dash_m_voting(tmp_path):
    path = write(tmp_path, write_pabulib(approval_election(), "mes", "add1"))
    done = subprocess.run([sys.executable, "-m", "voting", "tally", str(path), "--rule", "greedy-no-skip"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "a\nb\n" and done.stderr == ""
    bad = subprocess.run([sys.executable, "-m", "voting", "tally", str(write(tmp_path, ORDINAL, "o.pb"))],
                         cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == "" and "ordinal" in bad.stderr


def test_package_does_not_import_flask_or_sqlalchemy():
    code = "import sys, voting, voting.cli; print(any(m.split('.')[0] in ('flask', 'sqlalchemy') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_rounding_noise_never_picks_the_winner():
    # In round three p1 and p4 both cost exactly 5/8 per unit of utility, but
    # in floats p4 comes out as 0.6249999999999999 < 0.625.  The tie must go
    # to the earlier project p1, as pabutools' exact arithmetic does.
    projects = [Project(i, c) for i, c in [("p0", 10), ("p1", 6), ("p2", 13), ("p3", 11), ("p4", 6)]]
    ballots = [{"p3", "p0"}, {"p0", "p2", "p4"}, {"p3", "p1"}, {"p1", "p4", "p3", "p2", "p0"}]
    e = Election.from_ballots(37, projects, "approval", ballots)
    outcome = tally(e, "mes", "none")
    assert outcome.selection_order == ("p0", "p3", "p1")
    assert list(outcome.selected) == pabutools_mes(e)
