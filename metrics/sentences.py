"""One plain-language sentence per scorecard measure, for leaders, governors and (later) parents.

Words only from the row's own numbers; no jargon without an explanation.
"""

from __future__ import annotations

from metrics.numbers import NumberFormat
from metrics.registry import Measure, Polarity
from metrics.scorecard import ScorecardRow, adjusted_percentile

NO_VALUE = {
    "suppressed": "is not published because too few pupils were included (fewer than {n})",
    "not_applicable": "does not apply this year (not published, or no pupils entered)",
    "low_coverage": "is not shown because too few pupils were covered",
    "missing": "has no data for this year",
}


def describe(row: ScorecardRow, measure: Measure, *, subject: str = "The school") -> str:
    """E.g. 'Attainment 8 was 44.5, below the national 46.5; schools with a similar intake typically
    reach 45.0. Better than 31% of secondary schools; down 1.2 on last year. Level: Needs attention.'"""
    if row.value is None:
        why = NO_VALUE.get(row.status, NO_VALUE["missing"]).format(n=measure.min_cohort)
        # a DfE gap says why in DfE's own words (e.g. no Progress 8 for 2024/25: these pupils had no KS2 tests)
        note = row.change_note
        return f"{measure.label} {why}." + (f" {note}" if note else "")
    parts = [f"{measure.label} was {row.display}"]
    if row.national is not None:
        nat = measure.format_value(row.national)
        if row.significance == "above":
            parts[0] += f", clearly above the national {nat}"
        elif row.significance == "below":
            parts[0] += f", clearly below the national {nat}"
        elif row.significance == "in line":
            parts[0] += f", in line with the national {nat} once chance is allowed for"
        else:
            side = "above" if row.value > row.national else "below" if row.value < row.national else "equal to"
            parts[0] += f", {side} the national {nat}"
    sentences = [parts[0] + "."]
    if row.band is not None:
        sentences = _band_sentences(row, measure)  # Progress 8: DfE's band against 0; the national is context
    if row.expected is not None:
        sentences.append(f"Schools with a similar intake typically reach {measure.format_value(row.expected)}.")
    if row.family_median is not None and row.family_rank is not None and row.family_size:
        sentences.append(f"Among {row.family_size} similar schools it ranks {row.family_rank} "
                         f"(their middle value is {measure.format_value(row.family_median)}).")
    adj = adjusted_percentile(row.percentile, measure)
    if adj is not None:
        sentences.append(f"Better than {adj:.0f}% of schools nationally.")
    if row.change_note and measure.polarity is not Polarity.CONTEXT:
        # no change across a gap, a new definition or a year without results: say why, never "on last year"
        sentences.append(row.change_note)
    elif row.change is not None and measure.polarity is not Polarity.CONTEXT:
        better = (row.change > 0) == (measure.polarity is Polarity.HIGHER_BETTER)
        size = abs(row.change)
        if size > 0:
            sentences.append(f"{'Up' if row.change > 0 else 'Down'} {_size(measure, size)}"
                             f"{' points' if measure.unit == '%' else ''} on last year "
                             f"({'better' if better else 'worse'}).")
    if measure.judged:
        sentences.append(f"Level: {row.level_label}.")
    if row.target is not None and row.target_met is not None:
        sentences.append(f"Target {measure.format_value(row.target)}: {'met' if row.target_met else 'not met'}.")
    return " ".join(sentences)


def _band_sentences(row: ScorecardRow, measure: Measure) -> list[str]:
    """'Progress 8 was +0.24: Average, DfE's band (its 95% range, +0.00 to +0.48, includes 0, the national average
    for all pupils). The national figure for state-funded schools is -0.03.'"""
    lo, hi = measure.format_value(row.ci_low), measure.format_value(row.ci_high)
    where = ("is wholly above 0" if row.ci_low is not None and row.ci_low > 0 else
             "is wholly below 0" if row.ci_high is not None and row.ci_high < 0 else "includes 0")
    out = [f"{measure.label} was {row.display}: {row.band}, DfE's band (its 95% range, {lo} to {hi}, {where}, "
           "the national average for all pupils)."]
    if row.national is not None:
        context = (row.comparator or "national").removeprefix("national").removeprefix(", ")
        nat = measure.format_value(row.national)
        out.append(f"The national figure, {context}, is {nat}." if context.startswith("weighted") else
                   f"The national figure{' for ' + context if context else ''} is {nat}.")
    return out


def _size(measure: Measure, size: float) -> str:
    """A change's size at the measure's own decimals, unsigned (the sentence says up or down) and without the unit
    (a share's change is in points, said after it)."""
    return NumberFormat(measure.format.lstrip("+")).number(size)
