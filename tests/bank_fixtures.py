"""Bank stores for tests: SQLite always; PostgreSQL where UNMASK_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from unmask.bank.store import BankStore

POSTGRES_ENV = "UNMASK_TEST_POSTGRES_URL"


def _postgres_store() -> BankStore:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (CI's .ci/run sets it)")
    # One fresh database per test, so tests never see each other's banks.
    name = "unmask_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base, _, _ = url.rpartition("/")
    return BankStore(f"{base}/{name}")


@pytest.fixture(name="store", params=["sqlite", "postgresql"])
def store_fixture(request: pytest.FixtureRequest, tmp_path: object) -> BankStore:
    if request.param == "sqlite":
        s = BankStore(f"sqlite:///{tmp_path}/bank.sqlite3")
    else:
        s = _postgres_store()
    yield s
    s.close()
