"""Django TextChoices made from the pure vocabulary, so a model field, a serializer and a
pure core can never disagree about what a side or a status is."""

from django.db import models

from core import vocabulary


def text_choices(enum_type) -> type[models.TextChoices]:
    """The TextChoices twin of a vocabulary StrEnum: same names, values and labels."""
    return models.TextChoices(
        enum_type.__name__,
        [(m.name, (m.value, vocabulary.label(m))) for m in enum_type],
    )


Side = text_choices(vocabulary.Side)
Urgency = text_choices(vocabulary.Urgency)
AssetClass = text_choices(vocabulary.AssetClass)
OptionRight = text_choices(vocabulary.OptionRight)
VenueKind = text_choices(vocabulary.VenueKind)
Strategy = text_choices(vocabulary.Strategy)
OrderStatus = text_choices(vocabulary.OrderStatus)
OrderEventType = text_choices(vocabulary.OrderEventType)
RfqStatus = text_choices(vocabulary.RfqStatus)
RfqEventType = text_choices(vocabulary.RfqEventType)
QuoteStatus = text_choices(vocabulary.QuoteStatus)
QuoteEventType = text_choices(vocabulary.QuoteEventType)
RfqExecutionMode = text_choices(vocabulary.RfqExecutionMode)
