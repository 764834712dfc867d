"""Composition root and local API of the secondme daemon."""

import functools


def __getattr__(name: str) -> str:
    """`__version__`, looked up when first asked for: importlib.metadata takes ~27 ms to import, which
    every job's process (importing this package) and every `secondmectl` call paid for nothing."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("secondme")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+source"
