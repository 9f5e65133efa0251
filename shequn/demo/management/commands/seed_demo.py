import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shequn.demo import data
from shequn.demo.seed import seed


class Command(BaseCommand):
    help = "Seed the demo shop (千岛湖鲜鱼农场). Safe to run again: parts already there are skipped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-images", action="store_true", help="skip the generated product pictures")
        parser.add_argument("--no-orders", action="store_true", help="skip the past orders")
        parser.add_argument("--orders", type=int, default=data.ORDER_COUNT, help="how many past orders (about)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = seed(
            with_images=not options["no_images"],
            with_orders=not options["no_orders"],
            order_count=options["orders"],
            echo=self.stdout.write,
        )
        elapsed = time.monotonic() - started
        if report.steps:
            for step in report.steps:
                self.stdout.write(f"  {step}")
            self.stdout.write(self.style.SUCCESS(f"demo data for {data.DEMO_SHOP_NAME} ready in {elapsed:.1f}s"))
        else:
            self.stdout.write(f"demo data for {data.DEMO_SHOP_NAME} already there; nothing to do")
