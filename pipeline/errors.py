"""Errors the pipeline raises; the daemon maps them to gRPC status codes in one place."""


class PipelineError(Exception):
    """Base for every error the pipeline reports to the owner."""


class IngestError(PipelineError):
    """A file or folder cannot be ingested; the message says why and what to do."""


class UnsupportedContent(IngestError):
    """The bytes are of a type no parser handles (e.g. an executable)."""


class ContentTooLarge(IngestError):
    """The input exceeds a configured size limit."""


class ExportError(PipelineError):
    """Weights cannot be exported to GGUF or quantized (corrupt file, unsupported architecture, bad input)."""


class GenerationError(PipelineError):
    """The language model could not produce a usable answer (endpoint down, invalid output, ...)."""


class ModelUnreachable(GenerationError):
    """The model's endpoint cannot be reached (down, refused, timed out): nothing was generated."""
