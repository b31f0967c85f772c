from celery import shared_task
from django.db import transaction

from desk.models import Ticket, TicketEvent


@shared_task
def escalate_stale_ticket(ticket_id):
    ticket = Ticket.objects.get(pk=ticket_id)
    ticket.status = "escalated"
    ticket.save()
    TicketEvent.objects.create(ticket=ticket, kind="escalated")  # expect: TX-03


@shared_task
def auto_close(ticket_id):
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        ticket.status = "closed"
        ticket.save()
        TicketEvent.objects.create(ticket=ticket, kind="auto-closed")  # ok: TX-03
