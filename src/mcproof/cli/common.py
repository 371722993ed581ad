"""What every `mcproof` command shares: the --env help, and one way to end on an expected error."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from mcproof.errors import InconclusiveError, McproofError
from mcproof.verdict import EXIT_INCONCLUSIVE, EXIT_REFUSED

__all__ = ["ENV_HELP", "fail"]

ENV_HELP = "environment name in environments/ or a path to its YAML"


def fail(err: McproofError) -> NoReturn:
    """One line on stderr and the exit code of the error: 3 when inconclusive, else 2 (refused)."""
    if isinstance(err, InconclusiveError):
        click.echo(f"mcproof: inconclusive: {err.reason}; fix: {err.fix}", err=True)
        sys.exit(EXIT_INCONCLUSIVE)
    click.echo(f"mcproof: error: {err}", err=True)
    sys.exit(EXIT_REFUSED)
