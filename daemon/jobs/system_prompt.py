"""The system prompt chat sends now, read inside a job child through chat's own `IdentityPrompt`.

Training writes every example with it, so what the self is trained on starts as chat's prompt does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from secondme.daemon.identity_prompt import IdentityPrompt
from secondme.daemon.store import Store
from secondme.daemon.store.identity import IdentityRepository


def current_system_prompt(db_path: Path, owner_name: str) -> str:
    async def read() -> str:
        store = await Store.open(db_path)
        try:
            return await IdentityPrompt(IdentityRepository(store), lambda: owner_name).system_prompt()
        finally:
            await store.close()

    return asyncio.run(read())
