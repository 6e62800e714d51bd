"""The ``familyscreen`` command as an analyst runs it (a subprocess, as the README shows,
without the Makefile's settings): a run that cannot go ahead ends with one line naming
the file and what to do, last on stderr, with no traceback and no Prefect log line; a
run that warns says so in its summary and manifest, and fails under ``--strict`` with
earlier outputs intact."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import serve
from synthetic import borough
from tests.build import AS_OF
from tests.test_prefect_server import free_port

# each test runs the command, and through it the flow on a Prefect server
pytestmark = pytest.mark.engine

PREFECT_LINE = re.compile(r"\|\s*(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s*\||temporary server")
API: dict[str, str] = {}  # a Prefect server's address for the runs that need no temporary one


@pytest.fixture(scope="module", autouse=True)
def prefect_server(tmp_path_factory):
    """Most runs here use one Prefect server, to save each starting a temporary one;
    those that test what a temporary server prints (``temporary=True``) still do."""
    home = tmp_path_factory.mktemp("cli-prefect")
    port = free_port()
    env = serve.environment(home / "prefect", port, home)
    server = serve.start_server(env, port, home / "server.log")
    API.update(PREFECT_HOME=env["PREFECT_HOME"], PREFECT_API_URL=env["PREFECT_API_URL"])
    yield
    API.clear()
    serve.stop(server)


def familyscreen(*args: str | Path, temporary: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)],
                          env=env if temporary else {**env, **API}, capture_output=True,
                          text=True, timeout=600)


def screen(extracts: Path, out: Path, *flags: str, temporary: bool = False
           ) -> subprocess.CompletedProcess:
    return familyscreen("screen", "--extracts", extracts, "--as-of", AS_OF.isoformat(),
                        "--out", out, *flags, temporary=temporary)


def last_line(done: subprocess.CompletedProcess) -> str:
    return done.stderr.rstrip("\n").splitlines()[-1]


def assert_quiet(done: subprocess.CompletedProcess) -> None:
    """Nothing but familyscreen's own lines on the terminal."""
    for line in (done.stdout + done.stderr).splitlines():
        assert line.startswith("familyscreen: "), line
    assert "Traceback" not in done.stderr
    assert not PREFECT_LINE.search(done.stderr + done.stdout)


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "extracts"
    borough.generate(folder, households=40, seed=3, as_of=AS_OF, noise=0)
    return folder


@pytest.fixture(scope="module")
def clean(extracts, tmp_path_factory) -> Path:
    """The output folder of a run of the untouched extracts."""
    out = tmp_path_factory.mktemp("clean") / "out"
    done = screen(extracts, out, temporary=True)
    assert done.returncode == 0, done.stderr
    assert_quiet(done)
    assert re.fullmatch(r"familyscreen: \d+ families in the cohort \(\d+ new\), 0 rows "
                        rf"rejected; outputs in {re.escape(str(out))}\n", done.stdout)
    assert json.loads((out / "run_manifest.json").read_text())["warnings"] == []
    return out


def changed(extracts: Path, tmp_path: Path, name: str, text: str | None = None,
            drop_column: str | None = None) -> Path:
    """A copy of the extracts with ``name`` replaced by ``text``, or without a column."""
    folder = tmp_path / "extracts"
    shutil.copytree(extracts, folder)
    if drop_column:
        with (extracts / name).open(newline="") as f:
            rows = list(csv.reader(f))
        i = rows[0].index(drop_column)
        with (folder / name).open("w", newline="") as f:
            csv.writer(f).writerows([r[:i] + r[i + 1:] for r in rows])
    else:
        (folder / name).write_bytes(text.encode())
    return folder


def test_a_missing_column_is_one_line_naming_file_column_and_remedy(extracts, tmp_path):
    done = screen(changed(extracts, tmp_path, "benefits.csv", drop_column="benefit"),
                  tmp_path / "out")
    assert done.returncode == 2
    assert last_line(done) == (
        "familyscreen: benefits.csv: required column 'benefit' is missing from the header "
        "row; export the file with it (docs/extracts.md lists the columns)")
    assert_quiet(done)


def test_verbose_shows_prefect_and_the_traceback_and_still_ends_with_the_line(extracts,
                                                                             tmp_path):
    done = screen(changed(extracts, tmp_path, "benefits.csv", drop_column="benefit"),
                  tmp_path / "out", "--verbose", temporary=True)
    assert done.returncode == 2
    assert PREFECT_LINE.search(done.stderr) and "Traceback" in done.stderr
    assert last_line(done).startswith("familyscreen: benefits.csv: required column 'benefit'")


def test_an_empty_file_is_one_line(extracts, tmp_path):
    done = screen(changed(extracts, tmp_path, "asb.csv", ""), tmp_path / "out")
    assert done.returncode == 2
    assert last_line(done) == ("familyscreen: asb.csv: the file is empty (no header row); "
                               "export it again with its header row")
    assert_quiet(done)


def test_semicolons_windows_1252_crlf_and_a_bom_are_read_as_the_clean_files(extracts, clean,
                                                                           tmp_path):
    folder = tmp_path / "extracts"
    shutil.copytree(extracts, folder)
    with (extracts / "police_offences.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    with (folder / "police_offences.csv").open("w", newline="", encoding="cp1252") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
    benefits = (extracts / "benefits.csv").read_bytes()
    (folder / "benefits.csv").write_bytes(b"\xef\xbb\xbf" + benefits)
    done = screen(folder, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert_quiet(done)
    for name in ("cohort_families.csv", "rejects.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (clean / name).read_bytes()
    inputs = json.loads((tmp_path / "out" / "run_manifest.json").read_text())["inputs"]
    assert {i["extract"]: i["encoding"] for i in inputs}["benefits"] == "utf-8-sig"


def test_a_header_only_extract_warns_and_under_strict_fails_leaving_outputs(extracts, clean,
                                                                            tmp_path):
    header = (extracts / "asb.csv").read_text().splitlines()[0] + "\n"
    folder = changed(extracts, tmp_path, "asb.csv", header)
    warning = ("asb.csv has a header but no data rows; check the export (was it cut short, "
               "or for the wrong period?) and run again")

    done = screen(folder, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert_quiet(done)
    assert done.stdout.splitlines()[-1] == f"familyscreen: warning: {warning}"
    manifest = json.loads((tmp_path / "out" / "run_manifest.json").read_text())
    assert manifest["warnings"] == [{"code": "no_rows", "file": "asb.csv", "message": warning}]
    assert manifest["counts"]["warnings"] == 1

    before = outputs(clean)
    done = screen(folder, clean, "--strict")
    assert done.returncode == 2
    assert last_line(done) == (f"familyscreen: {warning}; --strict stops the run on a "
                               "warning, earlier outputs are as they were")
    assert_quiet(done)
    assert outputs(clean) == before


def outputs(folder):
    """The output files of ``folder`` by name, the database and the files kept beside it
    (its lock, a run's working copy) left out."""
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if not p.name.startswith("familyscreen.duckdb")}
