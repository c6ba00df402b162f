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


def test_the_rules_a_decision_reads_follow_every_edit():
    """active_rules() reuses rules already built from identical rows, so an edit (even a
    queryset update, which no save() sees) must be in the very next read."""
    services.selection_rules_seed()
    first = services.active_rules()
    assert first == [r.to_domain() for r in SelectionRuleRecord.objects.filter(enabled=True)]
    assert services.active_rules()[0] is first[0]  # the same row: the rule built once
    SelectionRuleRecord.objects.filter(name="catch-all").update(
        strategy="TWAP", parameters={"participation_rate": 0.07}
    )
    SelectionRuleRecord.objects.filter(name="direct-small").update(enabled=False)
    after = services.active_rules()
    assert after == [r.to_domain() for r in SelectionRuleRecord.objects.filter(enabled=True)]
    catch_all = next(r for r in after if r.name == "catch-all")
    assert (catch_all.strategy, dict(catch_all.parameters)) == ("TWAP", {"participation_rate": 0.07})
    assert "direct-small" not in {r.name for r in after}
