from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from desk.models import Attachment, Message, SavedReply, Ticket, TicketEvent
from desk.services import record_reply


def create_ticket(request):
    ticket = Ticket.objects.create(subject=request.POST["subject"], requester=request.user)
    Message.objects.create(ticket=ticket, author=request.user, body=request.POST["body"])  # expect: TX-03
    return JsonResponse({"id": ticket.pk}, status=201)


def create_ticket_with_files(request):
    with transaction.atomic():
        ticket = Ticket.objects.create(subject=request.POST["subject"], requester=request.user)
        message = Message.objects.create(ticket=ticket, author=request.user, body=request.POST["body"])  # ok: TX-03
        for upload in request.FILES.getlist("files"):
            Attachment.objects.create(message=message, file=upload)  # ok: TX-03
    return JsonResponse({"id": ticket.pk}, status=201)


@transaction.atomic
def reply(request, pk):
    ticket = get_object_or_404(Ticket, pk=pk)
    message = Message.objects.create(ticket=ticket, author=request.user, body=request.POST["body"])
    TicketEvent.objects.create(ticket=ticket, kind="replied", actor=request.user)  # ok: TX-03
    return JsonResponse({"id": message.pk})


def close_ticket(request, pk):
    ticket = get_object_or_404(Ticket, pk=pk)
    ticket.status = "closed"
    ticket.save(update_fields=["status"])
    TicketEvent.objects.create(ticket=ticket, kind="closed", actor=request.user)  # expect: TX-03
    return JsonResponse({"status": ticket.status})


def reprioritise(request, pk):
    ticket = get_object_or_404(Ticket, pk=pk)
    ticket.priority = int(request.POST["priority"])
    ticket.save(update_fields=["priority"])
    TicketEvent.objects.create(ticket=ticket, kind="priority", actor=request.user)  # ok: TX-03
    return JsonResponse({"priority": ticket.priority})


def save_reply_template(request):
    reply_template = SavedReply.objects.create(title=request.POST["title"], body=request.POST["body"])
    SavedReply.objects.create(title=f"{reply_template.title} (copy)", body=reply_template.body)  # ok: TX-03
    return JsonResponse({"id": reply_template.pk})


def quick_reply(request, pk):
    ticket = get_object_or_404(Ticket, pk=pk)
    message = record_reply(ticket, request.user, request.POST["body"])
    return JsonResponse({"id": message.pk})


class ReopenView(APIView):
    def post(self, request, pk):
        ticket = get_object_or_404(Ticket, pk=pk)
        Ticket.objects.filter(pk=ticket.pk).update(status="open")
        TicketEvent.objects.create(ticket=ticket, kind="reopened", actor=request.user)  # expect: TX-03
        return Response({"status": "open"})
