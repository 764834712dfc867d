"""Errors of the model registry and runtime, each of the kind that says what the owner can do."""

from secondme.errors import Kind, SecondmeError


class ModelError(SecondmeError):
    """Base for model problems the owner can act on."""


class InvalidModelFile(ModelError):
    """Not a usable GGUF file (corrupt, truncated, unsupported architecture, too big)."""

    kind = Kind.INVALID_ARGUMENT


class ModelNotFound(ModelError):
    """No model by that name or id."""

    kind = Kind.NOT_FOUND


class ModelUnavailable(ModelError):
    """No model is active, or it cannot be loaded."""


class RuntimeBusy(ModelError):
    """Too many requests are waiting for the model."""

    kind = Kind.RESOURCE_EXHAUSTED
