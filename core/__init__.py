"""Shared, app-free building blocks. `vocabulary`, `errors` and `decimals` are pure (standard
library only) so the pure cores may use them; `fields`, `choices` and `api` are the Django
and DRF faces of the same definitions."""
