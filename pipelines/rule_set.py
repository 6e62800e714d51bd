"""A rule set: one versioned YAML file (``criteria/``) holding the criteria and the
qualifying rules (:mod:`pipelines.criteria`) with the settings beside them
(:mod:`pipelines.settings`), read and validated once per run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from pipelines.criteria import Criterion, Qualifying
from pipelines.db import RunError
from pipelines.settings import Calendar, Identifier, Linkage, PaymentByResults, Strict, Warnings


class RuleSet(Strict):
    """A versioned rule set: calendar, criteria and the qualifying rules, in order."""

    name: Identifier
    version: str
    description: str = ""
    source: str = ""
    calendar: Calendar
    criteria: dict[Identifier, Criterion]
    qualifies: list[Qualifying] = Field(min_length=1)
    payment_by_results: PaymentByResults | None = None
    linkage: Linkage = Field(default_factory=Linkage)
    warnings: Warnings = Field(default_factory=Warnings)
    sha256: str = ""

    @field_validator("criteria")
    @classmethod
    def _unique_rule_names(cls, criteria: dict[str, Criterion]) -> dict[str, Criterion]:
        seen: set[str] = set()
        for name, criterion in criteria.items():
            for rule in criterion.any_of:
                if rule.name in seen:
                    raise ValueError(f"{name}: rule name '{rule.name}' is used twice")
                seen.add(rule.name)
        return criteria

    @model_validator(mode="after")
    def _qualifying_names_known(self) -> RuleSet:
        for q in self.qualifies:
            unknown = [c for c in [*q.of, *q.and_all] if c not in self.criteria]
            if unknown:
                raise ValueError(f"qualifying rule '{q.name}' names unknown criteria: "
                                 f"{', '.join(unknown)}")
            if q.at_least > len(q.of):
                raise ValueError(f"qualifying rule '{q.name}': at_least {q.at_least} of "
                                 f"{len(q.of)} criteria can never be met")
        return self


def load_rule_set(path: Path) -> RuleSet:
    """Read and validate a rule set; a bad file stops the run naming what is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunError(f"{path}: cannot read the criteria file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(raw)
        return RuleSet.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except yaml.YAMLError as exc:
        raise RunError(f"{path.name}: not valid YAML ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise RunError(f"{path.name}: {where}: {first['msg']}") from exc
    except TypeError as exc:
        raise RunError(f"{path.name}: not a rule set (expected a mapping)") from exc
