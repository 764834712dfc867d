"""Errors the pipeline raises, each of the kind (`secondme.errors.Kind`) that says what the owner can do."""

from secondme.errors import Kind, SecondmeError


class PipelineError(SecondmeError):
    """Base for every error the pipeline reports to the owner."""


class IngestError(PipelineError):
    """A file or folder cannot be ingested; the message says why and what to do."""

    kind = Kind.INVALID_ARGUMENT


class UnsupportedContent(IngestError):
    """The bytes are of a type no parser handles (e.g. an executable)."""


class ContentTooLarge(IngestError):
    """The input exceeds a configured size limit."""

    kind = Kind.RESOURCE_EXHAUSTED


class ExportError(PipelineError):
    """Weights cannot be exported to GGUF or quantized (corrupt file, unsupported architecture, bad input)."""

    kind = Kind.INVALID_ARGUMENT


class GenerationError(PipelineError):
    """The language model could not produce a usable answer (endpoint down, invalid output, ...)."""

    kind = Kind.UNAVAILABLE


class ModelUnreachable(GenerationError):
    """The model's endpoint cannot be reached (down, refused, timed out): nothing was generated."""


class TrainingError(PipelineError):
    """Training could not run or finish; the message says why and what to do."""

    kind = Kind.FAILED_PRECONDITION


class TrainingRefused(TrainingError):
    """This base cannot be trained here (unsupported, too big for the memory, too few memories)."""


class TrainingDataNotFound(TrainingError):
    """No training dataset (of that version) has been built."""

    kind = Kind.NOT_FOUND
