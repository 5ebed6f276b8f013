"""One plain-language sentence per scorecard measure, for leaders, governors and (later) parents.

Words only from the row's own numbers; no jargon without an explanation.
"""

from __future__ import annotations

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
        return f"{measure.label} {why}."
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
    if row.expected is not None:
        sentences.append(f"Schools with a similar intake typically reach {measure.format_value(row.expected)}.")
    if row.family_median is not None and row.family_rank is not None and row.family_size:
        sentences.append(f"Among {row.family_size} similar schools it ranks {row.family_rank} "
                         f"(their middle value is {measure.format_value(row.family_median)}).")
    adj = adjusted_percentile(row.percentile, measure)
    if adj is not None:
        sentences.append(f"Better than {adj:.0f}% of schools nationally.")
    if row.change is not None and measure.polarity is not Polarity.CONTEXT:
        better = (row.change > 0) == (measure.polarity is Polarity.HIGHER_BETTER)
        size = abs(row.change)
        if size > 0:
            sentences.append(f"{'Up' if row.change > 0 else 'Down'} {size:.{_decimals(measure)}f}"
                             f"{' points' if measure.unit == '%' else ''} on last year "
                             f"({'better' if better else 'worse'}).")
    if measure.judged:
        sentences.append(f"Level: {row.level_label}.")
    if row.target is not None and row.target_met is not None:
        sentences.append(f"Target {measure.format_value(row.target)}: {'met' if row.target_met else 'not met'}.")
    return " ".join(sentences)


def _decimals(measure: Measure) -> int:
    spec = measure.format
    return int(spec.split(".")[1][0]) if "." in spec and spec.split(".")[1][:1].isdigit() else 0
