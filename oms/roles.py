"""Roles are Django groups. A user's role decides what every page, API view and websocket
lets them do."""
PM, TRADER, ADMIN = "PM", "Trader", "Admin"
ROLES = (PM, TRADER, ADMIN)


def role_of(user) -> str | None:
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    names = {g.name for g in user.groups.all()}
    for role in (ADMIN, TRADER, PM):
        if role in names:
            return role
    return None


def is_pm(user) -> bool:
    return role_of(user) == PM


def is_desk(user) -> bool:
    """Traders and admins see every order."""
    return role_of(user) in (TRADER, ADMIN)
