from django.urls import path

from tca.api.views import OrderTcaView, TcaReportView

urlpatterns = [
    path("tca/report/", TcaReportView.as_view(), name="tca-report-api"),
    path("tca/<int:order_id>/", OrderTcaView.as_view(), name="tca-order-api"),
]
