"""Populate sources, one module each (registered by name in ``services/populate/registry.py``)."""
