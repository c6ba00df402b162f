"""The API's OpenAPI schema loaded for Schemathesis against the real app (in-process WSGI,
the test database), shared by the conformance tests."""

from contextlib import contextmanager

import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


@contextmanager
def loaded_schema(*also_expected: str):
    """The schema, with `also_expected` statuses accepted for schema-valid requests: a valid
    request may still name an object that does not exist or is in no state to act on, or a
    number finer than the instrument trades, which no schema can express."""
    # As Django's test client does: the test's database connection must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
        accepted = loaded.config.checks.positive_data_acceptance
        accepted.expected_statuses = [*accepted.expected_statuses, *also_expected]
        yield loaded
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
