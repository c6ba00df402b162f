"""One error shape for the API: 400 with a message per field, 403/404/409 with `detail`,
and never a stack trace."""

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.overload import OVERLOAD_DETAIL, is_overload, overload_headers
from core.errors import Conflict, DomainError, NotFound

log = logging.getLogger(__name__)


# The most specific class first: an IllegalTransition is a Conflict.
DOMAIN_STATUS = [
    (NotFound, status.HTTP_404_NOT_FOUND),
    (Conflict, status.HTTP_409_CONFLICT),
    (DomainError, status.HTTP_400_BAD_REQUEST),
]


def domain_status(exc: DomainError) -> int:
    return next(code for klass, code in DOMAIN_STATUS if isinstance(exc, klass))


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc), "code": exc.code}, status=domain_status(exc))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(getattr(exc, "message_dict", None) or {"detail": exc.messages})
    if isinstance(exc, SuspiciousOperation):
        # Too many fields, a body over the upload limit, ...: the client's fault, a 400.
        exc = exceptions.ParseError(str(exc) or "Bad request.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if is_overload(exc):
        return Response({"detail": OVERLOAD_DETAIL}, status=503, headers=overload_headers())
    response = exception_handler(exc, context)
    if response is None:
        log.exception("unhandled API error", exc_info=exc)
        return Response({"detail": "Internal error; it has been logged."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response
