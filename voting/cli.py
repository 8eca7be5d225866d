"""Command-line counting of a Pabulib file: prints funded project ids."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from .pabulib import (
    PabulibError,
    UnknownRule,
    UnsupportedVoteType,
    from_pabulib_rule,
    normalise_rule,
    read_pabulib,
)
from .rules import tally

EXIT_OK = 0
EXIT_UNUSABLE = 2  # unknown rule, uncountable vote type, unreadable file


class TallyError(Exception):
    """The file cannot be counted as asked; the message says why."""


def tally_file(path: str | Path, rule: str | None = None, completion: str | None = None) -> list[str]:
    """Funded project ids, in file order.

    Without ``rule`` the file's META ``rule`` decides; ``completion`` only
    matters for mes and defaults to add1 there.
    """
    try:
        data = read_pabulib(path)
        if rule is None:
            file_rule, file_completion = from_pabulib_rule(data.meta.get("rule", ""))
            rule, completion = file_rule, completion or file_completion
        rule, completion = normalise_rule(rule, completion)
    except UnsupportedVoteType as exc:
        raise TallyError(f"cannot count {path}: {exc}") from exc
    except (UnknownRule, PabulibError) as exc:
        raise TallyError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise TallyError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return list(tally(data.election, rule, completion).selected)


def main(
    path: str | Path,
    rule: str | None = None,
    completion: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print funded ids one per line on ``out``; problems go to ``err`` with exit code 2."""
    try:
        selected = tally_file(path, rule, completion)
    except TallyError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_UNUSABLE
    for pid in selected:
        print(pid, file=out)
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voting", description="Count participatory budgeting votes.")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("tally", help="print the funded project ids of a Pabulib file")
    cmd.add_argument("file")
    cmd.add_argument("--rule", choices=["greedy", "greedy-no-skip", "mes"])
    cmd.add_argument("--completion", choices=["none", "add1"])
    args = parser.parse_args(argv)
    return main(args.file, args.rule, args.completion)
