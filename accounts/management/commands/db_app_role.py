"""`manage.py db_app_role`: run as the database owner after `migrate` (PostgreSQL)."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.database import app_role_grant


class Command(BaseCommand):
    help = "Create/refresh the application's PostgreSQL role: it owns nothing, the audit trail is append-only for it."

    def add_arguments(self, parser):
        parser.add_argument("--role", default=os.environ.get("APP_DB_ROLE", ""))
        parser.add_argument("--password", default=os.environ.get("APP_DB_PASSWORD", ""))

    def handle(self, *args, role, password, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("not PostgreSQL: the SQLite triggers guard the audit trail; nothing to do")
            return
        if not role:
            raise CommandError("give --role (or APP_DB_ROLE)")
        with transaction.atomic():
            app_role_grant(role=role, password=password or None)
        self.stdout.write(f"role {role}: read/write, events and fills append-only, owns nothing")
