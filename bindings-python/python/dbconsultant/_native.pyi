"""Type stubs of the Rust extension module (internal: use dbconsultant.DatabaseConsultant)."""

from typing import Optional

__version__: str

class NativeError(Exception):
    """args: (kind, message)"""

class NativeConsultant:
    def __init__(self, store: Optional[str] = None) -> None: ...
    @property
    def store(self) -> str: ...
    def call(self, op: str, request_json: str) -> str: ...

def registry() -> str:
    """The operation registry with its JSON Schemas, as JSON."""

def _panic_for_tests() -> None: ...
