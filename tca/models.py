"""Stored post-trade analysis: one row per finished order, computed once (tca.services)
from facts stored when they happened (the decision and arrival prices, the fills, the child
orders, the stored market samples, the RFQ record, the pre-trade estimate) and never
recomputed, so the figures compliance saw last quarter are the figures it sees today."""

from django.db import models

from core.choices import Strategy, Urgency


class OrderTca(models.Model):
    order = models.OneToOneField("oms.Order", on_delete=models.PROTECT, related_name="tca")
    version = models.PositiveSmallIntegerField(help_text="tca.domain.analysis.VERSION the figures follow.")
    computed_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(db_index=True, help_text="When the order's work ended: the report's period.")
    # The report's group keys and headline figures, beside the full analysis.
    strategy = models.CharField(max_length=8, choices=Strategy.choices, blank=True)
    urgency = models.CharField(max_length=6, choices=Urgency.choices)
    notional = models.DecimalField(max_digits=28, decimal_places=2)
    shortfall = models.DecimalField(max_digits=28, decimal_places=2)
    shortfall_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    realised_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    estimate_bps = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    figures = models.JSONField(help_text="tca.domain.analysis.analyse's result, decimals as strings.")

    class Meta:
        ordering = ["-finished_at", "-id"]
        verbose_name = "order TCA"
        verbose_name_plural = "order TCA"

    def __str__(self):
        return f"TCA of order {self.order_id}: {self.shortfall_bps} bps"


class ImpactRefit(models.Model):
    """One re-fit of an instrument's impact coefficient from realised trading costs
    (tca.services.impact_refit): the value before and after, the median target before the
    step bound, and every order it came from with what it implied. Append-only."""

    instrument = models.ForeignKey("marketdata.Instrument", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(db_index=True)
    previous = models.DecimalField(max_digits=8, decimal_places=4)
    coefficient = models.DecimalField(max_digits=8, decimal_places=4)
    target = models.DecimalField(max_digits=12, decimal_places=4, null=True)
    bounded = models.BooleanField(default=False, help_text="The step bound held the change back.")
    reason = models.CharField(max_length=200)
    # [{order, coefficient_then, predicted_impact_bps, observed_impact_bps, implied}]
    orders = models.JSONField(default=list)
    last_tca = models.ForeignKey(
        OrderTca,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The newest TCA row it read: the next refit starts after it.",
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.instrument_id} {self.previous} -> {self.coefficient} at {self.at:%Y-%m-%d %H:%M}"


class OrderCounterfactuals(models.Model):
    """What the same order would have cost other ways (tca.domain.counterfactual), from the
    market state recorded at its execution's arrival: computed once by a task, never
    rewritten. A row of its own rather than a part of OrderTca: it depends on the arrival
    alone, not on how the order ended, and takes seconds of backtest to compute, so it is
    ready before the order finishes and never delays the TCA."""

    order = models.OneToOneField("oms.Order", on_delete=models.PROTECT, related_name="counterfactuals")
    arrival = models.OneToOneField("ems.ExecutionArrival", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveSmallIntegerField(help_text="tca.domain.counterfactual.VERSION the rows follow.")
    computed_at = models.DateTimeField(auto_now_add=True)
    figures = models.JSONField(help_text="tca.domain.counterfactual.compute's result: rows and market source.")

    class Meta:
        verbose_name = "order counterfactuals"
        verbose_name_plural = "order counterfactuals"

    def __str__(self):
        return f"counterfactuals of order {self.order_id}"
