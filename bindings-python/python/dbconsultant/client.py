"""``DatabaseConsultant`` and ``AsyncDatabaseConsultant``: keyword arguments in, typed runs
out. The methods are generated from the operation registry (``_generated.py``); each turns
its arguments into one JSON request for the Rust core, which does the work with the GIL
released."""

from __future__ import annotations

import os
from typing import Optional

from . import _native
from ._base import PathLike
from ._generated import _AsyncOperations, _Operations
from .errors import from_native


class DatabaseConsultant(_Operations):
    """Checks database changes before they reach production.

    ``store`` is where runs are kept: a SQLite file path or a ``postgres://`` URL; by default
    ``$DBCONSULTANT_STORE`` or ``~/.local/share/dbconsultant/store.db``.
    """

    def __init__(self, store: Optional[PathLike] = None) -> None:
        if store is not None and not isinstance(store, (str, os.PathLike)):
            raise TypeError(f"DatabaseConsultant() argument 'store' must be a path or URL, not {type(store).__name__}")
        try:
            self._native = _native.NativeConsultant(None if store is None else os.fspath(store))
        except _native.NativeError as error:
            raise from_native(error) from None

    @property
    def store(self) -> str:
        """The store location (URL passwords redacted)."""
        return str(self._native.store)


class AsyncDatabaseConsultant(_AsyncOperations):
    """The same methods as :class:`DatabaseConsultant`, returning awaitables."""

    _sync: DatabaseConsultant

    def __init__(self, store: Optional[PathLike] = None) -> None:
        self._sync = DatabaseConsultant(store)

    @property
    def store(self) -> str:
        return self._sync.store
