"""The package API: POST /api/packages/ (PM) enters one parent order per leg, linked by a
package; GET /api/packages/ and /api/packages/{id}/ read them back."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasRole, IsPM
from core.choices import Side, Urgency
from oms import packages as services
from oms.api.inputs import InstrumentSymbolInput, QuantityInput, error_responses
from oms.api.serializers import OrderSerializer, VisiblePortfolioField
from oms.domain import compliance
from oms.domain.packages import TEMPLATES
from oms.models import Package
from oms.selectors import portfolios_visible_to


class PackageLegInput(serializers.Serializer):
    instrument = InstrumentSymbolInput()
    side = serializers.ChoiceField(choices=Side.choices)
    ratio = QuantityInput(required=False, default="1")


class PackageCreateInput(serializers.Serializer):
    portfolio = VisiblePortfolioField()
    quantity = QuantityInput(help_text="Package units: leg i trades quantity * ratio_i.")
    legs = PackageLegInput(many=True, allow_empty=False, max_length=8)
    hedge = serializers.BooleanField(required=False, default=False, help_text="Add a delta hedge in the underlying.")
    template = serializers.ChoiceField(
        choices=[("", "custom"), *((t, t) for t in TEMPLATES)], required=False, default=""
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.MEDIUM)
    allow_leg_work = serializers.BooleanField(required=False, default=False)
    confirm = serializers.BooleanField(required=False, default=False)


def package_body(package: Package) -> dict:
    legs = list(package.legs.select_related("order__instrument", "order__portfolio", "order__created_by"))
    return {
        "id": package.pk,
        "portfolio": package.portfolio_id,
        "template": package.template,
        "side": package.side,
        "quantity": str(package.quantity),
        "urgency": package.urgency,
        "allow_leg_work": package.allow_leg_work,
        "status": _status(legs),
        "net_premium": str(package.net_premium),
        "net_delta": str(package.net_delta),
        "net_vega": str(package.net_vega),
        "rejection_reasons": package.rejection_reasons,
        "legs": [
            {
                "index": leg.index,
                "instrument": leg.order.instrument.symbol,
                "side": leg.order.side,
                "ratio": str(leg.ratio),
                "is_hedge": leg.is_hedge,
                "model_price": str(leg.model_price),
                "order": leg.order_id,
            }
            for leg in legs
        ],
        "orders": [OrderSerializer(leg.order).data for leg in legs],
        "created_at": package.created_at.isoformat(),
    }


def _status(legs) -> str:
    statuses = {leg.order.status for leg in legs}
    return statuses.pop() if len(statuses) == 1 else "MIXED"


def packages_visible_to(user):
    return Package.objects.filter(portfolio__in=portfolios_visible_to(user))


class PackageListCreate(APIView):
    def get_permissions(self):
        return [IsPM()] if self.request.method == "POST" else [HasRole()]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        rows = packages_visible_to(request.user).order_by("-id")[:100]
        return Response({"results": [package_body(p) for p in rows]})

    @extend_schema(request=PackageCreateInput, responses={201: OpenApiTypes.OBJECT, **error_responses(400, 401, 403)})
    def post(self, request):
        data = PackageCreateInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        legs = [services.LegInput(leg["instrument"], leg["side"], leg["ratio"]) for leg in v["legs"]]
        try:
            package = services.package_submit(
                actor=request.user,
                portfolio=v["portfolio"],
                quantity=v["quantity"],
                legs=legs,
                hedge=v["hedge"],
                template=v["template"],
                urgency=v["urgency"],
                allow_leg_work=v["allow_leg_work"],
                confirmed=v["confirm"],
            )
        except services.PackageInvalid as exc:
            raise ValidationError(exc.errors) from None
        except compliance.ConfirmationRequired as exc:
            raise ValidationError({"confirm": [f"Confirm to enter this package: {exc}."]}) from None
        return Response(package_body(package), status=status.HTTP_201_CREATED)


class PackageDetail(APIView):
    permission_classes = [HasRole]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(401, 403, 404)})
    def get(self, request, pk: int):
        package = packages_visible_to(request.user).filter(pk=pk).first()
        if package is None:
            raise NotFound(f"package {pk} does not exist")
        return Response(package_body(package))
