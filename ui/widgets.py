"""Widget state that must not outlive what it was made for (another group, year, base table, or stored data)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import streamlit as st

from data.db.store import Store

KEY_CONTEXTS = "_widget_contexts"  # {name: what that set of widgets' state was made for}


def forget_when_changed(name: str, context: Hashable, keys: Sequence[str], *, store: Store | None = None) -> None:
    """Forget the widgets' state (`keys`) when what they were made for changes: an editor's edits are row
    positions, and would land on the wrong rows. With `store`, a write to the stored data counts as a change too
    (its generation: the page never names the cache key itself)."""
    made_for = (context, store.generation) if store is not None else context
    contexts: dict[str, Hashable] = st.session_state.setdefault(KEY_CONTEXTS, {})
    if contexts.get(name) != made_for:
        for key in keys:
            st.session_state.pop(key, None)
        contexts[name] = made_for


def label_from(labels: Mapping[Hashable, str]) -> Callable[[Hashable], str]:
    """A choice's label for a widget's format_func: a value the options no longer have (a stale or crafted message
    from the browser) is shown as itself, never None (Streamlit's serializer raises on a None label)."""
    return lambda value: labels.get(value, str(value))
