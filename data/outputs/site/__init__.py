"""The parents' static website (issue 16): `build_site(store, out)` writes every current publication as plain HTML
pages, one stylesheet, a small search script and each publication's CSV (docs/parents-site.md)."""

from __future__ import annotations

from data.outputs.site.build import SiteReport, build_site
from data.outputs.site.catalogue import Catalogue, SiteError, load_catalogue

__all__ = ["Catalogue", "SiteError", "SiteReport", "build_site", "load_catalogue"]
