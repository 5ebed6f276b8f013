"""A deploy step: copy Streamlit's static files (the frontend's scripts, styles, fonts) to a folder nginx serves, with
a gzip-compressed copy (`name.gz`) beside each that compresses, for nginx's `gzip_static` (docs/deploy.md,
"Reverse proxy").

    python deploy/precompress.py /srv/jointly/streamlit-static

Run it at every deploy, after `pip install -r requirements.txt`: the files are the installed Streamlit's, and their
names carry a hash of their content, so a new Streamlit brings new names (a name the folder lacks nginx passes to
the app, which serves it uncompressed, so a forgotten run costs bytes, never a broken page). The folder is replaced
whole: nothing of an older Streamlit is left in it. Compressed once here at level 9, nginx then sends the chart and
map libraries at about a quarter of their size and spends no CPU on them per visit.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
from pathlib import Path

# what compresses: text (scripts, styles, data, the page) and SVG; fonts (woff2) and images are compressed already
COMPRESSIBLE = (".js", ".css", ".json", ".svg", ".html", ".txt", ".map", ".wasm")
MIN_BYTES = 1024  # below this, a .gz saves less than a round of headers


def streamlit_static() -> Path:
    """The installed Streamlit's static folder (index.html and static/)."""
    from streamlit import file_util

    return Path(file_util.get_static_dir())


def gzip_beside(path: Path) -> int:
    """Write `path`.gz (level 9, the source's modification time) when it is smaller than `path`: bytes saved."""
    data = path.read_bytes()
    packed = gzip.compress(data, compresslevel=9, mtime=int(path.stat().st_mtime))
    if len(packed) >= len(data):
        return 0
    target = path.with_name(path.name + ".gz")
    target.write_bytes(packed)
    stat = path.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # nginx sends the .gz with the original's Last-Modified
    return len(data) - len(packed)


def precompress(target: Path, source: Path | None = None) -> dict[str, int]:
    """Replace `target` by a copy of Streamlit's static folder with .gz files beside the compressible ones: counts."""
    source = source or streamlit_static()
    if not (source / "index.html").is_file():
        raise SystemExit(f"{source} is not Streamlit's static folder (no index.html)")
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    # built beside the target and swapped in, so nginx never serves a half-written folder
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    built = staging / "static"
    shutil.copytree(source, built)
    counts = {"files": 0, "compressed": 0, "bytes": 0, "bytes_saved": 0}
    for path in sorted(built.rglob("*")):
        if not path.is_file():
            continue
        counts["files"] += 1
        counts["bytes"] += path.stat().st_size
        if path.suffix in COMPRESSIBLE and path.stat().st_size >= MIN_BYTES:
            saved = gzip_beside(path)
            counts["compressed"] += bool(saved)
            counts["bytes_saved"] += saved
    for folder in [built, *(p for p in built.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)  # nginx's worker user reads them
    old = staging / "old"
    if target.exists():
        target.rename(old)
    built.rename(target)
    shutil.rmtree(staging)
    return counts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("target", type=Path, help="the folder nginx's `root` for /static/ names, e.g. "
                                              "/srv/jointly/streamlit-static")
    args = p.parse_args()
    counts = precompress(args.target)
    print(f"{args.target}: {counts['files']} files ({counts['bytes'] / 1e6:.1f} MB), {counts['compressed']} "
          f"compressed beside them ({counts['bytes_saved'] / 1e6:.1f} MB fewer to send)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
