"""Anonymous upload flood (issue 9, point 11): one visitor's websocket session PUTs N files of M MB to
/_stcore/upload_file/<its session>/<new id>, and the server's resident memory is read before and after.

    python bench/bench_upload_flood.py                        # the documented server: streamlit run serve.py
    python bench/bench_upload_flood.py --entry app.py         # plain streamlit run app.py (guard installed at run 1)
    python bench/bench_upload_flood.py --root /tmp/old --entry app.py   # a checkout from before the fix

Prints one line per file and a summary; results go to bench/out/upload_flood.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from visitor import anonymous_session, multipart, put_upload, rss_mb, running_server  # noqa: E402

from data.demo.build import build_demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose server to start")
    parser.add_argument("--entry", default="serve.py", help="the script given to streamlit run")
    parser.add_argument("--files", type=int, default=22)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "flood.duckdb")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if not args.db.exists():
        build_demo(args.db, schools=120, years=2)
    body, content_type = multipart(b"7" * (args.mb * 1024 * 1024))
    results: list[dict[str, object]] = []
    with running_server(args.entry, {"JOINTLY_DB": str(args.db)}, cwd=args.root.resolve()) as (url, pid):
        with anonymous_session(url) as visit:
            visit.run()  # the first run is over: its memory is in the baseline
            time.sleep(1)
            before = rss_mb(pid)
            started = time.perf_counter()
            for i in range(args.files):
                status, early = put_upload(url, visit.session_id, body, content_type)
                results.append({"file": i + 1, "status": status, "answered_before_body": early, "rss_mb": rss_mb(pid)})
                print(f"PUT {i + 1:2d}: {status} {'before the body' if early else 'after the body'}; "
                      f"server RSS {results[-1]['rss_mb']:.0f} MB")
            seconds = time.perf_counter() - started
            time.sleep(1)
            after = rss_mb(pid)
    accepted = sum(r["status"] == 204 for r in results)
    print(f"{args.entry} in {args.root}: {args.files} x {args.mb} MB anonymous PUTs in {seconds:.1f} s; "
          f"{accepted} stored; server RSS {before:.0f} MB before, {after:.0f} MB after "
          f"(peak {max(r['rss_mb'] for r in results):.0f} MB)")
    out = ROOT / "bench" / "out" / "upload_flood.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"root": str(args.root), "entry": args.entry, "files": args.files, "mb": args.mb,
                               "rss_before_mb": before, "rss_after_mb": after, "seconds": seconds,
                               "puts": results}, indent=2))


if __name__ == "__main__":
    main()
