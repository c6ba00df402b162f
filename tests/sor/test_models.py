"""The admin table and the pure rule agree on the conditions (no database needed)."""

from sor.domain.rules import RANGE_FIELDS, SET_FIELDS
from sor.models import SelectionRuleRecord


def test_the_table_has_a_column_for_every_rule_condition():
    columns = {f.name for f in SelectionRuleRecord._meta.fields}
    bounds = {f"{prefix}_{bound}" for prefix in RANGE_FIELDS for bound in ("min", "max")}
    assert bounds | set(SET_FIELDS) <= columns


def test_the_strategy_choices_are_the_core_vocabulary():
    from core.vocabulary import Strategy

    field = SelectionRuleRecord._meta.get_field("strategy")
    assert [value for value, _ in field.choices] == [s.value for s in Strategy]
