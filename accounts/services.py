from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import roles
from accounts.sockets import user_sockets_close
from core.audit import console_change_record
from core.vocabulary import ConsoleAction


@transaction.atomic
def user_with_role_ensure(*, username: str, role: str, password: str) -> User:
    """A user holding exactly `role` (admins are staff and superusers). The password is set
    when the user is created, never reset afterwards: a changed password stays changed."""
    if role not in roles.ROLES:
        raise ValueError(f"unknown role {role!r}")
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
    user_role_set(user=user, role=role)
    return user


@transaction.atomic
def user_role_set(*, user: User, role: str | None) -> User:
    """Give the user exactly this role (or none): admins are staff and superusers, the
    others neither, so a changed role changes what the console lets them do at once."""
    if role is not None and role not in roles.ROLES:
        raise ValueError(f"unknown role {role!r}")
    user.is_staff = user.is_superuser = role == roles.ADMIN
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role)[0]] if role else [])
    roles.remember_role(user, role)
    return user


def sessions_and_tokens_end(*, user_id: int) -> int:
    """Log the user out everywhere now: their API tokens and every live session go."""
    Token.objects.filter(user_id=user_id).delete()
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user_id):
            ended.append(session.pk)
    Session.objects.filter(pk__in=ended).delete()
    user_sockets_close(user_id)  # and the websockets those sessions opened
    return len(ended)


def sessions_end_on_disable(sender, instance, **kwargs) -> None:
    """pre_save of User: whichever path disables a user (the console's form or action, a
    script), their sessions and tokens end in the same transaction."""
    disabling = instance.pk is not None and not instance.is_active
    if disabling and User.objects.filter(pk=instance.pk, is_active=True).exists():
        sessions_and_tokens_end(user_id=instance.pk)


@transaction.atomic
def user_disable(*, actor, user_id: int, reason: str = "") -> User:
    """Disable a user: they can no longer log in, and their sessions and tokens stop working
    at once (sessions_end_on_disable). Disabling a disabled user changes nothing."""
    user = User.objects.select_for_update().get(pk=user_id)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    console_change_record(
        actor=actor,
        action=ConsoleAction.DISABLE,
        obj=user,
        changes={"Active": ["True", "False"]},
        summary=f"disabled {user.get_username()}" + (f": {reason}" if reason else ""),
    )
    return user
