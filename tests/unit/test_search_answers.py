"""The search answers one process keeps: under their generations, for their lifetime, within their bytes."""

from __future__ import annotations

from services.catalog.search_cache import SearchAnswers, key_of


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_reused_under_its_own_generation_only():
    answers = SearchAnswers(max_bytes=1024)
    answers.put(key_of({"q": "cluster"}), (7, 0), b"found", size=5)

    assert answers.get(key_of({"q": "cluster"}), (7, 0)) == b"found"
    assert answers.get(key_of({"q": "cluster"}), (8, 0)) is None
    assert answers.get(key_of({"q": "clusters"}), (7, 0)) is None


def test_the_order_of_the_arguments_makes_no_other_answer():
    assert key_of({"q": "cluster", "level": 3}) == key_of({"level": 3, "q": "cluster"})


def test_an_answer_lives_its_lifetime_and_no_longer():
    clock = Clock()
    answers = SearchAnswers(max_bytes=1024, max_age_s=30, clock=clock)
    answers.put("key", (1, 0), b"found", size=5)
    clock.now += 30

    assert answers.get("key", (1, 0)) == b"found"
    clock.now += 0.01
    assert answers.get("key", (1, 0)) is None


def test_beyond_its_bytes_the_least_recently_used_answer_goes_first():
    answers = SearchAnswers(max_bytes=10)
    answers.put("first", (1, 0), b"1234", size=4)
    answers.put("second", (1, 0), b"1234", size=4)
    assert answers.get("first", (1, 0)) == b"1234"
    answers.put("third", (1, 0), b"1234", size=4)

    assert answers.get("second", (1, 0)) is None
    assert answers.get("first", (1, 0)) == answers.get("third", (1, 0)) == b"1234"
    answers.put("too big", (1, 0), b"12345678901", size=11)
    assert answers.get("too big", (1, 0)) is None
    assert answers.get("first", (1, 0)) == b"1234"


def test_without_a_generation_nothing_is_kept():
    answers = SearchAnswers(max_bytes=1024)
    answers.put("key", None, b"found", size=5)
    answers.put("other", (1, 0), b"found", size=5)

    assert answers.get("key", None) is None
    assert answers.get("other", None) is None


def test_no_bytes_keep_no_answer():
    answers = SearchAnswers(max_bytes=0)
    answers.put("key", (1, 0), b"found", size=5)

    assert answers.get("key", (1, 0)) is None


def test_a_newer_answer_replaces_the_kept_one_and_its_bytes():
    answers = SearchAnswers(max_bytes=8)
    for generation in range(5):
        answers.put("key", (generation, 0), b"1234", size=4)
    answers.put("other", (5, 0), b"1234", size=4)

    assert answers.get("key", (4, 0)) == answers.get("other", (5, 0)) == b"1234"


def test_only_an_answer_for_free_seats_depends_on_the_seats_generation():
    answers = SearchAnswers(max_bytes=1024)
    answers.put("any seats", (3, 5), b"found", size=5)
    answers.put("free seats", (3, 5), b"found", size=5, reads_seats=True)

    assert answers.get("any seats", (3, 6)) == answers.get("free seats", (3, 5)) == b"found"
    assert answers.get("free seats", (3, 6)) is None
    assert answers.get("any seats", (4, 5)) is None
