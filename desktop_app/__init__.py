"""Plotdesk: a local plot server speaking the classic Bokeh Server REST API."""

__version__ = "0.1.0"
