"""People and permissions in the console (admins only: config.admin_site): create users with
a role (PM, trader, admin), change it, see the portfolios they own (ownership is assigned on
the portfolio), and disable them, which ends their sessions and tokens at once. Every change
is recorded with old and new values (core.admin.AuditedAdmin)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts import roles, services
from core.admin import AuditedAdmin

ROLE_CHOICES = [("", "no role")] + [(r, r) for r in roles.ROLES]


class RoleChangeForm(UserChangeForm):
    role = forms.ChoiceField(
        choices=ROLE_CHOICES, required=False, label="Role", help_text="What the desk and the console let them do."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["role"] = roles.role_of(self.instance) or "" if self.instance.pk else ""
        self.fields["role"].initial = self.initial["role"]


class RoleCreationForm(UserCreationForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES[1:], required=True, label="Role")


admin.site.unregister(User)


@admin.register(User)
class ConsoleUserAdmin(AuditedAdmin, UserAdmin):
    form = RoleChangeForm
    add_form = RoleCreationForm
    list_display = ["username", "role_shown", "is_active", "owned", "last_login", "date_joined"]
    list_filter = ["is_active", "groups"]
    search_fields = ["username", "first_name", "last_name", "email"]
    actions = ["disable_users"]
    readonly_fields = ["last_login", "date_joined", "owned"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Role and access", {"fields": ["role", "is_active", "owned"]}),
        ("Dates (UTC)", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["username", "role", "password1", "password2"]})]

    def has_delete_permission(self, request, obj=None):
        return False  # orders and audit rows refer to people: disable instead

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "role" in form.cleaned_data:
            services.user_role_set(user=obj, role=form.cleaned_data["role"] or None)

    @admin.display(description="role")
    def role_shown(self, obj):
        return roles.role_of(obj) or "–"

    @admin.display(description="portfolios owned")
    def owned(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        portfolios = obj.portfolios.order_by("name")
        if not portfolios:
            return "none (assign the owner on a portfolio)"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:oms_portfolio_change", args=[p.pk]), p.name) for p in portfolios),
        )

    @admin.action(description="Disable the selected users (ends their sessions and tokens now)")
    def disable_users(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True):
            if user.pk == request.user.pk:
                self.message_user(request, "You cannot disable yourself.", messages.ERROR)
                continue
            services.user_disable(actor=request.user, user_id=user.pk, reason="disabled in the console")
            count += 1
        self.message_user(request, format_html("{} users disabled.", count), messages.SUCCESS)
