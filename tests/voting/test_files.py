"""Our counting against pabutools and against published results, on real Pabulib files."""

from __future__ import annotations

import io

import pytest

from voting import read_pabulib, tally
from voting.cli import main

from pb_reference import DATA, data_files, meta_of, pabutools_greedy, pabutools_mes, require_data

FILES = data_files()
COUNTABLE = [f for f in FILES if meta_of(f).get("vote_type") in ("approval", "choose-1", "cumulative")]
APPROVAL = [f for f in COUNTABLE if meta_of(f).get("vote_type") in ("approval", "choose-1")]
OURS = {"greedy": ("greedy", None), "greedy-no-skip": ("greedy_no_skip", None),
        "equalshares": ("mes", "none"), "equalshares/add1": ("mes", "add1")}
PUBLISHED = [f for f in COUNTABLE if meta_of(f).get("rule") in OURS]
ids = lambda p: getattr(p, "name", str(p))  # noqa: E731


def or_skip(paths: list) -> list:
    """Parameters for a per-file test; without the shared data folder, one clear skip."""
    if paths:
        return paths
    return [pytest.param(None, marks=pytest.mark.skip(reason=f"../shared/data/pabulib not found (looked in {DATA})"))]


APPROVAL, COUNTABLE, PUBLISHED = or_skip(APPROVAL), or_skip(COUNTABLE), or_skip(PUBLISHED)


def test_data_folder_present():
    require_data()
    assert FILES, f"no .pb files in {DATA}"


@pytest.mark.parametrize("path", APPROVAL, ids=ids)
def test_greedy_matches_pabutools(path):
    election = read_pabulib(path).election
    assert list(tally(election, "greedy").selected) == pabutools_greedy(election)


@pytest.mark.parametrize("path", COUNTABLE, ids=ids)
def test_single_pass_mes_matches_pabutools(path):
    election = read_pabulib(path).election
    assert list(tally(election, "mes", "none").selected) == pabutools_mes(election)


@pytest.mark.parametrize("path", PUBLISHED, ids=ids)
def test_file_rule_reproduces_published_selection(path):
    data = read_pabulib(path)
    published = data.published_selection()
    if published is None:
        pytest.skip(f"{path.name} has no selected column")
    rule, completion = OURS[data.meta["rule"]]
    assert sorted(tally(data.election, rule, completion).selected) == sorted(published)


def test_assen_2024_add1_as_published():
    path = DATA / "Netherlands_Assen_2024.pb"
    require_data(path)
    out, err = io.StringIO(), io.StringIO()
    assert main(path, out=out, err=err) == 0
    assert err.getvalue() == ""
    assert sorted(out.getvalue().split()) == sorted(read_pabulib(path).published_selection())


@pytest.mark.parametrize("path", or_skip([f for f in FILES if meta_of(f).get("vote_type") == "ordinal"]), ids=ids)
def test_ordinal_data_file_exits_2(path):
    out, err = io.StringIO(), io.StringIO()
    assert main(path, rule="mes", out=out, err=err) == 2
    assert out.getvalue() == "" and "ordinal" in err.getvalue()
