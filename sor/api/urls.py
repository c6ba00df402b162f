from django.urls import path
from rest_framework.routers import DefaultRouter

from sor.api.views import OrderRecommendationView, PackageRecommendationView, PretradeView, RoutingDecisionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("routing-decisions", RoutingDecisionViewSet, basename="routing-decision")
urlpatterns = router.urls + [
    path("orders/<int:pk>/recommendation/", OrderRecommendationView.as_view(), name="order-recommendation"),
    path("pretrade/", PretradeView.as_view(), name="pretrade"),
    path("packages/<int:pk>/recommendation/", PackageRecommendationView.as_view(), name="package-recommendation"),
]
