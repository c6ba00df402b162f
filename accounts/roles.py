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


def role_subquery(user_id):
    """The role of the user `user_id` (an OuterRef) as a subquery, so a query that loads a
    user can bring its role along (superusers aside: they are ADMIN whatever their groups).
    The same precedence as _lookup: Admin, then Trader, then PM."""
    from django.contrib.auth.models import Group
    from django.db.models import Case, IntegerField, Subquery, Value, When

    precedence = Case(
        *(When(name=role, then=Value(rank)) for rank, role in enumerate((ADMIN, TRADER, PM))),
        output_field=IntegerField(),
    )
    return Subquery(Group.objects.filter(user=user_id, name__in=ROLES).order_by(precedence).values("name")[:1])


def remember_role(user, role: str | None) -> None:
    """Keep a role found with the user (role_subquery) for the rest of the request."""
    setattr(user, _CACHE_ATTR, role)


def is_pm(user) -> bool:
    return role_of(user) == PM


def is_desk(user) -> bool:
    """Traders and admins see every order."""
    return role_of(user) in DESK_ROLES
