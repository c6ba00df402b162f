"""Login lockout through django-axes: failed logins are counted per (username, address) in
the database for the login page, the admin and the token endpoint; a locked-out pair is
refused before its password is checked. Admins see and reset lockouts in the admin
(Axes > Access attempts, Access failures)."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend, except that an authentication without a request (the test client's
    `login()`, management commands) passes through instead of raising: there is no caller
    address to throttle there, and every network path does pass the request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    seconds = int(settings.AXES_COOLOFF_TIME * 3600)
    message = f"Too many failed logins; try again in {max(1, seconds // 60)} minutes or ask an admin to unlock."
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429, headers=headers)
    response = render(request, "error.html", {"status": 429, "message": message}, status=429)
    response["Retry-After"] = headers["Retry-After"]
    return response
