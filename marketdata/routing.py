from django.urls import re_path

from marketdata.consumers import MarketDataConsumer, MarketOverviewConsumer

websocket_urlpatterns = [
    re_path(r"^ws/marketdata/$", MarketOverviewConsumer.as_asgi()),
    re_path(r"^ws/marketdata/(?P<symbol>[A-Za-z0-9._-]{1,40})/$", MarketDataConsumer.as_asgi()),
]
