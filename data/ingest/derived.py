"""Whole-table work done once after imports, never in a page request.

Percentiles within phase, standard errors, national quantiles, families of similar schools,
context-adjusted expectations and family medians/ranks, all written to their tables in one
transaction. The numerics are in ``metrics.families``; this module moves data in and out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd

from data.db.errors import StoreError
from data.db.store import Store, registered
from metrics.families import (
    DEFAULT_FAMILY_SIZE,
    FAMILY_VARIABLES,
    family_stats,
    fit_expectation,
    nearest,
    school_kind,
    similarity,
    standardise,
)
from metrics.periods import parse_period
from metrics.registry import Polarity, Registry, load_registry

Z95 = 1.959964
# Families are formed within these phase groups (all-through schools sit with secondaries).
FAMILY_PHASE = {"all_through": "secondary"}
REGRESSION_VARIABLES = ["disadvantaged_pct", "eal_pct", "sen_pct", "pupils"]
PRIOR = "ks4_prior_attainment"


def school_kinds(cur, urns: list[int] | None = None) -> dict[int, str]:
    """Each school's kind (metrics.families.school_kind) from its GIAS type, admissions policy and ages."""
    est = cur.execute("SELECT urn, phase, type_name, admissions_policy, age_low, age_high FROM establishments "
                      "WHERE ?::INTEGER[] IS NULL OR list_contains(?::INTEGER[], urn)", [urns, urns]).fetchall()
    return {int(u): school_kind(ph, t, a, lo, hi) for u, ph, t, a, lo, hi in est}


def context_basis(cur) -> int:
    """A fingerprint of all the derived tables read of the schools: each one's phase and kind (school_kinds). Equal
    before and after an import that changed neither (a name, an address or a type's other words)."""
    phases = dict(cur.execute("SELECT urn, phase FROM establishments").fetchall())
    kinds = school_kinds(cur)
    return hash(tuple(sorted((int(u), phases[u], kinds.get(int(u))) for u in phases)))


def _measure_table(registry: Registry) -> pd.DataFrame:
    """Per measure: the phase an all-through school is compared within, and how its uncertainty is known."""
    rows = []
    for m in registry.measures:
        first = m.phases[0].value if m.phases else None
        rows.append({
            "measure": m.id,
            "all_through_phase": "primary" if first == "primary" else "secondary",
            "has_primary": any(x.value == "primary" for x in m.phases),
            "has_secondary": any(x.value == "secondary" for x in m.phases),
            "scale": m.scale,
            "uncertainty": m.uncertainty,
            "sd": m.sd,
            "judged": m.judged,
            "higher_better": m.polarity is Polarity.HIGHER_BETTER,
        })
    return pd.DataFrame(rows)


def refresh_derived(store: Store, registry: Registry | None = None, *, family_size: int = DEFAULT_FAMILY_SIZE,
                    since: str | None = None) -> dict:
    """Recompute the derived tables from the observations: every year, or only `since` and later ones (an import's
    earliest year: a year's context reaches forward to later years that lack their own). Returns timings (seconds)
    per step.

    One transaction, which also turns every 'pending' import 'ok': the log says 'ok' only once the derived
    tables agree with the observations (so `since` is for the caller who knows the pending imports are its own)."""
    with store.results_transaction() as cur:
        return refresh_derived_in(cur, registry, family_size=family_size, since=since)


def refresh_derived_in(cur: duckdb.DuckDBPyConnection, registry: Registry | None = None, *,
                       family_size: int = DEFAULT_FAMILY_SIZE, since: str | None = None) -> dict:
    """refresh_derived inside the caller's transaction (forget_period removes a year and rebuilds in one).

    With `since`, only the years from `since` on are computed and replaced; earlier years' rows stay as they were,
    equal to what a whole rebuild gives them: every step works within one year (percentiles, quantiles,
    expectations and families by year; a year's context from that year and earlier ones)."""
    registry = registry or load_registry()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    measures = _measure_table(registry)
    with registered(cur, "_measures", measures):
        cur.execute("""
            CREATE OR REPLACE TEMP TABLE _base AS
            SELECT e.ord, o.urn, o.measure, o.period, o.value, o.numerator, o.denominator, o.ci_low, o.ci_high,
                   -- all-through schools are compared with primaries on KS2 measures, secondaries otherwise; so is
                   -- a key stage outside a mainstream school's phase (a middle school deemed secondary's KS2)
                   CASE WHEN e.phase = 'all_through' THEN m.all_through_phase
                        WHEN (e.phase = 'primary' AND NOT m.has_primary)
                          OR (e.phase = 'secondary' AND NOT m.has_secondary) THEN m.all_through_phase
                        ELSE e.phase END AS phase,
                   m.scale, m.uncertainty, m.sd
            FROM observations o
            JOIN establishments e ON e.urn = o.urn
            JOIN _measures m ON m.measure = o.measure
            WHERE o.level = 'school' AND o.status = 'ok' AND o.value IS NOT NULL AND e.phase IS NOT NULL
              AND (?::VARCHAR IS NULL OR o.period >= ?::VARCHAR)
        """, [since, since])
    stats = cur.execute(f"""
        SELECT ord, urn, measure, period, phase, value,
               -- mid-rank percentile: schools below, plus half of those tied, over all compared
               (rank() OVER (PARTITION BY measure, period, phase ORDER BY value) - 1
                + 0.5 * count(*) OVER (PARTITION BY measure, period, phase, value))
               / count(*) OVER (PARTITION BY measure, period, phase) * 100 AS percentile,
               count(*) OVER (PARTITION BY measure, period, phase) AS n_compared,
               CASE
                 WHEN ci_low IS NOT NULL AND ci_high IS NOT NULL THEN (ci_high - ci_low) / (2 * {Z95})
                 WHEN uncertainty = 'wilson' AND denominator > 0
                   THEN sqrt(greatest(value / scale, 0) * greatest(1 - value / scale, 0) / denominator) * scale
                 WHEN uncertainty = 'normal' AND sd IS NOT NULL AND denominator > 0 THEN sd / sqrt(denominator)
               END AS se,
               denominator
        FROM _base
    """).df()  # noqa: S608 (Z95 is a module constant)
    timings["percentiles"] = time.perf_counter() - t

    t = time.perf_counter()
    quantile_points = [i / 100 for i in range(101)]
    cur.execute("DELETE FROM national_quantiles WHERE ?::VARCHAR IS NULL OR period >= ?::VARCHAR", [since, since])
    cur.execute("""
        INSERT INTO national_quantiles
        SELECT measure, period, phase, count(*), quantile_cont(value, ?::DOUBLE[]) FROM _base
        GROUP BY ALL
    """, [quantile_points])
    timings["quantiles"] = time.perf_counter() - t

    t = time.perf_counter()
    # context of its own year (issue 10 point 9): each year's families and expectations from that year's context
    context, fam_rows = _families(cur, family_size)
    timings["families"] = time.perf_counter() - t

    t = time.perf_counter()
    stats, regressions = _expectations(stats, context, registry)
    timings["expectations"] = time.perf_counter() - t

    t = time.perf_counter()
    stats = _family_medians(stats, fam_rows, registry)
    timings["family_medians"] = time.perf_counter() - t
    latest = context["period"].max() if len(context) else None
    if since is not None:  # the latest year with context may be an earlier one, whose rows stay
        kept = cur.execute("SELECT max(period) FROM context_by_year WHERE period < ?", [since]).fetchall()[0][0]
        if kept is not None and (latest is None or kept > latest):
            latest = kept
    latest_ctx = context[context["period"] == latest]
    latest_fam = fam_rows[fam_rows["period"] == latest]
    # the latest year's tables are replaced when that year is among those computed (or nothing has context now)
    replace_latest = since is None or latest is None or latest >= since

    t = time.perf_counter()
    out = stats[["ord", "urn", "measure", "period", "phase", "percentile", "n_compared", "se", "expected",
                 "residual", "family_median", "family_rank", "family_size"]].copy()
    for c in ("family_rank", "family_size", "n_compared", "ord", "urn"):
        out[c] = out[c].astype("Int32")
    _replace_rows(cur, "school_stats", out, "*", "ord NULLS LAST, measure, period", since=since)
    if replace_latest:
        # the latest year's families and context, as pages read them (the similar-schools page, data.services.families)
        _replace_rows(cur, "families", latest_fam, "urn, rank, neighbour, distance, similarity", "urn, rank")
        _replace_rows(cur, "school_context", latest_ctx, "urn, phase, source_period, variable, value, z, kind")
    _replace_rows(cur, "family_by_year", fam_rows, "urn, period, rank, neighbour, distance, similarity",
                  "period, urn, rank", since=since)
    _replace_rows(cur, "context_by_year", context, "urn, phase, period, variable, value, z, source_period, kind",
                  "period, urn, variable", since=since)
    _replace_rows(cur, "regressions", regressions, "*", since=since)
    cur.execute("DROP TABLE _base")
    # imports whose derived tables these are: 'ok' only now, in the same commit (issue 9 point 8)
    cur.execute("UPDATE imports SET outcome = 'ok' WHERE outcome = 'pending'")
    timings["write"] = time.perf_counter() - t
    return timings


# The derived tables that hold rows per period (school_context is the latest year's context, by its source year).
PERIOD_TABLES = ("school_stats", "national_quantiles", "regressions", "school_context", "context_by_year",
                 "family_by_year")


@dataclass(frozen=True)
class Forgotten:
    """What forget_period removed."""

    period: str
    school_values: int  # national measures' school observations
    local_values: int  # local measures' values (also observations)
    benchmarks: int  # LA and national rows
    derived: int  # rows of that period in PERIOD_TABLES before the rebuild
    local_group_values: int = 0  # local measures' values by pupil group (also pupil_group_observations)


def _period_counts(cur: duckdb.DuckDBPyConnection, period: str) -> Forgotten:
    school, local, bench = cur.execute(
        "SELECT count(*) FILTER (level = 'school' AND coalesce(source_kind, '') <> 'local'), "
        "count(*) FILTER (level = 'school' AND source_kind = 'local'), count(*) FILTER (level <> 'school') "
        "FROM observations WHERE period = ?", [period]).fetchall()[0]
    derived = sum(cur.execute(f"SELECT count(*) FROM {t} WHERE period = ?",  # noqa: S608 (module constant)
                              [period]).fetchall()[0][0] for t in PERIOD_TABLES)
    return Forgotten(period, int(school), int(local), int(bench), int(derived))


def period_counts(store: Store, period: str) -> Forgotten:
    """What the store holds for one academic year: what forget_period would remove."""
    cur = store.cursor()
    try:
        return replace(_period_counts(cur, period), local_group_values=_local_group_count(store, period))
    finally:
        cur.close()


def _local_group_count(store: Store, period: str) -> int:
    """A year's local measure values by pupil group, counted in the state store where they live."""
    return int(store.state.query("SELECT count(*) FROM local_pupil_group_values WHERE period = ?", [period])[0][0])


def forget_period(store: Store, period: str, *, actor: str) -> Forgotten:
    """Remove every observation of one academic year (school values, local values, benchmarks) and its derived
    rows, and rebuild the derived tables, in one audited transaction: a failure leaves the store as it was.

    Establishments, groups, targets and publications stay: they are not of one year (a publication is a
    snapshot parents may have read). Raises StoreError for a malformed period or one the store does not hold."""
    try:
        period = parse_period(period)
    except ValueError as exc:
        raise StoreError(str(exc)) from exc
    # a local measure's values live in the state store (issue 12): counted now, removed once the results commit (a
    # failure between the two leaves them, and forgetting the year again removes them: nothing is lost either way)
    local = int(store.state.query("SELECT count(*) FROM local_values WHERE period = ?", [period])[0][0])
    local_groups = _local_group_count(store, period)
    with store.results_transaction() as cur:
        done = replace(_period_counts(cur, period), local_values=local, local_group_values=local_groups)
        if not (done.school_values or done.local_values or done.local_group_values or done.benchmarks):
            raise StoreError(f"the store holds no values for {period}: nothing was removed")
        cur.execute("DELETE FROM observations WHERE period = ?", [period])
        # a year's pupil-group values (EES breakdowns) go with its Total values
        cur.execute("DELETE FROM pupil_group_observations WHERE period = ?", [period])
        # and DfE's own figures for trusts that year, with the member lists they were counted on
        for table in ("trust_published", "trust_published_info", "trust_published_members"):
            cur.execute(f"DELETE FROM {table} WHERE period = ?", [period])  # noqa: S608 (literal names)
        for table in PERIOD_TABLES:
            cur.execute(f"DELETE FROM {table} WHERE period = ?", [period])  # noqa: S608 (module constant)
        refresh_derived_in(cur)
        store.audit(cur, actor, "forget", "period", period,
                    {"school_values": done.school_values, "local_values": done.local_values,
                     "local_group_values": done.local_group_values,
                     "benchmarks": done.benchmarks, "derived_rows": done.derived}, None)
    if local or local_groups:
        with store.transaction() as scur:
            scur.execute("DELETE FROM local_values WHERE period = ?", [period])
            scur.execute("DELETE FROM local_pupil_group_values WHERE period = ?", [period])
    return done


def _replace_rows(cur, table: str, frame: pd.DataFrame, columns: str, order: str = "", *,
                  since: str | None = None) -> None:
    """Swap a derived table's rows (those of `since` and later years, when given) for these, inside the caller's
    transaction. `table`, `columns` and `order` are this module's own text, never user input."""
    if since is None:
        cur.execute(f"DELETE FROM {table}")  # noqa: S608
    else:
        cur.execute(f"DELETE FROM {table} WHERE period >= ?", [since])  # noqa: S608
    if len(frame):
        with registered(cur, "_new_rows", frame):
            cur.execute(f"INSERT INTO {table} SELECT {columns} FROM _new_rows"  # noqa: S608
                        + (f" ORDER BY {order}" if order else ""))


def _families(cur, k: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each school's context in each year it has results (that year's value of each variable, or the nearest
    earlier year's: `source_period`), and its k nearest schools of the same phase and kind on that year's context
    (standardised within the phase, so a kind's few schools are measured on the phase's national scale).

    Columns: context (urn, phase, period, variable, value, z, source_period, kind); families (urn, period, rank,
    neighbour, distance, similarity). A school without results in a year is in no family that year."""
    variables = list(FAMILY_VARIABLES)
    # a school's years: those with any result (_base); its context: each variable's latest value up to that year
    raw = cur.execute("""
        WITH ctx AS (
            SELECT o.urn, coalesce(f.phase, e.phase) AS phase, o.measure AS variable, o.period, o.value
            FROM observations o JOIN establishments e ON e.urn = o.urn
            LEFT JOIN (SELECT unnest(?::VARCHAR[]) AS p, unnest(?::VARCHAR[]) AS phase) f ON f.p = e.phase
            WHERE o.level = 'school' AND o.status = 'ok' AND o.value IS NOT NULL AND e.phase IS NOT NULL
              AND o.measure IN (SELECT unnest(?::VARCHAR[]))
        ), years AS (SELECT DISTINCT urn, period FROM _base)
        SELECT y.urn, c.phase, y.period, c.variable, arg_max(c.value, c.period) AS value,
               max(c.period) AS source_period
        FROM years y JOIN ctx c ON c.urn = y.urn AND c.period <= y.period  -- 'YYYY/YY' sorts as the years do
        GROUP BY ALL
    """, [list(FAMILY_PHASE), list(FAMILY_PHASE.values()), variables]).df()
    ctx_cols = ["urn", "phase", "period", "variable", "value", "z", "source_period", "kind"]
    if raw.empty:
        return pd.DataFrame(columns=ctx_cols), pd.DataFrame(columns=["urn", "period", "rank", "neighbour", "distance",
                                                                     "similarity"])
    kind_of = school_kinds(cur)
    wide = raw.pivot_table(index=["period", "phase", "urn"], columns="variable", values="value", aggfunc="first")
    wide = wide.reindex(columns=variables)
    sources = raw.set_index(["period", "urn", "variable"])["source_period"]
    ctx_parts, fam_parts = [], []
    for (period, phase), block in wide.groupby(level=["period", "phase"], sort=True):
        urns = block.index.get_level_values("urn").to_numpy()
        x = block.to_numpy(dtype=float, copy=True)
        x[:, variables.index("pupils")] = np.log1p(x[:, variables.index("pupils")])  # size matters in ratios
        known = ~np.isnan(x).all(axis=0)
        weights = np.array([FAMILY_VARIABLES[v] for v in variables]) * known
        s = standardise(x)
        kinds = np.array([kind_of.get(int(u), "other") for u in urns])
        idx, dist = nearest(s.z, weights, k, groups=kinds)
        valid = idx >= 0
        rows, ranks = np.nonzero(valid)
        fam_parts.append(pd.DataFrame({
            "urn": urns[rows], "period": period, "rank": ranks + 1, "neighbour": urns[idx[valid]],
            "distance": dist[valid], "similarity": similarity(dist[valid], weights)}))
        long = pd.DataFrame({
            "urn": np.repeat(urns, len(variables)), "phase": phase, "period": period,
            "kind": np.repeat(kinds, len(variables)),
            "variable": np.tile(variables, len(urns)), "value": x.reshape(-1), "z": s.z.reshape(-1)})
        long.loc[long["variable"] == "pupils", "value"] = np.expm1(long.loc[long["variable"] == "pupils", "value"])
        ctx_parts.append(long[~np.isnan(long["value"])])
    context = pd.concat(ctx_parts, ignore_index=True)
    context["source_period"] = sources.reindex(
        pd.MultiIndex.from_frame(context[["period", "urn", "variable"]])).to_numpy()
    return context[ctx_cols], pd.concat(fam_parts, ignore_index=True)


def _expectations(stats: pd.DataFrame, context: pd.DataFrame, registry: Registry) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit each judged measure on context, per period and phase; add `expected` and `residual`."""
    stats = stats.copy()
    stats["expected"] = np.nan
    stats["residual"] = np.nan
    reg_rows: list[dict] = []
    if context.empty or stats.empty:
        return stats, pd.DataFrame(columns=["measure", "period", "phase", "n", "r2", "residual_sd", "variables",
                                            "coefficients"])
    # the context of each year (or the nearest earlier one), standardised within that year
    z_of = {p: block.pivot_table(index="urn", columns="variable", values="z", aggfunc="first")
            for p, block in context.groupby("period", sort=False)}
    judged = {m.id for m in registry.measures if m.judged}
    ks4 = {m.id for m in registry.measures for s in m.sources if s.kind == "ks4"}
    for (measure, period, phase), part in stats[stats["measure"].isin(judged)].groupby(
            ["measure", "period", "phase"], sort=False):
        z = z_of.get(period)
        if z is None:
            continue
        variables = [v for v in REGRESSION_VARIABLES if v in z.columns]
        if measure in ks4 and PRIOR in z.columns and phase == "secondary":
            variables.append(PRIOR)
        x = z.reindex(part["urn"].to_numpy())[variables].to_numpy(dtype=float)
        keep = ~np.isnan(x).all(axis=0)  # a variable nobody in this phase has
        variables = [v for v, k in zip(variables, keep, strict=True) if k]
        x = x[:, keep]
        y = part["value"].to_numpy(dtype=float)
        w = part["denominator"].to_numpy(dtype=float)
        fit = fit_expectation(x, y, None if np.isnan(w).all() else np.nan_to_num(w, nan=0.0))
        if fit is None:
            continue
        stats.loc[part.index, "expected"] = fit.fitted
        stats.loc[part.index, "residual"] = y - fit.fitted
        reg_rows.append({"measure": measure, "period": period, "phase": phase, "n": fit.n, "r2": fit.r2,
                         "residual_sd": fit.residual_sd, "variables": variables,
                         "coefficients": [float(c) for c in fit.coefficients]})
    return stats, pd.DataFrame(reg_rows, columns=["measure", "period", "phase", "n", "r2", "residual_sd", "variables",
                                                  "coefficients"])


def _family_medians(stats: pd.DataFrame, fam: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Family median and the school's rank in its family, per measure and period."""
    stats = stats.copy()
    stats["family_median"] = np.nan
    stats["family_rank"] = np.nan
    stats["family_size"] = np.nan
    if fam.empty or stats.empty:
        return stats
    urns = np.sort(pd.unique(np.concatenate([fam["urn"].to_numpy(), stats["urn"].to_numpy()])))
    pos = {u: i for i, u in enumerate(urns)}
    k = int(fam["rank"].max())
    families: dict[str, np.ndarray] = {}
    for period, part in fam.groupby("period", sort=False):  # each year's own neighbours
        family = np.full((len(urns), k), -1, dtype=np.int64)
        family[part["urn"].map(pos).to_numpy(), part["rank"].to_numpy() - 1] = part["neighbour"].map(pos).to_numpy()
        families[str(period)] = family
    none = np.full((len(urns), k), -1, dtype=np.int64)
    higher = {m.id: m.polarity is not Polarity.LOWER_BETTER for m in registry.measures}
    stats_pos = stats["urn"].map(pos).to_numpy()
    for (measure, period), part in stats.groupby(["measure", "period"], sort=False):
        family = families.get(str(period), none)
        values = np.full(len(urns), np.nan)
        at = stats_pos[part.index]
        values[at] = part["value"].to_numpy(dtype=float)
        median, rank, size = family_stats(values, family, higher.get(measure, True))
        has_family = (family[at] >= 0).any(axis=1)
        stats.loc[part.index, "family_median"] = np.where(has_family, median[at], np.nan)
        stats.loc[part.index, "family_rank"] = np.where(has_family, rank[at], np.nan)
        stats.loc[part.index, "family_size"] = np.where(has_family, size[at] + 1, np.nan)
    return stats
