"""Jointly's own downloads, recognised when someone tries to import one as if it were a DfE file (issue 11 point
10): the Reports page's CSV and Excel scorecards, a publication's CSV for parents, and a local measure's upload
template. Each is refused in words that say what the file is and where it belongs, instead of "unknown format".

Only the header decides (as data.ingest.formats.detect_kind does), and only for a header no DfE file has: this is asked
after every DfE layout has failed to match.
"""

from __future__ import annotations

from metrics.publication import CSV_COLUMNS as PUBLICATION_COLUMNS

NOT_DFE = "it holds results already worked out by Jointly, so importing it would add nothing. Import DfE's own " \
          "downloads (performance tables, Get Information about Schools, Explore Education Statistics) instead"

# (the columns that mark the file, normalised as the importer normalises a header: trimmed, upper case; the words)
_SIGNATURES: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"MEASURE", "LABEL", "PERSPECTIVE_LABEL", "LEVEL_LABEL", "FAMILY_MEDIAN"}),
     "this is one of Jointly's own scorecard reports (the Reports page's CSV), not a DfE file: " + NOT_DFE),
    (frozenset({"PERSPECTIVE", "MEASURE", "NATIONAL PERCENTILE", "MEASURE ID"}),
     "this is one of Jointly's own scorecard reports (the Reports page's Excel file), not a DfE file: " + NOT_DFE),
    (frozenset(c.upper() for c in PUBLICATION_COLUMNS),
     "this is a publication's download from Jointly (the results for parents), not a DfE file: " + NOT_DFE),
    (frozenset({"URN", "PERIOD", "VALUE", "COHORT", "NUMERATOR", "DENOMINATOR"}),
     "this is a local measure's upload file from Jointly, not a DfE file: upload it on the Measures and targets "
     "page, under \u201cUpload local measure values\u201d, where its values are checked and stored"),
)


def own_export_refusal(header: set[str]) -> str | None:
    """The sentence refusing one of Jointly's own downloads, from its normalised header; None for any other file."""
    h = {c.strip().upper() for c in header}
    return next((words for columns, words in _SIGNATURES if columns <= h), None)
