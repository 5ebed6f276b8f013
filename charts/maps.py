"""Where the schools are: a pydeck map of points coloured by level, with the level in words in the tooltip."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pydeck as pdk

from charts.palette import LEVEL_COLOURS, LEVEL_ORDER, LEVEL_WORDS, as_level, hex_to_rgb

# The keys each point carries to the browser: position, colour, and what the tooltip and a click need.
RECORD_KEYS = ("urn", "name", "lon", "lat", "fill", "display", "level_label")
ENGLAND = (52.8, -1.6, 5.5)  # latitude, longitude, zoom: the view when there is nothing to fit
MIN_ZOOM, MAX_ZOOM = 5.0, 12.0
FIT_PX = 400
# The CARTO light basemap needs no token; the browser fetches it, never Python.
MAP_STYLE = pdk.map_styles.CARTO_LIGHT


def fit_view(lat: np.ndarray, lon: np.ndarray) -> pdk.ViewState:
    """Centre on the mean position; zoom so that the points' extent fills about 400 pixels (of pydeck's default
    500-pixel-high map) in Web Mercator, within 5..12.

    At zoom z a degree of longitude is 256·2^z/360 pixels and a degree of latitude about 1/cos(latitude) times
    that, so the extent in "longitude degrees" is max(lon span, lat span / cos(latitude))."""
    if len(lat) == 0:
        return pdk.ViewState(latitude=ENGLAND[0], longitude=ENGLAND[1], zoom=ENGLAND[2], pitch=0, bearing=0)
    clat, clon = float(np.mean(lat)), float(np.mean(lon))
    span = max(float(np.ptp(lon)), float(np.ptp(lat)) / max(math.cos(math.radians(clat)), 0.01))
    zoom = MAX_ZOOM if span <= 0 else math.log2(360 * FIT_PX / 256 / span)
    zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
    return pdk.ViewState(latitude=round(clat, 5), longitude=round(clon, 5), zoom=round(zoom, 2), pitch=0, bearing=0)


def map_records(df: pd.DataFrame) -> list[dict]:
    """Plain records for the layer, sorted by urn, without rows lacking a position; coordinates to 5 decimals
    (about a metre)."""
    if df is None or df.empty:
        return []
    lat = pd.to_numeric(df["latitude"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(df["longitude"], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    rows = df[keep]
    n = len(rows)
    levels = [as_level(v) for v in rows["level"]] if "level" in rows.columns else [None] * n
    labels = rows["level_label"].tolist() if "level_label" in rows.columns else [None] * n
    displays = rows["display"].tolist() if "display" in rows.columns else [None] * n
    out = [
        {
            "urn": int(u),
            "name": str(name),
            "lon": round(float(x), 5),
            "lat": round(float(y), 5),
            "fill": hex_to_rgb(LEVEL_COLOURS[lv]),
            "display": d if isinstance(d, str) and d else "–",
            "level_label": lab if isinstance(lab, str) and lab else LEVEL_WORDS[lv],
        }
        for u, name, x, y, lv, lab, d in zip(rows["urn"], rows["name"], lon[keep], lat[keep], levels, labels, displays,
                                             strict=True)
    ]
    return sorted(out, key=lambda r: r["urn"])


def schools_map(df: pd.DataFrame, *, measure_label: str) -> pdk.Deck:
    """df columns: urn, name, latitude, longitude, level, level_label, display. One ScatterplotLayer of plain
    records (only RECORD_KEYS), filled by level with a white outline, sized in pixels; the view fits the points."""
    records = map_records(df)
    layer = pdk.Layer(
        "ScatterplotLayer",
        data=records,
        id="schools",
        get_position="[lon, lat]",
        get_fill_color="fill",
        get_line_color=[255, 255, 255],
        stroked=True,
        filled=True,
        line_width_units="'pixels'",  # quoted: pydeck reads a bare string as a JavaScript accessor
        get_line_width=1.5,
        radius_units="'pixels'",
        get_radius=7,
        radius_min_pixels=5,
        radius_max_pixels=14,
        pickable=True,
        auto_highlight=True,
        opacity=0.9,
    )
    # pydeck fills {field} from each record: braces in a label would be read as fields, so they become brackets
    label = str(measure_label).replace("{", "(").replace("}", ")")
    view = fit_view(np.array([r["lat"] for r in records]), np.array([r["lon"] for r in records]))
    return pdk.Deck(
        layers=[layer],
        initial_view_state=view,
        map_provider="carto",
        map_style=MAP_STYLE,
        tooltip={"text": f"{{name}}\n{label}: {{display}} ({{level_label}})"},
    )


def map_legend(levels: Iterable[object]) -> list[tuple[str, str]]:
    """(colour hex, words) for each level present, worst to best, then "Insufficient data" if any lack one."""
    present = {as_level(v) for v in levels}
    return [(LEVEL_COLOURS[lv], LEVEL_WORDS[lv]) for lv in LEVEL_ORDER if lv in present]
