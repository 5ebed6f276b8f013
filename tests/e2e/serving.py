"""What the browser tests share: Debian's chromium driven by Playwright (it downloads no browser here), a free
port, waiting for a Streamlit server. A module, not a conftest.py: tests/conftest.py is the one `conftest` the
tests import by name."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAIN = "[data-testid='stMainBlockContainer']"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_answers(url: str, timeout: float = 60) -> bool:
    """Poll a Streamlit server's health check until it answers (True) or `timeout` seconds pass (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                return True
        except OSError:
            time.sleep(0.3)
    return False


def launched_browser():
    """Chromium, for a module's `browser` fixture to yield from (closed when the module is done)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does this)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def running_server(entry: str, env: dict[str, str], *, cwd: Path = ROOT) -> Iterator[tuple[str, int]]:
    """`streamlit run <entry>` on a free port, until the block ends: (its URL, its process id)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(cwd / entry), "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not server_answers(url):
            raise AssertionError(f"the Streamlit server ({entry}) did not start")
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def launch_app(db: Path, port: int, secrets: Path, log: Path, entry: str = "serve.py") -> subprocess.Popen:
    """`streamlit run <entry>` on `port` over the store at `db`, reading secrets from `secrets` only, its output in
    `log`; the caller waits for it (server_answers) and stops it. A source file edited while tests run must not put
    "File change. Rerun" in the status area: no file watcher."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / entry), "--server.headless", "true",
             "--server.port", str(port), "--browser.gatherUsageStats", "false", "--secrets.files", str(secrets),
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, "JOINTLY_DB": str(db)}, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def serving_store(db: Path, folder: Path, name: str = "streamlit", *, host: str = "localhost",
                  wait: float = 20) -> Iterator[tuple[str, Path]]:
    """`streamlit run serve.py` (the README's command) over the store at `db`, with no single sign-on configured and
    its output in `<folder>/<name>.log`, until the block ends: (its URL, its log)."""
    secrets = folder / f"{name}-secrets.toml"
    secrets.write_text("")
    port = free_port()
    log = folder / f"{name}.log"
    proc = launch_app(db, port, secrets, log)
    url = f"http://{host}:{port}"
    try:
        if not server_answers(url):
            raise AssertionError(f"the app ({name}) did not start\n{log.read_text()}")
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def wait_until_idle(page, *, timeout: float = 30, settle: float = 0.0) -> None:  # noqa: ANN001 - a Playwright Page
    """Wait for Streamlit's 'not running' state with the page's title drawn, seen three times 0.1 s apart (so the
    gap between two runs does not count); then `settle` seconds for charts, tables and maps to paint."""
    page.wait_for_selector("[data-testid='stApp']", timeout=30_000)
    deadline = time.time() + timeout
    idle = 0
    while time.time() < deadline:
        running = page.locator("[data-testid='stStatusWidget']").count()
        painting = page.locator("[data-testid='stSkeleton']").count()  # widgets not drawn yet
        idle = idle + 1 if not running and not painting and page.locator(f"{MAIN} h1").count() else 0
        if idle == 3:
            time.sleep(settle)
            return
        time.sleep(0.1)
    raise AssertionError(f"the page did not finish running within {timeout:.0f} s")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made now: (certificate, key). nginx in front of the app uses it in
    tests/e2e/test_nginx.py and bench/bench_load.py."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
