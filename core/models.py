"""Model building blocks shared by every app."""

from django.db import models


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
