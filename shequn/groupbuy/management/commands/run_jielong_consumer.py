"""A dedicated 接龙 consumer for a burst: ``manage.py run_jielong_consumer --seconds 600 --name c1``.

Writes the sign-ups the gate admitted as they arrive (``groupbuy.actions.run_consumer``); while it
runs, members' ticket polls only read. Without one, the polls and the minute task write them.
Give each consumer process its own ``--name`` (one per campaign is enough: consumers of one
campaign take turns on its row lock)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shequn.groupbuy import actions


class Command(BaseCommand):
    help = "Write admitted 接龙 claims as sign-ups for a while (a dedicated consumer for a burst)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=600.0, help="how long to run (default 600)")
        parser.add_argument("--name", default=actions.CONSUMER, help="this consumer's name at the gate")
        parser.add_argument("--batch", type=int, default=500, help="claims read per batch (default 500)")

    def handle(self, *args: Any, seconds: float, name: str, batch: int, **options: Any) -> None:
        done = actions.run_consumer(seconds, count=batch, consumer=name)
        self.stdout.write(f"signed up {done.signed_up}, released {done.released}, duplicates {done.duplicates}")
