from django.urls import path

from oms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("pm/", views.pm_desk, name="pm-desk"),
    path("pm/packages/new/", views.package_ticket, name="package-ticket"),
    path("trader/", views.trader_blotter, name="trader-blotter"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
]
