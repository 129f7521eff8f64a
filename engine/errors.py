"""Domain errors raised by services; only the web edge turns them into HTTP answers."""


class CraneFlowError(Exception):
    """Base class: `code` is a stable machine-readable key, `message` is for people."""

    code = "error"

    def __init__(self, message: str = "", **details):
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details


class NotFound(CraneFlowError):
    code = "not_found"


class NotPermitted(CraneFlowError):
    code = "not_permitted"


class Conflict(CraneFlowError):
    code = "conflict"


class InvalidInput(CraneFlowError):
    """`errors` maps a field name to a list of messages (already in the user's language)."""

    code = "invalid"

    def __init__(self, errors: dict, message: str = "invalid input"):
        super().__init__(message)
        self.errors = errors


class DefinitionInvalid(CraneFlowError):
    """A BPMN definition was refused; `problems` lists dicts with file, line, element, message."""

    code = "definition_invalid"

    def __init__(self, problems: list[dict]):
        first = problems[0]["message"] if problems else "invalid definition"
        super().__init__(first)
        self.problems = problems
