"""The training recipe sentence (reports.recipe) and where the study section shows it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.timing.profiles import PROFILES
from bench.training.trainer import TrainConfig
from reports import recipe
from reports.report import write_report

EXAMPLES = Path(__file__).resolve().parents[1] / "reports" / "examples"


def _study_options() -> dict:
    spec = next(s for s in PROFILES["shortcuts"].train if s.kind == "cnn")
    config = dataclasses.replace(TrainConfig(), epochs=spec.epochs, lr=spec.lr,
                                 batch_size=spec.batch_size,
                                 **dict(spec.trainer))
    return config.options()


def test_the_studys_recipe_names_every_choice_it_makes():
    options = _study_options()
    text = recipe.describe(options)
    assert text.startswith("Trained with SGD (momentum 0.9, Nesterov), peak LR ")
    assert f"peak LR {options['lr']:g}" in text and "onecycle schedule (25 % of the steps" in text
    assert f"batch {options['batch_size']}" in text
    assert f"weight decay {options['weight_decay']:g}" in text
    assert f"at most {options['epochs']:g} epoch (the schedule spans the cap)" in text
    assert "at or above 99 % test accuracy" in text
    assert f"evaluated {options['evals_per_epoch']} times per epoch, off the clock" in text
    assert "NHWC activations" in text and "torch.compile" not in text
    smoothing = options["label_smoothing"]
    assert (f"label smoothing {smoothing:g}" in text) == bool(smoothing)


def test_options_that_are_off_are_not_mentioned():
    text = recipe.describe(TrainConfig(optimizer="adam", lr=0.002, weight_decay=0.0,
                                       schedule="constant", epochs=3,
                                       evals_per_epoch=1).options())
    assert text.startswith("Trained with Adam, LR 0.002, batch 128; 3 epochs")
    for absent in ("weight decay", "label smoothing", "clipped", "stopped", "NHWC", "schedule"):
        assert absent not in text
    assert "evaluated once per epoch" in text


def test_runs_trained_differently_are_named_not_described():
    a = TrainConfig().options()
    b = dict(a, lr=0.2, label_smoothing=0.1)
    text = recipe.recipe_text([a, b, a])
    assert "not trained alike" in text and "label_smoothing, lr" in text
    assert "Trained with" not in text
    assert recipe.recipe_text([a, dict(a)]) == recipe.describe(a)


def test_files_without_options_get_no_sentence():
    assert recipe.recipe_text([None, {}]) == ""
    assert recipe.recipe_text([]) == ""


def test_the_study_section_of_a_committed_study_states_its_recipe(tmp_path):
    html = write_report(EXAMPLES / "cpu-2core-shortcuts" / "results.json",
                        tmp_path / "r.html")[0].read_text(encoding="utf-8")
    start = html.index('<section id="study"')
    section = html[start:html.index("</section>", start)]
    assert section.count("Trained with SGD (momentum 0.9, Nesterov), peak LR 0.4") == 2


def test_the_training_section_says_how_each_model_was_trained(tmp_path):
    paths = write_report(EXAMPLES / "cpu-2core-shortcuts" / "results.json", tmp_path / "r.html")
    html = paths[0].read_text(encoding="utf-8")
    start = html.index('<section id="training"')
    section = html[start:html.index("</section>", start)]
    assert "<h3>How each model was trained</h3>" in section
    assert "<strong>resnet</strong>: Trained with SGD (momentum 0.9, Nesterov)" in section
    assert "<strong>rnn-classifier</strong>: Trained with Adam, peak LR 0.002" in section
    assert "gradient norm clipped at 1" in section
    summary = next(p for p in paths if p.name == "summary.md").read_text(encoding="utf-8")
    assert "- **mobilenetv2**: Trained with SGD" in summary


def test_a_short_runs_recipe_says_its_test_subset_and_precise_bn():
    spec = next(s for s in PROFILES["quick"].train if s.kind == "cnn")
    options = dataclasses.replace(TrainConfig(), **dict(spec.trainer)).options()
    text = recipe.describe(options)
    assert (f"at most {options['test_limit']} class-balanced test images evaluated once per "
            "epoch, off the clock") in text
    assert f"recomputed over {options['precise_bn']} training images first (precise BN)" in text
    study = recipe.describe(_study_options())
    assert "the whole test set evaluated" in study and "precise BN" not in study
