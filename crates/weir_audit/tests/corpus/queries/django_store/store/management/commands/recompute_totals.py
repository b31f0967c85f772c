"""`manage.py recompute_totals`: rebuild order totals from their items."""
from decimal import Decimal

from django.core.management.base import BaseCommand

from store.models import Order


class Command(BaseCommand):
    help = "Recompute order totals from their items"

    def handle(self, *args, **options):
        orders = list(Order.objects.filter(total=0))  # ok: QE-09
        for order in orders:
            order.total = sum((i.quantity * i.unit_price for i in order.items.all()), Decimal("0"))  # expect: QE-07
        Order.objects.bulk_update(orders, ["total"], batch_size=500)
        self.stdout.write(f"updated {len(orders)} orders")
