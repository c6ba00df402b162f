from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the console shows and never edits: the audit trails, and rows only services write."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
