from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        # A signal, because every path that changes a password must revoke the user's API
        # tokens, Django's own views, admin and commands included.
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from accounts.tokens import tokens_revoke_on_password_change

        pre_save.connect(tokens_revoke_on_password_change, sender=get_user_model(), dispatch_uid="tokens-revoke")
