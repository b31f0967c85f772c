"""Read-side queries used by services and views."""
from django.utils import timezone

from store.models import Discount, Product


def get_product(product_id: int) -> Product:
    return Product.objects.get(pk=product_id)


def active_discount(customer_id: int, product_id: int) -> Discount | None:
    now = timezone.now()
    return (
        Discount.objects.filter(customer_id=customer_id, product_id=product_id, starts_at__lte=now, ends_at__gte=now)
        .order_by("-percent")
        .first()
    )


def active_discounts(customer_id: int, product_ids: list[int]) -> dict[int, int]:
    now = timezone.now()
    best: dict[int, int] = {}
    rows = Discount.objects.filter(
        customer_id=customer_id, product_id__in=product_ids, starts_at__lte=now, ends_at__gte=now
    ).values_list("product_id", "percent")
    for product_id, percent in rows:
        best[product_id] = max(percent, best.get(product_id, 0))
    return best
