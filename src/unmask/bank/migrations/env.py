"""Alembic environment: migrates the database whose URL the caller put in the config."""

from alembic import context

from unmask.bank.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through unmask.bank.store.BankStore")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
