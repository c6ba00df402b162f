"""Login lockout, token throttling, expiring tokens that die with the password, body caps."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.api import AuthThrottle

pytestmark = pytest.mark.django_db


def _token(client, username="pm", password="pw"):
    body = {"username": username, "password": password}
    return client.post("/api/auth/token/", body, content_type="application/json")


def test_token_contract_unchanged(client, pm):
    r = _token(client)
    assert r.status_code == 200 and list(r.json()) == ["token"]
    assert client.get("/api/portfolios/", HTTP_AUTHORIZATION=f"Token {r.json()['token']}").status_code == 200
    assert _token(client).json()["token"] == r.json()["token"]  # asking again gives the same live token


def test_wrong_password_is_400_without_a_token(client, pm):
    r = _token(client, password="nope")
    assert r.status_code == 400 and r.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not Token.objects.exists()


def test_expired_token_is_refused_and_replaced(client, pm, settings):
    key = _token(client).json()["token"]
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(hours=settings.API_TOKEN_TTL_HOURS))
    r = client.get("/api/portfolios/", HTTP_AUTHORIZATION=f"Token {key}")
    assert r.status_code == 401 and r.json()["detail"].startswith("Token has expired")
    assert not Token.objects.filter(key=key).exists()
    fresh = _token(client).json()["token"]
    assert fresh != key and client.get("/api/portfolios/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200


def test_token_dies_with_a_password_change(client, pm):
    key = _token(client).json()["token"]
    pm.set_password("new-secret")
    pm.save()
    assert client.get("/api/portfolios/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert _token(client, password="new-secret").status_code == 200


def test_other_saves_keep_the_token(client, pm):
    key = _token(client).json()["token"]
    pm.first_name = "Pat"
    pm.save()
    assert client.get("/api/portfolios/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_token_endpoint_is_throttled_per_address(client, pm, monkeypatch):
    monkeypatch.setitem(AuthThrottle.THROTTLE_RATES, "auth", "3/min")
    assert [_token(client, password="nope").status_code for _ in range(4)] == [400, 400, 400, 429]
    assert _token(client).status_code == 429  # even the right password waits: nothing is checked
    assert "Retry-After" in _token(client).headers


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_page_locks_out_and_the_admin_sees_it(client, pm, admin_user):
    codes = [client.post("/accounts/login/", {"username": "pm", "password": "nope"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    locked = client.post("/accounts/login/", {"username": "pm", "password": "pw"})
    assert locked.status_code == 429 and "_auth_user_id" not in client.session  # the right password is refused too
    attempt = AccessAttempt.objects.get(username="pm")
    assert attempt.failures_since_start == 4  # the refused right password counts as well
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and b"pm" in page.content


@override_settings(AXES_FAILURE_LIMIT=2)
def test_token_endpoint_shares_the_lockout(client, pm):
    assert [_token(client, password="nope").status_code for _ in range(2)] == [400, 429]
    r = _token(client)
    assert r.status_code == 429 and "Too many failed logins" in r.json()["detail"]
    assert not Token.objects.exists()


def test_multipart_body_over_the_cap_is_refused(client, pm, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = b"x" * 5000
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post("/api/auth/token/", {"username": "pm", "password": "pw", "f": SimpleUploadedFile("a", big)})
    assert r.status_code == 400 and "too large" in r.json()["detail"]
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("groups", "superuser", "role", "orders_status"),
    [
        (["PM"], False, "PM", 200),
        (["PM", "Trader"], False, "Trader", 200),
        (["Trader", "Admin"], False, "Admin", 200),
        (["Other"], False, None, 403),
        ([], True, "Admin", 200),
    ],
)
def test_the_token_brings_the_role_of_its_user(client, make_user, groups, superuser, role, orders_status):
    """The token query carries the user's role (one query, not two); the precedence is the
    one accounts.roles applies to a session user."""
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.tokens import ExpiringTokenAuthentication

    user = make_user("someone")
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
    user.is_superuser = superuser
    user.save()
    token = Token.objects.create(user=user)
    found, _ = ExpiringTokenAuthentication().authenticate_credentials(token.key)
    assert getattr(found, roles._CACHE_ATTR) == role
    fresh = type(user).objects.get(pk=user.pk)
    assert roles.role_of(fresh) == role  # the session path agrees
    answer = client.get("/api/orders/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answer.status_code == orders_status
