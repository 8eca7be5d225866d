"""Benchmark: our whole tally process vs. one pabutools MES pass.

Generates (fixed seed) 150 projects, budget 1,000,000 €, 100,000 approval
voters each approving 1-8 projects drawn with popularity weights u², writes it
as a Pabulib file and times

  (a) ``--tally-cmd FILE`` as a subprocess (default: ``<python> -m voting tally``),
      best of 3 wall-clock: parse + MES + Add1;
  (b) pabutools: parse_pabulib, then one method_of_equal_shares pass.

Checks that ``--completion none`` agrees with pabutools' single pass and
prints a markdown snippet.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voting.model import BallotType, Election, Project  # noqa: E402
from voting.pabulib import write_pabulib  # noqa: E402

COSTS = (5_000, 10_000, 20_000, 50_000, 100_000, 200_000)


def generate(seed: int = 2024, projects: int = 150, voters: int = 100_000, budget: int = 1_000_000) -> Election:
    rng = np.random.default_rng(seed)
    costs = rng.choice(COSTS, size=projects)
    popularity = rng.random(projects) ** 2
    popularity /= popularity.sum()
    lengths = rng.integers(1, 9, size=voters)
    # Sampling without replacement by Gumbel top-k: one vectorised draw for everyone.
    keys = np.log(popularity) - np.log(-np.log(rng.random((voters, projects))))
    ranked = np.argsort(-keys, axis=1)[:, :8]
    ids = [f"P{i + 1:03d}" for i in range(projects)]
    ballots = (tuple(ids[j] for j in ranked[v, : lengths[v]]) for v in range(voters))
    plist = [Project(ids[i], int(costs[i]), f"Projekt {i + 1}") for i in range(projects)]
    return Election.from_ballots(budget, plist, BallotType.APPROVAL, ballots)


def best_of(cmd: list[str], runs: int = 3) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
        best = min(best, time.perf_counter() - t)
        out = done.stdout
    return best, out


def pabutools_single_pass(path: Path) -> tuple[float, float, list[str]]:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    t = time.perf_counter()
    instance, profile = parse_pabulib(str(path))
    parse_s = time.perf_counter() - t
    order = {p.name: i for i, p in enumerate(sorted(instance, key=lambda p: int(p.name[1:])))}
    tie = TieBreakingRule(lambda inst, prof, proj: order[proj.name])
    t = time.perf_counter()
    chosen = method_of_equal_shares(instance, profile.as_multiprofile(), sat_class=Cost_Sat, tie_breaking=tie)
    rule_s = time.perf_counter() - t
    return parse_s, rule_s, sorted((p.name for p in chosen), key=lambda n: order[n])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tally-cmd", default=f"{shlex.quote(sys.executable)} -m voting tally")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--skip-pabutools", action="store_true")
    args = ap.parse_args()

    t = time.perf_counter()
    election = generate(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_tally.pb"
        path.write_text(write_pabulib(election, "mes", "add1", description="bench", instance="bench"), encoding="utf-8")
        gen_s = time.perf_counter() - t
        print(f"generated {path.name}: {election.num_ballots} voters, {len(election.weights)} distinct ballots "
              f"({gen_s:.1f}s)", file=sys.stderr)

        base = shlex.split(args.tally_cmd) + [str(path)]
        ours_s, ours_out = best_of(base)
        none_s, none_out = best_of(base + ["--completion", "none"], runs=1)
        ours_none = none_out.split()
        if args.skip_pabutools:
            print(f"ours: {ours_s:.3f}s, add1 selects {len(ours_out.split())} projects")
            return 0
        parse_s, rule_s, theirs = pabutools_single_pass(path)

    same = ours_none == theirs
    ratio = rule_s / ours_s
    print(f"""
| measurement (150 projects, 100,000 voters, budget 1,000,000 €) | seconds |
|---|---|
| ours: `{args.tally_cmd} FILE` (parse + MES + Add1), best of 3 | {ours_s:.3f} |
| ours: same with `--completion none` (1 run) | {none_s:.3f} |
| pabutools 1.2.3: `parse_pabulib` | {parse_s:.2f} |
| pabutools 1.2.3: `method_of_equal_shares` one pass, Cost_Sat | {rule_s:.2f} |

- speed-up, pabutools' single MES pass / our whole process: **{ratio:.1f}×** (incl. its parse: {(parse_s + rule_s) / ours_s:.1f}×)
- single-pass outcomes identical: **{same}** ({len(theirs)} projects); Add1 selects {len(ours_out.split())} projects
""")
    if not same:
        print(f"ours (none): {ours_none}\npabutools:   {theirs}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
