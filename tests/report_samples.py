"""SYNTHETIC results.json dicts for the report tests — made-up numbers, never measurements.

Every timing here comes from a seeded random generator around hand-picked medians, so the tests
know the answer (e.g. which style is fastest) before the report computes it. The dicts follow
results.json schema_version 2: records are built through bench.store.schema, so the samples
change with the schema. Each case has `repetitions` repetitions (fresh processes); a repetition's
median moves by `rep_noise` (the between-process drift), its rounds scatter by the case's
`spread` around that.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from bench.store import schema
from bench.timing import stats as bench_stats

HOSTILE_CPU = '<script>alert(1)</script> "Evil" CPU & co'
HOSTILE_STYLE = 'loop"<img src=x onerror=alert(2)>'
HOSTILE_ERROR = "RuntimeError: <b>boom</b> <script>alert(3)</script>"

# Synthetic forward medians in seconds (forward_backward is 2.5x). native is NOT the fastest on
# purpose: compile beats it by 1.25x, far beyond the noise, so the headline names a winner.
RNN_MEDIANS = {"loop": 3e-3, "bmm": 4.5e-3, "premul": 2e-3, "jit": 2.5e-3, "compile": 0.8e-3,
               "native": 1e-3}
CNN_MEDIANS = {("resnet", "projection"): 0.020, ("resnet", "zeropad"): 0.016,
               ("resnet", "none"): 0.015, ("resnet", "plain"): 0.014,
               ("mobilenetv2", "paper"): 0.012, ("mobilenetv2", "projection"): 0.013}
CNN_ACC = {("resnet", "projection"): 0.991, ("resnet", "zeropad"): 0.989,
           ("resnet", "none"): 0.985, ("resnet", "plain"): 0.980,
           ("mobilenetv2", "paper"): 0.987, ("mobilenetv2", "projection"): 0.988}
# Per cell (issue #13): RNN_MEDIANS times the factor, then the overrides. Each cell has its own
# clear winner (1.33x the runner-up), so a ranking that mixed cells would name the wrong one:
# compile leads the vanilla RNN, native (torch.nn.LSTM itself) leads LSTM, premul leads GRU —
# and every LSTM or GRU time is slower than the vanilla RNN's compile.
CELL_FACTORS = {"rnn": 1.0, "lstm": 4.0, "gru": 3.0}
CELL_OVERRIDES = {"rnn": {}, "lstm": {"native": 2.4e-3}, "gru": {"premul": 1.8e-3}}
CELL_WINNERS = {"rnn": "compile", "lstm": "native", "gru": "premul"}
CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # GEMM work per step relative to the vanilla RNN
# PyTorch fastrnns' LSTM shape (group "lstm-large", the full profile); bmm sits out there.
FASTRNNS_SHAPE = {"batch": 64, "seq_len": 100, "input_size": 512, "hidden": 512}
FASTRNNS_FACTOR = 40.0  # its times relative to the LSTM cell's at the MNIST shape
SEQ_LENS = (7, 14, 28, 56)
JIT_WARNING = "torch.jit.script is deprecated (TorchScript)"
GEMM_GFLOPS = 100.0  # the synthetic machine's calibrated peak
UNSTABLE_FACTORS = (1.0, 1.25, 0.97)  # an unstable case's repetition medians, relative
V1_FIXTURE = Path(__file__).parent / "data" / "results-v1.json"  # a real schema-1 run


def _stats(samples: np.ndarray) -> schema.Stats:
    return schema.Stats(**bench_stats.summary(samples))


def rnn_flops(p: dict) -> float:
    """2 FLOPs per multiply-add of the input and hidden GEMMs per step (one per gate); backward
    twice that."""
    forward = 2.0 * p["batch"] * p["seq_len"] * p["hidden_size"] * (
        p["input_size"] + p["hidden_size"]) * CELL_GATES[p.get("cell", "rnn")]
    return forward * (3 if p["pass"] == "forward_backward" else 1)


def _repetitions(rng, median, spread, rounds, rep_noise, factors) -> list[schema.Repetition]:
    out = []
    for k, factor in enumerate(factors):
        centre = median * factor * (1 + rep_noise * rng.standard_normal())
        samples = np.abs(centre * (1 + spread * rng.standard_normal(rounds)))
        out.append(schema.Repetition(k, "ok", None, _stats(samples), None))
    return out


def _case(rng, *, name, group, impl, device, params, median, spread=0.02, rounds=20,
          compile_s=None, warnings=(), reps=3, rep_noise=0.01, unstable=False,
          flops=None) -> schema.Benchmark:
    factors = UNSTABLE_FACTORS[:reps] if unstable else (1.0,) * reps
    repetitions = _repetitions(rng, median, spread, rounds, rep_noise, factors)
    pooled = _stats(np.concatenate([r.stats.samples for r in repetitions]))
    medians = [r.stats.median for r in repetitions]
    return schema.Benchmark(
        name=name, group=group, groups=[group], implementation=impl, device=device,
        params=params, status="ok", error=None, warnings=list(warnings), stats=pooled,
        repetitions=repetitions, spread=bench_stats.spread(medians),
        unstable=bench_stats.unstable(medians),
        noisy=bench_stats.noisy(pooled.iqr, pooled.median), compile_s=compile_s,
        first_call_s=None, flops=flops, gflops=None if flops is None else
        flops / pooled.median / 1e9)


def _not_run(*, name, group, impl, device, params, status, error) -> schema.Benchmark:
    return schema.Benchmark(
        name=name, group=group, groups=[group], implementation=impl, device=device,
        params=params, status=status, error=error, warnings=[], stats=None,
        repetitions=[schema.Repetition(0, status, error, None, None)], spread=None,
        unstable=False, noisy=False, compile_s=None, first_call_s=None, flops=None, gflops=None)


def rnn_params(pass_, batch=64, seq_len=28, hidden=128, cell="rnn", input_size=28) -> dict:
    return {"pass": pass_, "batch": batch, "seq_len": seq_len, "input_size": input_size,
            "hidden_size": hidden, "num_layers": 1, "bidirectional": False, "cell": cell}


def rnn_name(style: str, p: dict) -> str:
    """The case name (schema 2: the cell, the implementation and every parameter, never the
    group; the vanilla RNN keeps schema 1's "rnn/...")."""
    return (f"{p.get('cell', 'rnn')}/{style}/{p['pass']}/b{p['batch']}-t{p['seq_len']}"
            f"-i{p['input_size']}-h{p['hidden_size']}-l{p['num_layers']}-uni")


def cell_medians(cell: str, medians: dict) -> dict:
    """The forward medians of a cell's styles (`medians`: the vanilla RNN's)."""
    return {**{s: m * CELL_FACTORS[cell] for s, m in medians.items()}, **CELL_OVERRIDES[cell]}


def _rnn_cases(rng, device, scale, styles, medians, case_kw, group="rnn",
               shape=None) -> list[schema.Benchmark]:
    cell = group.removesuffix("-large")
    cases = []
    for pass_, factor in (("forward", 1.0), ("forward_backward", 2.5)):
        for style in styles:
            p = rnn_params(pass_, cell=cell, **(shape or {}))
            base = medians.get(style, 2e-3) * factor * scale
            cases.append(_case(
                rng, name=rnn_name(style, p), group=group, impl=style, device=device, params=p,
                median=base, compile_s=12.5 if style == "compile" else None,
                warnings=[JIT_WARNING] if style == "jit" else (), flops=rnn_flops(p),
                **case_kw(style, rnn_name(style, p))))
    return cases


def _sweep_cases(rng, device, scale, medians, case_kw) -> list[schema.Benchmark]:
    cases = []
    for style in ("loop", "native", "bmm"):
        per_step = medians[style] / 28 * scale
        shapes = [("rnn-seq_len", rnn_params("forward", seq_len=t), 2e-5 + per_step * t)
                  for t in SEQ_LENS]  # linear in T by construction: intercept + per_step * T
        shapes += [("rnn-hidden_size", rnn_params("forward", hidden=h), per_step * 28 * h / 128)
                   for h in (64, 128, 256)]
        shapes += [("rnn-batch", rnn_params("forward", batch=b), per_step * 28 * (0.5 + b / 128))
                   for b in (16, 64, 256)]
        for group, p, median in shapes:
            name = rnn_name(style, p)
            cases.append(_case(rng, name=name, group=group, impl=style, device=device, params=p,
                               median=median, flops=rnn_flops(p), **case_kw(style, name)))
    return cases


def _merge(cases: list[schema.Benchmark]) -> list[schema.Benchmark]:
    """One record per name (the first measured), listing every group that asked for it — as
    bench.timing.cases does: the sweep point at the MNIST shape IS the main case."""
    by_name: dict[str, schema.Benchmark] = {}
    for case in cases:
        seen = by_name.get(case.name)
        by_name[case.name] = case if seen is None else dataclasses.replace(
            seen, groups=seen.groups + [g for g in case.groups if g not in seen.groups])
    return list(by_name.values())


def _cnn_cases(rng, device, scale, case_kw) -> list[schema.Benchmark]:
    cases = []
    for (family, shortcut), median in CNN_MEDIANS.items():
        for pass_, factor in (("inference", 1.0), ("train_step", 3.0)):
            p = {"pass": pass_, "batch": 64, "family": family, "shortcut": shortcut}
            name = f"cnn/{family}/{shortcut}/{pass_}/b64"
            cases.append(_case(rng, name=name, group="cnn", impl=f"{family}/{shortcut}",
                               device=device, params=p, median=median * factor * scale,
                               flops=64 * 4e7 * factor, **case_kw(None, name)))
    return cases


def _training(rng, device, seeds, scale) -> list[dict]:
    entries = []
    for (family, shortcut), final in CNN_ACC.items():
        for seed in seeds:
            acc = final + 0.001 * rng.standard_normal()
            epochs = [schema.Epoch(e, 10.0 * e * scale, 0.5 / e + 0.01 * rng.random(),
                                   acc - 0.02 / e + 0.02 / 3) for e in (1, 2, 3)]
            reached = [ep.time_s for ep in epochs if ep.test_acc >= 0.985]
            entries.append(schema.Training(
                name=f"train/{family}/{shortcut}/seed{seed}", model=family, variant=shortcut,
                device=device, seed=seed, status="ok", error=None,
                params_count=170_000 if family == "resnet" else 90_000,
                flops=4.1e7 if shortcut == "projection" else 3.9e7, epochs=epochs,
                time_to_target_s=reached[0] if reached else None, target_acc=0.985,
                train_images=60000, test_images=10000,
                images_per_s=60000 * 3 / epochs[-1].time_s).as_dict())
    return entries


def _failures(device) -> list[schema.Benchmark]:
    p, big = rnn_params("forward"), rnn_params("forward", batch=512)
    return [
        _not_run(name=rnn_name("native-nocudnn", p), group="rnn", impl="native-nocudnn",
                 device=device, params=p, status="skipped", error="needs a CUDA device"),
        _not_run(name=rnn_name("bmm", big), group="rnn", impl="bmm", device=device, params=big,
                 status="failed", error="RuntimeError: out of memory"),
    ]


SHA = "0123456789abcdef0123456789abcdef01234567"


def calibration(device: str, reps: int, gflops: float, rng) -> dict:
    points = [schema.CalibrationPoint(k, gflops * (1 + 0.005 * rng.standard_normal()), None)
              for k in range(reps)]
    return schema.Calibration(device, 1024, float(np.median([p.gemm_gflops for p in points])),
                              None, points).as_dict()


def _case_options(reps, rep_noise, noisy_style, unstable_style):
    def options(style: str | None, name: str) -> dict:
        return {"reps": reps, "rep_noise": rep_noise,
                "spread": 0.3 if style is not None and style == noisy_style else 0.02,
                "unstable": style is not None and style == unstable_style}
    return options


def _header(*, run_id, status, device, cpu, gpu, fingerprint, hostile, source, verified,
            commit):
    return {
        "schema_version": schema.SCHEMA_VERSION, "tool": schema.TOOL, "run_id": run_id,
        "created_at": "2026-01-01T00:00:00Z",
        "finished_at": None if status == "partial" else "2026-01-01T00:05:00Z",
        "status": status, "profile": "quick",
        "config": {"profile": "quick", "device": device, "threads": 2, "seed": 0,
                   "dataset": "mnist", "data_dir": None, "warmup_rounds": 3},
        "machine": schema.Machine(
            cpu or (HOSTILE_CPU if hostile else "Synthetic CPU 9000"), 2, 4, "15.5 GiB", gpu,
            1 if gpu else 0, "80.0 GiB" if gpu else None, "Linux-6.1-x86_64",
            fingerprint).as_dict(),
        "software": {
            "python": "3.11.2", "torch": "2.11.0", "torchvision": "0.26.0",
            "cuda": "12.8" if gpu else None, "cudnn": "91000" if gpu else None,
            "driver": "570.1" if gpu else None, "threads": 2, "interop_threads": 2,
            "mkldnn": True, "mkl": True, "openmp": True, "tf32_matmul": False,
            "tf32_cudnn": True, "cudnn_benchmark": False, "cudnn_deterministic": False,
            "pytest_benchmark": "5.1.0"},
        "commit": schema.Commit(*commit).as_dict(),
        "dataset": schema.DatasetInfo(
            "mnist", source, "/data/mnist", 60000, 10000, 60000, verified, source == "bundled",
            {"train-images-idx3-ubyte": "0" * 64},
            [] if verified else ["checksums differ from the standard files"]).as_dict(),
    }


def make_results(*, device="cpu", status="complete", source="data-dir", verified=True,
                 seeds=(0,), cpu=None, gpu=None, fingerprint="aaaabbbbccccdddd", scale=1.0,
                 rng_seed=0, styles=tuple(RNN_MEDIANS), noisy_style="bmm", unstable_style=None,
                 cnn=True, training=True, sweeps=True, failures=True, hostile=False,
                 run_id="20260101-000000-abcd", repetitions=3, rep_noise=0.01,
                 medians=None, slow=None, gemm_gflops=GEMM_GFLOPS, cells=("rnn",),
                 fastrnns=False, commit=(SHA, True)) -> dict:
    """A synthetic results dict.

    Args:
        scale: multiplies every time (2.0 = a machine twice as slow).
        repetitions: repetitions (fresh processes) per case; rep_noise their relative drift.
        medians: style -> forward median, replacing RNN_MEDIANS entries (e.g. a tie).
        slow: case name -> factor: those cases' times multiplied (a real slowdown).
        gemm_gflops: the calibrated GEMM peak (0.8 * GEMM_GFLOPS: a machine 20 % slower).
        unstable_style: this RNN style's repetition medians differ by 25 % (UNSTABLE_FACTORS).
        cells: the RNN cells timed at the MNIST shape, each in its group (CELL_FACTORS).
        fastrnns: add the LSTM at fastrnns' shape, group "lstm-large" (FASTRNNS_FACTOR).
        commit: (sha, dirty); the default has uncommitted changes, so two runs never share a
            setup (reports.load.Run.setup).
    """
    rng = np.random.default_rng(rng_seed)
    medians = {**RNN_MEDIANS, **(medians or {})}
    styles = tuple(styles) + ((HOSTILE_STYLE,) if hostile else ())
    opts = _case_options(repetitions, rep_noise, noisy_style, unstable_style)
    cases = [c for cell in cells for c in _rnn_cases(
        rng, device, scale, styles, cell_medians(cell, medians), opts, group=cell)]
    if fastrnns:
        large = {s: m * FASTRNNS_FACTOR for s, m in cell_medians("lstm", medians).items()}
        cases += _rnn_cases(rng, device, scale, [s for s in styles if s != "bmm"], large, opts,
                            group="lstm-large", shape=FASTRNNS_SHAPE)
    cases += _sweep_cases(rng, device, scale, medians, opts) if sweeps else []
    cases += _cnn_cases(rng, device, scale, opts) if cnn else []
    cases = _slowed(_merge(cases), slow or {})
    cases += _failures(device) if failures else []
    if hostile:
        p = rnn_params("forward", batch=8)
        cases.append(_not_run(name=rnn_name("loop", p), group="rnn", impl=HOSTILE_STYLE,
                              device=device, params=p, status="failed", error=HOSTILE_ERROR))
    header = _header(run_id=run_id, status=status, device=device, cpu=cpu, gpu=gpu,
                     fingerprint=fingerprint, hostile=hostile, source=source, verified=verified,
                     commit=commit)
    return schema.Results(
        **header, calibration=calibration(device, repetitions, gemm_gflops, rng),
        benchmarks=cases, training=_training(rng, device, seeds, scale) if training else [],
        pytest_benchmark_json="pytest_benchmark.json").as_dict()


def _slowed(cases: list[schema.Benchmark], slow: dict[str, float]) -> list[schema.Benchmark]:
    """Cases named in `slow` with every round multiplied by its factor."""
    unknown = set(slow) - {c.name for c in cases}
    if unknown:
        raise ValueError(f"no such synthetic case: {sorted(unknown)}")
    return [c if c.name not in slow else _scaled(c, slow[c.name]) for c in cases]


def _scaled(case: schema.Benchmark, factor: float) -> schema.Benchmark:
    reps = [schema.Repetition(r.repetition, r.status, r.error,
                              _stats(np.asarray(r.stats.samples) * factor), r.first_call_s)
            for r in case.repetitions]
    pooled = _stats(np.concatenate([r.stats.samples for r in reps]))
    return dataclasses.replace(case, repetitions=reps, stats=pooled,
                               gflops=None if case.flops is None
                               else case.flops / pooled.median / 1e9)


def write_results(directory: Path, results: dict, name: str = "results.json") -> Path:
    """Write `results` as JSON under `directory` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return path
