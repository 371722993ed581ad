"""`python -m mcproof.cli`: the same as the `mcproof` command."""

from mcproof.cli import main

main()
