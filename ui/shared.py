"""A process's cache of what the pages read and build, shared by every rerun of every session, without Streamlit's
caching machinery.

Why not st.cache_resource: on every call it hashes each argument with its own hasher (through pickling-like
`to_bytes`), inspects the function's signature, takes two locks and records the call's messages so that a cached
function which draws can be replayed. The overview makes some forty cached calls per rerun, and that machinery was
~14% of a warm rerun (issue 14 point 2). What the pages cache is keyed by plain values — the store's generation, the
viewer's scope (a frozen Viewer), ids, years, tuples of measure ids — which a dict hashes in a microsecond.

    @shared(max_entries=64)
    def _card(_store: Store, generation: int, viewer: Viewer, group_id: int, period: str) -> Scorecard: ...

The key is every argument whose parameter's name does not start with "_" (Streamlit's convention, kept so the
signatures read as before); a parameter named `_store` adds which Store object it is, so two stores at the same
generation (two files, or a test's copies) never share an entry. Each argument of the key must be hashable and
compare equal only to what means the same (ints, strings, tuples, frozen dataclasses, None).

Rules for what may be cached here:
- the function draws nothing: no st.* call inside (nothing is replayed on a hit, unlike st.cache_resource);
- what it returns is never changed by a caller (frozen records, figures drawn as they are) or the caller is handed
  a fresh shell (a list, a dict, a shallow DataFrame copy);
- the key holds everything the result depends on: the store's generation (every write moves it on, so a write's
  next rerun reads afresh) and the viewer's scope (one viewer is never given what another may see).

Each cache is bounded (least recently used dropped first) and thread-safe: one lock guards its entries, and a
value is computed once however many sessions ask for it at the same moment (the others wait for it). An exception
is not cached: the next call computes again. `clear_all()` empties every cache here, wherever the tests or the app
empty Streamlit's.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_CACHES: weakref.WeakSet[SharedCache] = weakref.WeakSet()
_SERIALS: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()
_SERIAL_LOCK = threading.Lock()
_COUNTER = itertools.count(1)


def _serial(obj: object) -> int:
    """A number for this object that no other object of the process is ever given (an id() is reused after the
    object is gone: a new Store at the same address and generation would hit the old one's entries)."""
    try:
        return _SERIALS[obj]
    except KeyError:
        with _SERIAL_LOCK:
            return _SERIALS.setdefault(obj, next(_COUNTER))
    except TypeError:
        raise TypeError(f"a shared cache's _store must be an object it can hold a weak reference to, not "
                        f"{type(obj).__name__}") from None


class SharedCache:
    """One function's entries: key -> value, least recently used first."""

    def __init__(self, func: Callable[..., Any], max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError(f"shared(max_entries={max_entries}): a cache holds at least one entry")
        self.func = func
        self.max_entries = max_entries
        self.name = f"{func.__module__}.{func.__qualname__}"
        self._sig = inspect.signature(func)
        params = list(self._sig.parameters.values())
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in params):
            raise TypeError(f"{self.name}: a shared cache keys on named positional parameters only")
        self._n = len(params)
        self._keep = tuple(i for i, p in enumerate(params) if not p.name.startswith("_"))
        self._store = next((i for i, p in enumerate(params) if p.name == "_store"), None)
        self._defaults = tuple(p.default for p in params)
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, threading.Lock] = {}  # a key being computed: its lock, held by the computer
        self.hits = 0
        self.misses = 0

    def key(self, args: tuple, kwargs: dict[str, Any]) -> Hashable:
        if kwargs or len(args) != self._n:
            if not kwargs and len(args) < self._n and all(d is not inspect.Parameter.empty
                                                          for d in self._defaults[len(args):]):
                args = args + self._defaults[len(args):]  # the usual short call: the defaults, as bind would
            else:
                bound = self._sig.bind(*args, **kwargs)
                bound.apply_defaults()
                args = tuple(bound.arguments.values())
        key = tuple([args[i] for i in self._keep])
        if self._store is not None:
            key = (_serial(args[self._store]), *key)
        return key

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = self.key(args, kwargs)
        lock = self._lock
        while True:
            with lock:
                try:
                    value = self._entries[key]
                except KeyError:
                    pass
                except TypeError as exc:
                    raise TypeError(f"{self.name}: an argument of its key is not hashable ({exc})") from None
                else:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return value
                computing = self._pending.get(key)
                if computing is None:
                    computing = self._pending[key] = threading.Lock()
                    computing.acquire()
                    break
            # another thread computes this key: wait for it, then look again (an exception there caches nothing,
            # so this thread may be the one to compute it next)
            with computing:
                pass
        try:
            value = self.func(*args, **kwargs)
            with lock:
                self.misses += 1
                self._entries[key] = value
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return value
        finally:
            with lock:
                del self._pending[key]
            computing.release()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


def shared(max_entries: int = 64) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache the function's results in the process, keyed by its arguments whose names do not start with "_" (and
    which Store `_store` is), at most `max_entries` of them. See the module's docstring for what may be cached."""

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        cache = SharedCache(func, max_entries)
        _CACHES.add(cache)

        @functools.wraps(func)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            return cache(*args, **kwargs)

        cached.cache = cache  # type: ignore[attr-defined]  # the tests read its entries, hits and misses
        cached.clear = cache.clear  # type: ignore[attr-defined]
        return cached

    return wrap


def clear_all() -> None:
    """Empty every shared cache of the process (as st.cache_resource.clear() empties Streamlit's)."""
    for cache in list(_CACHES):
        cache.clear()
    for derived_cache in list(_DERIVED):
        derived_cache.clear()


class DerivedCache:
    """One function's entries keyed by which objects it was given (their ids), each entry holding weak references
    to them: an entry is used only while every one of them is alive and is the very object (an id is reused once
    its object is gone, and then the entry is dead, never served)."""

    def __init__(self, func: Callable[..., Any], max_entries: int) -> None:
        self.func = func
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, ...], tuple[tuple[weakref.ref, ...], Any]] = OrderedDict()
        _DERIVED.add(self)

    def __call__(self, *args: Any) -> Any:
        key = tuple(map(id, args))
        with self._lock:
            held = self._entries.get(key)
            if held is not None and all(ref() is arg for ref, arg in zip(held[0], args, strict=True)):
                self._entries.move_to_end(key)
                return held[1]
        value = self.func(*args)  # outside the lock: a pure function of its arguments, computed twice at worst
        refs = tuple(weakref.ref(a) for a in args)
        with self._lock:
            self._entries[key] = (refs, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_DERIVED: weakref.WeakSet[DerivedCache] = weakref.WeakSet()


def derived(max_entries: int = 64) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache what a function makes from objects that are themselves shared and never changed (a cached Scorecard,
    its Registry), keyed by which objects they are, not by their value (hashing a 500-school card would cost more
    than the work saved). Positional arguments only, each an object a weak reference can be taken to.

    What it may cache follows from what it is given: the objects came from caches keyed by the store's generation
    and the viewer's scope, so the same objects mean the same viewer's rows, and a write (a new card) means a new
    entry. The same rules as `shared` for what is returned: never changed by a caller, no st.* call inside."""

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        cache = DerivedCache(func, max_entries)

        @functools.wraps(func)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs:
                raise TypeError(f"{func.__qualname__}: a derived cache takes positional arguments only")
            return cache(*args)

        cached.cache = cache  # type: ignore[attr-defined]
        cached.clear = cache.clear  # type: ignore[attr-defined]
        return cached

    return wrap
