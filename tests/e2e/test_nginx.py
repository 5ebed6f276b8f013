"""The shipped nginx configs (deploy/nginx/): docs/deploy.md shows them verbatim, `nginx -t` accepts them, and in
front of a real Streamlit server they hide the metrics, keep uploads to the app's rules (closed on the parents'
site), carry the websocket and send each security header once. CI installs nginx (.ci/run): nothing is skipped."""

from __future__ import annotations

import http.client
import http.server
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from serving import free_port, launched_browser, self_signed_certificate
from visitor import ROOT, anonymous_session, multipart, real_copy_with_admin, running_server, unverified_tls

from data.demo.build import build_demo

NGINX_DIR = ROOT / "deploy" / "nginx"
STAFF = NGINX_DIR / "jointly.conf"
PUBLIC = NGINX_DIR / "jointly-public.conf"
MULTI = NGINX_DIR / "jointly-multi.conf"  # several app processes behind one nginx (issue 12 point 9)
SITE = NGINX_DIR / "jointly-site.conf"  # the parents' static site: plain files, no app behind it (issue 16)
SITE_ROOT = "/srv/jointly-site"  # where docs/deploy.md has `python -m data publish-site` write
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
STATIC_ROOT = "/srv/jointly/streamlit-static"  # where docs/deploy.md has deploy/precompress.py write
PROXY_HEADERS = ("strict-transport-security", "x-frame-options", "x-content-type-options", "referrer-policy",
                 "permissions-policy", "content-security-policy")


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is not installed: apt-get install -y nginx (.ci/run does this)")
    return found


def _test_config(site: Path, folder: Path, listen: int, upstream: int, static_root: Path | None = None,
                 site_root: Path | None = None) -> Path:
    """nginx.conf around the shipped site file, changed only where a test must: its port, the certificate, the
    app's port (and, given `static_root`, where deploy/precompress.py wrote; given `site_root`, where the static
    site was built). Everything nginx writes goes to `folder`."""
    cert, key = self_signed_certificate(folder)
    text = site.read_text()
    for old, new in (("listen 443 ssl http2;", f"listen 127.0.0.1:{listen} ssl http2;"),
                     ("/etc/ssl/jointly/fullchain.pem", str(cert)), ("/etc/ssl/jointly/privkey.pem", str(key))):
        assert old in text, f"{site.name} no longer has {old!r}: update this test"
        text = text.replace(old, new)
    text = re.sub(r"http://127\.0\.0\.1:850\d", f"http://127.0.0.1:{upstream}", text)
    if static_root is not None:
        assert STATIC_ROOT in text, f"{site.name} no longer serves /static/ from {STATIC_ROOT}: update this test"
        text = text.replace(STATIC_ROOT, str(static_root))
    if site_root is not None:
        assert f"root {SITE_ROOT};" in text, f"{site.name} no longer serves {SITE_ROOT}: update this test"
        text = text.replace(f"root {SITE_ROOT};", f"root {site_root};")
    (folder / "site.conf").write_text(text)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                              "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(f"""daemon off;
master_process off;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{}}
http {{
    access_log off;
{temp}
    include {folder / 'site.conf'};
}}
""")
    return conf


def _nginx_blocks(markdown: str) -> list[str]:
    return re.findall(r"```nginx\n(.*?)```", markdown, flags=re.S)


def test_the_doc_shows_each_shipped_config_verbatim():
    blocks = _nginx_blocks(DEPLOY_DOC.read_text())
    assert sorted(blocks) == sorted(path.read_text() for path in (STAFF, PUBLIC, SITE))


@pytest.mark.parametrize("site", [STAFF, PUBLIC, SITE], ids=lambda p: p.name)
def test_nginx_accepts_the_config(site, tmp_path):
    conf = _test_config(site, tmp_path, free_port(), 8501)
    checked = subprocess.run([_nginx(), "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_accepts_the_multi_process_config(tmp_path):  # issue 12 point 9
    conf = _test_config(MULTI, tmp_path, free_port(), 8501)
    checked = subprocess.run([_nginx(), "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


class _Which(http.server.BaseHTTPRequestHandler):
    """An upstream that answers every GET with its own port: which process nginx chose."""

    def do_GET(self) -> None:
        body = str(self.server.server_port).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _ask(port: int, cookie: str, tls: ssl.SSLContext) -> tuple[str, str]:
    """GET / through the proxy with `cookie` ("" for none): (the upstream that answered, the Set-Cookie sent)."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=tls)
    try:
        conn.request("GET", "/", headers={"Cookie": cookie} if cookie else {})
        answer = conn.getresponse()
        return answer.read().decode(), answer.headers.get("Set-Cookie", "")
    finally:
        conn.close()


def test_the_route_cookie_keeps_each_browser_on_one_process(tmp_path):  # issue 12 point 9
    """A browser's first answer sets a route cookie, and every request with it reaches the same app process (a
    session's websocket, uploads and media live in one process); different browsers spread over the four."""
    backends = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Which) for _ in range(4)]
    for b in backends:
        threading.Thread(target=b.serve_forever, daemon=True).start()
    listen = free_port()
    conf = _test_config(MULTI, tmp_path, listen, 8501)
    site = (tmp_path / "site.conf").read_text()
    for i, b in enumerate(backends, start=1):
        assert f"server 127.0.0.1:850{i};" in site, "jointly-multi.conf no longer lists 8501-8504: update this test"
        site = site.replace(f"server 127.0.0.1:850{i};", f"server 127.0.0.1:{b.server_port};")
    (tmp_path / "site.conf").write_text(site)
    proc = subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(tmp_path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    tls = unverified_tls()  # one context: loading the CA bundle for each request would take most of the time
    try:
        deadline = time.time() + 20
        while True:
            try:
                _ask(listen, "", tls)
                break
            except OSError:
                assert time.time() < deadline, "nginx did not answer: " + (tmp_path / "error.log").read_text()
                time.sleep(0.2)
        chosen = set()
        for _ in range(40):  # forty browsers, each asking once without the cookie, then three times with it
            first, set_cookie = _ask(listen, "", tls)
            assert set_cookie.startswith("jointly_route=") and "Secure" in set_cookie and "HttpOnly" in set_cookie
            cookie = set_cookie.split(";", 1)[0]
            later = [_ask(listen, cookie, tls) for _ in range(3)]
            assert {upstream for upstream, _ in later} == {first}  # the first request too: "/" then the websocket
            assert all(again == "" for _, again in later)  # the cookie is given once
            chosen.add(first)
        assert len(chosen) >= 3, chosen  # all on one or two of four: 6 x 2**-40 by chance
    finally:
        proc.terminate()
        proc.wait(10)
        for b in backends:
            b.shutdown()


@contextmanager
def _proxy(site: Path, folder: Path, upstream: int, static_root: Path | None = None) -> Iterator[int]:
    """nginx with `site` in front of the app on `upstream`, until the block ends: its port."""
    port = free_port()
    conf = _test_config(site, folder, port, upstream, static_root)
    proc = subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if _get(port, "/_stcore/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("nginx did not answer: " + (folder / "error.log").read_text())
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _get(port: int, path: str) -> tuple[int, http.client.HTTPMessage]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=unverified_tls())
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        return answer.status, answer.headers
    finally:
        conn.close()


def _put(port: int, session_id: str, size: int) -> int:
    """An upload PUT through the proxy, with a self-made XSRF cookie and token: the status."""
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    body, content_type = multipart(b"7" * size)
    token = generate_xsrf_token_string()
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=unverified_tls())
    try:
        conn.request("PUT", f"/_stcore/upload_file/{session_id}/{uuid.uuid4().hex}", body=body,
                     headers={"Content-Type": content_type, "X-Xsrftoken": token,
                              "Cookie": f"_streamlit_xsrf={token}"})
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("nginx") / "demo.duckdb"
    build_demo(db, schools=120, years=2)
    return db


def test_the_staff_proxy_in_front_of_a_real_server(demo_db, tmp_path):
    db, cookie = real_copy_with_admin(demo_db, tmp_path)  # a signed-in admin's Data page has the uploader
    with running_server("serve.py", {"JOINTLY_DB": str(db)}) as (app_url, _):
        with _proxy(STAFF, tmp_path, int(app_url.rsplit(":", 1)[1])) as port:
            for path in ("/_stcore/metrics", "//_stcore//metrics", "/_stcore/metrics/"):
                assert _get(port, path)[0] == 404, path
            status, headers = _get(port, "/")
            assert status == 200
            for name in PROXY_HEADERS:
                assert len(headers.get_all(name) or []) == 1, f"{name}: {headers.get_all(name)}"
            assert "default-src 'self'" in headers["content-security-policy"]
            url = f"https://127.0.0.1:{port}"
            with anonymous_session(url) as visit:  # the websocket works through the proxy
                visit.run()
                assert _put(port, visit.session_id, 1024 * 1024) == 403
            with anonymous_session(url, page="data_import", cookie=cookie) as visit:
                visit.run(page="data_import")
                assert _put(port, visit.session_id, 1024 * 1024) == 204  # staff uploads still pass
                assert _put(port, visit.session_id, 102 * 1024 * 1024) == 413  # the proxy's own cap


def test_the_parents_proxy_closes_the_upload_endpoint(demo_db, tmp_path):
    public = tmp_path / "public.duckdb"
    subprocess.run([sys.executable, "-m", "data", "export-public", str(public)], cwd=ROOT, check=True,
                   env={**os.environ, "JOINTLY_DB": str(demo_db)}, capture_output=True)
    with running_server("serve.py", {"JOINTLY_DB": str(public), "JOINTLY_PUBLIC_SITE": "1"}) as (app_url, _):
        (tmp_path / "nginx").mkdir()
        with _proxy(PUBLIC, tmp_path / "nginx", int(app_url.rsplit(":", 1)[1])) as port:
            assert _get(port, "/_stcore/metrics")[0] == 404
            with anonymous_session(f"https://127.0.0.1:{port}") as visit:
                visit.run()
                assert _put(port, visit.session_id, 1024) == 403


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def test_the_app_works_in_a_browser_through_the_proxy(demo_db, tmp_path, browser):
    """Chromium through the staff proxy, under its full Content-Security-Policy: the group overview draws (the
    websocket, scripts, styles and workers all allowed) and the browser reports no policy violation."""
    with running_server("serve.py", {"JOINTLY_DB": str(demo_db)}) as (app_url, _):
        with _proxy(STAFF, tmp_path, int(app_url.rsplit(":", 1)[1])) as port:
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1600})
            page = context.new_page()
            refused: list[str] = []
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"https://127.0.0.1:{port}/?viewing_as=Leader")
            page.locator("[data-testid='stMainBlockContainer'] h1").first.wait_for(timeout=60_000)
            page.wait_for_timeout(3000)  # charts and the map draw after the heading
            assert page.locator("[data-testid='stException']").count() == 0
            assert refused == [], "\n".join(refused)
            context.close()


# issue 14 point 5: Streamlit's static files go out compressed


def _fetch(port: int, path: str, encoding: str = "") -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET through the proxy, asking for `encoding` ("" asks for none): status, headers and the body as sent."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=unverified_tls())
    try:
        conn.request("GET", path, headers={"Accept-Encoding": encoding} if encoding else {})
        answer = conn.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        conn.close()


def test_precompress_writes_a_gzip_copy_beside_each_text_file(tmp_path):
    import gzip

    sys.path.insert(0, str(ROOT / "deploy"))
    from precompress import precompress, streamlit_static

    target = tmp_path / "streamlit-static"
    (target / "stale.js").parent.mkdir(parents=True)
    (target / "stale.js").write_text("an older Streamlit's file")
    counts = precompress(target)
    source = streamlit_static()
    assert not (target / "stale.js").exists()  # the folder is replaced whole
    scripts = sorted((source / "static" / "js").glob("*.js"), key=lambda p: p.stat().st_size)
    biggest = scripts[-1]
    copy = target / biggest.relative_to(source)
    assert copy.read_bytes() == biggest.read_bytes()
    assert gzip.decompress(copy.with_name(copy.name + ".gz").read_bytes()) == biggest.read_bytes()
    assert counts["compressed"] >= len(scripts) // 2
    for packed in target.rglob("*.gz"):  # every .gz is its original, compressed
        assert gzip.decompress(packed.read_bytes()) == packed.with_suffix("").read_bytes(), packed
    assert not list(target.rglob("*.woff2.gz"))  # fonts are compressed already


@pytest.mark.parametrize("site", [STAFF, PUBLIC, MULTI], ids=lambda p: p.name)
def test_every_config_serves_static_files_precompressed(site):
    text = site.read_text()
    for needed in ("gzip on;", "gzip_static on;", "gzip_proxied any;", f"root {STATIC_ROOT};", "try_files $uri @app;",
                   "application/javascript", "text/css", "application/json", "image/svg+xml"):
        assert needed in text, f"{site.name} lacks {needed!r}"


def test_the_proxy_sends_the_big_scripts_compressed(demo_db, tmp_path):
    """Through the staff proxy with the precompressed copy: the largest script (the chart library) goes out as its
    .gz to a browser that takes gzip, whole to one that does not, with the right type and every security header
    once; a script the copy lacks still comes from the app; the page itself is compressed on the way out."""
    import gzip

    sys.path.insert(0, str(ROOT / "deploy"))
    from precompress import precompress, streamlit_static

    root = tmp_path / "streamlit-static"
    precompress(root)
    source = streamlit_static()
    scripts = sorted((source / "static" / "js").glob("*.js"), key=lambda p: p.stat().st_size)
    biggest, missing = scripts[-1], scripts[-2]
    (root / missing.relative_to(source)).unlink()  # as after a Streamlit upgrade without the deploy step
    (root / missing.relative_to(source)).with_name(missing.name + ".gz").unlink()
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    with running_server("serve.py", {"JOINTLY_DB": str(demo_db)}) as (app_url, _):
        with _proxy(STAFF, nginx_dir, int(app_url.rsplit(":", 1)[1]), static_root=root) as port:
            path = "/" + biggest.relative_to(source).as_posix()
            status, headers, body = _fetch(port, path, "gzip, deflate, br")
            assert status == 200
            assert headers["content-encoding"] == "gzip"
            assert headers["content-type"].startswith("application/javascript")
            assert gzip.decompress(body) == biggest.read_bytes()
            assert len(body) < biggest.stat().st_size / 2
            for name in PROXY_HEADERS:
                assert len(headers.get_all(name) or []) == 1, f"{name}: {headers.get_all(name)}"
            status, headers, body = _fetch(port, path)
            assert status == 200 and headers["content-encoding"] is None and body == biggest.read_bytes()
            status, headers, body = _fetch(port, "/" + missing.relative_to(source).as_posix(), "gzip")
            assert status == 200
            raw = gzip.decompress(body) if headers["content-encoding"] == "gzip" else body
            assert raw == missing.read_bytes()
            status, headers, body = _fetch(port, "/", "gzip")
            assert status == 200 and headers["content-encoding"] == "gzip"
            assert b"<html" in gzip.decompress(body).lower()


def test_the_app_works_in_a_browser_with_the_precompressed_static_files(demo_db, tmp_path, browser):
    """Chromium through the staff proxy serving /static/ from deploy/precompress.py's folder: the scripts come
    gzipped from nginx with types the browser runs under nosniff, the overview draws its charts and map, and the
    browser reports no policy violation."""
    sys.path.insert(0, str(ROOT / "deploy"))
    from precompress import precompress

    root = tmp_path / "streamlit-static"
    precompress(root)
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    with running_server("serve.py", {"JOINTLY_DB": str(demo_db)}) as (app_url, _):
        with _proxy(STAFF, nginx_dir, int(app_url.rsplit(":", 1)[1]), static_root=root) as port:
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 1600})
            page = context.new_page()
            refused: list[str] = []
            gzipped: list[str] = []
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("response", lambda r: gzipped.append(r.url) if "/static/js/" in r.url
                    and r.headers.get("content-encoding") == "gzip" else None)
            page.goto(f"https://127.0.0.1:{port}/?viewing_as=Leader")
            main = page.locator("[data-testid='stMainBlockContainer']")
            main.locator("h1").first.wait_for(timeout=150_000)
            main.locator("[data-testid='stPlotlyChart'] svg.main-svg").first.wait_for(state="attached", timeout=150_000)
            main.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(state="attached", timeout=150_000)
            assert page.locator("[data-testid='stException']").count() == 0
            assert refused == [], "\n".join(refused)
            assert any("PlotlyChart" in url for url in gzipped), gzipped[:5]
            context.close()


# issue 16: the parents' static site, served as plain files by deploy/nginx/jointly-site.conf


@contextmanager
def _static_site(root: Path, folder: Path) -> Iterator[int]:
    """nginx with jointly-site.conf serving `root`, until the block ends: its port."""
    port = free_port()
    conf = _test_config(SITE, folder, port, 8501, site_root=root)
    proc = subprocess.Popen([_nginx(), "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                _ask_site(port, "HEAD", "/")
                break
            except OSError:
                assert time.time() < deadline, "nginx did not answer: " + (folder / "error.log").read_text()
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _ask_site(port: int, method: str, path: str, headers: dict[str, str] | None = None,
              ) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=unverified_tls())
    try:
        conn.request(method, path, body=b"x=1" if method == "POST" else None, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        conn.close()


def _pages_of(root: Path) -> list[str]:
    """The index, the first partnership year page that has its CSV (a current publication, not a notice), that
    partnership's own page (its latest year), one of its schools' pages, and the schools and measures pages."""
    years = sorted(p for p in root.glob("partnership/*/*/index.html") if (p.parent / "results.csv").is_file())
    assert years, f"no partnership page with results in {root}"
    year = years[0].parent
    schools = sorted((year / "school").glob("*.html"))
    assert schools, f"no school page in {year}"
    pages = [years[0], year.parent / "index.html", schools[0], root / "schools.html", root / "measures.html"]
    return ["/index.html", *("/" + p.relative_to(root).as_posix() for p in pages)]


@pytest.fixture()
def served_site(demo_store, tmp_path) -> Iterator[tuple[int, Path, list[str]]]:
    """The demo's site (its publications, built by `python -m data publish-site`'s build_site) served through
    jointly-site.conf: (nginx's port, the site's folder, its pages' paths)."""
    from data.outputs.site import build_site

    root = tmp_path / "site"
    report = build_site(demo_store, root)
    assert report.publications >= 1 and report.pages >= 3
    pages = _pages_of(root)
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    with _static_site(root, nginx_dir) as port:
        yield port, root, pages


SITE_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "strict-transport-security",
                "permissions-policy", "x-frame-options")


def _headers_once(headers: http.client.HTTPMessage, what: str) -> None:
    for name in SITE_HEADERS:
        assert len(headers.get_all(name) or []) == 1, f"{what}: {name}: {headers.get_all(name)}"
    assert headers["content-security-policy"] == ("default-src 'none'; style-src 'self'; script-src 'self'; "
                                                  "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
                                                  "form-action 'self'; frame-ancestors 'none'")
    assert headers["x-content-type-options"] == "nosniff"


def test_nginx_serves_the_static_site(served_site):
    """Pages 200 with every security header once and five minutes' caching; assets a year; the 404 page with
    status 404 (and its headers); the manifest hidden; nothing but GET and HEAD; text compressed when asked, a
    precompressed .gz sent as it is."""
    import gzip
    import hashlib

    sys.path.insert(0, str(ROOT / "deploy"))
    from precompress import gzip_beside

    port, root, pages = served_site
    for path in [*pages, "/", path_dir(pages[1])]:
        status, headers, body = _ask_site(port, "GET", path)
        assert status == 200, path
        assert headers["content-type"] == "text/html; charset=utf-8", path
        assert b"<html" in body
        _headers_once(headers, path)
        assert headers["cache-control"] == "max-age=300", path
    assets = sorted(p.relative_to(root).as_posix() for p in (root / "assets").iterdir())
    assert len(assets) == 3  # the style, the search script and its index
    for asset in assets:  # named for their content, so a year's caching never serves a stale one
        digest = hashlib.sha256((root / asset).read_bytes()).hexdigest()[:10]
        assert re.fullmatch(rf"assets/(site|search)\.{digest}\.(css|js|json)", asset), asset
    types = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
             ".json": "application/json; charset=utf-8"}
    for asset in assets:
        status, headers, body = _ask_site(port, "GET", "/" + asset)
        assert status == 200 and body == (root / asset).read_bytes(), asset
        assert headers["content-type"] == types[Path(asset).suffix], asset
        assert headers["cache-control"] == "max-age=31536000", asset
        _headers_once(headers, asset)
    status, headers, body = _ask_site(port, "GET", path_dir(pages[1]) + "results.csv")
    assert status == 200 and headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["cache-control"] == "max-age=300"

    for missing in ("/no-such-page.html", "/partnership/nobody/index.html", "/site.json", "/assets/site.x.css"):
        status, headers, body = _ask_site(port, "GET", missing)
        assert status == 404, missing
        assert body == (root / "404.html").read_bytes(), missing  # the site's own page, not nginx's
        _headers_once(headers, missing)
        assert "cache-control" not in headers  # a page that appears later is not hidden by a cached 404

    # a folder without its slash: redirected to the same address with it, whatever host or port was asked
    status, headers, _ = _ask_site(port, "GET", path_dir(pages[1]).rstrip("/"))
    assert status == 301 and headers["location"] == path_dir(pages[1])

    for path in (pages[0], "/" + assets[0]):
        assert _ask_site(port, "HEAD", path)[0] == 200, path
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            assert _ask_site(port, method, path)[0] in (403, 405), (method, path)

    status, headers, body = _ask_site(port, "GET", pages[1], {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip" and "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(body) == (root / pages[1].lstrip("/")).read_bytes()
    css = next(a for a in assets if a.endswith(".css"))
    status, headers, body = _ask_site(port, "GET", "/" + css, {"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == (root / css).read_bytes()
    assert gzip_beside(root / css) > 0  # a deploy step's .gz beside the file: nginx sends it as it is (gzip_static)
    status, headers, body = _ask_site(port, "GET", "/" + css, {"Accept-Encoding": "gzip"})
    assert status == 200 and body == (root / (css + ".gz")).read_bytes()
    assert headers["content-type"] == "text/css; charset=utf-8" and headers["cache-control"] == "max-age=31536000"
    status, headers, body = _ask_site(port, "GET", "/" + css)
    assert headers["content-encoding"] is None and body == (root / css).read_bytes()


def path_dir(path: str) -> str:
    """'/partnership/g1/2023-24/index.html' -> '/partnership/g1/2023-24/'."""
    return path.rsplit("/", 1)[0] + "/"


def test_the_static_site_works_in_a_browser_under_its_policy(served_site, browser):
    """Chromium through nginx on each kind of page of the demo's site: each loads its stylesheet, the index's
    script fetches the search index and un-hides the search form, the partnership page's charts are drawn; the
    browser reports nothing refused by the Content-Security-Policy, no failed request, and asks no host but
    nginx's."""
    port, root, pages = served_site
    origin = f"https://127.0.0.1:{port}"
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    messages: list[str] = []
    asked: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("request", lambda r: asked.append(r.url))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        for path in pages:
            page.goto(origin + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("link[rel=stylesheet]").count() == 1
            rules = page.evaluate("[...document.styleSheets].reduce((n, s) => n + s.cssRules.length, 0)")
            assert rules > 0, f"{path}: the stylesheet did not load"
            if path == pages[0]:
                page.locator("form[role=search]").wait_for(state="visible", timeout=10_000)  # the script ran
            if path == pages[1]:  # the partnership's results: inline SVG charts, each named by its own ids
                assert page.locator("svg[role=img]").count() >= 1
                assert page.evaluate("""[...document.querySelectorAll('svg[role=img]')].every(svg =>
                    svg.getAttribute('aria-labelledby').split(' ').every(id => document.getElementById(id)))""")
    finally:
        context.close()
    refused = [m for m in messages if "Refused to" in m or "Content Security Policy" in m]
    assert refused == [], "\n".join(refused)
    assert failed == []  # not even /favicon.ico: the pages name their icon (none, `data:,`)
    assert [m for m in messages if m.startswith("error")] == []
    elsewhere = [url for url in asked if not url.startswith(origin + "/")]
    assert elsewhere == []
    assert any("/assets/search." in url and url.endswith(".json") for url in asked)

    # the check can tell: a page with an inline style, an inline script and a font from elsewhere is refused
    (root / "planted.html").write_text('<!doctype html><html lang="en"><head><title>x</title>'
                                       '<link rel="stylesheet" href="https://fonts.example.org/a.css"></head>'
                                       '<body><p style="color: red">x</p><script>document.title = "ran"</script>'
                                       "</body></html>", encoding="utf-8")
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    planted: list[str] = []
    page.on("console", lambda m: planted.append(m.text))
    try:
        page.goto(origin + "/planted.html")
        page.wait_for_load_state("load")
        assert page.title() == "x"
    finally:
        context.close()
    # (this Chromium words it "... violates the following Content Security Policy directive", not "Refused to")
    assert sum("Refused to" in m or "Content Security Policy" in m for m in planted) >= 3, planted
