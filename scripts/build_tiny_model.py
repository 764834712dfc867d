#!/usr/bin/env python3
"""Builds the tiny test model (HF directory + F16/Q8_0/Q4_K_M GGUF) into a folder, with no download.

    python scripts/build_tiny_model.py OUT_DIR

Useful to try `secondmectl models import OUT_DIR/tiny-q8_0.gguf` or to debug the export path by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export import quantize
from secondme.pipeline.tiny_model import build_tiny_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write hf/, tiny-f16.gguf, tiny-q8_0.gguf, ...")
    parser.add_argument("--no-quantize", action="store_true", help="write only the HF directory and F16 GGUF")
    args = parser.parse_args(argv)
    try:
        paths = build_tiny_model(args.out_dir)
        if not args.no_quantize:
            for kind in ("q8_0", "q4_k_m"):
                paths[kind] = quantize(paths["f16"], args.out_dir / f"tiny-{kind}.gguf", kind)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in paths.items():
        print(f"{name:8} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
