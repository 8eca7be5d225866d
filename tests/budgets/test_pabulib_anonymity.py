"""The published Pabulib file must not reveal who voted what: the VOTES section may depend on
the ballots cast, never on the order (and so the time) in which they were cast."""
from __future__ import annotations

import pytest

from tests.budgets.test_budget_flow import pabutools_selection
from voting import Election, Project, write_pabulib

API = "/api/v1"


def votes_section(text: str) -> str:
    return text.split("VOTES\n", 1)[1]


@pytest.mark.parametrize(
    "ballot_type, ballots",
    [
        ("approval", [["b"], ["a", "b"], ["a"], ["b"], ["c", "a"]]),
        ("cumulative", [{"b": 2}, {"a": 1, "b": 1}, {"a": 2}, {"b": 2}, {"c": 1, "a": 1}]),
    ],
)
def test_votes_are_sorted_by_content_whatever_the_cast_order(ballot_type, ballots):
    projects = [Project("a", 40), Project("b", 30), Project("c", 30)]
    texts = {
        write_pabulib(Election.from_ballots(100, projects, ballot_type, order), "greedy")
        for order in (ballots, list(reversed(ballots)), ballots[2:] + ballots[:2])
    }
    assert len(texts) == 1
    lines = votes_section(texts.pop()).splitlines()
    assert [line.split(";")[0] for line in lines[1:]] == [str(n) for n in range(1, len(ballots) + 1)]
    if ballot_type == "approval":
        assert lines[1:] == ["1;a", "2;a,b", "3;a,c", "4;b", "5;b"]
    else:
        assert lines[1:] == ["1;a,b;1,1", "2;a,c;1,1", "3;a;2", "4;b;2", "5;b;2"]


def _closed_round_export(bud, client, members, orders, rule):
    """A round whose members vote (by item position) in the given order; its export with item
    ids replaced by their positions, and the ids of the selected items as positions."""
    rnd = bud.round(budget=100, rule=rule, items=[("A", 50), ("B", 40), ("C", 30)], status="voting")
    ids = [i["id"] for i in rnd["items"]]
    for member, positions in orders:
        bud.vote(rnd["id"], members[member], item_ids=[ids[p] for p in positions])
    bud.transition(rnd["id"], "closed")
    text = client.get(f"{API}/rounds/{rnd['id']}/pabulib", headers=bud.staff.headers).get_data(as_text=True)
    selected = client.get(f"{API}/rounds/{rnd['id']}/results", headers=bud.staff.headers).get_json()["selected"]
    assert [int(x) for x in pabutools_selection(text, "greedy" if rule == "greedy" else "equalshares/add1")] == selected
    position = {str(item_id): "ABC"[p] for p, item_id in enumerate(ids)}

    def anonymous(line: str) -> str:
        voter, vote = line.split(";")
        return f"{voter};{','.join(position[i] for i in vote.split(','))}"

    header, *lines = votes_section(text).splitlines()
    return [header, *(anonymous(line) for line in lines)]


@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_stored_export_is_the_same_for_the_same_ballots_cast_in_another_order(client, bud, rule):
    members = [bud.member() for _ in range(5)]
    ballots = [[1], [0, 1], [0], [1], [2, 0]]
    first = _closed_round_export(bud, client, members, list(enumerate(ballots)), rule)
    # The same ballots from other members in the reverse order.
    second = _closed_round_export(bud, client, members, [(4 - n, b) for n, b in reversed(list(enumerate(ballots)))], rule)
    assert first == second
    assert first[1:] == ["1;A", "2;A,B", "3;A,C", "4;B", "5;B"]
