"""gnomon: an API-first BI platform."""

__version__ = "0.1.0"
