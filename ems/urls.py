from django.urls import path

from ems import views

urlpatterns = [
    path("trader/executions/", views.executions_page, name="executions"),
    path("executions/<int:pk>/", views.execution_page, name="execution-detail"),
    path("orders/<int:order_id>/execute/", views.execution_ticket, name="execution-ticket"),
    path("blocks/", views.blocks_page, name="blocks-page"),
    path("trader/blocks/<int:pk>/", views.block_page, name="block-page"),
]
