"""Training datasets, versioned on disk: `<root>/<version>/`, one folder per content hash, never rewritten.

A version holds the SFT examples, the preference candidates, the held-out questions and a manifest
(counts, the memories on each side of the split, the entity graph's summary). Preference pairs depend
on the base model whose answers were rejected, so they sit beside the version per base. A folder is
written under a temporary name and renamed into place, so a kill never leaves half a version; the
same material builds the same version, so building again is free.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secondme.pipeline.errors import TrainingDataNotFound
from secondme.pipeline.training.dataset import Dataset, Example, HeldOutQuestion
from secondme.pipeline.training.preferences import PreferencePair

MANIFEST = "manifest.json"
EXAMPLES = "examples.jsonl"
CANDIDATES = "candidates.jsonl"
HELD_OUT = "heldout.jsonl"
_LATEST = "LATEST"


def _write_jsonl(path: Path, items: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item if isinstance(item, dict) else asdict(item), ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class DatasetStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, dataset: Dataset, settings: dict[str, Any]) -> str:
        """Stores `dataset` (if this version is new) and marks it the latest; returns its version."""
        version = dataset.fingerprint()
        target = self.root / version
        if not (target / MANIFEST).is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.root / f".{version}.partial-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            _write_jsonl(tmp / EXAMPLES, dataset.examples)
            _write_jsonl(tmp / CANDIDATES, dataset.preference_candidates)
            _write_jsonl(tmp / HELD_OUT, dataset.held_out)
            manifest = {
                "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "examples": len(dataset.examples),
                "counts": dataset.counts,
                "preference_candidates": len(dataset.preference_candidates),
                "held_out_questions": len(dataset.held_out),
                "train_memories": dataset.train_memory_ids,
                "held_out_memories": dataset.held_out_memory_ids,
                "newest_ingested_at": dataset.newest_ingested_at,
                "dropped_duplicates": dataset.dropped_duplicates,
                "entity_graph": dataset.entity_graph,
                "settings": settings,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        _atomic_text(self.root / _LATEST, version)
        return version

    def latest(self) -> str | None:
        path = self.root / _LATEST
        if not path.is_file():
            return None
        version = path.read_text(encoding="utf-8").strip()
        return version if (self.root / version / MANIFEST).is_file() else None

    def manifest(self, version: str) -> dict[str, Any]:
        path = self.root / version / MANIFEST
        if not path.is_file() or "/" in version or version.startswith("."):
            raise TrainingDataNotFound(
                f"no training dataset version {version!r}; `secondmectl train data show` lists it"
            )
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["pairs"] = {
            p.name.removeprefix("pairs-").removesuffix(".jsonl"): dict(Counter(r["reason"] for r in _read_jsonl(p)))
            for p in sorted((self.root / version).glob("pairs-*.jsonl"))
        }
        return manifest

    def examples(self, version: str) -> list[Example]:
        self.manifest(version)
        return [Example(**row) for row in _read_jsonl(self.root / version / EXAMPLES)]

    def candidates(self, version: str) -> list[Example]:
        return [Example(**row) for row in _read_jsonl(self.root / version / CANDIDATES)]

    def held_out(self, version: str) -> list[HeldOutQuestion]:
        return [HeldOutQuestion(**row) for row in _read_jsonl(self.root / version / HELD_OUT)]

    def save_pairs(self, version: str, base_id: str, pairs: list[PreferencePair]) -> None:
        path = self.root / version / f"pairs-{base_id}.jsonl"
        tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
        _write_jsonl(tmp, [p.to_dict() for p in pairs])
        os.replace(tmp, path)

    def pairs(self, version: str, base_id: str) -> list[PreferencePair] | None:
        """The preference pairs made with `base_id`'s answers, or None when none were made yet."""
        path = self.root / version / f"pairs-{base_id}.jsonl"
        if not path.is_file():
            return None
        return [PreferencePair(**row) for row in _read_jsonl(path)]
