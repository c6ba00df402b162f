"""People and permissions: admins create users with a role, disable them (sessions and tokens
end at once); only admins reach any of the console."""

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tokens import token_issue
from core.models import ConsoleChange

pytestmark = pytest.mark.django_db

CONSOLE_URLS = [
    "/admin/",
    "/admin/reconciliation/",
    "/admin/audit/",
    "/admin/audit/export.csv",
    "/admin/auth/user/",
    "/admin/oms/cashmovement/add/",
    "/admin/core/consolechange/",
]


def test_an_admin_creates_a_user_with_a_role(console):
    data = {"username": "newpm", "role": "PM", "password1": "S3cure-enough!", "password2": "S3cure-enough!"}
    r = console.post("/admin/auth/user/add/", data)
    assert r.status_code == 302, r.content.decode()[-3000:]
    user = User.objects.get(username="newpm")
    assert list(user.groups.values_list("name", flat=True)) == ["PM"] and not user.is_staff
    assert ConsoleChange.objects.filter(action="ADD", object_id=str(user.pk)).exists()


def test_an_admin_made_admin_opens_the_console(console, trader, client):
    from accounts.services import user_role_set

    user_role_set(user=trader, role="Admin")
    other = type(client)()
    other.force_login(trader)
    assert other.get("/admin/").status_code == 200


@pytest.mark.parametrize("how", ["action", "form"])
def test_disabling_a_user_ends_their_session_and_token_at_once(console, pm, how, client):
    desk = type(client)()
    desk.force_login(pm)
    assert desk.get("/pm/").status_code == 200
    token = token_issue(user=pm).key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/orders/").status_code == 200
    if how == "action":
        r = console.post("/admin/auth/user/", {"action": "disable_users", "_selected_action": [pm.pk]})
    else:
        data = {
            "username": "pm",
            "role": "PM",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }  # is_active left unticked
        r = console.post(f"/admin/auth/user/{pm.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert not User.objects.get(pk=pm.pk).is_active
    assert api.get("/api/orders/").status_code == 401
    assert not Token.objects.filter(user_id=pm.pk).exists()
    r = desk.get("/pm/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(pm.pk)]
    assert APIClient().post("/api/auth/token/", {"username": "pm", "password": "pw"}).status_code == 400
    disabled = ConsoleChange.objects.filter(object_id=str(pm.pk), content_type__model="user").get()
    assert disabled.changes == {"Active": ["True", "False"]}


@pytest.mark.parametrize("role", [None, "PM", "Trader", "staff"])
@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_only_admins_reach_the_console(client, make_user, role, url):
    user = make_user(f"u-{role}", None if role in (None, "staff") else role)
    if role == "staff":  # a staff flag without the Admin role opens nothing
        user.is_staff = True
        user.save()
    client.force_login(user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", CONSOLE_URLS)
def test_anonymous_users_reach_none_of_it(client, url):
    r = client.get(url)
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_a_run_cannot_be_asked_by_a_trader(client, trader):
    from oms.models import ReconciliationRun

    client.force_login(trader)
    client.post("/admin/reconciliation/run/")
    assert ReconciliationRun.objects.count() == 0
