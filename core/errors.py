"""The error base for business refusals. Pure and free of HTTP: `config.errors` maps each
class to a status code at the API edge."""


class DomainError(Exception):
    """A business rule refused a command. Edges answer it as a 4xx, never a 500."""

    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class IllegalTransition(Conflict):
    """An event that the aggregate's state table does not allow in its current status."""

    code = "illegal_transition"

    def __init__(self, status: str, event: str, aggregate: str = "order"):
        super().__init__(
            f"cannot {event} an {aggregate} that is {status}"
            if aggregate[0] in "aeiou"
            else f"cannot {event} a {aggregate} that is {status}"
        )
        self.status, self.event, self.aggregate = status, event, aggregate
