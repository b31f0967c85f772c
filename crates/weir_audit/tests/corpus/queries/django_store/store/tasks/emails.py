"""Celery tasks: order confirmations and shipping notifications."""
from datetime import timedelta

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from store.models import Order, OrderItem, Shipment


def record_confirmation(order_id: int) -> None:
    order = Order.objects.get(pk=order_id)  # ok: QE-01
    order.confirmation_sent_at = timezone.now()
    order.save(update_fields=["confirmation_sent_at"])


@shared_task
def send_order_confirmation(order_id: int) -> None:
    order = Order.objects.get(pk=order_id)  # ok: QE-01
    lines = []
    for item in OrderItem.objects.filter(order_id=order.id):  # ok: QE-09
        lines.append(f"{item.quantity} x {item.product.name}")  # expect: QE-07
    send_mail(f"Order {order.number} confirmed", "\n".join(lines), None, [order.customer.email])
    record_confirmation(order.id)  # expect: QE-01


@shared_task
def send_shipping_notifications() -> int:
    sent = []
    for shipment in Shipment.objects.filter(notified=False).select_related("order__customer"):  # ok: QE-09
        body = f"Tracking number: {shipment.tracking_number} ({shipment.carrier})"
        send_mail("Your order is on its way", body, None, [shipment.order.customer.email])  # ok: QE-07
        sent.append(shipment.pk)
    Shipment.objects.filter(pk__in=sent).update(notified=True)
    return len(sent)


@shared_task
def remind_unpaid() -> int:
    reminded = 0
    for order in Order.objects.filter(status="pending", created_at__lt=timezone.now() - timedelta(days=3)):  # ok: QE-09
        send_mail(f"Order {order.number} is waiting for payment", "", None, [order.customer.email])  # expect: QE-07
        reminded += 1
    return reminded
