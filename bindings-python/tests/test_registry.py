"""The SDK against the operation registry of the native core it loads: every operation (and
alias) is a method of both clients with exactly the request's fields as parameters, the
positional ones first, the core's defaults, and every error kind an exception class. Fails
when ``_generated.py`` is stale (run ``cargo xtask codegen``) or the extension is older than
the sources."""

from __future__ import annotations

import inspect
import json
from typing import Any, Dict

import dbconsultant
from dbconsultant import _native
from dbconsultant.errors import from_native

REGISTRY: Dict[str, Any] = json.loads(_native.registry())


def request_schema(op: Dict[str, Any]) -> Dict[str, Any]:
    name = op["request"]["$ref"].rsplit("/", 1)[1]
    schema: Dict[str, Any] = REGISTRY["$defs"][name]
    return schema


def test_every_operation_is_a_method_with_exactly_its_fields() -> None:
    assert len(REGISTRY["operations"]) >= 16
    for op in REGISTRY["operations"]:
        schema = request_schema(op)
        fields = list(schema["properties"])
        required = set(schema.get("required", []))
        names = [op["name"]] + [a["name"] for a in op["aliases"] if a["lang"] == "python"]
        for name in names:
            for cls in (dbconsultant.DatabaseConsultant, dbconsultant.AsyncDatabaseConsultant):
                method = getattr(cls, name, None)
                assert method is not None, f"{cls.__name__} lacks {name}"
                params = [p for p in inspect.signature(method).parameters.values() if p.name != "self"]
                assert sorted(p.name for p in params) == sorted(fields), f"{name}: parameters differ from the core's fields"
                leading = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
                assert leading == op["positional"], f"{name}: positional parameters"
                for p in params:
                    default = schema["properties"][p.name].get("default")
                    if p.name in required:
                        assert p.default is inspect.Parameter.empty, f"{name}({p.name}) is required by the core"
                    elif isinstance(default, (bool, int, float, str)):
                        assert p.default == default, f"{name}({p.name}) defaults to {p.default!r}, the core to {default!r}"


def test_every_error_kind_has_its_exception_class() -> None:
    for kind in REGISTRY["error_kinds"]:
        error = from_native(_native.NativeError(kind, "message"))
        assert isinstance(error, dbconsultant.DatabaseConsultantError)
        assert error.kind == kind
        assert type(error).__name__ != "InternalError" or kind == "internal", kind


def test_results_are_the_generated_models() -> None:
    returns = {op["name"]: op["response"] for op in REGISTRY["operations"]}
    hints = inspect.get_annotations(dbconsultant.DatabaseConsultant.get_test_run, eval_str=True)
    assert hints["return"] is dbconsultant.TestRun
    assert returns["get_test_run"] == {"$ref": "#/$defs/TestRun"}
