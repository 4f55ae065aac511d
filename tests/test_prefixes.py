"""PrefixIndex: the items a text can match, found without testing every item."""

from __future__ import annotations

import itertools

import pytest

from mesh_migrate.prefixes import PrefixIndex

PREFIXES = ["", "dags/", "dags/flights/", "dags/flights/intl/", "dags/cars/", "d", "flights_", "flights_intl_", "", "cars_", "x" * 30, "dags/flights/"]
TEXTS = ["", "d", "dags", "dags/", "dags/flights/a.py", "dags/flights/intl/b.py", "dags/cars/c.py", "dags/hotels/d.py", "flights_daily", "flights_intl_x", "cars_", "car", "x" * 29, "x" * 31, "other"]


@pytest.mark.parametrize("size", [0, 1, 2, 5, len(PREFIXES)])
def test_candidates_are_the_items_whose_prefix_starts_the_text_in_their_order(size) -> None:
    for entries in (PREFIXES[:size], PREFIXES[-size:] if size else [], list(reversed(PREFIXES[:size]))):
        index = PrefixIndex((prefix, number) for number, prefix in enumerate(entries))
        for text in TEXTS:
            expected = [number for number, prefix in enumerate(entries) if text.startswith(prefix)]
            assert index.candidates(text) == expected, (entries, text)


def test_an_item_without_prefix_is_a_candidate_for_every_text() -> None:
    index = PrefixIndex([("flights_", "flights"), ("", "anything"), ("cars_", "cars")])
    assert index.candidates("flights_daily") == ["flights", "anything"]
    assert index.candidates("cars_hourly") == ["anything", "cars"]
    assert index.candidates("hotels") == ["anything"]
    assert index.candidates("") == ["anything"]


def test_every_pair_of_prefixes_keeps_its_order() -> None:
    words = ["a", "ab", "abc", "b", ""]
    for first, second in itertools.permutations(words, 2):
        index = PrefixIndex([(first, 1), (second, 2)])
        for text in ["abcd", "ab", "a", "b", "c", ""]:
            assert index.candidates(text) == [n for n, p in ((1, first), (2, second)) if text.startswith(p)]
