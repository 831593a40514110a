"""The package version, in a leaf module so any module can record it without importing the public API."""

__version__ = "0.1.0"
