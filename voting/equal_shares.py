"""Method of Equal Shares on collapsed ballots.

Floats do the bulk of the work; wherever a decision is close enough that
rounding could flip it (which project is cheapest per unit of utility, whether
supporters can still afford a project, whether a supporter runs out of money)
the decision is re-taken in exact rational arithmetic.  The exact budget of a
voter who still has money is ``share - sum(rho_q * u_q)`` over the funded
projects q the voter supports, so it only depends on the voter's utilities for
funded projects; voters who agree on those share one exact computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .model import BallotType, Election

# Float results this close (relative to the amounts involved) are treated as
# undecided and settled exactly.  Far above accumulated rounding error, far
# below any difference whole-euro inputs produce in practice.
_TOL = 1e-9


@dataclass(frozen=True)
class MesPass:
    selected: tuple[int, ...]  # project indices in order of selection
    rho: tuple[Fraction, ...]  # price per unit of utility paid for each
    share: Fraction  # what each voter started with
    budgets: np.ndarray  # money each unique ballot has left (float)


class EqualShares:
    """Pre-computed supporter lists, reused by every pass of the Add1 loop."""

    def __init__(self, election: Election, candidates: Sequence[int]):
        self.election = election
        self.points = election.points
        self.weights = election.weights.astype(np.int64)
        self.costs = [int(c) for c in election.costs]
        approval = election.ballot_type is BallotType.APPROVAL
        # Cost utilities for approval ballots: a supporter's utility is the price.
        self.factor = [c if approval else 1 for c in self.costs]
        by_project = np.asfortranarray(self.points)
        # Ballot-major sparse copy: exact money sums touch only what ballots give.
        ballot_rows, ballot_cols = np.nonzero(self.points)
        self.ballot_start = np.searchsorted(ballot_rows, np.arange(len(self.weights) + 1))
        self.ballot_project = ballot_cols
        self.ballot_points = self.points[ballot_rows, ballot_cols].astype(np.float64)
        self.rows: dict[int, np.ndarray] = {}
        self.util_int: dict[int, np.ndarray] = {}
        self.util: dict[int, np.ndarray] = {}
        self.wts: dict[int, np.ndarray] = {}
        self.first_rho: dict[int, float] = {}
        eligible = []
        for p in candidates:
            rows = np.flatnonzero(by_project[:, p])
            u = by_project[rows, p].astype(np.int64) * self.factor[p]
            total = int((self.weights[rows] * u).sum())
            # Like pabutools, a project nobody derives utility from never enters.
            if total <= 0:
                continue
            eligible.append(p)
            self.rows[p] = rows
            self.util_int[p] = u
            self.util[p] = u.astype(np.float64)
            self.wts[p] = self.weights[rows].astype(np.float64)
            self.first_rho[p] = self.costs[p] / total
        self.eligible = tuple(eligible)

    # ---- one pass -------------------------------------------------------

    def run(self, share: Fraction) -> MesPass:
        state = _PassState(self, Fraction(share))
        return state.run()


class _PassState:
    def __init__(self, mes: EqualShares, share: Fraction):
        self.mes = mes
        self.share = share
        self.share_f = float(share)
        n = len(mes.weights)
        self.budget = np.full(n, self.share_f)
        self.exhausted = np.zeros(n, dtype=bool)
        self.selected: list[int] = []
        self.rho: list[Fraction] = []

    # -- exact helpers --

    def _exact_money(self, rows: np.ndarray) -> Fraction:
        """Exact total money of the given (non-exhausted) ballots, weighted."""
        m = self.mes
        w = m.weights[rows]
        total = self.share * int(w.sum())
        if self.selected and len(rows):
            start = m.ballot_start[rows]
            count = m.ballot_start[rows + 1] - start
            at = np.repeat(start - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
            # float64 sums of integers stay exact far beyond any electorate size
            given = np.bincount(
                m.ballot_project[at],
                weights=m.ballot_points[at] * np.repeat(w, count),
                minlength=len(m.costs),
            )
            for q, rho in zip(self.selected, self.rho):
                s = int(given[q])
                if s:
                    total -= rho * (s * m.factor[q])
        return total

    def _exact_groups(self, rows: np.ndarray, p: int) -> list[tuple[Fraction, int, int]]:
        """(exact budget, utility for p, total weight) per group of equal ballots."""
        m = self.mes
        cols = self.selected + [p]
        keys = m.points[np.ix_(rows, cols)].astype(np.int64)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        weight = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(weight, inverse.ravel(), m.weights[rows])
        groups = []
        for key, wt in zip(uniq.tolist(), weight.tolist()):
            b = self.share
            for q, rho, pts in zip(self.selected, self.rho, key):
                if pts:
                    b -= rho * (pts * m.factor[q])
            groups.append((b, key[-1] * m.factor[p], wt))
        return groups

    def _alive(self, p: int):
        m = self.mes
        alive = ~self.exhausted[m.rows[p]]
        return m.rows[p][alive], m.util[p][alive], m.util_int[p][alive], m.wts[p][alive]

    # -- rho --

    def float_rho(self, p: int) -> tuple[float, float] | None:
        """Approximate current rho of p and its error bound; None if unaffordable."""
        cost = self.mes.costs[p]
        if cost == 0:
            return 0.0, 0.0
        rows, u, _, w = self._alive(p)
        if not len(rows):
            return None
        b = self.budget[rows]
        money = w * b
        total = float(money.sum())
        slack = _TOL * (cost + total)
        if total < cost - slack:
            return None
        if total <= cost + slack and self._exact_money(rows) < cost:
            return None
        ratio = b / u
        order = np.argsort(ratio, kind="stable")
        money_s = money[order]
        poor_money = np.cumsum(money_s) - money_s
        wu = (w * u)[order]
        rich_util = np.cumsum(wu[::-1])[::-1]
        rho_k = (cost - poor_money) / rich_util
        ok = rho_k <= ratio[order] * (1 + 1e-12)
        k = int(np.argmax(ok)) if ok.any() else len(order) - 1
        rho = max(float(rho_k[k]), 0.0)
        err = _TOL * (cost + poor_money[k]) / rich_util[k]
        return rho, err

    def exact_rho(self, p: int, rho_hint: float) -> Fraction | None:
        cost = self.mes.costs[p]
        if cost == 0:
            return Fraction(0)
        rows, u, u_int, w = self._alive(p)
        if not len(rows):
            return None
        b = self.budget[rows]
        total = float((w * b).sum())
        if total <= cost * (1 + _TOL) + _TOL * total and self._exact_money(rows) < cost:
            return None
        close = np.abs(b - rho_hint * u) <= _TOL * (self.share_f + rho_hint * u)
        rho = self._solve(p, rows, u, u_int, b, close, rho_hint)
        if rho is None:  # float classification was wrong: settle everyone exactly
            rho = self._solve(p, rows, u, u_int, b, np.ones(len(rows), dtype=bool), rho_hint)
        assert rho is not None
        return rho

    def _solve(self, p, rows, u, u_int, b, close, rho_hint) -> Fraction | None:
        cost = self.mes.costs[p]
        poor = ~close & (b < rho_hint * u)
        rich = ~close & ~poor
        money = self._exact_money(rows[poor])
        rich_util = int((self.mes.weights[rows[rich]] * u_int[rich]).sum())
        groups = self._exact_groups(rows[close], p) if close.any() else []
        groups.sort(key=lambda g: g[0] / g[1])
        rich_util += sum(wt * ug for _, ug, wt in groups)
        for k in range(len(groups) + 1):
            if k:
                b_g, u_g, wt = groups[k - 1]
                money += wt * b_g
                rich_util -= wt * u_g
            if rich_util == 0:
                continue
            rho = (cost - money) / rich_util
            if k and groups[k - 1][0] / groups[k - 1][1] > rho:
                continue
            if k < len(groups) and rho > groups[k][0] / groups[k][1]:
                continue
            return rho
        return None

    # -- funding --

    def fund(self, p: int, rho: Fraction) -> None:
        rows, u, _, _ = self._alive(p)
        rho_f = float(rho)
        b = self.budget[rows]
        price = rho_f * u
        close = np.abs(b - price) <= _TOL * (self.share_f + price)
        runs_out = ~close & (b < price)
        if close.any():
            close_rows = rows[close]
            keys = self.mes.points[np.ix_(close_rows, self.selected + [p])].astype(np.int64)
            uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
            groups = self._exact_groups(close_rows, p)
            out = np.array([bg <= rho * ug for bg, ug, _ in groups], dtype=bool)
            runs_out[np.flatnonzero(close)] = out[inverse.ravel()]
        new = b - price
        new[runs_out] = 0.0
        self.budget[rows] = new
        self.exhausted[rows[runs_out]] = True
        self.selected.append(p)
        self.rho.append(rho)

    def run(self) -> MesPass:
        m = self.mes
        lower = dict(m.first_rho)  # rho only grows during a pass
        open_ = set(m.eligible)
        while open_:
            best = best_err = float("inf")
            seen: list[tuple[int, float, float]] = []
            for p in sorted(open_, key=lambda q: (lower[q], q)):
                if lower[p] > best + best_err:
                    break
                got = self.float_rho(p)
                if got is None:
                    open_.discard(p)  # budgets only shrink, so it stays unaffordable
                    continue
                rho, err = got
                lower[p] = rho - err
                seen.append((p, rho, err))
                if rho < best:
                    best, best_err = rho, err
            if not seen:
                break
            near = sorted(p for p, rho, err in seen if rho - err <= best + best_err)
            hint = {p: rho for p, rho, _ in seen}
            exact = [(r, p) for p in near if (r := self.exact_rho(p, hint[p])) is not None]
            if not exact:
                open_.difference_update(near)
                continue
            rho, winner = min(exact)  # equal rho: earliest created project wins
            self.fund(winner, rho)
            open_.discard(winner)
        return MesPass(tuple(self.selected), tuple(self.rho), self.share, self.budget)


def equal_shares(
    election: Election,
    candidates: Sequence[int],
    completion: str = "add1",
) -> MesPass:
    """Run MES over the candidate project indices.

    ``completion="add1"``: raise every voter's share by 1 € at a time (going on
    past outcomes that already use up the budget) and keep the last outcome
    within budget before the first one that exceeds it, or the first outcome
    funding every candidate someone voted for.
    """
    mes = EqualShares(election, candidates)
    n = election.num_ballots
    if n == 0:
        return MesPass((), (), Fraction(0), np.zeros(0))
    share = Fraction(election.budget, n)
    outcome = mes.run(share)
    if completion == "none":
        return outcome
    if completion != "add1":
        raise ValueError(f"unknown completion {completion!r}")
    everything = set(mes.eligible)
    costs = mes.costs
    while set(outcome.selected) != everything:
        share += 1
        nxt = mes.run(share)
        if sum(costs[p] for p in nxt.selected) > election.budget:
            break
        outcome = nxt
    return outcome
