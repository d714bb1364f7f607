"""The /v1 API as a platform would use it: every answer typed in the OpenAPI document (checked
against it), least privilege for match keys, least data on entries, an audit log, an index
that is current the moment a write answers, times with their UTC offset."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import worker_tasks
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from PIL import Image

from unmask import hashing
from unmask.bank.store import BankStore
from unmask.server import create_app

PDQ_A = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"


@pytest.fixture(name="api")
def api_fixture(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    store = BankStore(f"sqlite:///{tmp_path}/api.sqlite3")
    store.create_bank("ncii")
    keys = {
        name: {"X-API-Key": store.create_key(name, scopes, banks)}
        for name, scopes, banks in (
            ("admin", ["admin"], None),
            ("platform", ["match"], ["ncii"]),
            ("helper", ["write", "match"], ["ncii"]),
        )
    }
    with TestClient(create_app(store, pages=False), base_url="http://127.0.0.1") as client:
        yield client, keys
    store.close()


class SchemaChecker:
    """Validates each answer against the response schema the OpenAPI document gives for its
    route and status, and records which routes were covered."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.spec = client.get("/openapi.json").json()
        self.covered: set[tuple[str, str]] = set()

    def call(self, method: str, path: str, route: str, status: int, **kw: Any) -> Any:
        r = self.client.request(method, path, **kw)
        assert r.status_code == status, (method, path, r.text)
        self.covered.add((method, route))
        responses = self.spec["paths"][route][method]["responses"]
        if status == 204:
            return None
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": self.spec["components"]})
        errors = [e.message for e in validator.iter_errors(r.json())]
        assert errors == [], (method, route, errors)
        return r.json()


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def test_every_v1_answer_is_typed_and_matches_the_openapi_schema(api, shared_data: Path) -> None:
    client, keys = api
    check = SchemaChecker(client)
    admin, writer, platform = keys["admin"], keys["helper"], keys["platform"]
    # No 2xx answer of /v1 is left untyped (FastAPI's default: any object).
    for route, methods in check.spec["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                if status.startswith("2") and status != "204" and route.startswith("/v1"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert "$ref" in schema or "items" in schema, (method, route, schema)

    bank = check.call("post", "/v1/banks", "/v1/banks", 201, json={"name": "p2"}, headers=admin)
    assert datetime.fromisoformat(bank["created_at"]).utcoffset() is not None
    check.call("get", "/v1/banks", "/v1/banks", 200, headers=platform)
    check.call("get", "/v1/banks/ncii", "/v1/banks/{name}", 200, headers=platform)
    check.call(
        "patch", "/v1/banks/p2", "/v1/banks/{name}", 200, json={"enabled": True}, headers=admin
    )
    entries = {"entries": [{"signal_type": "pdq", "signal": PDQ_A, "quality": 100}]}
    added = check.call(
        "post",
        "/v1/banks/ncii/entries",
        "/v1/banks/{name}/entries",
        201,
        json=entries,
        headers=writer,
    )
    (entry_id,) = added["ids"]
    listed = check.call(
        "get", "/v1/banks/ncii/entries", "/v1/banks/{name}/entries", 200, headers=writer
    )
    assert datetime.fromisoformat(listed[0]["added_at"]).utcoffset() is not None
    lookup = {"signal_type": "pdq", "signal": PDQ_A}
    found = check.call("post", "/v1/lookup", "/v1/lookup", 200, json=lookup, headers=platform)
    assert [m["entry_id"] for m in found["matches"]] == [entry_id]
    photo = (shared_data / "hashes" / "TE-pdq__pdq__data__misc-images__c.png").read_bytes()
    hashed = check.call(
        "post", "/v1/hash", "/v1/hash", 200, files={"file": ("c.png", photo)}, headers=platform
    )
    assert set(hashed["signals"]) == {"pdq", "photo_md5", "photo_sha256"}
    check.call(
        "post",
        "/v1/lookup/upload",
        "/v1/lookup/upload",
        200,
        files={"file": ("c.png", photo)},
        headers=platform,
    )
    index = check.call("get", "/v1/index", "/v1/index", 200, headers=platform)
    assert datetime.fromisoformat(index["refreshed_at"]).utcoffset() is not None
    route = "/v1/banks/{name}/entries/{entry_id}"
    check.call(
        "patch",
        f"/v1/banks/ncii/entries/{entry_id}",
        route,
        200,
        json={"enabled": False},
        headers=writer,
    )
    check.call("delete", f"/v1/banks/ncii/entries/{entry_id}", route, 204, headers=writer)
    check.call("delete", "/v1/banks/p2", "/v1/banks/{name}", 204, headers=admin)
    audit = check.call("get", "/v1/audit", "/v1/audit", 200, headers=admin)
    assert audit[0]["action"] == "delete_bank"
    # Errors have their schema too: one shape for every failure.
    check.call("get", "/v1/index", "/v1/index", 401)
    check.call("get", "/v1/banks/ncii/entries", "/v1/banks/{name}/entries", 403, headers=platform)
    bad = {"signal_type": "pdq", "signal": "xyz"}
    check.call("post", "/v1/lookup", "/v1/lookup", 400, json=bad, headers=platform)
    missing = {"signal": PDQ_A}  # fails request validation: 400 as documented, never 422
    check.call("post", "/v1/lookup", "/v1/lookup", 400, json=missing, headers=platform)
    assert "422" not in str(check.spec["paths"])
    check.call("get", "/v1/banks/nope", "/v1/banks/{name}", 404, headers=admin)
    every = {
        (method, route)
        for route, methods in check.spec["paths"].items()
        if route.startswith("/v1")
        for method in methods
    }
    assert every - check.covered == set()


def test_match_key_sees_matches_only_never_entries(api) -> None:
    client, keys = api
    entries = {
        "entries": [
            {"signal_type": "pdq", "signal": PDQ_A, "labels": ["ncii"], "source": "alice.jpg"}
        ]
    }
    r = client.post("/v1/banks/ncii/entries", json=entries, headers=keys["helper"])
    assert r.status_code == 201
    r = client.get("/v1/banks/ncii/entries", headers=keys["platform"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.post(
        "/v1/lookup", json={"signal_type": "pdq", "signal": PDQ_A}, headers=keys["platform"]
    )
    (match,) = r.json()["matches"]
    assert "alice" not in r.text and "added_by" not in match and "source" not in match
    assert {"bank", "entry_id", "distance", "labels", "meaning", "caution"} <= set(match)


def test_entries_keep_no_source_or_author_unless_given_and_the_audit_log_names_the_key(
    api,
) -> None:
    client, keys = api
    plain = {"entries": [{"signal_type": "video_md5", "signal": "a" * 32}]}
    said = {
        "entries": [
            {"signal_type": "md5", "signal": "b" * 32, "source": "case 7", "added_by": "reviewer 3"}
        ]
    }
    for body in (plain, said):
        assert client.post("/v1/banks/ncii/entries", json=body, headers=keys["helper"]).is_success
    first, second = client.get("/v1/banks/ncii/entries", headers=keys["helper"]).json()
    assert (first["source"], first["added_by"]) == ("", "")
    assert (second["source"], second["added_by"]) == ("case 7", "reviewer 3")
    audit = client.get("/v1/audit", headers=keys["admin"]).json()
    assert [(e["actor"], e["action"], e["bank"]) for e in audit[:2]] == [
        ("key:helper", "add_entries", "ncii"),
        ("key:helper", "add_entries", "ncii"),
    ]
    assert client.get("/v1/audit", headers=keys["helper"]).status_code == 403


def test_index_is_current_when_a_write_answers(api) -> None:
    """No waiting: the entry a write acknowledged is in /v1/index and matchable at once."""
    client, keys = api
    rng = np.random.default_rng(3)
    for _ in range(5):
        value = bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex()
        body = {"entries": [{"signal_type": "pdq", "signal": value, "quality": 100}]}
        (entry_id,) = client.post(
            "/v1/banks/ncii/entries", json=body, headers=keys["helper"]
        ).json()["ids"]
        assert client.get("/v1/index", headers=keys["platform"]).json()["last_entry_id"] == entry_id
        found = client.post(
            "/v1/lookup", json={"signal_type": "pdq", "signal": value}, headers=keys["platform"]
        ).json()["matches"]
        assert [m["entry_id"] for m in found] == [entry_id]


def test_mirrored_upload_matches_over_the_api(api, shared_data: Path) -> None:
    client, keys = api
    photo = np.asarray(
        Image.open(shared_data / "hashes" / "TE-pdq__pdq__data__bridge-mods__aaa-orig.jpg").convert(
            "RGB"
        )
    )
    upload = {"file": ("a.png", _png(photo))}
    hashed = client.post("/v1/hash", files=upload, headers=keys["platform"]).json()
    body = {"entries": [{"signal_type": "pdq", "signal": hashed["pdq"], "quality": 100}]}
    assert client.post("/v1/banks/ncii/entries", json=body, headers=keys["helper"]).is_success
    mirrored = {"file": ("m.png", _png(photo[:, ::-1].copy()))}
    (match,) = client.post("/v1/lookup/upload", files=mirrored, headers=keys["platform"]).json()[
        "matches"
    ]
    assert match["transform"] == "mirrored left to right"
    assert "mirrored left to right" in match["meaning"]


def test_an_upload_whose_hashing_worker_crashes_is_a_400_and_the_api_goes_on(
    api, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys = api
    # Uploads are hashed in a worker process of their own; here it crashes as a decoder would
    # on a hostile file.
    monkeypatch.setenv("PYTHONPATH", str(Path(worker_tasks.__file__).parent))
    monkeypatch.setattr(hashing, "hash_in_worker", worker_tasks.crash_hashing)
    upload = {"file": ("a.png", _png(np.zeros((64, 64, 3), np.uint8)))}
    for route in ("/v1/hash", "/v1/lookup/upload"):
        answer = client.post(route, files=upload, headers=keys["platform"])
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["code"] == "unreadable_media"
        assert error["message"].startswith("the decoder crashed on this file")
    found = client.post(
        "/v1/lookup", json={"signal_type": "pdq", "signal": PDQ_A}, headers=keys["platform"]
    )
    assert found.status_code == 200


def test_an_upload_the_server_cannot_start_a_worker_for_is_a_503_server_busy(
    api, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys = api

    def no_processes(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork refused

    monkeypatch.setattr(subprocess, "Popen", no_processes)
    upload = {"file": ("a.png", _png(np.zeros((64, 64, 3), np.uint8)))}
    for route in ("/v1/hash", "/v1/lookup/upload"):
        answer = client.post(route, files=upload, headers=keys["platform"])
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "30"
        error = answer.json()["error"]
        assert error["code"] == "server_busy" and "busy" in error["message"]
        assert "Resource temporarily" not in answer.text  # the detail is for the server log
        documented = client.get("/openapi.json").json()["paths"][route]["post"]["responses"]
        assert "503" in documented, "clients generated from the document expect it"
