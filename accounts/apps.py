from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        # A signal, because every path that changes a password must revoke the user's API
        # tokens, Django's own views, admin and commands included.
        import os

        from django.contrib.auth import get_user_model
        from django.db.backends.signals import connection_created
        from django.db.models.signals import pre_save

        from accounts.database import forget_inherited_connections, sqlite_register_functions
        from accounts.services import sessions_end_on_disable
        from accounts.tokens import tokens_revoke_on_password_change

        pre_save.connect(tokens_revoke_on_password_change, sender=get_user_model(), dispatch_uid="tokens-revoke")
        # Likewise every path that disables a user ends their sessions and tokens.
        pre_save.connect(sessions_end_on_disable, sender=get_user_model(), dispatch_uid="sessions-end-on-disable")
        # Every SQLite connection answers the audit triggers' question (accounts.database).
        connection_created.connect(sqlite_register_functions, dispatch_uid="sqlite-audit-functions")
        os.register_at_fork(after_in_child=forget_inherited_connections)
