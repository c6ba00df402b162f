from django.urls import path

from rfq.api import views

urlpatterns = [
    path("rfqs/", views.RfqListCreate.as_view(), name="rfq-list"),
    path("rfqs/<int:pk>/", views.RfqDetail.as_view(), name="rfq-detail"),
    path("rfqs/<int:pk>/execute/", views.RfqExecute.as_view(), name="rfq-execute"),
    path("rfqs/<int:pk>/cancel/", views.RfqCancel.as_view(), name="rfq-cancel"),
    path("counterparties/", views.CounterpartyList.as_view(), name="counterparty-list"),
]
