"""Roles are Django groups. A user's role decides what every page, API view and websocket
lets them do."""

PM, TRADER, ADMIN = "PM", "Trader", "Admin"
ROLES = (PM, TRADER, ADMIN)
DESK_ROLES = (TRADER, ADMIN)

_CACHE_ATTR = "_smart_trading_role"


def role_of(user) -> str | None:
    """The user's role, looked up once per user object (a request's user lives one request)."""
    if not user or not user.is_authenticated:
        return None
    if not hasattr(user, _CACHE_ATTR):
        setattr(user, _CACHE_ATTR, _lookup(user))
    return getattr(user, _CACHE_ATTR)


def _lookup(user) -> str | None:
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in (ADMIN, TRADER, PM):
        if role in names:
            return role
    return None


def is_pm(user) -> bool:
    return role_of(user) == PM


def is_desk(user) -> bool:
    """Traders and admins see every order."""
    return role_of(user) in DESK_ROLES
