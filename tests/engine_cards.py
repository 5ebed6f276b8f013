"""Scorecards written out whole, to compare one engine's with another's (tests/store/test_engine_equivalence.py).

Run as a script by any version of Jointly (the code before issue 14 included), so it uses only what every version
has: `data.services.scorecards.scorecard` and the Scorecard dataclasses.

    python tests/engine_cards.py ROOT STORE REQUESTS.json OUT.json

ROOT is the checkout whose code makes the cards; each request is the keyword arguments of `scorecard`; OUT holds,
for each request, the card's repr (every row, value, level, flag, label and their order) or the refusal's words.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path


def card_text(card: object) -> str:
    """Everything a Scorecard holds, in order, as text (floats exactly, NaN as NaN)."""
    return repr(dataclasses.asdict(card))  # type: ignore[call-overload]


def cards(store: object, requests: list[dict]) -> list[str]:
    """Each request's card as card_text, or 'refused: ...' with the StoreError's words."""
    from data.db.errors import StoreError
    from data.services.scorecards import scorecard

    out = []
    for r in requests:
        try:
            out.append(card_text(scorecard(store, **r)))
        except StoreError as exc:
            out.append(f"refused: {exc}")
    return out


def main(argv: list[str]) -> int:
    root, db, requests, dest = (Path(a) for a in argv[1:5])
    sys.path.insert(0, str(root))
    import data
    from data.db.store import Store

    assert Path(data.__file__).resolve().is_relative_to(root.resolve()), data.__file__  # that checkout's code
    store = Store(db, read_only=True)
    try:
        dest.write_text(json.dumps(cards(store, json.loads(requests.read_text()))))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
