"""Reachability over the model graph: what is live is what the PlotContext reaches."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def reachable(start: Iterable[str], refs_of: Callable[[str], Iterable[str] | None]) -> set[str]:
    """Ids reachable from ``start`` (included) following ``refs_of``; unknown ids are skipped.

    ``refs_of(id)`` returns the ids a model references, or None when no such model exists.
    Iterative, so arbitrarily deep graphs cannot exhaust the stack.
    """
    seen: set[str] = set()
    stack = list(start)
    while stack:
        model_id = stack.pop()
        if model_id in seen:
            continue
        refs = refs_of(model_id)
        if refs is None:
            continue
        seen.add(model_id)
        stack.extend(r for r in refs if r not in seen)
    return seen
