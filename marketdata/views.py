from django.shortcuts import get_object_or_404, render

from accounts import roles
from accounts.decorators import role_required
from marketdata.models import Instrument
from marketdata.selectors import latest_snapshot

ANY_ROLE = roles.ROLES


@role_required(*ANY_ROLE)
def market_overview(request):
    rows = [{"instrument": i, "book": latest_snapshot(i.symbol)} for i in Instrument.objects.filter(is_active=True)]
    return render(request, "marketdata/overview.html", {"rows": rows})


@role_required(*ANY_ROLE)
def depth_ladder(request, symbol: str):
    instrument = get_object_or_404(Instrument, symbol=symbol, is_active=True)
    return render(request, "marketdata/ladder.html", {"instrument": instrument, "book": latest_snapshot(symbol)})
