"""The console's audit trail (core.models.ConsoleChange): who changed what, from which old
value to which new one, and when; written by core.admin.AuditedAdmin and by the services the
console calls (disabling a user, an export, a reconciliation)."""

from decimal import Decimal

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import ConsoleChange
from core.vocabulary import ConsoleAction

SECRET_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})


def value_shown(value) -> str:
    """A field value as the audit keeps it: plain text, decimals without trailing zeros."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set)) or hasattr(value, "__iter__") and not isinstance(value, str | bytes):
        try:
            return ", ".join(sorted(str(v) for v in value)) or "-"
        except TypeError:
            return str(value)
    return "-" if value in (None, "") else str(value)


def form_changes(form, *, add: bool = False) -> dict[str, list[str]]:
    """{field label: [old, new]} for every field the form changed (all of them when adding)."""
    changes = {}
    names = [n for n in form.fields if n in form.cleaned_data] if add else form.changed_data
    for name in names:
        field = form.fields[name]
        label = str(field.label or name)
        if name in SECRET_FIELDS:
            changes[label] = ["-" if add else "(set)", "(changed)"]
            continue
        old = None if add else form.initial.get(name)
        if isinstance(field, forms.ModelMultipleChoiceField) and old is not None:
            old = [field.queryset.model._default_manager.filter(pk=getattr(o, "pk", o)).first() or o for o in old]
        elif isinstance(field, forms.ModelChoiceField) and old is not None:
            old = field.queryset.model._default_manager.filter(pk=getattr(old, "pk", old)).first() or old
        changes[label] = [value_shown(old), value_shown(form.cleaned_data.get(name))]
    return changes


def changes_summary(changes: dict[str, list[str]]) -> str:
    return "; ".join(f"{label}: {old} -> {new}" for label, (old, new) in changes.items())[:500]


def console_change_record(*, actor, action: str, obj=None, changes: dict | None = None, summary: str = ""):
    """One row of the console's audit trail (append-only)."""
    changes = changes or {}
    return ConsoleChange.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=ConsoleAction(action),
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes,
        summary=(summary or changes_summary(changes))[:500],
    )


def console_changes_of(obj):
    return ConsoleChange.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")
