"""The RFQ API: one view per command, the snapshot body from rfq.selectors for reads."""

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsDesk
from core.errors import NotFound
from oms.models import Package
from oms.selectors import orders_visible_to
from rfq import selectors, services
from rfq.api.serializers import RfqCreateInput, RfqExecuteInput
from rfq.models import Counterparty


def _visible(request, pk: int):
    rfq = selectors.rfqs_visible_to(request.user).filter(pk=pk).first()
    if rfq is None:
        raise NotFound(f"RFQ {pk} does not exist")
    return rfq


def _body(rfq) -> dict:
    return selectors.rfq_snapshot(rfq)


class RfqListCreate(APIView):
    permission_classes = [IsDesk]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        rows = selectors.rfqs_visible_to(request.user).order_by("-id")[:100]
        return Response({"results": [selectors.rfq_row(r) for r in rows]})

    @extend_schema(request=RfqCreateInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        data = RfqCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if "order" in v and not orders_visible_to(request.user).filter(pk=v["order"]).exists():
            raise NotFound(f"order {v['order']} does not exist")
        if "package" in v and not Package.objects.filter(pk=v["package"]).exists():
            raise NotFound(f"package {v['package']} does not exist")
        rfq = services.rfq_open(
            actor=request.user,
            order_id=v.get("order"),
            package_id=v.get("package"),
            execution_mode=v.get("execution_mode"),
            min_trade_quantity=v.get("min_trade_quantity"),
            quantity=v.get("quantity"),
            counterparty_ids=v.get("counterparties"),
            window_seconds=v.get("window_seconds"),
            two_way=v["two_way"],
            auto_execute_price=v.get("auto_execute_price"),
            auto_execute_bps=v.get("auto_execute_bps"),
        )
        return Response(_body(rfq), status=status.HTTP_201_CREATED)


class RfqDetail(APIView):
    permission_classes = [IsDesk]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        return Response(_body(_visible(request, pk)))


class RfqExecute(APIView):
    permission_classes = [IsDesk]

    @extend_schema(request=RfqExecuteInput, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        rfq = _visible(request, pk)
        data = RfqExecuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.rfq_execute(actor=request.user, rfq_id=rfq.pk, quote_id=data.validated_data["quote"])
        body = _body(rfq)
        body["attempt"] = {"quote": result.quote.pk, "accepted": result.accepted}
        return Response(body)


class RfqCancel(APIView):
    permission_classes = [IsDesk]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        rfq = services.rfq_cancel(actor=request.user, rfq_id=_visible(request, pk).pk)
        return Response(_body(rfq))


class CounterpartyList(APIView):
    """The counterparties a trader may pick on the ticket, with their scorecards."""

    permission_classes = [IsDesk]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        rows = list(Counterparty.objects.all())
        cards = selectors.scorecards([c.pk for c in rows])
        return Response(
            {"results": [selectors.counterparty_row(c, cards[c.pk]) for c in rows]},
        )
