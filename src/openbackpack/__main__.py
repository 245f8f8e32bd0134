"""``python -m openbackpack`` runs the command line."""

from openbackpack.cli import main

main()
