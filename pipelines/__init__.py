"""familyscreen: agency extracts → linked persons → households → criteria → cohort.

The data's path, one module per step: ``extract`` (files → ``raw_*``), ``validate``
(pandera → ``stg_*`` + rejects), ``standardise`` (``std_person_records``), ``link``
(``person_records``, ``persons``), ``households`` (``families``, ``family_members``),
``criteria`` (``criteria_evidence``, ``family_flags``), ``cohort`` (publishing a run)
and ``exports`` (CSVs, report, manifest). ``flows`` wraps them for Prefect; ``cli``
is the ``familyscreen`` command.
"""

from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "sql"
CRITERIA_DIR = ROOT / "criteria"
TEMPLATES_DIR = ROOT / "templates"
