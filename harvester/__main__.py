"""Lets ``python -m harvester`` behave exactly like the ``harvester`` console script."""

from harvester.cli import cli

if __name__ == "__main__":
    cli(prog_name="harvester")
