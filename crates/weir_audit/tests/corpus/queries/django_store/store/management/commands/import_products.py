"""`manage.py import_products FILE`: load products from a CSV export."""
import csv
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils.text import slugify

from store.models import Category, Product


class Command(BaseCommand):
    help = "Import products from a CSV file"

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--batch", action="store_true", help="insert in batches of 500")

    def handle(self, *args, path, batch, **options):
        category_ids = dict(Category.objects.values_list("slug", "id"))  # ok: QE-07
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if batch:
            products = [self._build(row, category_ids) for row in rows]
            Product.objects.bulk_create(products, batch_size=500)  # ok: QE-05
        else:
            for row in rows:
                Product.objects.create(  # expect: QE-05
                    category_id=category_ids[row["category"]],
                    sku=row["sku"],
                    name=row["name"],
                    slug=slugify(row["name"]),
                    price=Decimal(row["price"]),
                    stock=int(row["stock"] or 0),
                )
        self.stdout.write(f"imported {len(rows)} products")

    @staticmethod
    def _build(row: dict, category_ids: dict[str, int]) -> Product:
        return Product(
            category_id=category_ids[row["category"]],
            sku=row["sku"],
            name=row["name"],
            slug=slugify(row["name"]),
            price=Decimal(row["price"]),
            stock=int(row["stock"] or 0),
        )
