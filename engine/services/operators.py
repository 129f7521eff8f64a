"""Whitelisted service-task operators: the only code a BPMN model can make the server run."""
from engine.bpmn.runtime import Operator

OPERATORS: dict[str, Operator] = {}


def operator(name: str):
    def register(fn: Operator) -> Operator:
        OPERATORS[name] = fn
        return fn

    return register


def operator_names() -> set[str]:
    _load_procedures()
    return set(OPERATORS)


def all_operators() -> dict[str, Operator]:
    _load_procedures()
    return OPERATORS


def _load_procedures() -> None:
    # Procedure modules register their operators on import.
    from . import (crane_filing, dismantling, enterprise_filing, inspection, installation,  # noqa: F401
                   jacking, record_cancellation, report_submission, use_registration)
