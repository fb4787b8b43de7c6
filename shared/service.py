"""What the `academy` command needs to know of a service, and the resources one process of it holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from flask import Flask
from sqlalchemy import MetaData
from sqlalchemy.orm import sessionmaker

from shared.bus import Bus, make_bus
from shared.config import Settings
from shared.consumer import HandlerRegistry
from shared.db import make_engine, make_session_factory
from shared.side_effects import Performer


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    metadata: MetaData
    handlers: HandlerRegistry
    create_app: Callable[..., Flask]
    migrations: Path
    # Performers of the side effects its handlers and commands record, by kind (run by the worker).
    side_effects: Mapping[str, Performer] = field(default_factory=dict)
    # Jobs the worker runs every SCHEDULE_INTERVAL: each takes the session factory and returns how much it did.
    # They must be safe when two workers run them at once and catch up on whatever fell due while none ran.
    scheduled: Mapping[str, Callable[[sessionmaker], int]] = field(default_factory=dict)


class Runtime:
    """Engine, sessions and bus of one service in one process; nothing connects until first used."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def engine(self):
        return make_engine(self.settings.database_url)

    @cached_property
    def session_factory(self):
        return make_session_factory(self.engine)

    @cached_property
    def bus(self) -> Bus:
        return make_bus(self.settings)

    def close(self) -> None:
        if "bus" in self.__dict__:
            self.bus.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
