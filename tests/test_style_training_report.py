"""reports.style_training on SYNTHETIC training records (made-up numbers): which records form a
set, the largest accuracy gap between styles at each evaluation point, the time ratio, the time
to the accuracy every style reached, and the section in the rendered report."""

from __future__ import annotations

import pandas as pd

from bench.store import schema
from reports import style_training
from reports.load import load_run
from reports.report import write_report
from tests import report_samples

MODEL = "rnn-classifier-styles"
OPTIONS = {"epochs": 1, "batch_size": 64, "optimizer": "adam", "evals_per_epoch": 2}
# (style, seconds per 2048 images, accuracies at 2048 and 4096 images): bmm is 6x native's time;
# the largest gap is at 4096 images, premul 91.23 % vs bmm 91.20 % (0.03 points).
STYLES = {"native": (1.0, (0.8512, 0.9122)), "premul": (1.5, (0.8512, 0.9123)),
          "loop": (2.0, (0.8511, 0.9121)), "bmm": (6.0, (0.8513, 0.9120))}


def _record(style: str, seconds: float, accs, *, model=MODEL, seed=0, options=OPTIONS,
            status="ok") -> dict:
    if status != "ok":
        return schema.Training(
            name=f"train/{model}/{style}/seed{seed}", model=model, variant=style, device="cpu",
            seed=seed, status=status, error="RuntimeError: boom", params_count=None,
            flops=None, epochs=[], time_to_target_s=None, target_acc=0.99, train_images=None,
            test_images=None, images_per_s=None).as_dict()
    curve = [schema.CurvePoint(images, images / 4096, seconds * (i + 1), acc, 0.5)
             for i, (images, acc) in enumerate(zip((2048, 4096), accs, strict=True))]
    return schema.Training(
        name=f"train/{model}/{style}/seed{seed}", model=model, variant=style, device="cpu",
        seed=seed, status="ok", error=None, params_count=5770, flops=2.0e5,
        epochs=[schema.Epoch(1, 2 * seconds, 0.5, accs[-1])],
        time_to_target_s=None, target_acc=0.99, train_images=4096, test_images=10000,
        images_per_s=4096 / (2 * seconds), curve=curve, eval_s=0.3,
        compile_s=12.5 if style == "compile" else None, options=dict(options)).as_dict()


def _run(entries: list[dict]):
    data = {"run_id": "r", "training": entries}
    return type("Run", (), {"data": data})()


def _the_set(entries: list[dict]) -> style_training.StyleSet:
    (s,) = style_training.style_sets(_run(entries))
    return s


def _entries() -> list[dict]:
    return [_record(style, sec, accs) for style, (sec, accs) in STYLES.items()]


def test_the_largest_gap_at_each_point_and_overall():
    s = _the_set(_entries())
    gaps = s.gaps()
    assert [g.images for g in gaps] == [2048, 4096]
    assert (gaps[0].low_style, gaps[0].high_style) == ("loop", "bmm")
    assert round(gaps[0].gap, 6) == 0.0002
    assert (gaps[1].low_style, gaps[1].high_style) == ("bmm", "premul")
    assert round(gaps[1].gap, 6) == 0.0003
    assert s.largest_gap() == gaps[1]


def test_times_fastest_first_and_their_ratio():
    s = _the_set(_entries())
    assert [r.style for r in s.runs] == ["native", "premul", "loop", "bmm"]
    assert s.time_ratio() == 6.0
    assert s.run("bmm").train_s == 12.0 and s.run("bmm").images_per_s == 4096 / 12.0


def test_time_to_the_accuracy_every_style_reached():
    s = _the_set(_entries())
    assert s.common_accuracy() == 0.9120  # bmm's best
    assert s.run("native").time_to(0.9120) == 2.0  # its second point
    assert s.run("native").time_to(0.85) == 1.0
    assert s.run("native").time_to(0.99) is None


def test_only_runs_with_one_model_seed_and_trainer_form_a_set():
    other_seed = _record("loop", 2.0, (0.80, 0.90), seed=1)
    other_options = _record("jit", 2.0, (0.80, 0.90), options={**OPTIONS, "epochs": 2})
    lone_model = _record("native", 1.0, (0.8, 0.9), model="rnn-classifier")
    cnn = _record("projection", 1.0, (0.8, 0.9), model="resnet")  # not an RNN style
    sets = style_training.style_sets(_run(_entries() + [other_seed, other_options, lone_model,
                                                         cnn]))
    assert [(s.model, s.seed, len(s.runs)) for s in sets] == [(MODEL, 0, 4)]


def test_a_failed_style_is_named_and_left_out_of_the_comparison():
    s = _the_set(_entries() + [_record("compile", 0.0, (), status="failed")])
    assert s.failed == ("compile",) and "compile" not in [r.style for r in s.runs]


def test_sentences_state_the_numbers():
    s = _the_set(_entries())
    curves = style_training.curves_sentence(s)
    assert "agree within 0.03 points" in curves
    assert "premul 91.23 % vs bmm 91.20 % after 4096 images" in curves
    assert "one test image is 0.01 points" in curves
    assert style_training.times_sentence(s).startswith("Their training wall times differ 6.0×")
    same = [_record(style, sec, (0.85, 0.91)) for style, (sec, _) in STYLES.items()]
    assert "coincide exactly" in style_training.curves_sentence(_the_set(same))


def test_the_table_compares_each_style_with_native_and_the_fastest():
    table = style_training.style_table(_the_set(_entries()))
    rows = {row[0]: row for row in table.rows}
    assert rows["premul"][2] == "+0.01 points" and rows["bmm"][2] == "-0.02 points"
    assert rows["bmm"][5] == "6.00×" and rows["native"][5] == "1.00×"
    assert rows["bmm"][3] == "12.0 s" and rows["native"][7] == "not reached"


def test_the_report_shows_the_section(tmp_path):
    results = report_samples.make_results()
    results["training"] = results["training"] + _entries()
    path = report_samples.write_results(tmp_path, results)
    write_report(path)
    html = (tmp_path / "report.html").read_text()
    section = html[html.index('<section id="style-training">'):]
    section = section[:section.index("</section>")]
    assert "agree within 0.03 points" in section and "differ 6.0×" in section
    assert section.count("<svg") == 1 and "Accuracy vs images seen" in section
    assert "Trained with every implementation" in (tmp_path / "summary.md").read_text()
    assert isinstance(load_run(path).training, pd.DataFrame)


def test_a_run_without_a_set_says_so(tmp_path):
    path = report_samples.write_results(tmp_path, report_samples.make_results())
    write_report(path)
    html = (tmp_path / "report.html").read_text()
    assert "No model was trained in several RNN styles in this run." in html


def test_one_evaluation_point_reads_as_one():
    one = [_record(style, sec, accs) for style, (sec, accs) in STYLES.items()]
    for entry, (_, accs) in zip(one, STYLES.values(), strict=True):
        entry["curve"] = [{"images": 4096, "epoch": 1.0, "time_s": 1.0, "test_acc": accs[1],
                           "train_loss": 0.5}]
    text = style_training.curves_sentence(_the_set(one))
    assert "at the one evaluation point on 10000 test images: premul" in text
