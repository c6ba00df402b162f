from rest_framework.permissions import BasePermission

from accounts import roles


class IsPM(BasePermission):
    message = "Only a portfolio manager may do this."

    def has_permission(self, request, view):
        return roles.is_pm(request.user)


class IsDesk(BasePermission):
    message = "Only a trader or an admin may do this."

    def has_permission(self, request, view):
        return roles.is_desk(request.user)


class HasRole(BasePermission):
    """Any of the three roles; a user without one sees nothing."""

    message = "Your account has no role on this desk."

    def has_permission(self, request, view):
        return roles.role_of(request.user) is not None


class IsPMOrTrader(BasePermission):
    """The people who own or work an order: not the admin."""

    message = "Only a portfolio manager or a trader may do this."

    def has_permission(self, request, view):
        return roles.role_of(request.user) in (roles.PM, roles.TRADER)
