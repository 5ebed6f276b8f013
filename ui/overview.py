"""What the group overview says about its card, in words and tiles, made once per card and registry (issue 14 point 2).

A warm rerun of the overview used to rebuild every tile's arguments, every caption and the watchlist from the card
(each number formatted, each name escaped) before drawing them: about a fifth of its script's time. The card and
registry a rerun gets are the shared objects of ui.context's caches, keyed by the store's generation and the
viewer's scope, so what is made from them here is keyed by which objects they are (ui.shared.derived): the same
card, the same words; a write or another viewer, another card and another entry. The page still draws every
element itself, in the same order, at every rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metrics.registry import Measure, Registry
from metrics.scorecard import Scorecard
from metrics.text import markdown_text
from ui.frames import change_caption, delta_arrow, grid_measures, headline_rows, vs_national, widest_measure
from ui.key import FLAG, MET, NOT_MET
from ui.shared import derived


@dataclass(frozen=True)
class Tile:
    """One headline tile: st.metric's arguments, and the captions under it in order."""

    metric: dict[str, Any]
    captions: tuple[str, ...]


@dataclass(frozen=True)
class OverviewParts:
    """Everything the overview draws that depends only on the card and its registry."""

    name: str  # the group's name, Markdown-safe
    pooling: str  # " <the pooling sentence>." or ""
    problems: tuple[str, ...]  # the registry's problems, Markdown-safe
    tiles: tuple[tuple[str, tuple[Tile, ...]], ...]  # per perspective: its label and its tiles
    below: int
    grid_labels: dict[str, str]  # measure -> label, of the measures the grid can show
    grid_default: tuple[str, ...]
    watchlist: tuple[tuple[str, tuple[str, ...]], ...]  # per flagged school: the expander's label, its lines
    judged: tuple[Measure, ...]  # what the map can be coloured by
    widest: str | None


def _tile(r, reg: Registry) -> Tile:  # noqa: ANN001 - a ScorecardRow
    measure = reg.get(r.measure)
    # a metric's value is Markdown too, and a local measure's unit is a governor's words
    metric = {"label": markdown_text(r.label), "value": markdown_text(r.display), "delta": vs_national(r, reg),
              "delta_color": "normal" if r.polarity == "higher_better" else "inverse",
              "delta_arrow": delta_arrow(r),
              "help": f"{markdown_text(measure.description)} National: "
                      f"{markdown_text(measure.format_value(r.national))} "
                      f"({markdown_text(r.comparator or 'none')}).",
              "border": True}
    captions = [f"Level: **{r.level_label}**" + (f" · {FLAG} flagged" if r.flag else "")
                + (f" · DfE band: {markdown_text(r.band)}" if r.band else "")
                + (f" · {markdown_text(r.comparator)}" if r.national_scope == "mix" else "")]
    if r.target is not None and r.target_met is not None:  # the governors' target: words and a mark, no colour
        captions.append(f"Target {markdown_text(measure.format_value(r.target))}: "
                        + (MET if r.target_met else NOT_MET))
    if r.change_note:  # our own sentence (the registry's DfE reason), shown as text: no change arrow
        captions.append(markdown_text(change_caption(r)))
    return Tile(metric, tuple(captions))


@derived(max_entries=64)
def overview_parts(card: Scorecard, reg: Registry) -> OverviewParts:
    """The overview's words and tiles for this card (a group card of ui.context) and the registry it was built
    with."""
    tiles = headline_rows(card)
    available = grid_measures(card)
    labels = {r.measure: r.label for r in available}
    headline = [r.measure for rows in tiles.values() for r in rows if r.measure in labels]
    return OverviewParts(
        name=markdown_text(card.subject.name),
        pooling=f" {markdown_text(card.pooling)}." if card.pooling else "",
        problems=tuple(markdown_text(p) for p in reg.problems),
        tiles=tuple((p.label, tuple(_tile(r, reg) for r in rows)) for p, rows in tiles.items()),
        below=card.below_national_any,
        grid_labels=labels,
        grid_default=tuple(headline[:10] or list(labels)[:10]),
        watchlist=tuple((f"{markdown_text(item.name)} ({item.urn}): {len(item.reasons)} concern(s)",
                         tuple(f"- {markdown_text(reason)}" for _measure, reason in item.reasons))
                        for item in card.watchlist),
        judged=tuple(reg.get(r.measure) for r in card.rows if r.polarity != "context" and r.value is not None
                     and r.measure in reg),
        widest=widest_measure(card),
    )
