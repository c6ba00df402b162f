"""Start-up of the long-running processes (web, Celery worker and beat, market data)."""

import gc

# Young-generation threshold: the default 700 runs a collection every few hundred
# allocations of a request, and promotes so much that full collections (tens of ms on this
# heap) come every few seconds. At 50,000 a young collection costs a few ms and a full one
# is rare.
GC_THRESHOLDS = (50_000, 20, 100)


def heap_settle() -> None:
    """Take what start-up built (Django, the apps, their modules) out of the garbage
    collector's reach and space the collections out. Without it a full collection walks the
    whole heap at random moments: a 30-60 ms pause that was most of the RFQ ladder's p99 in
    bench/rfq.py. Call once set up, and in each forked child (the frozen objects then stay
    shared with the parent instead of being copied on write by the collector)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
