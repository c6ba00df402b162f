from django.urls import re_path

from marketdata.consumers import MarketDataConsumer

websocket_urlpatterns = [
    re_path(r"^ws/marketdata/(?P<symbol>[A-Za-z0-9._-]+)/$", MarketDataConsumer.as_asgi()),
]
