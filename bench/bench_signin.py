"""Sign-in under attack: memory of a flood of concurrent failed sign-ins, and how long each outcome takes.

    python bench/bench_signin.py                     # floods of 40 and 200 threads, then timings (about a minute)
    python bench/bench_signin.py --threads 40 --runs 9

Each flood runs in a fresh subprocess (so its peak resident memory, VmHWM, is its own): one account in a new
store, then N threads each make one failed sign-in at once, from N different client addresses (the worst case:
a throttle per client does not help, only the bound on hashes computed at once does). The timings sign in
sequentially, each attempt from its own client so that no throttle applies, except for the "throttled" outcome.
Also runs against an older checkout (before sign_in took a client): then the timings skip "throttled".
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.db.store import Store  # noqa: E402
from data.services import accounts  # noqa: E402

SECRET = "correct horse battery staple"
HAS_CLIENT = "client" in inspect.signature(accounts.sign_in).parameters


def _mib(field: str) -> float:
    """A field of /proc/self/status (VmRSS now, VmHWM the peak so far) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _sign_in(store: Store, email: str, password: str, client: str, now: datetime | None = None) -> tuple[object, str]:
    if HAS_CLIENT:
        return accounts.sign_in(store, email, password, client=client, now=now)
    return accounts.sign_in(store, email, password, now=now)


def _store(folder: str) -> Store:
    store = Store(Path(folder) / "bench.duckdb")
    accounts.add_user(store, "bench", email="admin@example.org", role="admin", password=SECRET)
    accounts.add_user(store, "bench", email="sso@example.org", role="admin")
    # wrong passwords go to their own account: the per-email brake must not turn the successes into refusals
    accounts.add_user(store, "bench", email="wrong@example.org", role="admin", password=SECRET)
    return store


def flood(threads: int) -> dict:
    """In this process: `threads` failed sign-ins at once, half for the known email and half for unknown ones."""
    with tempfile.TemporaryDirectory() as folder:
        store = _store(folder)
        _sign_in(store, "warm@example.org", "warm up the hasher", "192.0.2.1")
        before = _mib("VmHWM")
        start, outcomes = threading.Barrier(threads), Counter()

        def attack(i: int) -> None:
            start.wait()
            email = "admin@example.org" if i % 2 else f"nobody{i}@example.org"
            outcomes[_sign_in(store, email, f"guess {i}", f"198.51.{i // 250}.{i % 250}")[1]] += 1

        pool = [threading.Thread(target=attack, args=(i,)) for i in range(threads)]
        t0 = time.perf_counter()
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        seconds = time.perf_counter() - t0
        store.close()
        return {"threads": threads, "peak_before_mib": round(before, 1), "peak_after_mib": round(_mib("VmHWM"), 1),
                "seconds": round(seconds, 2), "outcomes": dict(outcomes)}


def timings(runs: int) -> dict[str, float]:
    """Median milliseconds per outcome, each attempt from a fresh client (none is throttled unless meant to be)."""
    with tempfile.TemporaryDirectory() as folder:
        store = _store(folder)
        cases = {"unknown email": ("nobody@example.org", SECRET), "wrong password": ("wrong@example.org", "wrong"),
                 "single sign-on only": ("sso@example.org", SECRET), "success": ("admin@example.org", SECRET),
                 # the same outcome twice: how far apart two identical series are is the machine's noise
                 "unknown email again": ("someone@example.org", SECRET)}
        times: dict[str, list[float]] = {k: [] for k in cases}
        n = 0
        for run in range(runs):
            at = datetime(2024, 5, 1) + run * 2 * accounts.WINDOW if HAS_CLIENT else None  # each run a fresh window
            for outcome, (email, password) in cases.items():
                n += 1
                t0 = time.perf_counter()
                message = _sign_in(store, email, password, f"203.0.113.{n % 250}-{n}", at)[1]
                times[outcome].append((time.perf_counter() - t0) * 1000)
                assert not message.startswith("Too many"), (outcome, message)  # the timings are of real checks
        if HAS_CLIENT:  # one client past its free failures: every further attempt is refused at once
            times["throttled"] = []
            for i in range(accounts.CLIENT_FREE + 1):
                _sign_in(store, f"x{i}@example.org", "guess", "192.0.2.99")
            for _ in range(runs):
                t0 = time.perf_counter()
                _sign_in(store, "admin@example.org", SECRET, "192.0.2.99")
                times["throttled"].append((time.perf_counter() - t0) * 1000)
        store.close()
        medians = {k: round(statistics.median(v), 1) for k, v in times.items()}
        # paired: each run's outcome minus the same run's unknown email, so the machine's load drifting between
        # runs cancels out; this is what a timing attacker averaging many tries would see
        paired = {f"{k} - unknown email": round(statistics.median(a - b for a, b in zip(v, times["unknown email"],
                                                                                        strict=True)), 1)
                  for k, v in times.items() if k not in ("unknown email", "throttled")}
        return {**medians, **paired}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=[40, 200])
    parser.add_argument("--runs", type=int, default=9, help="attempts per outcome for the timings")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(flood(args.child)))
        return 0
    for n in args.threads:
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['threads']:>4} concurrent failed sign-ins: peak RSS {r['peak_before_mib']:.0f} -> "
              f"{r['peak_after_mib']:.0f} MiB in {r['seconds']:.1f} s; replies {r['outcomes']}")
    for outcome, ms in timings(args.runs).items():
        print(f"  median {outcome:<36} {ms:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
