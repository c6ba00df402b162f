from django.urls import path

from marketdata import views

urlpatterns = [
    path("market/", views.market_overview, name="market-overview"),
    path("market/<str:symbol>/", views.depth_ladder, name="depth-ladder"),
]
