"""The API docs work offline (Swagger UI from our static files) and pages carry a favicon."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_docs_load_swagger_ui_from_our_static_files(client):
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert scripts, html
    for url in scripts:
        assert url.startswith("/static/"), url  # never a CDN
        assert finders.find(url.removeprefix("/static/")), url
    assert "swagger-ui-bundle.js" in html


def test_pages_name_a_favicon_that_exists(client, pm):
    client.force_login(pm)
    html = client.get("/accounts/login/", follow=True).content.decode()
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in html
    assert finders.find("favicon.svg")
