from django.urls import re_path

from rfq.consumers import RfqLadderConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rfqs/(?P<rfq_id>[0-9]{1,12})/$", RfqLadderConsumer.as_asgi()),
]
