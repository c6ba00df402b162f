from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.choices import Strategy
from marketdata.models import Instrument
from sor.domain import SelectionRule
from sor.domain.rules import RANGE_FIELDS, SET_FIELDS


class SelectionRuleRecord(models.Model):
    """One row of the strategy selection matrix, editable in the admin console. The router
    evaluates enabled rows by priority; the first whose conditions all hold picks the strategy.
    Ranges are half-open [min, max); an empty bound or set means "any"."""

    priority = models.PositiveIntegerField(db_index=True)
    name = models.SlugField(max_length=60, unique=True)
    strategy = models.CharField(max_length=8, choices=Strategy.choices)
    enabled = models.BooleanField(default=True)
    rationale = models.CharField(
        max_length=300,
        blank=True,
        help_text="Sentence template, e.g. '{participation_pct:.1f}% of ADV: too large for one sweep'.",
    )
    participation_min = models.FloatField(null=True, blank=True, help_text="Quantity / ADV (0.15 = 15%).")
    participation_max = models.FloatField(null=True, blank=True)
    spread_bps_min = models.FloatField(null=True, blank=True)
    spread_bps_max = models.FloatField(null=True, blank=True)
    depth_ratio_min = models.FloatField(null=True, blank=True, help_text="Displayed depth on our side / quantity.")
    depth_ratio_max = models.FloatField(null=True, blank=True)
    time_left_seconds_min = models.FloatField(null=True, blank=True)
    time_left_seconds_max = models.FloatField(null=True, blank=True)
    limit_distance_bps_min = models.FloatField(
        null=True, blank=True, help_text="How far the limit pays through the mid."
    )
    limit_distance_bps_max = models.FloatField(null=True, blank=True)
    dark_venues_min = models.PositiveIntegerField(null=True, blank=True)
    dark_venues_max = models.PositiveIntegerField(null=True, blank=True)
    volatility_regimes = models.JSONField(null=True, blank=True, help_text='Any of ["LOW", "NORMAL", "HIGH"].')
    urgencies = models.JSONField(null=True, blank=True, help_text='Any of ["LOW", "MEDIUM", "HIGH"].')
    asset_classes = models.JSONField(null=True, blank=True, help_text='Any of ["EQUITY", "OPTION", "CRYPTO"].')
    parameters = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = "strategy selection rule"

    def __str__(self):
        return f"{self.priority} {self.name} -> {self.strategy}"

    def definition(self) -> dict:
        return self.definition_from({column: getattr(self, column) for column in DEFINITION_COLUMNS})

    @staticmethod
    def definition_from(values: Mapping[str, Any]) -> dict:
        """The rule's definition from its column values (a row as `values()` reads it)."""
        data = {column: values[column] for column in DEFINITION_COLUMNS}
        data["parameters"] = data["parameters"] or {}
        for name in SET_FIELDS:
            data[name] = data[name] or None
        return data

    def to_domain(self) -> SelectionRule:
        return SelectionRule.from_dict(self.definition())

    def clean(self):
        try:
            self.to_domain()
        except (ValueError, TypeError, KeyError) as exc:
            raise ValidationError(str(exc)) from exc

    @classmethod
    def columns_from_domain(cls, rule: SelectionRule) -> dict:
        """The column values of a row holding `rule` (the inverse of definition())."""
        columns = {f.name for f in cls._meta.fields}
        return {k: v for k, v in rule.to_dict().items() if k in columns}


# The columns a rule's definition is made of, in SelectionRuleRecord.definition().
DEFINITION_COLUMNS = (
    "priority",
    "name",
    "strategy",
    "rationale",
    "parameters",
    *(f"{prefix}_{bound}" for prefix in RANGE_FIELDS for bound in ("min", "max")),
    *SET_FIELDS,
)


class DecisionKind(models.TextChoices):
    RECOMMENDATION = "RECOMMENDATION"
    WHAT_IF = "WHAT_IF"
    REEVALUATION = "REEVALUATION"


class RoutingDecision(models.Model):
    """Every routing decision with the inputs it saw, so "why did this order go to X" always
    has an answer. Append-only."""

    kind = models.CharField(max_length=16, choices=DecisionKind.choices)
    order = models.ForeignKey(
        "oms.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="routing_decisions"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    strategy = models.CharField(max_length=8, choices=Strategy.choices)
    rule = models.CharField(max_length=60)
    parameters = models.JSONField(default=dict)
    estimated_cost_bps = models.DecimalField(max_digits=12, decimal_places=2)
    estimated_risk_bps = models.DecimalField(max_digits=12, decimal_places=2)
    estimated_cost = models.DecimalField(max_digits=28, decimal_places=2)
    rationale = models.JSONField(default=list)
    inputs = models.JSONField(default=dict)
    cost_breakdown = models.JSONField(default=dict)
    allocation = models.JSONField(default=list, blank=True)
    market_data = models.JSONField(default=dict, help_text="Snapshot seq, age and freshness the decision used.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # GET /api/routing-decisions/ newest first, a cursor per page (core.api.KeysetPagination).
        indexes = [models.Index(fields=["created_at", "id"], name="routingdecision_newest")]

    def __str__(self):
        return f"{self.kind} {self.strategy} for {self.order_id or self.instrument_id}"
