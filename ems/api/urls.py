from django.urls import path
from rest_framework.routers import DefaultRouter

from ems.api.blocks import BlockViewSet
from ems.api.views import ExecutionViewSet, KillSwitchView

router = DefaultRouter(trailing_slash=True)
router.register("executions", ExecutionViewSet, basename="execution")
router.register("blocks", BlockViewSet, basename="block")
urlpatterns = [*router.urls, path("killswitch/", KillSwitchView.as_view(), name="killswitch")]
