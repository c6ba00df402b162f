"""FIX sessions (who may log on, mapped to a user and a portfolio) and what each client was
told about its orders. The session layer's own state (sequence numbers, sent messages for
resends) is QuickFIX's persisted store (settings.FIX_STORE_DIR); the columns here are what
the console shows of it, refreshed by the acceptor."""

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.fields import PriceField, QuantityField
from oms.models import Order, Portfolio


class FixSession(models.Model):
    """One client's FIX 4.4 session. The client logs on as SenderCompID with Username (553)
    = the user's name and Password (554) = the user's password; its orders go to `portfolio`
    with the user's role rules, as on the API."""

    sender_comp_id = models.CharField(max_length=64, unique=True, help_text="The client's SenderCompID (49).")
    target_comp_id = models.CharField(max_length=64, default="SMARTTRADING", help_text="Ours: TargetCompID (56).")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="fix_sessions")
    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="fix_sessions")
    enabled = models.BooleanField(default=True, help_text="Disabling logs the session out and refuses its logons.")
    # What the acceptor last saw (the console's columns); the engine's store is the truth.
    logged_on = models.BooleanField(default=False, editable=False)
    next_sender_seq = models.PositiveIntegerField(default=1, editable=False, help_text="Our next MsgSeqNum.")
    next_target_seq = models.PositiveIntegerField(default=1, editable=False, help_text="The client's next expected.")
    last_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    messages_day = models.DateField(null=True, blank=True, editable=False)
    messages_today = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sender_comp_id"]
        verbose_name = "FIX session"

    def __str__(self):
        return f"{self.sender_comp_id} -> {self.target_comp_id}"


class FixOrder(models.Model):
    """An order entered over FIX and what its client was last told about it (fix.mapping.Reported)."""

    session = models.ForeignKey(FixSession, on_delete=models.PROTECT, related_name="orders")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="fix_order")
    cl_ord_id = models.CharField(max_length=64, help_text="The ClOrdID the client knows the order by now.")
    reported_status = models.CharField(max_length=16)
    reported_cum_qty = QuantityField(default=Decimal(0))
    reported_avg_px = PriceField(null=True, blank=True)
    reported_quantity = QuantityField()
    reported_limit_price = PriceField(null=True, blank=True)
    reported_fill_row_id = models.BigIntegerField(default=0)
    pending_cl_ord_id = models.CharField(max_length=64, blank=True)
    pending_orig_cl_ord_id = models.CharField(max_length=64, blank=True)
    done = models.BooleanField(default=False, help_text="Terminal and reported: the report loop skips it.")
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["session", "done"], name="fixorder_session_open")]


class FixClOrdId(models.Model):
    """Every ClOrdID a session used (D, F or G): a second use is a duplicate."""

    session = models.ForeignKey(FixSession, on_delete=models.PROTECT, related_name="cl_ord_ids")
    cl_ord_id = models.CharField(max_length=64)
    msg_type = models.CharField(max_length=2)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "cl_ord_id"], name="fix_clordid_unique")]
