import pytest

from sor import services
from sor.domain import DEFAULT_RULES
from sor.models import SelectionRuleRecord

pytestmark = pytest.mark.django_db


def test_seeding_puts_the_default_matrix_in_the_table():
    assert services.selection_rules_seed() == len(DEFAULT_RULES)
    assert [r.to_domain() for r in SelectionRuleRecord.objects.all()] == sorted(DEFAULT_RULES, key=lambda r: r.priority)
    assert services.active_rules() == list(DEFAULT_RULES)


def test_seeding_again_changes_nothing_and_keeps_admin_edits():
    services.selection_rules_seed()
    SelectionRuleRecord.objects.filter(name="catch-all").update(strategy="TWAP", enabled=False)
    SelectionRuleRecord.objects.filter(name="direct-small").delete()
    assert services.selection_rules_seed() == 1  # only the deleted rule comes back
    assert SelectionRuleRecord.objects.count() == len(DEFAULT_RULES)
    edited = SelectionRuleRecord.objects.get(name="catch-all")
    assert edited.strategy == "TWAP" and edited.enabled is False


def test_the_seed_command(capsys):
    from django.core.management import call_command

    call_command("seed_selection_rules")
    call_command("seed_selection_rules")
    assert capsys.readouterr().out == f"{len(DEFAULT_RULES)} selection rule(s) created\n0 selection rule(s) created\n"
