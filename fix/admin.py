"""The console's FIX sessions: who may log on, mapped to which user and portfolio, and the
session's state as the acceptor last saw it. Disabling one logs it out (the acceptor's report
loop notices within a second) and refuses its logons; every change is audited."""

from django.contrib import admin, messages

from core.admin import ReadOnlyAdmin, console_change_record
from core.vocabulary import ConsoleAction
from fix.models import FixOrder, FixSession


@admin.register(FixSession)
class FixSessionAdmin(admin.ModelAdmin):
    list_display = [
        "sender_comp_id",
        "target_comp_id",
        "user",
        "portfolio",
        "enabled",
        "logged_on",
        "next_sender_seq",
        "next_target_seq",
        "last_message_at",
        "messages_today",
    ]
    list_filter = ["enabled", "logged_on"]
    search_fields = ["sender_comp_id", "user__username"]
    readonly_fields = [
        "logged_on",
        "next_sender_seq",
        "next_target_seq",
        "last_message_at",
        "messages_day",
        "messages_today",
    ]
    actions = ["disable_sessions"]

    @admin.action(description="Disable the selected sessions (logs them out)")
    def disable_sessions(self, request, queryset):
        disabled = 0
        for session in queryset.filter(enabled=True):
            session.enabled = False
            session.save(update_fields=["enabled"])
            console_change_record(
                actor=request.user,
                action=ConsoleAction.DISABLE,
                obj=session,
                changes={"Enabled": ["True", "False"]},
                summary=f"disabled FIX session {session}",
            )
            disabled += 1
        self.message_user(request, f"{disabled} FIX session(s) disabled.", messages.SUCCESS)


@admin.register(FixOrder)
class FixOrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "session", "cl_ord_id", "order", "reported_status", "reported_cum_qty", "done"]
    list_filter = ["session", "done"]
    search_fields = ["cl_ord_id"]
