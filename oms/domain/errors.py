class DomainError(Exception):
    """A business rule refused a command. Edges turn it into a 4xx, never a 500."""

    http_status = 400
    code = "invalid"


class IllegalTransition(DomainError):
    http_status = 409
    code = "illegal_transition"

    def __init__(self, status: str, event: str):
        super().__init__(f"cannot {event} an order that is {status}")
        self.status, self.event = status, event


class NotFound(DomainError):
    http_status = 404
    code = "not_found"


class Conflict(DomainError):
    http_status = 409
    code = "conflict"
