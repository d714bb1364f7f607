"""The server's defences, route by route: security headers, Host names, cross-site forms and the
form token, path traversal and other jobs' files, unguessable job ids, bounded integers, and the
API key checked before an upload's body is read."""

from __future__ import annotations

import io
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from media_factory import gradient
from PIL import Image
from starlette.routing import Mount
from test_web import JSON, kept, make_app, wait_done
from web_server import page_client, serving

from unmask.config import ScanConfig
from unmask.scan import Scanner
from unmask.server.guard import FORM_HEADER, SESSION_COOKIE, allowed_hosts_for
from unmask.server.web import ScanQueue

EVIL = "http://evil.example"


def fast_app(tmp_path: Path, **options: Any) -> FastAPI:
    """The real app whose scans run only the metadata check (the defences are under test)."""
    app = make_app(tmp_path, **options)
    config = app.state.scans.config
    app.state.scans = ScanQueue(
        config,
        lambda: Scanner(ScanConfig(detectors=("metadata",), keep_maps=True, keep_preview=True)),
    )
    return app


def all_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        if hasattr(route, "original_router"):
            inner = prefix + route.include_context.prefix
            yield from all_routes(route.original_router.routes, inner)
        elif isinstance(route, Mount):
            yield prefix + route.path + "/{file}", {"GET"}
        elif hasattr(route, "methods"):
            yield prefix + route.path, set(route.methods or ())


def png(seed: int = 0, side: int = 96) -> bytes:
    rgb = np.roll(gradient(side, side), seed * 7, axis=1)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


def scanned(client: TestClient, data: bytes, name: str = "a.png") -> str:
    answer = client.post("/upload", files=[("files", (name, data, "image/png"))], headers=JSON)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["jobs"][0]["id"]
    wait_done(client, job_id)
    return str(job_id)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return fast_app(tmp_path)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with page_client(app) as c:
        yield c


# -- headers on every route ----------------------------------------------------------------


def test_every_route_answers_with_the_security_headers_and_no_store(
    client: TestClient, app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    job_id = scanned(client, png())
    made = client.post(f"/jobs/{job_id}/report", data={"full_name": "Jane Example"})
    assert made.status_code == 200
    # The result page, its pictures and the report download are there to be checked (200).
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/images/preview/sharp"):
        assert client.get(path).status_code == 200
    download = client.get(f"/jobs/{job_id}/report.zip")
    assert download.status_code == 200 and "no-store" in download.headers["cache-control"]
    values = {"job_id": job_id, "name": "preview", "file": "app.css"}
    checked = []
    # "Delete now" last, so that every page of the job is still there before it.
    for template, methods in sorted(all_routes(app.routes), key=lambda r: "delete" in r[0]):
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: values.get(m.group(1), "x"), template)
        for method in sorted(methods - {"HEAD"}):
            answer = client.request(method, path)
            headers = answer.headers
            assert answer.status_code < 500, (method, path, answer.status_code)
            csp = headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["x-frame-options"] == "DENY", path
            assert headers["referrer-policy"] == "no-referrer", path
            if not path.startswith("/static/"):
                assert "no-store" in headers["cache-control"], (method, path)
            checked.append((method, path))
    assert len(checked) >= 30


# -- Host names (DNS rebinding) ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v1/banks", "/openapi.json"])
def test_a_host_name_the_server_was_not_bound_to_is_refused(client: TestClient, path: str):
    answer = client.get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 421
    assert "does not answer for that host name" in answer.text
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:8000", "[::1]:8000"):
        assert client.get(path, headers={"Host": host}).status_code in (200, 401), host


def test_the_allowed_names_follow_the_bound_address():
    assert allowed_hosts_for("127.0.0.1") == ("127.0.0.1", "localhost", "::1")
    assert "myhost.lan" in (allowed_hosts_for("myhost.lan") or ())
    assert allowed_hosts_for("0.0.0.0") is None  # its names are not known: any is served


def test_a_server_bound_to_every_address_answers_any_name(tmp_path: Path):
    with page_client(fast_app(tmp_path, allowed_hosts=None)) as client:
        assert client.get("/", headers={"Host": "box.example:8000"}).status_code == 200


# -- cross-site forms --------------------------------------------------------------------------


def post_form(client: TestClient, path: str, **extra: Any) -> httpx.Response:
    """POST as a page elsewhere would: no form token (that page cannot read it)."""
    token = client.headers.pop(FORM_HEADER)
    try:
        return client.post(path, **extra)
    finally:
        client.headers[FORM_HEADER] = token


CROSS_SITE = [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Referer": EVIL + "/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "null", "Referer": EVIL + "/"},
    {},  # no origin named, and no token
    {"Origin": "http://127.0.0.1:9999"},  # another port is another site
]


@pytest.mark.parametrize("headers", CROSS_SITE, ids=lambda h: ",".join(h) or "no-origin")
def test_every_form_refuses_a_cross_site_post(
    client: TestClient, app: FastAPI, headers: dict[str, str]
):
    job_id = scanned(client, png())
    store = app.state.store
    store.create_bank("ncii")
    key = store.create_key("helper", ["admin"])
    assert "ncii" in client.post("/bank/key", data={"api_key": key}).text  # her own session
    image = [("files", ("b.png", png(1), "image/png"))]
    md5 = "md5:" + "0" * 32
    forms: dict[str, dict[str, Any]] = {
        "/upload": {"files": image},
        "/jobs/{job_id}/delete": {},
        "/jobs/{job_id}/report": {"data": {"full_name": "Mallory"}},
        "/verify": {"files": [("package", ("p.zip", b"PK\x05\x06" + bytes(18), "x"))]},
        "/bank/key": {"data": {"api_key": store.create_key("mallory", ["match"])}},
        "/bank/forget": {},
        "/bank/create": {"data": {"name": "planted"}},
        "/bank/add": {"data": {"bank": "ncii", "hashes": md5}},
        "/bank/match": {"data": {"hashes": md5}},
    }
    page_posts = {
        path for path, methods in all_routes(app.routes) if "POST" in methods and path[:3] != "/v1"
    }
    assert page_posts == set(forms), "every form of the pages is tried here"
    for path, body in forms.items():
        answer = post_form(client, path.format(job_id=job_id), headers=headers, **body)
        assert answer.status_code == 403, (path, answer.status_code, answer.text[:200])
        assert "Traceback" not in answer.text
    assert kept(app.state.scans.root) == [job_id]  # nothing uploaded, nothing deleted
    assert client.get(f"/jobs/{job_id}/report.zip").status_code == 404  # no report made
    bank = client.get("/bank").text
    assert "helper" in bank and "mallory" not in bank  # still her session, not the attacker's
    assert [b.name for b in store.banks()] == ["ncii"]
    assert list(store.entries("ncii", limit=10, offset=0)) == []


def test_the_pages_own_forms_carry_the_sessions_token_and_work(client: TestClient):
    job_id = scanned(client, png())
    page = client.get(f"/jobs/{job_id}")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token and token.group(1) == client.headers[FORM_HEADER]
    answer = post_form(client, f"/jobs/{job_id}/delete", data={"form_token": token.group(1)})
    assert answer.status_code == 200 and "Deleted." in answer.text


def test_a_token_from_another_session_or_an_old_server_is_refused(tmp_path: Path):
    with page_client(fast_app(tmp_path / "one")) as first:
        stolen = first.headers[FORM_HEADER]
    with page_client(fast_app(tmp_path / "two")) as client:
        job_id = scanned(client, png())
        for token in (stolen, "0" * 40, "", "é" * 40, "\x00"):
            answer = post_form(client, f"/jobs/{job_id}/delete", data={"form_token": token})
            assert answer.status_code == 403 and "Reload the page" in answer.text
        assert client.get(f"/jobs/{job_id}").status_code == 200


def test_the_form_token_must_come_before_any_file_is_written(client: TestClient, app: FastAPI):
    token = client.headers[FORM_HEADER]
    late = [("files", ("a.png", png(), "image/png")), ("form_token", (None, token))]
    answer = post_form(client, "/upload", files=late)
    assert answer.status_code == 403
    assert kept(app.state.scans.root) == []
    early = [("form_token", (None, token)), ("files", ("a.png", png(), "image/png"))]
    assert post_form(client, "/upload", files=early, headers=JSON).status_code == 202


def test_a_form_with_a_null_origin_and_the_token_is_accepted(client: TestClient):
    """Browsers send `Origin: null` for a page's own form when its referrer policy is
    no-referrer (ours is): the token then tells the page's own form from a forged one."""
    job_id = scanned(client, png())
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    form = {"form_token": client.headers[FORM_HEADER]}
    answer = post_form(client, f"/jobs/{job_id}/delete", data=form, headers=headers)
    assert answer.status_code == 200 and "Deleted." in answer.text


def test_a_same_origin_post_from_the_page_itself_is_accepted(client: TestClient):
    files = [("files", ("a.png", png(), "image/png"))]
    origin = {"Origin": "http://127.0.0.1"}
    answer = post_form(client, "/upload", files=files, headers=origin, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/progress?job=")


def test_the_session_cookie_is_httponly_and_same_site_strict(app: FastAPI):
    with TestClient(app, base_url="http://127.0.0.1") as fresh:
        cookie = fresh.get("/").headers["set-cookie"]
    assert cookie.startswith(SESSION_COOKIE + "=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


# -- job ids, other jobs' files, path traversal --------------------------------------------


def test_job_ids_are_unguessable_and_guesses_find_nothing(client: TestClient):
    ids = [scanned(client, png(i)) for i in range(3)]
    assert len(set(ids)) == 3 and all(len(i) >= 22 for i in ids)  # 128 random bits each
    for _ in range(300):
        guess = secrets.token_urlsafe(16)
        assert client.get(f"/jobs/{guess}/status").status_code == 404


def test_one_jobs_files_are_served_only_under_its_own_id(client: TestClient):
    first, second = scanned(client, png(1)), scanned(client, png(2))
    a = client.get(f"/jobs/{first}/images/preview/sharp").content
    b = client.get(f"/jobs/{second}/images/preview/sharp").content
    assert a and b and a != b
    client.post(f"/jobs/{first}/delete")
    assert client.get(f"/jobs/{first}/images/preview/sharp").status_code == 404
    assert client.get(f"/jobs/{second}/images/preview/sharp").content == b


TRAVERSALS = [
    "..",
    "../..",
    "%2e%2e",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5c..%5cwindows",
    "%2fetc%2fpasswd",
    "upload.png",
    "owner.pid",
    "preview.jpg",
    "%00",
]


def test_path_traversal_on_every_route_parameter_finds_nothing(client: TestClient, app: FastAPI):
    job_id = scanned(client, png())
    root = app.state.scans.root
    job = app.state.scans.get(job_id)
    secret = job.upload.read_bytes()
    templates = [
        "/jobs/{x}",
        "/jobs/{x}/status",
        "/jobs/{x}/report",
        "/jobs/{x}/report/ready",
        "/jobs/{x}/report.zip",
        "/jobs/{x}/images/preview",
        "/jobs/{x}/images/preview/sharp",
        f"/jobs/{job_id}/images/{{x}}",
        f"/jobs/{job_id}/images/{{x}}/sharp",
        f"/jobs/{job_id}/images/{{x}}/../../upload.png",
        "/progress?job={x}",
        "/static/{x}",
        "/static/..%2f..%2fserver%2fweb%2fjobs.py",
        "/v1/banks/{x}",
        "/v1/banks/{x}/entries",
    ]
    tries = 0
    for template in templates:
        for value in [*TRAVERSALS, f"{job_id}/..", f"{job_id}%2f..%2f{job_id}"]:
            path = template.replace("{x}", value)
            answer = client.get(path, follow_redirects=False)
            tries += 1
            # Clients resolve a plain `..` themselves (to another page); whatever answers, it
            # is never a file of a job, of the server or of the system.
            assert answer.status_code < 500, (path, answer.status_code)
            assert not answer.headers.get("content-type", "").startswith("image/"), path
            assert secret[:64] not in answer.content, path
            assert b"root:" not in answer.content and b"import " not in answer.content, path
    assert tries > 150
    assert sorted(p.name for p in root.iterdir()) == sorted(["owner.pid", job_id])


# -- REST integers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/banks/ncii/entries?offset=9223372036854775808"),
        ("get", "/v1/banks/ncii/entries?limit=9223372036854775808"),
        ("get", "/v1/banks/ncii/entries?offset=-1"),
        ("get", "/v1/banks/ncii/entries?offset=99999999999999999999999999"),
        ("patch", "/v1/banks/ncii/entries/9223372036854775808"),
        ("delete", "/v1/banks/ncii/entries/9223372036854775808"),
        ("delete", "/v1/banks/ncii/entries/-5"),
    ],
)
def test_integers_beyond_the_database_are_a_client_error_not_a_500(
    client: TestClient, app: FastAPI, method: str, path: str
):
    app.state.store.create_bank("ncii")
    key = app.state.store.create_key("admin", ["admin"])
    body = {"enabled": True} if method == "patch" else None
    answer = client.request(method, path, headers={"X-API-Key": key}, json=body)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()["error"]) == {"code", "message", "hint"}


def test_the_largest_database_integer_is_still_answered(client: TestClient, app: FastAPI):
    app.state.store.create_bank("ncii")
    key = {"X-API-Key": app.state.store.create_key("admin", ["admin"])}
    top = 2**63 - 1
    assert client.get(f"/v1/banks/ncii/entries?offset={top}", headers=key).json() == []
    assert client.delete(f"/v1/banks/ncii/entries/{top}", headers=key).status_code == 404


# -- bodies: the key first, and caps from Content-Length ------------------------------------


def raw_request(base: str, head: str, body: bytes = b"", wait_s: float = 20) -> bytes:
    """Send `head` (and part of a body), then wait for the server's answer without sending
    the rest: an answer proves the server did not wait for the body."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait_s) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        deadline = time.monotonic() + wait_s
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.parametrize("path", ["/v1/hash", "/v1/lookup/upload"])
def test_an_upload_without_a_key_is_refused_before_its_body_is_read(tmp_path: Path, path: str):
    with serving(fast_app(tmp_path)) as base:
        head = (
            f"POST {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 314572800\n"
            "Content-Type: multipart/form-data; boundary=x\n"
        )
        answer = raw_request(base, head, b"--x\r\n")
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/bank/key", "application/x-www-form-urlencoded"),
        ("/upload", "multipart/form-data; boundary=x"),
        ("/verify", "multipart/form-data; boundary=x"),
    ],
)
def test_a_body_over_the_cap_is_refused_from_its_content_length(
    tmp_path: Path, path: str, content_type: str
):
    app = fast_app(tmp_path, max_upload_bytes=1 << 20)
    with serving(app) as base:
        head = (
            f"POST {path} HTTP/1.1\nHost: 127.0.0.1:1\nOrigin: http://127.0.0.1:1\n"
            f"Content-Length: {50 << 30}\nContent-Type: {content_type}\n"
        )
        answer = raw_request(base, head, b"--x\r\n")
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert kept(app.state.scans.root) == []


def test_a_json_body_over_the_cap_is_refused_before_it_is_read(tmp_path: Path):
    with serving(fast_app(tmp_path)) as base:
        head = (
            "POST /v1/lookup HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 314572800\n"
            "Content-Type: application/json\n"
        )
        answer = raw_request(base, head, b'{"signal_type": "pdq", "signal": "')
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_chunked_json_body_is_cut_at_the_cap(client: TestClient, app: FastAPI):
    key = app.state.store.create_key("matcher", ["match"])

    def chunks() -> Iterator[bytes]:
        yield b'{"signal_type": "md5", "signal": "'
        for _ in range(20):
            yield b"0" * (1 << 20)

    answer = client.post(
        "/v1/lookup",
        content=chunks(),
        headers={"X-API-Key": key, "Content-Type": "application/json"},
    )
    assert answer.status_code == 413 and answer.json()["error"]["message"].endswith("MiB")


def test_an_api_upload_is_hashed_then_deleted(client: TestClient, app: FastAPI):
    key = {"X-API-Key": app.state.store.create_key("matcher", ["match"])}
    answer = client.post("/v1/hash", files={"file": ("a.png", png(), "image/png")}, headers=key)
    assert answer.status_code == 200 and answer.json()["pdq"]
    assert kept(app.state.scans.root) == []
