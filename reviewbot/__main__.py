"""`python -m reviewbot` runs the CLI."""

from reviewbot.cli import main

main()
