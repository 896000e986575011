"""`python -m trendreel.cli`: the same as the `trendreel` command."""

from trendreel.cli import main

main()
