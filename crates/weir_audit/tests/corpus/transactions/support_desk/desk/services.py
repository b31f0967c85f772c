"""Helpers shared by views and tasks; callers decide the transaction."""
from desk.models import Message, TicketEvent


def record_reply(ticket, author, body):
    message = Message.objects.create(ticket=ticket, author=author, body=body)
    TicketEvent.objects.create(ticket=ticket, kind="replied", actor=author)  # ok: TX-03
    return message
