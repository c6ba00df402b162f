"""Django's flush, the one path allowed to empty the SQLite audit tables (test teardown,
resetting a demo database). On PostgreSQL it is Django's TRUNCATE, which only the owner may run."""

from django.core.management.commands.flush import Command as DjangoFlush

from accounts.database import audit_erasable


class Command(DjangoFlush):
    def handle(self, **options):
        with audit_erasable():
            return super().handle(**options)
