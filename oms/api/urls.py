from django.urls import path
from rest_framework.routers import DefaultRouter

from oms.api.packages import PackageDetail, PackageListCreate
from oms.api.views import OrderViewSet, PortfolioViewSet, PositionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("orders", OrderViewSet, basename="order")
router.register("portfolios", PortfolioViewSet, basename="portfolio")
router.register("positions", PositionViewSet, basename="position")
urlpatterns = router.urls + [
    path("packages/", PackageListCreate.as_view(), name="package-list"),
    path("packages/<int:pk>/", PackageDetail.as_view(), name="package-detail"),
]
