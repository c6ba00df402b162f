"""Writes to the FIX configuration (the console edits FixSession rows through its audited admin)."""

from django.db import transaction

from fix.models import FixSession

DEMO_SENDER, DEMO_TARGET = "DEMOCLIENT", "SMARTTRADING"


@transaction.atomic
def fix_session_ensure(*, sender_comp_id: str, user, portfolio, target_comp_id: str = DEMO_TARGET) -> FixSession:
    """The session for `sender_comp_id`, created mapped to `user` and `portfolio` if absent; an
    existing one is left as the console has it."""
    session, _ = FixSession.objects.get_or_create(
        sender_comp_id=sender_comp_id,
        defaults={"target_comp_id": target_comp_id, "user": user, "portfolio": portfolio},
    )
    return session
