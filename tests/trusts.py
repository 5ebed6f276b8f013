"""A small store of one real trust, for the tests of DfE's published trust figure beside Jointly's roll-up.

Abbey Multi Academy Trust (TR00002, GIAS UID 2046) as DfE's real 2024/25 trust files describe it: three mainstream
KS4 academies (137036, 137083, 144809; the info excerpt's urns), DfE's published Attainment 8 of 45.1 over 587
pupils. The schools' own results are an EES KS4 school-level file written here in the 2024/25 columns, with
invented values chosen so the pupils add up to DfE's 587.
"""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import REALDATA

from data.db.store import Store
from data.ingest.importers import import_file

KS4 = REALDATA / "ees_ks4_2024-25_hal609"
RESULTS = KS4 / "EXCERPT_202425_performance_tables_multi_academy_trusts_revised.csv"
INFO = KS4 / "EXCERPT_202425_information_about_multi_academy_trusts_revised.csv"
TRUST = "Abbey Multi Academy Trust"
# (URN, pupils at the end of KS4, Attainment 8, grade 5+ in English and maths %)
SCHOOLS = ((137036, 200, "44.0", "40.0"), (137083, 187, "46.0", "43.0"), (144809, 200, "47.5", "42.5"))
# Jointly's pooled roll-up, by hand: (200 x 44.0 + 187 x 46.0 + 200 x 47.5) / 587 = 26,902 / 587 = 45.83 (DfE: 45.1)
POOLED_ATTAINMENT8 = (200 * 44.0 + 187 * 46.0 + 200 * 47.5) / 587
POOLED_BASICS_95 = (200 * 40.0 + 187 * 43.0 + 200 * 42.5) / 587  # = 24,541 / 587 = 41.81 (DfE: 42.1)


def write_school_file(path: Path) -> Path:
    """The three schools' Total rows in the 2024/25 EES school-level layout (every field quoted, LF)."""
    header = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "version",
              "school_urn", "school_laestab", "school_name", "establishment_type_group", "breakdown_topic",
              "breakdown", "pupil_count", "attainment8_average", "progress8_average", "engmath_95_percent"]
    rows = [["202425", "Academic year", "School", "E92000001", "England", "Revised", str(urn), "", f"School {urn}",
             "Academies", "Total", "Total", str(pupils), a8, "z", b95] for urn, pupils, a8, b95 in SCHOOLS]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def build_trust_store(path: Path, work: Path) -> Path:
    """A store holding the trust's schools, their 2024/25 results and DfE's two trust files; returns its path."""
    with Store(path) as store:
        # the schools as GIAS would have them (a phase: national percentiles are by phase)
        store.query("INSERT INTO establishments (urn, name, phase, state_funded) "
                    "SELECT u, 'School ' || u, 'secondary', true FROM unnest(?::INTEGER[]) t(u)",
                    [[urn for urn, *_ in SCHOOLS]])
        for p in (write_school_file(work / "202425_performance_tables_schools_revised.csv"), INFO, RESULTS):
            report = import_file(store, p)
            assert report.ok, report.summary()
        store.set_setting("demo", "true")  # the app's "viewing as" choice (no accounts in this store)
    return path
