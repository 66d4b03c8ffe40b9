"""``python -m woonvoorraad``."""

from .cli import run

run()
