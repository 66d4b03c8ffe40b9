"""``python -m woonvoorraad``."""

from woonvoorraad.cli import run

run()
