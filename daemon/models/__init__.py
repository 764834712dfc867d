"""The local model: a registry of GGUF files and one runtime that serves them through llama.cpp."""
