"""Colours, words and shapes for performance levels, and the few other colours charts may use.

Every level colour travels with its words (LEVEL_WORDS) and a shape (level_symbol), so colour is never the only
cue. The level colours are a diverging scheme built from the Okabe-Ito palette (Okabe & Ito 2008, designed for
colour-vision deficiency):

    1 Cause for concern  #D55E00 vermillion   L* 54
    2 Needs attention    #E69F00 orange       L* 71
    3 Steady             #E5E5E5 light grey   L* 91  (a true neutral: "no better, no worse")
    4 Good               #56B4E9 sky blue     L* 70
    5 Strong             #0072B2 blue         L* 46
    None                 #999999 mid grey     L* 63  (insufficient data, or not judged)

Why: warm hues on one side and cool on the other keep the two halves apart for deuteranopia and protanopia
(which confuse red and green, not orange and blue) and for tritanopia (which confuses blue and green, not
vermillion and blue); within each half the steps differ in lightness, and lightness rises from both ends towards
"Steady", so the order also survives greyscale printing (the two halves are told apart by hue and by the
▲/▼ shapes). Simulated with Machado et al. (2009) matrices, every pair of the six colours stays at least
ΔE*ab 18 apart for each of the three deficiencies (see tests/unit/test_charts.py). "Steady" is a neutral grey
rather than yellow because yellow reads as a warning; "None" is a darker grey than "Steady" and carries "○".
"""

from __future__ import annotations

from metrics.numbers import finite
from metrics.scorecard import INSUFFICIENT, LEVELS

LEVEL_COLOURS: dict[int | None, str] = {
    1: "#D55E00",
    2: "#E69F00",
    3: "#E5E5E5",
    4: "#56B4E9",
    5: "#0072B2",
    None: "#999999",
}

LEVEL_WORDS: dict[int | None, str] = {**{i + 1: words for i, words in enumerate(LEVELS)}, None: INSUFFICIENT}

# None gets a hollow circle, not a dash: cells show "value symbol", and "25.3% –" would read as a range.
LEVEL_SYMBOLS: dict[int | None, str] = {1: "▼▼", 2: "▼", 3: "●", 4: "▲", 5: "▲▲", None: "○"}

# Levels in the order legends list them: worst to best, then "no level".
LEVEL_ORDER: tuple[int | None, ...] = (1, 2, 3, 4, 5, None)

BLACK = "#000000"
WHITE = "#FFFFFF"
INK = "#222222"  # text and outlines
MUTED = "#595959"  # secondary text: 7:1 on white
GRID = "#DDDDDD"  # gridlines and axis lines
FAINT = "#BBBBBB"  # background points (other schools, points within limits)

# Lines that are not levels (a school against its family median and national, in that order): Okabe-Ito
# colours, each line also with its own dash and marker so that none relies on colour.
SERIES_COLOURS: tuple[str, ...] = ("#0072B2", "#CC79A7", "#595959", "#009E73", "#E69F00", "#56B4E9", "#D55E00")
SERIES_DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
SERIES_SYMBOLS: tuple[str, ...] = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star")

# The school a chart is about: a yellow star with a dark outline stands out from both palettes.
HIGHLIGHT = "#F0E442"

# Support given and received (network): the two ends of the level scale, with ▲/▼ shapes and words.
GIVER = LEVEL_COLOURS[5]
TAKER = LEVEL_COLOURS[1]
BALANCED = LEVEL_COLOURS[None]


def as_level(value: object) -> int | None:
    """A level 1..5 from an int, float, numpy or pandas scalar; None for NaN, NA, None or anything else."""
    x = finite(value)
    if x is None or x != int(x) or not 1 <= x <= 5:
        return None
    return int(x)


def level_colour(level: object) -> str:
    return LEVEL_COLOURS[as_level(level)]


def level_words(level: object) -> str:
    return LEVEL_WORDS[as_level(level)]


def level_symbol(level: object) -> str:
    """A shape that carries the level without colour: ▼▼ ▼ ● ▲ ▲▲, or ○ when there is no level."""
    return LEVEL_SYMBOLS[as_level(level)]


def hex_to_rgb(colour: str) -> list[int]:
    """'#D55E00' -> [213, 94, 0]."""
    h = colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected a colour like #RRGGBB, got {colour!r}")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)]


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in hex_to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with the background."""
    return BLACK if contrast_ratio(BLACK, background) >= contrast_ratio(WHITE, background) else WHITE


def level_text_colour(level: object) -> str:
    """Black or white text for a cell of this level's colour; at least 4.5:1 for every level (WCAG AA)."""
    return text_colour_on(level_colour(level))
