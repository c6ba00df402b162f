"""Model building blocks shared by every app."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.choices import ConsoleAction


class AppendOnlyError(Exception):
    pass


class AppendOnlyModel(models.Model):
    """An audit row: written once, never changed or deleted through the ORM (the database
    refuses it too: see the apps' append-only migrations)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} are append-only")


class ConsoleChange(AppendOnlyModel):
    """One change made in the admin console, with each field's old and new value (or one
    console action: an export, a reconciliation, disabling a user). Written by
    core.admin.AuditedAdmin and the console's own views; shown on each object's history
    page and searchable in the console (Core > Console changes)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=12, choices=ConsoleAction.choices)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # {field: [old, new]} for a change; what was asked for an export or a run.
    changes = models.JSONField(default=dict, blank=True)
    summary = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="consolechange_object")]

    def __str__(self):
        return f"{self.action} {self.object_repr}"
