"""The admin console's counterparty curation: a list with scorecard columns, filters by
asset class, tier and enabled, search, bulk enable/disable/set tier, and a detail page with
the scorecard and recent RFQs. Only the Admin group changes counterparties; every change
goes through rfq.services (audited with old and new values)."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from accounts import roles
from core.admin import ReadOnlyAdmin
from core.vocabulary import AssetClass
from marketdata.sim.liquidity_providers import PROFILES
from rfq import selectors, services
from rfq.models import Counterparty, CounterpartyChange, Rfq, RfqEvent, RfqExecution


class AssetClassFilter(admin.SimpleListFilter):
    title = "asset class"
    parameter_name = "asset_class"

    def lookups(self, request, model_admin):
        return [(a.value, a.value) for a in AssetClass]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        ids = [c.pk for c in queryset if self.value() in c.asset_classes]
        return queryset.filter(pk__in=ids)


class CounterpartyForm(forms.ModelForm):
    asset_classes = forms.MultipleChoiceField(
        choices=[(a.value, a.value) for a in AssetClass], widget=forms.CheckboxSelectMultiple
    )
    connection = forms.ChoiceField(choices=[(p, p) for p in PROFILES])

    class Meta:
        model = Counterparty
        fields = ["name", "asset_classes", "tier", "enabled", "max_notional", "connection", "notes"]


def _or_dash(v) -> str:
    return "–" if v is None else str(v)


def _result(inv) -> str:
    if inv.won:
        return "won"
    if inv.passed:
        return "passed"
    return "answered" if inv.first_response_at else "no answer"


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


@admin.register(Counterparty)
class CounterpartyAdmin(admin.ModelAdmin):
    form = CounterpartyForm
    list_display = [
        "name",
        "enabled",
        "tier",
        "classes",
        "max_notional",
        "connection",
        "requests",
        "response_rate",
        "hit_ratio",
        "median_response",
        "last_look",
        "score",
    ]
    list_filter = ["enabled", "tier", AssetClassFilter]
    search_fields = ["name", "notes", "connection"]
    actions = ["enable", "disable", "set_tier_1", "set_tier_2", "set_tier_3"]
    readonly_fields = ["scorecard", "recent_rfqs", "audit"]

    def get_fieldsets(self, request, obj=None):
        base = [(None, {"fields": ["name", "asset_classes", "tier", "enabled", "max_notional", "connection", "notes"]})]
        if obj is None:
            return base
        return base + [("Scorecard", {"fields": ["scorecard", "recent_rfqs", "audit"]})]

    def changelist_view(self, request, extra_context=None):
        self._cards = selectors.scorecards()
        return super().changelist_view(request, extra_context)

    def _card(self, obj):
        cards = getattr(self, "_cards", None)
        if cards is None or obj.pk not in cards:
            return selectors.scorecard_of(obj)
        return cards[obj.pk]

    # --- who may change --------------------------------------------------------------
    def _is_admin(self, request) -> bool:
        return roles.role_of(request.user) == roles.ADMIN

    def has_view_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_module_permission(self, request):
        return self._is_admin(request)

    def has_add_permission(self, request):
        return self._is_admin(request)

    def has_change_permission(self, request, obj=None):
        return self._is_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # history refers to counterparties: disable instead

    def save_model(self, request, obj, form, change):
        services.counterparty_save(actor=request.user, counterparty=obj, action="update")

    # --- columns ---------------------------------------------------------------------
    @admin.display(description="asset classes")
    def classes(self, obj):
        return ", ".join(obj.asset_classes)

    @admin.display(description="requests")
    def requests(self, obj):
        return self._card(obj).requests

    @admin.display(description="response rate")
    def response_rate(self, obj):
        return _pct(self._card(obj).response_rate)

    @admin.display(description="hit ratio")
    def hit_ratio(self, obj):
        return _pct(self._card(obj).hit_ratio)

    @admin.display(description="median response")
    def median_response(self, obj):
        m = self._card(obj).median_response_seconds
        return "–" if m is None else f"{m:.2f}s"

    @admin.display(description="last-look rejections")
    def last_look(self, obj):
        return self._card(obj).last_look_rejections

    @admin.display(description="score")
    def score(self, obj):
        return f"{self._card(obj).score:.2f}"

    @admin.display(description="scorecard")
    def scorecard(self, obj):
        c = selectors.scorecard_of(obj)
        rows = [
            ("Requests received", c.requests),
            ("Responses", f"{c.responses} ({_pct(c.response_rate)})"),
            ("Passes", c.passes),
            ("Quotes", c.quotes),
            ("Median / p90 response", f"{c.median_response_seconds or 0:.2f}s / {c.p90_response_seconds or 0:.2f}s"),
            ("Hit ratio", _pct(c.hit_ratio)),
            ("Best quote", _pct(c.best_ratio)),
            (
                "Distance from best (bps)",
                c.avg_distance_from_best_bps if c.avg_distance_from_best_bps is not None else "–",
            ),
            (
                "Distance from mid (bps)",
                c.avg_distance_from_mid_bps if c.avg_distance_from_mid_bps is not None else "–",
            ),
            ("Last-look rejections", c.last_look_rejections),
            ("Quotes withdrawn", c.withdrawals),
            ("Score", f"{c.score:.2f}"),
        ]
        return format_html(
            '<table class="scorecard">{}</table>', format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )

    @admin.display(description="recent RFQs")
    def recent_rfqs(self, obj):
        rows = [
            (
                inv.rfq_id,
                inv.rfq.order.instrument.symbol,
                inv.rfq.side,
                inv.rfq.quantity,
                inv.rfq.status,
                "won"
                if inv.won
                else ("passed" if inv.passed else ("answered" if inv.first_response_at else "no answer")),
            )
            for inv in selectors.recent_rfqs_of(obj)
        ]
        if not rows:
            return "No RFQs yet."
        return format_html(
            "<table><tr><th>RFQ</th><th>Instrument</th><th>Side</th><th>Qty</th><th>Status</th><th>Result</th></tr>{}</table>",
            format_html_join("", "<tr><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="changes")
    def audit(self, obj):
        rows = [
            (ch.at.strftime("%Y-%m-%d %H:%M:%S"), ch.actor.username if ch.actor else "system", ch.action, ch.changes)
            for ch in obj.changes.select_related("actor").order_by("-id")[:20]
        ]
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        )

    # --- bulk actions ----------------------------------------------------------------
    def _bulk(self, request, queryset, action, **values):
        n = services.counterparties_update(
            actor=request.user, counterparty_ids=list(queryset.values_list("pk", flat=True)), action=action, **values
        )
        self.message_user(request, f"{n} counterparties changed ({action}).", messages.SUCCESS)

    @admin.action(description="Enable selected counterparties")
    def enable(self, request, queryset):
        self._bulk(request, queryset, "enable", enabled=True)

    @admin.action(description="Disable selected counterparties")
    def disable(self, request, queryset):
        self._bulk(request, queryset, "disable", enabled=False)

    @admin.action(description="Set tier 1")
    def set_tier_1(self, request, queryset):
        self._bulk(request, queryset, "set tier", tier=1)

    @admin.action(description="Set tier 2")
    def set_tier_2(self, request, queryset):
        self._bulk(request, queryset, "set tier", tier=2)

    @admin.action(description="Set tier 3")
    def set_tier_3(self, request, queryset):
        self._bulk(request, queryset, "set tier", tier=3)


class AdminOnlyReadOnlyAdmin(ReadOnlyAdmin):
    """Read-only, and shown to the admin role only."""

    def has_view_permission(self, request, obj=None):
        return roles.role_of(request.user) == roles.ADMIN

    def has_module_permission(self, request):
        return roles.role_of(request.user) == roles.ADMIN


@admin.register(CounterpartyChange)
class CounterpartyChangeAdmin(AdminOnlyReadOnlyAdmin):
    list_display = ["at", "counterparty", "actor", "action", "changes"]
    list_filter = ["action"]


@admin.register(Rfq)
class RfqAdmin(AdminOnlyReadOnlyAdmin):
    list_display = ["id", "order", "side", "quantity", "status", "created_at"]
    list_filter = ["status"]


@admin.register(RfqEvent)
class RfqEventAdmin(AdminOnlyReadOnlyAdmin):
    list_display = ["at", "rfq", "quote", "event", "from_status", "to_status", "reason"]


@admin.register(RfqExecution)
class RfqExecutionAdmin(AdminOnlyReadOnlyAdmin):
    list_display = ["rfq", "quote", "price", "quantity", "executed_at", "improvement_vs_mid_bps", "reason"]
