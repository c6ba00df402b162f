"""factory-boy factories for the objects most tests need. Orders are not made here: an order
exists only through `oms.services.order_submit`, so tests create them through it."""

from datetime import date
from decimal import Decimal as D

import factory
from django.contrib.auth.models import Group, User

from core.vocabulary import AssetClass, OptionRight, VenueKind


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `role="PM"` (or Trader, Admin) puts them in that role's group."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        if create:
            self.save()


class InstrumentFactory(factory.django.DjangoModelFactory):
    """An equity like AAPL unless told otherwise."""

    class Meta:
        model = "marketdata.Instrument"
        django_get_or_create = ("symbol",)

    symbol = factory.Sequence(lambda n: f"EQ{n}")
    asset_class = AssetClass.EQUITY
    tick_size = D("0.01")
    lot_size = D("1")
    reference_price = D("190.00")
    adv = D("55000000")
    daily_volatility = D("0.016")
    avg_spread_bps = D("1.2")


class OptionFactory(InstrumentFactory):
    symbol = factory.Sequence(lambda n: f"OPT{n}")
    asset_class = AssetClass.OPTION
    underlying = factory.SubFactory(InstrumentFactory)
    option_right = OptionRight.CALL
    strike = D("200")
    expiry = date(2027, 3, 19)
    tick_size = D("0.05")
    reference_price = D("6.85")
    multiplier = D("100")
    adv = D("8000")
    daily_volatility = D("0.045")
    avg_spread_bps = D("150")


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "marketdata.Venue"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"VENUE{n}")
    kind = VenueKind.LIT
    taker_fee_bps = D("3.0")


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oms.Portfolio"

    name = factory.Sequence(lambda n: f"Portfolio {n}")
    owner = factory.SubFactory(UserFactory, role="PM")
    cash = D("1000000000")
