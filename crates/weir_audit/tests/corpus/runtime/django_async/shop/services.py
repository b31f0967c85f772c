"""Catalogue services (sync): exports, search index, text rendering."""
from decimal import Decimal

from shop import storage
from shop.images import make_thumbnail
from shop.models import Product


def catalogue_csv(products: list[Product]) -> str:
    csv = "sku,name,price,stock\n"
    for product in products:
        csv += f"{product.sku},{product.name},{product.price},{product.stock}\n"  # expect: RT-04
    return csv


def low_stock_email(products: list[Product], threshold: int) -> str:
    body = "The following products are running low:\n"
    shown = 0
    for product in products:
        if product.stock < threshold:
            body += f"  {product.sku} ({product.stock} left)\n"  # expect: RT-04
            shown += 1  # ok: RT-04
    return body if shown else ""


def catalogue_csv_joined(products: list[Product]) -> str:
    rows = ["sku,name,price,stock"]
    rows.extend(f"{p.sku},{p.name},{p.price},{p.stock}" for p in products)
    return "\n".join(rows) + "\n"


def export_catalogue(products: list[Product], name: str = "catalogue.csv") -> str:
    return str(storage.write_export(name, catalogue_csv(products)))


def rebuild_search_index(products: list[Product]) -> str:
    exported = storage.write_export("search.csv", catalogue_csv_joined(products))
    return storage.run_indexer([exported])


def store_product_image(sku: str, data: bytes) -> str:
    path = storage.save_upload(f"{sku}.jpg", make_thumbnail(data))
    return str(path)


def inventory_value(products: list[Product]) -> Decimal:
    total = Decimal("0")
    for product in products:
        total += product.price * product.stock  # ok: RT-04
    return total


def out_of_stock(products: list[Product]) -> list[str]:
    return sorted([p.sku for p in products if p.stock <= 0])  # ok: RT-02


def supplier_names(products: list[Product]) -> str:
    names = [p.supplier.name for p in products if p.supplier]
    return ", ".join(names) if len(names) < 20 else f"{len(names)} suppliers"  # ok: RT-02


def unlisted_products(feed_skus: set[str], catalogue: list[Product]) -> list[str]:
    incoming = set(feed_skus)  # expect: RT-06
    return [p.sku for p in catalogue if p.sku not in incoming]


def retire_missing(catalogue_skus: set[str], feed_skus: set[str]) -> set[str]:
    missing = set(catalogue_skus)  # ok: RT-06
    missing -= feed_skus
    return missing


def stock_alerts(products: list[Product], threshold: int) -> dict:
    low = [p for p in products if 0 < p.stock < threshold]
    return {
        "low": len(low),  # ok: RT-02
        "empty": len([p for p in products if p.stock <= 0]),  # expect: RT-02
        "any_negative": any([p.stock < 0 for p in products]),  # expect: RT-02
        "skus": tuple(p.sku for p in low),  # ok: RT-02
        "cheapest": min([p.price for p in low], default=None),  # expect: RT-02
    }


def price_changes(old: dict[str, Decimal], new: dict[str, Decimal]) -> list[str]:
    previous = old.copy()  # expect: RT-06
    return [sku for sku, price in new.items() if previous.get(sku) != price]


def apply_price_changes(current: dict[str, Decimal], changes: dict[str, Decimal]) -> list[str]:
    before = current.copy()  # ok: RT-06
    current.update(changes)
    return [sku for sku in changes if before.get(sku) != current[sku]]
