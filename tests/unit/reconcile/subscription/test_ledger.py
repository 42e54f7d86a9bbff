"""Tests for videodl.reconcile.subscription.ledger: the videos a subscription has seen."""

from __future__ import annotations

import random
import string

from hypothesis import given
from hypothesis import strategies as st

from videodl.reconcile.subscription import ledger

#: A ConfigMap's data and binaryData together may hold 1 MiB.
CONFIGMAP_LIMIT = 1024 * 1024


def youtube_like_ids(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "-_"
    return ["".join(rng.choice(alphabet) for _ in range(11)) for _ in range(count)]


def test_a_channel_of_ten_thousand_videos_fits_with_room_to_spare() -> None:
    seen = ledger.Ledger(youtube_like_ids(10_000))
    size = len(ledger.encode(seen)[ledger.KEY])
    assert size < CONFIGMAP_LIMIT / 6, size


def test_the_cap_always_fits_a_configmap() -> None:
    seen = ledger.Ledger(youtube_like_ids(ledger.MAX_SEEN + 10, seed=3))
    assert len(seen) == ledger.MAX_SEEN
    assert len(ledger.encode(seen)[ledger.KEY]) < CONFIGMAP_LIMIT * 0.9


def test_the_oldest_are_forgotten_first() -> None:
    ids = youtube_like_ids(ledger.MAX_SEEN + 2, seed=5)
    seen = ledger.Ledger(ids)
    assert ids[0] not in seen
    assert ids[1] not in seen
    assert ids[2] in seen
    assert ids[-1] in seen


@given(st.lists(st.text(min_size=1, max_size=30), max_size=200))
def test_round_trip_keeps_order_and_drops_repeats(ids: list[str]) -> None:
    decoded = ledger.decode(ledger.encode(ledger.Ledger(ids)))
    assert decoded.ids == tuple(dict.fromkeys(ids))


def test_extend_says_what_was_new() -> None:
    seen = ledger.Ledger(["a", "b"])
    assert seen.extend(["b", "c", "c", "d"]) == ("c", "d")
    assert seen.ids == ("a", "b", "c", "d")


def test_unreadable_data_is_an_empty_ledger() -> None:
    assert len(ledger.decode(None)) == 0
    assert len(ledger.decode({ledger.KEY: "not base64 gzip"})) == 0
    assert len(ledger.decode({"other": "x"})) == 0
