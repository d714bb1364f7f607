"""Unmask: find out whether a picture or video of a person was manipulated, prove it,
get it taken down, and stop it spreading."""

__version__ = "0.1.0"
