"""The OpenAPI schema class of the whole API (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS); apart from
core.api because DRF imports that module while it loads its settings."""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

# What every error answer means, documented once for every operation of the schema.
ERROR_TEXT = {
    400: "Malformed: a message per field (or per query parameter); nothing stored.",
    401: "Not authenticated: send `Authorization: Token <token>` or a session.",
    403: "The user's role may not do this.",
    404: "No such object, or not one this user may see.",
    409: "Conflicts with the current state (a finished order, an executed RFQ, a reused client order id).",
    429: "Too many requests: try again after the Retry-After seconds.",
}


class DocumentedErrorsSchema(AutoSchema):
    """The schema says what the API does: beside its success, each operation documents the
    error answers it can give (config.errors gives them all one shape), so no view has to
    list them by hand: 401/403 unless it is open to anyone, 404 on a path or body naming an object,
    400 where it takes a body or query parameters, 409 where it changes state."""

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code in self._error_codes():
            bodies.setdefault(str(code), {"description": ERROR_TEXT[code]})
        return bodies

    def _error_codes(self) -> list[int]:
        codes = []
        if not any(p is AllowAny for p in getattr(self.view, "permission_classes", ())):
            codes += [401, 403]
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if "{" in self.path or writes:  # the object in the path, or one the body names
            codes.append(404)
        if writes or self.method == "GET":  # a body, or filters and limit/offset
            codes.append(400)
        if writes:
            codes.append(409)
        return codes
