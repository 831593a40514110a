"""The stage contract: declared reads/writes match what stages touch, the order is checked, and strays are caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlengine import runner
from mlengine.stages import (
    INITIAL,
    STAGE_FIELDS,
    RunContext,
    StageOrderError,
    check_order,
    run_stage,
    spec_of,
    stage,
    stages_until,
)

from tests.conftest import ROOT, TITANIC


class Recording(RunContext):
    """A RunContext that notes which fields each stage reads and sets."""

    current: str | None = None
    reads: dict[str, set[str]] = {}
    writes: dict[str, set[str]] = {}

    def __getattribute__(self, name: str):
        if name in STAGE_FIELDS or name == "recipe":
            stage_now = type(self).current
            if stage_now:
                type(self).reads.setdefault(stage_now, set()).add("loaded" if name == "recipe" else name)
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value) -> None:
        stage_now = type(self).current
        if stage_now and name in STAGE_FIELDS:
            type(self).writes.setdefault(stage_now, set()).add(name)
        super().__setattr__(name, value)


class Follow:
    def before_stage(self, name: str, state) -> None:
        Recording.current = name

    def after_stage(self, name: str, state) -> None:
        Recording.current = None


def _recorded_run(monkeypatch, write_recipe, runs_dir: Path, text: str) -> None:
    from mlengine.api import load_recipe

    Recording.reads, Recording.writes, Recording.current = {}, {}, None
    monkeypatch.setattr(runner, "RunContext", Recording)
    run = runner.run_recipe(load_recipe(write_recipe(text)), runs_dir, hooks=[Follow()])
    assert run.status == "complete"


SEARCH = TITANIC + """
search: {trials: 2, n_concurrent: 1}
threshold: {objective: f1}
evaluate:
  baselines: [no_skill, {rule: "fare > 30", name: fare_rule}]
  value: {true_positive: 10, false_positive: -2, false_negative: -5, true_negative: 0}
  require: [{metric: roc_auc, beats: no_skill}]
calibration: {method: sigmoid}
"""
BINNED = """
name: wine
seed: 1
data:
  source: {kind: csv, path: data/wine_quality_white.csv}
  target: quality
target: {binning: quantiles, quantiles: 3}
model: {name: lightgbm, params: {n_estimators: 20}}
cv: {folds: 3}
"""


DRIFT_RISK = TITANIC + """
evaluate:
  stability: {by: pclass}
  adversarial: {data: data/titanic.csv, folds: 2}
"""


@pytest.mark.slow
@pytest.mark.parametrize("text,files", [(SEARCH, ("titanic.csv",)), (BINNED, ("wine_quality_white.csv",)),
                                        (DRIFT_RISK, ("titanic.csv",))],
                         ids=["search-threshold-calibration", "binned-target", "stability-adversarial"])
def test_declared_fields_cover_what_each_stage_touches(monkeypatch, write_recipe, runs_dir, text, files):
    """Run real recipes with a recording state: every field a stage reads or sets is in its declaration."""
    _recorded_run(monkeypatch, lambda t: write_recipe(t, files=files), runs_dir, text)
    specs = {spec_of(fn).name: spec_of(fn) for fn in runner.STAGES}
    problems = []
    for name, spec in specs.items():
        read = Recording.reads.get(name, set()) - INITIAL
        unread = read - spec.reads - spec.writes
        if unread:
            problems.append(f"{name} reads undeclared {sorted(unread)}")
        unset = Recording.writes.get(name, set()) - spec.writes
        if unset:
            problems.append(f"{name} sets undeclared {sorted(unset)}")
    assert not problems, problems


def test_every_runner_stage_is_declared_and_in_order():
    assert all(spec_of(fn) is not None for fn in runner.STAGES)
    check_order(runner.STAGES)


def test_a_stage_moved_before_what_it_reads_is_refused():
    stages = list(runner.STAGES)
    stages.remove(runner.stage_split)
    stages.insert(0, runner.stage_split)
    with pytest.raises(StageOrderError, match=r"stage 'split' reads \['data', 'plan'\]"):
        check_order(stages)


def test_a_stage_that_sets_an_undeclared_field_is_refused():
    @stage(reads=("data",), writes=("pred",))
    def stage_sneaky(ctx):
        ctx.pred = [1]
        ctx.model = "replaced"

    ctx = RunContext(loaded=None, rd=None)
    with pytest.raises(StageOrderError, match=r"'sneaky' set \['model'\]"):
        run_stage(stage_sneaky, ctx)


def test_unknown_fields_in_a_declaration_are_refused():
    with pytest.raises(StageOrderError, match="unknown RunContext fields"):
        stage(reads=("moddel",))


def test_stages_until_stops_at_the_named_stage():
    names = [spec_of(fn).name for fn in stages_until(runner.STAGES, "check_modelling")]
    assert names[0] == "read" and names[-1] == "check_modelling" and "fit" not in names
    with pytest.raises(StageOrderError, match="no stage 'fitt'"):
        stages_until(runner.STAGES, "fitt")


def test_a_run_checks_the_sections_again_once_the_data_resolves_the_task(cli, write_recipe, runs_dir):
    """task: auto on a numeric target is regression; stratified CV is then refused before the split, exit 2."""
    path = write_recipe(TITANIC.replace("target: survived", "target: fare") + "cv: {kind: stratified_kfold}\n"
                        .replace("cv: {folds: 3}\n", ""))
    text = path.read_text().replace("cv: {folds: 3}\n", "")
    path.write_text(text)
    code, out, err = cli("run", path, "--runs-dir", runs_dir)
    assert code == 2, err
    assert "cv.kind: 'stratified_kfold' stratifies on classes; task is regression" in err
    assert "Traceback" not in err
    code, out, err = cli("validate", path)
    assert code == 2 and "cv.kind" in err


def test_the_architecture_doc_shows_the_declared_stages():
    from mlengine.stages import stage_table

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert stage_table(runner.STAGES) in doc, "regenerate the table in docs/architecture.md from stage_table()"
