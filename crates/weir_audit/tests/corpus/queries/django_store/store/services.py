"""Business operations on orders, prices and stock."""
import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from store import selectors
from store.models import Coupon, Customer, Order, OrderItem, Product, Review

CENT = Decimal("0.01")


def _discounted(price: Decimal, percent: int) -> Decimal:
    return (price * (100 - percent) / 100).quantize(CENT, ROUND_HALF_UP)


def price_for(customer_id: int, product_id: int) -> Decimal:
    product = selectors.get_product(product_id)
    discount = selectors.active_discount(customer_id, product_id)
    return _discounted(product.price, discount.percent if discount else 0)


def prices_for(customer_id: int, product_ids: list[int]) -> dict[int, Decimal]:
    products = Product.objects.in_bulk(product_ids)  # ok: QE-07
    discounts = selectors.active_discounts(customer_id, product_ids)  # ok: QE-07
    return {pid: _discounted(p.price, discounts.get(pid, 0)) for pid, p in products.items()}  # ok: QE-07


@transaction.atomic
def place_order(customer: Customer, cart: dict[int, int]) -> Order:
    prices = prices_for(customer.id, list(cart))  # ok: QE-01
    total = sum((prices[pid] * qty for pid, qty in cart.items()), Decimal("0"))
    order = Order.objects.create(customer=customer, number=secrets.token_hex(5).upper(), total=total)  # ok: QE-05
    items = [OrderItem(order=order, product_id=pid, quantity=qty, unit_price=prices[pid]) for pid, qty in cart.items()]
    OrderItem.objects.bulk_create(items)  # ok: QE-05
    return order


@transaction.atomic
def reorder(order: Order) -> Order:
    copy = Order.objects.create(customer_id=order.customer_id, number=secrets.token_hex(5).upper(), total=order.total)  # ok: QE-05
    for item in order.items.all():  # ok: QE-07
        OrderItem.objects.create(order=copy, product_id=item.product_id, quantity=item.quantity, unit_price=item.unit_price)  # expect: QE-05
    return copy


@transaction.atomic
def cancel_order(order_id: int) -> None:
    order = Order.objects.get(pk=order_id)  # ok: QE-01
    for item in order.items.all():  # ok: QE-07
        Product.objects.filter(pk=item.product_id).update(stock=F("stock") + item.quantity)  # expect: QE-02
    order.status = "cancelled"
    order.save(update_fields=["status"])  # ok: QE-02


def restock(product_ids: list[int], quantity: int) -> None:
    for product in Product.objects.filter(pk__in=product_ids):
        product.stock += quantity
        product.save(update_fields=["stock"])  # expect: QE-02


def restock_bulk(product_ids: list[int], quantity: int) -> int:
    return Product.objects.filter(pk__in=product_ids).update(stock=F("stock") + quantity)  # ok: QE-02


def lifetime_orders(customer: Customer) -> int:
    return len(Order.objects.filter(customer=customer))  # expect: QE-08


def has_open_orders(customer: Customer) -> bool:
    return Order.objects.filter(customer=customer, status="pending").count() > 0  # expect: QE-08


def is_first_order(customer: Customer) -> bool:
    return Order.objects.filter(customer=customer, status="paid").count() == 0  # expect: QE-08


def review_total(product_id: int) -> int:
    return len(list(Review.objects.filter(product_id=product_id)))  # expect: QE-08


def apply_coupon(order: Order, code: str) -> bool:
    coupons = Coupon.objects.filter(code__iexact=code, active=True, valid_until__gte=timezone.now())
    if coupons:  # expect: QE-08
        Order.objects.filter(pk=order.pk).update(coupon_code=code.upper())
        return True
    return False


def has_reviewed(customer: Customer, product_id: int) -> bool:
    return Review.objects.filter(customer=customer, product_id=product_id).exists()  # ok: QE-08


def order_digest(customer: Customer) -> dict:
    orders = list(Order.objects.filter(customer=customer).order_by("-created_at")[:10])
    return {"shown": len(orders), "numbers": [o.number for o in orders]}  # ok: QE-08


def reviews_page(product_id: int) -> dict:
    reviews = Review.objects.filter(product_id=product_id).order_by("-created_at")[:20]
    if reviews:  # ok: QE-08
        return {"reviews": [{"rating": r.rating, "body": r.body} for r in reviews]}
    return {"reviews": []}
