"""The package version, in one place (the package, the tracer name and pyproject agree)."""

__version__ = "0.1.0"
