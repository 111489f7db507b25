"""Inference backends of the engines (one module per engine and runtime, imported lazily)."""
