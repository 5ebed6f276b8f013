"""Peak memory of importing a real file and two import bombs, each in a fresh process (issue 9, point 14).

    python bench/bench_import_memory.py            # this checkout
    python bench/bench_import_memory.py --repo DIR # another checkout of Jointly (e.g. before the fix)

Cases: the real KS4 final file (496 columns); an 8 MB workbook whose header and 3,000 rows each end in a
cell at column XFD (so every row is 16,384 cells wide) beside 8 MB of shared strings; a 150 MB CSV of 10,007
columns. Each import runs in its own process against an empty store; the peak is that process's
VmHWM (it includes Python, DuckDB and pandas, about 150 MB before any file is read). A case that
takes longer than --timeout seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
REALDATA = HERE.parent / "shared" / "realdata" / "dfe_perf_LA815_NorthYorkshire_EnglishDevil"

CHILD = """
import sys, time
from data.db.store import Store
from data.ingest.importers import import_file
store = Store(sys.argv[1])
t0 = time.perf_counter()
report = import_file(store, sys.argv[2], sys.argv[3])
seconds = time.perf_counter() - t0
# VmHWM: this program's own high-water mark (ru_maxrss would carry the parent's size across fork and exec)
peak = int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]) / 1024
print(f"{report.ok}\\t{peak:.0f}\\t{seconds:.2f}\\t{report.message[:110]}")
"""


def bomb_workbook(path: Path) -> Path:
    """3,000 rows padded to column XFD by one far cell each, plus ~8 MB of distinct shared strings."""
    rnd = random.Random(9)
    strings = ["".join(rnd.choices(string.ascii_letters, k=60)) for _ in range(180_000)]
    n = len(strings)
    sst = [f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">']
    sst += [f"<si><t>{s}</t></si>" for s in strings] + ["</sst>"]
    cols = ["A", "B", "C", "D", "E"]
    rows = ['<row r="1">' + "".join(f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
                                    for c, h in zip(cols, ["URN", "SCHNAME", "LA", "NOR", "PNUMEAL"], strict=True))
            + '<c r="XFD1" t="inlineStr"><is><t>END</t></is></c></row>']  # a header 16,384 columns wide
    for r in range(2, 3002):
        cells = [f'<c r="A{r}"><v>{100000 + r}</v></c>', f'<c r="B{r}" t="s"><v>{r}</v></c>',
                 f'<c r="C{r}"><v>815</v></c>', f'<c r="D{r}"><v>{r % 900}</v></c>', f'<c r="E{r}"><v>5</v></c>',
                 f'<c r="XFD{r}"><v>1</v></c>']
        rows.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + "".join(rows) + "</sheetData></worksheet>")
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/>'
                   '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
                   f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" '
                   'r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
                   f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
                   f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{ns}/officeDocument/2006/'
                   'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", "".join(sst))
    return path


def wide_csv(path: Path, target_mb: int = 150) -> Path:
    """A CSV of 10,007 columns and about `target_mb` megabytes."""
    rnd = random.Random(14)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(["URN", "LA", "NOR", *(f"C{i}" for i in range(10_004))]) + "\r\n")
        r = 0
        while fh.tell() < target_mb * 1024 * 1024:
            fh.write(",".join([str(100000 + r), "815", *(str(rnd.randint(0, 9_999_999)) for _ in range(10_005))])
                     + "\r\n")
            r += 1
    return path


def run(repo: Path, work: Path, name: str, path: Path, period: str, timeout: float) -> None:
    db = work / f"{name}.duckdb"
    t0 = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(path), period], cwd=repo,
                             env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"{name:<34} {path.stat().st_size / 1048576:>8.1f} MB  stopped after {time.perf_counter() - t0:.0f} s")
        return
    if out.returncode != 0:
        print(f"{name:<34} crashed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
        return
    ok, peak, seconds, message = out.stdout.rstrip("\n").split("\t", 3)
    outcome = "imported" if ok == "True" else f"refused: {message}"
    print(f"{name:<34} {path.stat().st_size / 1048576:>8.1f} MB  peak {float(peak):>7,.0f} MB  "
          f"{float(seconds):>7.2f} s  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=HERE, help="the checkout whose importer is measured")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a case is stopped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [
            ("real KS4 final (496 columns)", REALDATA / "815_2018_ks4final.csv", "2017/18"),
            ("8 MB bomb workbook (XFD rows)", bomb_workbook(work / "bomb.xlsx"), "2018/19"),
            ("150 MB CSV of 10,007 columns", wide_csv(work / "wide.csv"), "2018/19"),
        ]
        print(f"importer of {args.repo}")
        for name, path, period in cases:
            run(args.repo, work, name, path, period, args.timeout)


if __name__ == "__main__":
    main()
