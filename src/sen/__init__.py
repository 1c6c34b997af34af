"""Sen: an open-source customer data platform for omnichannel retailers."""

__version__ = "0.1.0"
