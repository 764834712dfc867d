"""Composition root and local API of the secondme daemon."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("secondme")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
