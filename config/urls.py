from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import ObtainToken
from config.health import healthz
from config.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Prometheus: the internal network or METRICS_TOKEN only (config.metrics, docs/operations.md).
    path("metrics", metrics_view, name="metrics"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Throttled, locked out by django-axes, expiring tokens (accounts.api).
    path("api/auth/token/", ObtainToken.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("oms.api.urls")),
    path("api/", include("marketdata.api.urls")),
    path("api/", include("sor.api.urls")),
    path("api/", include("ems.api.urls")),
    path("api/", include("rfq.api.urls")),
    path("api/", include("tca.api.urls")),
    path("", include("oms.urls")),
    path("", include("marketdata.urls")),
    path("", include("rfq.urls")),
    path("", include("ems.urls")),
    path("", include("tca.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
