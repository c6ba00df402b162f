"""Celery edges of the RFQ: each takes ids, calls one service and schedules what follows.
Idempotent: a retried dissemination finds the RFQ sent, a repeated provider action finds
its quote replaced or the window over, a repeated close finds the RFQ closed."""

from celery import shared_task
from django.db import transaction

from rfq import services
from rfq.models import Rfq

LIMITS = dict(queue="default", time_limit=30, soft_time_limit=25, acks_late=True)


@shared_task(name="rfq.disseminate", **LIMITS)
def rfq_disseminate_task(rfq_id: int) -> int:
    with transaction.atomic():
        scheduled = services.rfq_disseminate(rfq_id=rfq_id)
        if scheduled is None:
            return 0  # sent already: its actions and close were scheduled then
        window = Rfq.objects.values_list("window_seconds", flat=True).get(pk=rfq_id)
        for s in scheduled:
            transaction.on_commit(
                lambda s=s: rfq_provider_act_task.apply_async((s.invitation_id, s.index), countdown=s.delay)
            )
        transaction.on_commit(lambda: rfq_close_task.apply_async((rfq_id,), countdown=window))
    return len(scheduled)


@shared_task(name="rfq.provider_act", **LIMITS)
def rfq_provider_act_task(invitation_id: int, index: int) -> None:
    services.provider_act(invitation_id=invitation_id, index=index)


@shared_task(name="rfq.close", **LIMITS)
def rfq_close_task(rfq_id: int) -> str:
    result = services.rfq_close(rfq_id=rfq_id)
    if result.retry_in is not None:
        rfq_close_task.apply_async((rfq_id,), countdown=max(0.05, result.retry_in))
    return result.status
