from django.urls import path

from rfq import views

urlpatterns = [
    path("rfqs/", views.rfq_list, name="rfq-list-page"),
    path("rfqs/new/<int:order_id>/", views.rfq_ticket, name="rfq-ticket"),
    path("rfqs/new/package/<int:package_id>/", views.package_rfq_ticket, name="package-rfq-ticket"),
    path("rfqs/<int:pk>/", views.rfq_detail, name="rfq-detail-page"),
]
