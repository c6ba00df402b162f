from django.contrib.auth.models import Group, User
from django.db import transaction

from accounts import roles


@transaction.atomic
def user_with_role_ensure(*, username: str, role: str, password: str) -> User:
    """A user holding exactly `role` (admins are staff and superusers). The password is set
    when the user is created, never reset afterwards: a changed password stays changed."""
    if role not in roles.ROLES:
        raise ValueError(f"unknown role {role!r}")
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
    user.is_staff = user.is_superuser = role == roles.ADMIN
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    return user
