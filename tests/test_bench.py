"""The scale benchmark's own arithmetic (the benchmark itself runs with ``make bench``)."""

from __future__ import annotations

from bench.scale import median_run, peak_step, report, spread_lines


def test_the_peak_is_in_the_first_step_that_reached_it():
    """Peak resident memory only rises: the step that reached it is the first whose
    running maximum is the last one, not a later step that merely kept it."""
    peaks = {"load": 100, "validate": 500, "link": 900, "households": 900, "outputs": 900}
    assert peak_step(peaks) == "link"
    assert peak_step({"load": 700, "validate": 700}) == "load"


def test_the_report_divides_by_both_floors_and_by_the_input_rows(tmp_path):
    """Each ratio is the run's total over its floor, the load step over the store floor,
    and a step's cost per input row is its seconds over the rows, in microseconds."""
    steps = {"load": 3.0, "validate": 4.0, "standardise": 2.0, "link": 20.0,
             "households": 1.0, "criteria": 1.0, "cohort": 1.0, "outputs": 8.0}
    figures = {"steps": steps, "peaks": dict.fromkeys(steps, 100), "total": 40.0,
               "persons": 10, "families": 5, "cohort": 2, "pairs_scored": 7,
               "review": [1, 2, 3, 4], "cohort_precision": 1.0, "cohort_recall": 1.0,
               "pair_precision": 1.0, "pair_recall": 1.0}
    result = {"size": 1_000, "rows": 2_000_000, "generate": 1.0, "floor": 0.5,
              "store_floor": 2.0, "figures": figures, "peak_gib": 1.5}
    path = tmp_path / "results.md"
    report([result], path)
    rows = [line for line in path.read_text().splitlines() if line.startswith("| 1,000 |")]
    assert "| 1,000 | 50,000 | 0.5 | 80 | 2.0 | 20.0 | 1.50 |" in rows
    assert ("| 1,000 | 1.50 | 2.00 | 1.00 | 10.00 | 0.50 | 0.50 | 0.50 | 4.00 | 20.00 |"
            in rows)
    assert "| 1,000 | 20.0 |" not in rows  # no splink floor measured, no floor line
    report([{**result, "splink_floor": 8.0}], path)
    assert "| 1,000 | 20.0 | 8.0 | 2.5 |" in path.read_text().splitlines()


def test_the_tables_give_the_median_run_and_the_spread_all_of_them(tmp_path):
    """Three runs of one size: the median by total time is the one reported; the spread
    gives fastest, median and slowest, their range over the median and the highest
    peak, and says whether every run found the same people and cohort."""
    steps = {"load": 1.0, "link": 10.0}

    def run(total, link, peak, persons=10):
        return ({"steps": {**steps, "link": link}, "peaks": dict.fromkeys(steps, 1),
                 "total": total, "persons": persons, "families": 5, "cohort": 2,
                 "pairs_scored": 7, "review": [1, 2, 3, 4], "cohort_precision": 1.0,
                 "cohort_recall": 1.0, "pair_precision": 1.0, "pair_recall": 1.0}, peak)
    runs = [run(50.0, 30.0, 2.0), run(40.0, 20.0, 2.5), run(45.0, 25.0, 2.2)]
    figures, peak = median_run(runs)
    assert (figures["total"], peak) == (45.0, 2.2)
    assert median_run(runs[:2])[0]["total"] == 40.0  # of two, the faster
    result = {"size": 1_000, "runs": runs, "figures": figures, "peak_gib": peak}
    lines = spread_lines([result])
    assert lines[-1] == ("| 1,000 | 3 | 40.0 | 45.0 | 50.0 | 22% | 20.0 | 25.0 | 30.0 | 40% | "
                         "2.5 | yes |")
    result["runs"] = [*runs, run(45.0, 25.0, 2.0, persons=11)]
    assert spread_lines([result])[-1].endswith("| no |")
