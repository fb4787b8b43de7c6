"""The payout partner: bank transfers to providers (payouts) and to members (refunds), made by the dispatcher."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from services.billing.settings import billing_settings


class FilePayoutPartner:
    """The embedded default: each transfer is written as a file named by its idempotency key, so a retried
    transfer finds its file and makes nothing twice (a bank's API would dedupe by the same key)."""

    def __init__(self, folder: Path | None = None):
        self._folder = folder

    def __call__(self, payload: dict, idempotency_key: str) -> str:
        folder = self._folder or billing_settings().payout_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (re.sub(r"[^A-Za-z0-9_-]", "-", idempotency_key) + ".json")
        if target.exists():
            return str(target)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".json.tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({**payload, "idempotency_key": idempotency_key}, file, sort_keys=True)
        os.replace(temporary, target)
        return str(target)
