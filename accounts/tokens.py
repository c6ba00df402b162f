"""API tokens: `POST /api/auth/token/` {username, password} -> {token}, then
`Authorization: Token <token>` (the public contract, DRF's token format). On top of DRF's
tokens: a token expires API_TOKEN_TTL_HOURS after it was issued (asking again issues a new
one), and it dies when its user's password changes (`tokens_revoke_on_password_change`)."""

import functools
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts import roles


def token_expired(token: Token, *, now=None) -> bool:
    return (now or timezone.now()) >= token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


@functools.cache
def _tokens_with_roles():
    # Built once per process: composing the role subquery cost more than running it. Each
    # request filters a clone of it (QuerySets are immutable), so nothing is shared but the plan.
    return Token.objects.select_related("user").annotate(role_found=roles.role_subquery(OuterRef("user_id")))


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        # The user's role comes in the same query as the token and the user: every API
        # request asks for it (accounts.permissions), so it costs no query of its own.
        try:
            token = _tokens_with_roles().get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        roles.remember_role(user, roles.ADMIN if user.is_superuser else token.role_found)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed("Token has expired; ask /api/auth/token/ for a new one.")
        return user, token


@transaction.atomic
def token_issue(*, user) -> Token:
    """The user's current token, or a fresh one when there is none or it has expired."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def tokens_revoke_on_password_change(sender, instance, **kwargs) -> None:
    """pre_save of User: `set_password()` marks the instance (Django keeps the raw password in
    `_password` until the save), whichever path changed it (admin, changepassword, a view)."""
    if instance.pk is not None and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user_id=instance.pk).delete()
