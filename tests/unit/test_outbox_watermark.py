"""Where a relay looks into a PostgreSQL outbox: above what it published, back at numbers that may still commit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.outbox import FULL_SCAN_SECONDS, GAP_PATIENCE_SECONDS, GAPS_TRACKED, Watermark


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_first_look_starts_at_the_beginning_and_the_next_above_what_it_published():
    watermark = Watermark(Clock())
    assert watermark.floor() == 0
    watermark.advance([1, 2, 3])
    assert watermark.floor() == 3


def test_a_number_skipped_below_newer_ones_is_looked_at_until_patience_runs_out():
    clock = Clock()
    watermark = Watermark(clock)
    watermark.advance([1, 2])
    watermark.advance([4, 5])  # 3 was still in an open transaction
    assert watermark.floor() == 2

    clock.now += GAP_PATIENCE_SECONDS - 0.1
    assert watermark.floor() == 2
    clock.now += 0.2
    assert watermark.floor() == 5, "after its patience a gap is left to the full scan"


def test_a_late_row_found_closes_its_gap():
    watermark = Watermark(Clock())
    watermark.advance([1, 2])
    watermark.advance([4, 6])
    watermark.advance([3])
    assert watermark.floor() == 4
    watermark.advance([5])
    assert watermark.floor() == 6


def test_now_and_then_a_full_scan_looks_from_the_beginning():
    clock = Clock()
    watermark = Watermark(clock)
    watermark.advance([1_000_000])
    clock.now += FULL_SCAN_SECONDS
    assert watermark.floor() == 0
    assert watermark.floor() == 1_000_000, "one full scan, then back above the watermark"


def test_after_a_restart_only_the_nearest_numbers_below_the_first_row_are_watched():
    """Rows far below the first one found are long published; the nearest may belong to open transactions."""
    clock = Clock()
    watermark = Watermark(clock)
    watermark.advance([900_000, 900_001])
    assert watermark.floor() == 900_001 - GAPS_TRACKED
    clock.now += GAP_PATIENCE_SECONDS
    assert watermark.floor() == 900_001


@given(st.lists(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=20), max_size=20))
def test_the_floor_never_passes_a_number_still_awaited(batches):
    """Rows commit in any order; each look finds some of those above its floor. Every unseen number below the
    highest stays above the floor while the relay is patient with it."""
    watermark = Watermark(Clock())
    published: set[int] = set()
    for batch in batches:
        floor = watermark.floor()
        found = sorted({seq for seq in batch if seq > floor} - published)
        if not found:
            continue
        watermark.advance(found)
        published |= set(found)
        floor = watermark.floor()
        unseen = set(range(1, max(published))) - published
        assert all(seq > floor for seq in unseen)
        assert floor <= max(published)
