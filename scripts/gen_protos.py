#!/usr/bin/env python3
"""Regenerate the Python stubs for protos/secondme/v1/*.proto, or check they are current.

The generated `_pb2.py`, `_pb2.pyi` and `_pb2_grpc.py` files sit beside their sources and are
checked in, so installing secondme needs no protoc. `--check` regenerates into a temporary folder
and fails when the checked-in files differ: CI runs it so a stale stub never lands.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PACKAGE_DIR = PROTO_ROOT / "secondme" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def _generate(out_dir: Path) -> None:
    from grpc_tools import protoc

    include = Path(protoc.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in PACKAGE_DIR.glob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")


def _generated_files(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in folder.iterdir() if p.name.endswith(GENERATED_SUFFIXES)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the checked-in stubs are stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _generate(Path(tmp))
        fresh = _generated_files(Path(tmp) / "secondme" / "v1")
        current = _generated_files(PACKAGE_DIR)
        if args.check:
            stale = sorted(
                name
                for name in fresh.keys() | current.keys()
                if name not in fresh or name not in current or not filecmp.cmp(fresh[name], current[name], False)
            )
            if stale:
                print("stale generated stubs: " + ", ".join(stale), file=sys.stderr)
                print("run: python scripts/gen_protos.py", file=sys.stderr)
                return 1
            print(f"generated stubs are current ({len(fresh)} files)")
            return 0
        for name, path in current.items():
            if name not in fresh:
                path.unlink()
        for name, path in fresh.items():
            shutil.copyfile(path, PACKAGE_DIR / name)
        print(f"wrote {len(fresh)} files to {PACKAGE_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
