"""Loads workflows/catalog.yaml: process key → BPMN file, starter role, lane → role + scope."""
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

BPMN_DIR = Path(__file__).parent / "bpmn"
CATALOG_FILE = Path(__file__).parent / "catalog.yaml"
SCOPES = ("applicant_enterprise", "case_party", "case_region", "superior_region")
# applicant: the starter's region (the applicant enterprise's registered region, or a starting
# regulator's own); project: the region of the project the case is about (set by the procedure
# when the submission names it).
REGION_SOURCES = ("applicant", "project")
PARTIES = ("owner", "installer", "user", "supervisor", "inspector")
LEVELS = ("province", "city", "county")


class CatalogError(ValueError):
    pass


@dataclass(frozen=True)
class LaneRule:
    role: str
    scope: str
    levels: tuple[str, ...] = LEVELS
    party: str | None = None  # for scope case_party: which named party of the case
    # For scope case_region: only the office of the case's region itself, not those above it.
    same_level: bool = False


@dataclass(frozen=True)
class ProcessEntry:
    key: str
    file: str
    names: dict
    starter: str
    subject: str | None
    region: str
    lanes: dict[str, LaneRule]
    tasks: dict[str, dict] = field(default_factory=dict)
    # Fields of the first submission the model needs before its first user task (e.g. crane_id).
    start_fields: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return BPMN_DIR / self.file

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("zh_CN") or self.key

    def due_workdays(self, task_name: str) -> int | None:
        return self.tasks.get(task_name, {}).get("due_workdays")

    def due_from(self, task_name: str) -> str | None:
        """The case variable holding the task's deadline, if the catalog names one."""
        return self.tasks.get(task_name, {}).get("due_from")


def _lane(name: str, raw: dict) -> LaneRule:
    scope = raw.get("scope")
    if scope not in SCOPES:
        raise CatalogError(f"lane {name!r}: unknown scope {scope!r}")
    levels = tuple(raw.get("levels", LEVELS))
    if not set(levels) <= set(LEVELS):
        raise CatalogError(f"lane {name!r}: unknown regulator level in {levels}")
    party = raw.get("party")
    if (scope == "case_party") != (party is not None) or (party is not None and party not in PARTIES):
        raise CatalogError(f"lane {name!r}: scope case_party needs a party from {PARTIES}, other scopes none")
    same_level = bool(raw.get("same_level", False))
    if same_level and scope != "case_region":
        raise CatalogError(f"lane {name!r}: same_level applies to scope case_region only")
    return LaneRule(role=raw["role"], scope=scope, levels=levels, party=party, same_level=same_level)


def parse_catalog(raw: dict) -> dict[str, ProcessEntry]:
    entries = {}
    for key, p in (raw.get("processes") or {}).items():
        if p.get("region", "applicant") not in REGION_SOURCES:
            raise CatalogError(f"{key}: unknown region source {p.get('region')!r}")
        entries[key] = ProcessEntry(
            key=key, file=p["file"], names=p.get("name", {}), starter=p["starter"],
            subject=p.get("subject"), region=p.get("region", "applicant"),
            lanes={name: _lane(name, lane) for name, lane in (p.get("lanes") or {}).items()},
            tasks=p.get("tasks") or {}, start_fields=tuple(p.get("start_fields") or ()),
        )
    return entries


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, ProcessEntry]:
    return parse_catalog(yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8")))


def get_entry(key: str) -> ProcessEntry | None:
    return load_catalog().get(key)
