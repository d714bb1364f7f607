"""The REST API over real HTTP: `unmask serve` in its own process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from unmask.bank.store import BankStore

PDQ_A = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "unmask"), "serve", "--port", str(port), "--db", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path}/api.sqlite3"
    store = BankStore(url)
    store.create_bank("ncii")
    store.create_bank("other")
    keys = {
        "admin": store.create_key("admin", ["admin"]),
        "match": store.create_key("matcher", ["match"], ["ncii"]),
        "write": store.create_key("writer", ["write", "match"], ["ncii"]),
    }
    store.close()
    proc, base = _start(url)
    yield base, keys
    proc.kill()
    proc.wait()


def _h(key: str | None) -> dict[str, str]:
    return {"X-API-Key": key} if key else {}


def test_authorisation_matrix(server: tuple[str, dict[str, str]]) -> None:
    base, keys = server
    entry = {"entries": [{"signal_type": "pdq", "signal": PDQ_A, "quality": 100}]}
    lookup = {"signal_type": "pdq", "signal": PDQ_A}
    cases = [
        # (method, path, body, key, expected status)
        ("post", "/v1/lookup", lookup, None, 401),
        ("post", "/v1/lookup", lookup, "not-a-key", 401),
        ("post", "/v1/banks/ncii/entries", entry, keys["match"], 403),  # wrong scope
        ("post", "/v1/banks/other/entries", entry, keys["write"], 403),  # wrong bank
        ("get", "/v1/banks/other", None, keys["match"], 403),
        ("post", "/v1/banks", {"name": "x"}, keys["write"], 403),
        ("post", "/v1/banks/ncii/entries", entry, keys["write"], 201),  # right key
        ("post", "/v1/lookup", lookup, keys["match"], 200),
        ("post", "/v1/banks", {"name": "x"}, keys["admin"], 201),
        ("get", "/v1/index", None, keys["match"], 200),
    ]
    for method, path, body, key, status in cases:
        r = httpx.request(method, base + path, json=body, headers=_h(key))
        assert r.status_code == status, (method, path, key, r.text)
        if status >= 400:
            assert set(r.json()["error"]) == {"code", "message", "hint"}
    # The new entry matches at once, with its metadata; another bank's key does not see it.
    deadline = time.monotonic() + 5  # new entries become matchable within seconds
    while (
        not (r := httpx.post(base + "/v1/lookup", json=lookup, headers=_h(keys["match"]))).json()[
            "matches"
        ]
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    (m,) = r.json()["matches"]
    assert (m["bank"], m["signal_type"], m["distance"]) == ("ncii", "pdq", 0)
    r = httpx.get(base + "/v1/banks", headers=_h(keys["match"]))
    assert [b["name"] for b in r.json()] == ["ncii"]


def test_malformed_hash_is_400_with_one_error_shape(server: tuple[str, dict[str, str]]) -> None:
    base, keys = server
    for body in (
        {"signal_type": "pdq", "signal": "xyz"},
        {"signal_type": "nope", "signal": PDQ_A},
        {"signal_type": "vpdq", "signal": "[1,2"},
        {"signal": PDQ_A},
    ):
        r = httpx.post(base + "/v1/lookup", json=body, headers=_h(keys["match"]))
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "bad_request"
    r = httpx.post(
        base + "/v1/lookup/upload",
        files={"file": ("x.jpg", b"not a picture")},
        headers=_h(keys["match"]),
    )
    assert r.status_code == 400 and "error" in r.json()


def test_upload_lookup_and_openapi_examples(
    server: tuple[str, dict[str, str]], shared_data: Path
) -> None:
    base, keys = server
    photo = shared_data / "hashes" / "TE-pdq__pdq__data__misc-images__c.png"
    r = httpx.post(
        base + "/v1/hash", files={"file": ("c.png", photo.read_bytes())}, headers=_h(keys["match"])
    )
    hashed = r.json()
    assert r.status_code == 200 and hashed["pdq_quality"] == 100
    entry = {"entries": [{"signal_type": "pdq", "signal": hashed["pdq"], "labels": ["t"]}]}
    assert httpx.post(base + "/v1/banks/ncii/entries", json=entry, headers=_h(keys["write"]))
    deadline = time.monotonic() + 5  # new entries become matchable within seconds
    while True:
        r = httpx.post(
            base + "/v1/lookup/upload",
            files={"file": ("c.png", photo.read_bytes())},
            headers=_h(keys["match"]),
        )
        if r.json()["matches"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [m["labels"] for m in r.json()["matches"]] == [["t"]]
    spec = httpx.get(base + "/openapi.json").json()
    assert "example" in str(spec["paths"]["/v1/lookup"])
    # No page of the server loads anything from another host (FastAPI's /docs would, from a CDN).
    for path in ("/docs", "/redoc"):
        page = httpx.get(base + path)
        assert page.status_code == 404 and "cdn" not in page.text.lower(), path


def test_no_acknowledged_entry_is_lost_when_the_server_is_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crash.sqlite3"
    store = BankStore(url)
    store.create_bank("bulk")
    key = store.create_key("w", ["write"])
    store.close()
    proc, base = _start(url)
    acknowledged: list[int] = []

    def bulk_import(worker: int) -> None:
        with httpx.Client(base_url=base, headers=_h(key), timeout=10) as client:
            for batch in range(10_000):
                entries = [
                    {
                        "signal_type": "md5",
                        "signal": f"{worker:08x}{batch:08x}{i:016x}",
                        "source": f"{worker}-{batch}",
                    }
                    for i in range(200)
                ]
                try:
                    r = client.post("/v1/banks/bulk/entries", json={"entries": entries})
                except httpx.TransportError:
                    return  # the server died with this request in flight: not acknowledged
                assert r.status_code == 201
                acknowledged.extend(r.json()["ids"])

    workers = [threading.Thread(target=bulk_import, args=(w,)) for w in range(3)]
    for w in workers:
        w.start()
    time.sleep(2.0)
    os.kill(proc.pid, signal.SIGKILL)  # mid-import: requests are in flight
    for w in workers:
        w.join()
    proc.wait()
    assert acknowledged
    store = BankStore(url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    stored = {e.id for e in store.entries("bulk")}
    assert set(acknowledged) <= stored
    # Nothing half-written: every batch is complete or absent.
    sizes: dict[str, int] = {}
    for e in store.entries("bulk"):
        sizes[e.source] = sizes.get(e.source, 0) + 1
    assert set(sizes.values()) == {200}
