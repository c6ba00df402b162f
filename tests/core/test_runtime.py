import gc

from core.runtime import GC_THRESHOLDS, heap_settle


def test_heap_settle_freezes_startup_objects_and_spaces_collections():
    before = gc.get_threshold()
    startup_object = {"built": "at start-up"}
    gc.unfreeze()
    try:
        heap_settle()
        assert gc.get_freeze_count() > 0
        assert not gc.is_tracked(startup_object) or startup_object not in gc.get_objects()
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
