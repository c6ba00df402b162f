from django.urls import re_path

from ems.consumers import ExecutionBlotterConsumer, ExecutionConsumer

websocket_urlpatterns = [
    re_path(r"^ws/executions/$", ExecutionBlotterConsumer.as_asgi()),
    re_path(r"^ws/executions/(?P<execution_id>[0-9]{1,18})/$", ExecutionConsumer.as_asgi()),
]
