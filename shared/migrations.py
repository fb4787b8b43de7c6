"""Alembic, one history per service: every service's migrations/env.py hands over to `run_env`."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine

from shared.service import ServiceDefinition
from shared.tables import messaging_metadata

MIGRATION_LOCK_ID = 0x41434144  # any constant shared by every migrator of one database


def alembic_config(definition: ServiceDefinition, connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(definition.migrations))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = [definition.metadata, messaging_metadata]
    return config


def beside_the_models(metadatas) -> Callable[..., bool]:
    """An include_object for comparing a database with `metadatas`: leaves out the tables (with those named after
    them), columns and indexes a service's migrations keep beyond its models, named in metadata.info["unmodelled"]."""
    names = {name for metadata in metadatas for name in metadata.info.get("unmodelled", ())}

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if not reflected or compare_to is not None:
            return True
        return not (name in names or (type_ == "table" and any(name.startswith(f"{kept}_") for kept in names)))

    return include


def upgrade(definition: ServiceDefinition, engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Pods starting together all migrate; the lock makes the others wait, then find nothing to do.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        command.upgrade(alembic_config(definition, connection), revision)


def make_revision(definition: ServiceDefinition, engine: Engine, message: str) -> None:
    """Autogenerate a migration from the difference between the models and the upgraded database."""
    with engine.begin() as connection:
        config = alembic_config(definition, connection)
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


def run_env() -> None:
    """Body of every service's env.py: migrate on the connection the caller opened."""
    connection = context.config.attributes["connection"]
    if connection is None:
        raise RuntimeError("run migrations with `academy migrate SERVICE`, which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=context.config.attributes["target_metadata"],
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
        include_object=beside_the_models(context.config.attributes["target_metadata"]),
    )
    with context.begin_transaction():
        context.run_migrations()
