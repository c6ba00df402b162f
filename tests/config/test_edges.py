"""Edges every page and API list shares: the favicon browsers ask for, and strict pages on
every API list (a bad limit or offset is a 400, never silently ignored)."""

import pytest
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.mixins import ListModelMixin

from core.api import KeysetPagination, Pagination

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_icon(client):
    answer = client.get("/favicon.ico")
    assert (answer.status_code, answer["Location"]) == (301, "/static/favicon.svg")
    icon = client.get(answer["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


def _list_paths() -> list[str]:
    paths = []
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        view = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        is_list = actions.get("get") == "list" or (not actions and view and issubclass(view, ListModelMixin))
        if method == "GET" and is_list and "{" not in path:
            paths.append(path)
    return sorted(set(paths))


def test_the_api_has_the_lists_this_test_checks():
    assert {"/api/orders/", "/api/instruments/", "/api/venues/", "/api/routing-decisions/"} <= set(_list_paths())


@pytest.mark.parametrize("path", _list_paths())
@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=1001", "offset=-1"])
def test_every_api_list_pages_strictly(api_client, admin_user, path, query):
    from django.urls import resolve

    view = resolve(path).func.cls
    assert issubclass(view.pagination_class, (Pagination, KeysetPagination)), (
        f"{path} pages with {view.pagination_class}"
    )
    answer = api_client(admin_user).get(f"{path}?{query}")
    assert answer.status_code == 400 and list(answer.json()) == [query.split("=")[0]], (path, answer.content)
