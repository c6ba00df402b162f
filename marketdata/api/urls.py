from django.urls import path
from rest_framework.routers import DefaultRouter

from marketdata.api.views import ConsolidatedBookView, InstrumentViewSet, VenueViewSet

router = DefaultRouter(trailing_slash=True)
router.register("instruments", InstrumentViewSet, basename="instrument")
router.register("venues", VenueViewSet, basename="venue")
urlpatterns = router.urls + [
    path("marketdata/<str:symbol>/", ConsolidatedBookView.as_view(), name="marketdata-book"),
]
