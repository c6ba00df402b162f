from django.urls import path
from rest_framework.routers import DefaultRouter

from ems.api.views import ExecutionViewSet, KillSwitchView

router = DefaultRouter(trailing_slash=True)
router.register("executions", ExecutionViewSet, basename="execution")
urlpatterns = [*router.urls, path("killswitch/", KillSwitchView.as_view(), name="killswitch")]
