"""Cash movements, holding transfers and reconciliation runs and breaks are append-only in
the database too, as order events and fills are (0004): a trigger refuses UPDATE and DELETE
(on SQLite, DELETE only outside `manage.py flush`); on PostgreSQL the application role holds
no UPDATE/DELETE/TRUNCATE on them either (accounts.database.APPEND_ONLY_TABLES)."""

from django.db import migrations

from core.append_only import append_only

TABLES = ("oms_cashmovement", "oms_holdingtransfer", "oms_reconciliationrun", "oms_reconciliationbreak")


class Migration(migrations.Migration):
    dependencies = [("oms", "0007_ledger")]
    operations = [migrations.RunPython(append_only(TABLES, up=True), append_only(TABLES, up=False))]
