"""Errors of the model registry and runtime; mapped to gRPC codes in daemon/api/errors.py."""


class ModelError(Exception):
    """Base for model problems the owner can act on."""


class InvalidModelFile(ModelError):
    """Not a usable GGUF file (corrupt, truncated, unsupported architecture, too big)."""


class ModelNotFound(ModelError, LookupError):
    """No model by that name or id."""


class ModelUnavailable(ModelError):
    """No model is active, or it cannot be loaded."""


class RuntimeBusy(ModelError):
    """Too many requests are waiting for the model."""
