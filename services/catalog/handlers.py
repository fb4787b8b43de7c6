"""Catalog's event handlers: none yet (ratings, framework and demand updates will arrive here)."""

from __future__ import annotations

from shared.consumer import HandlerRegistry

HANDLERS: HandlerRegistry = {}
