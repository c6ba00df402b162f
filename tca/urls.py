from django.urls import path

from tca import views

urlpatterns = [
    path("orders/<int:order_id>/tca/", views.order_tca_page, name="order-tca"),
    path("tca/report/", views.report_page, name="tca-report"),
]
