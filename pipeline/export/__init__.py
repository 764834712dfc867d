"""GGUF export and quantization: merged weights -> F16 GGUF -> Q8_0 / Q4_K_M, all written atomically.

The training job calls `export_gguf` then `quantize`; the model registry can import the results.
"""

from secondme.pipeline.errors import ExportError
from secondme.pipeline.export.gguf_io import open_gguf
from secondme.pipeline.export.quantize import QUANT_KINDS, quantize
from secondme.pipeline.export.writer import export_gguf

__all__ = ["QUANT_KINDS", "ExportError", "export_gguf", "open_gguf", "quantize"]
