"""The simulated liquidity providers (pure, seeded)."""

from marketdata.sim.liquidity_providers import PASS, PROFILES, QUOTE, QuoteRequest, half_spread_bps, provider


def request(key="r1", quantity=10000.0, vol=0.016, window=10.0, side="BUY"):
    return QuoteRequest(key, "AAPL", quantity, side, 190.0, 55_000_000.0, vol, window)


def test_seeded_plans_repeat_and_differ_by_request():
    lp = provider("tight_fast", 7)
    assert lp.plan(request()) == lp.plan(request())
    assert lp.plan(request("r1")) != lp.plan(request("r2"))


def test_spread_widens_with_size_and_volatility():
    p = PROFILES["tight_fast"]
    assert half_spread_bps(p, request(quantity=1e6)) > half_spread_bps(p, request(quantity=1e3))
    assert half_spread_bps(p, request(vol=0.032)) == 2 * half_spread_bps(p, request(vol=0.016))


def test_profiles_differ_as_named():
    plans = {name: [provider(name, 3).plan(request(f"k{i}")) for i in range(200)] for name in PROFILES}
    first = {n: [p[0] for p in ps if p] for n, ps in plans.items()}
    passes = {n: sum(a.kind == PASS for a in acts) / len(acts) for n, acts in first.items()}
    latency = {n: sum(a.at for a in acts) / len(acts) for n, acts in first.items()}
    spread = {
        n: sum(a.ask_offset_bps for a in acts if a.kind == QUOTE) / sum(a.kind == QUOTE for a in acts)
        for n, acts in first.items()
    }
    assert passes["often_passes"] > 0.4 > passes["tight_fast"]
    assert latency["tight_fast"] < latency["wide_slow"]
    assert spread["tight_fast"] < spread["wide_slow"]
    skewed = [a for a in first["skewed"] if a.kind == QUOTE]
    assert all(a.ask_offset_bps - a.bid_offset_bps == 2 * PROFILES["skewed"].skew_bps for a in skewed[:5])


def test_every_action_lies_within_the_window():
    for name in PROFILES:
        for i in range(100):
            assert all(a.at < 1.5 for a in provider(name, 1).plan(request(f"w{i}", window=1.5)))


def test_last_look_rejects_when_the_mid_moved_against_the_provider():
    lp = provider("tight_fast", 1)  # tolerance 8 bps, never rejects otherwise
    assert lp.last_look(key="q", client_side="BUY", quoted_price=100.05, mid_now=100.0)
    assert not lp.last_look(key="q", client_side="BUY", quoted_price=100.0, mid_now=100.10)
    assert not lp.last_look(key="q", client_side="SELL", quoted_price=100.10, mid_now=100.0)


def test_the_last_look_profile_rejects_about_half():
    lp = provider("last_look", 1)
    rejected = sum(
        not lp.last_look(key=f"q{i}", client_side="BUY", quoted_price=100.05, mid_now=100.0) for i in range(400)
    )
    assert 150 < rejected < 250
