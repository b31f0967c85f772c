"""manage.py sync_feeds: import every active supplier feed."""
import asyncio
import time

from django.core.management.base import BaseCommand

from shop import feeds


class Command(BaseCommand):
    help = "Import all active supplier feeds"

    def add_arguments(self, parser):
        parser.add_argument("--sequential", action="store_true")
        parser.add_argument("--repeat", type=int, default=1)
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, *args, **options):
        for run in range(options["repeat"]):
            started = time.monotonic()  # ok: RT-03
            runner = feeds.sync_all_sequential if options["sequential"] else feeds.sync_all
            counts = asyncio.run(runner())
            for name, count in sorted(counts.items()):
                self.stdout.write(f"{name}: {count} products")
            self.stdout.write(f"run {run + 1} took {time.monotonic() - started:.1f}s")
            if run + 1 < options["repeat"]:
                time.sleep(options["interval"])  # ok: RT-03
