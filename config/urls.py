from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # DRF's token view brings its own parsers; ours cap body size and nesting.
    path(
        "api/auth/token/",
        ObtainAuthToken.as_view(
            parser_classes=api_settings.DEFAULT_PARSER_CLASSES, renderer_classes=api_settings.DEFAULT_RENDERER_CLASSES
        ),
        name="api-token",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("oms.api.urls")),
    path("api/", include("marketdata.api.urls")),
    path("api/", include("sor.api.urls")),
    path("", include("oms.urls")),
    path("", include("marketdata.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
