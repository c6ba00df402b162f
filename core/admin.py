"""The console's building blocks: read-only records, and the audited admin that records every
change with each field's old and new value, the user and the time (core.models.ConsoleChange),
shown on the object's history page and searchable under Core > Console changes."""

from django.contrib import admin

from core.audit import changes_summary, console_change_record, console_changes_of, form_changes
from core.models import ConsoleChange
from core.vocabulary import ConsoleAction

__all__ = ["AuditedAdmin", "ReadOnlyAdmin", "console_change_record"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the console shows and never edits: the audit trails, and rows only services write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change (the change form and the list's editable columns alike) and delete
    is written to ConsoleChange with old and new values, and the stock history (LogEntry)
    says the same instead of "Changed Limit."."""

    object_history_template = "admin/audited_object_history.html"

    def save_model(self, request, obj, form, change):
        # Read before the save: form.initial holds what the form showed, i.e. the old values.
        request._console_changes = form_changes(form, add=not change)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changes = getattr(request, "_console_changes", None)
        if changes or not change:
            console_change_record(
                actor=request.user,
                action=ConsoleAction.CHANGE if change else ConsoleAction.ADD,
                obj=form.instance,
                changes=changes or {},
            )
        request._console_changes = None

    def construct_change_message(self, request, form, formsets, add=False):
        changes = form_changes(form, add=add)
        if add or not changes:
            return super().construct_change_message(request, form, formsets, add)
        return "Changed " + changes_summary(changes) + "."

    def delete_model(self, request, obj):
        console_change_record(actor=request.user, action=ConsoleAction.DELETE, obj=obj, summary=f"deleted {obj}")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            console_change_record(actor=request.user, action=ConsoleAction.DELETE, obj=obj, summary=f"deleted {obj}")
        super().delete_queryset(request, queryset)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        extra = {"console_changes": list(console_changes_of(obj)) if obj is not None else []}
        return super().history_view(request, object_id, extra_context={**extra, **(extra_context or {})})


@admin.register(ConsoleChange)
class ConsoleChangeAdmin(ReadOnlyAdmin):
    """The console's audit trail, searchable by object, user and what changed."""

    list_display = ["at", "actor", "action", "content_type", "object_repr", "summary"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "summary", "actor__username", "object_id"]
    date_hierarchy = "at"
