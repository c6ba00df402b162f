from django.core.management.base import BaseCommand

from sor.services import selection_rules_seed


class Command(BaseCommand):
    help = "Add the default strategy selection rules missing from the admin table (idempotent)."

    def handle(self, *args, **options):
        created = selection_rules_seed()
        self.stdout.write(f"{created} selection rule(s) created")
