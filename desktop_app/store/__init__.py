"""Durable storage of users, documents and models (TinyDB with crash-safe writes)."""

from desktop_app.store.store import Store

__all__ = ["Store"]
