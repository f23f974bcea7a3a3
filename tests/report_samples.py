"""SYNTHETIC results.json dicts for the report tests — made-up numbers, never measurements.

Every timing here comes from a seeded random generator around hand-picked medians, so the tests know
the answer (e.g. which style is fastest) before the report computes it. The dicts follow
results.json schema_version 1 (docs/architecture.md) so `bench.results.load` accepts them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HOSTILE_CPU = '<script>alert(1)</script> "Evil" CPU & co'
HOSTILE_STYLE = 'loop"<img src=x onerror=alert(2)>'
HOSTILE_ERROR = "RuntimeError: <b>boom</b> <script>alert(3)</script>"

# Synthetic forward medians in seconds (forward_backward is 2.5x). native is NOT the fastest on
# purpose, so the headline's "speed-up over native" is > 1 for `compile`.
RNN_MEDIANS = {"loop": 3e-3, "bmm": 4.5e-3, "premul": 2e-3, "jit": 2.5e-3, "compile": 0.8e-3,
               "native": 1e-3}
CNN_MEDIANS = {("resnet", "projection"): 0.020, ("resnet", "zeropad"): 0.016,
               ("resnet", "none"): 0.015, ("resnet", "plain"): 0.014,
               ("mobilenetv2", "paper"): 0.012, ("mobilenetv2", "projection"): 0.013}
CNN_ACC = {("resnet", "projection"): 0.991, ("resnet", "zeropad"): 0.989,
           ("resnet", "none"): 0.985, ("resnet", "plain"): 0.980,
           ("mobilenetv2", "paper"): 0.987, ("mobilenetv2", "projection"): 0.988}
SEQ_LENS = (7, 14, 28, 56)
JIT_WARNING = "torch.jit.script is deprecated (TorchScript)"


def _stats(samples: np.ndarray) -> dict:
    q1, median, q3 = (float(v) for v in np.percentile(samples, [25, 50, 75]))
    return {"min": float(samples.min()), "max": float(samples.max()), "median": median,
            "mean": float(samples.mean()), "stddev": float(samples.std(ddof=1)),
            "iqr": q3 - q1, "q1": q1, "q3": q3, "rounds": int(samples.size),
            "samples": [float(v) for v in samples]}


def _case(rng, *, name, group, impl, device, params, median, spread=0.02, rounds=20,
          compile_s=None, warnings=()) -> dict:
    samples = median * (1 + spread * rng.standard_normal(rounds))
    stats = _stats(np.abs(samples))
    return {"name": name, "group": group, "implementation": impl, "device": device,
            "params": params, "stats": stats, "compile_s": compile_s, "status": "ok",
            "error": None, "noisy": stats["iqr"] / stats["median"] > 0.10,
            "warnings": list(warnings)}


def _not_run(*, name, group, impl, device, params, status, error) -> dict:
    return {"name": name, "group": group, "implementation": impl, "device": device,
            "params": params, "stats": None, "compile_s": None, "status": status, "error": error,
            "noisy": False, "warnings": []}


def rnn_params(pass_, batch=64, seq_len=28, hidden=128) -> dict:
    return {"pass": pass_, "batch": batch, "seq_len": seq_len, "input_size": 28,
            "hidden_size": hidden, "num_layers": 1, "bidirectional": False}


def rnn_name(style: str, p: dict, group: str = "rnn") -> str:
    return (f"{group}/{style}/{p['pass']}/b{p['batch']}-t{p['seq_len']}-i{p['input_size']}"
            f"-h{p['hidden_size']}-l{p['num_layers']}-uni")


def _rnn_cases(rng, device, scale, styles, noisy_style) -> list[dict]:
    cases = []
    for pass_, factor in (("forward", 1.0), ("forward_backward", 2.5)):
        for style in styles:
            p = rnn_params(pass_)
            base = RNN_MEDIANS.get(style, 2e-3) * factor * scale
            cases.append(_case(
                rng, name=rnn_name(style, p), group="rnn", impl=style, device=device, params=p,
                median=base, spread=0.3 if style == noisy_style else 0.02,
                compile_s=12.5 if style == "compile" else None,
                warnings=[JIT_WARNING] if style == "jit" else ()))
    return cases


def _sweep_cases(rng, device, scale) -> list[dict]:
    cases = []
    for style in ("loop", "native"):
        per_step = RNN_MEDIANS[style] / 28 * scale
        for t in SEQ_LENS:  # linear in T by construction: intercept + per_step * T
            p = rnn_params("forward", seq_len=t)
            cases.append(_case(rng, name=rnn_name(style, p, "rnn-seq_len"), group="rnn-seq_len",
                               impl=style, device=device, params=p, median=2e-5 + per_step * t))
        for h in (64, 128, 256):
            p = rnn_params("forward", hidden=h)
            cases.append(_case(rng, name=rnn_name(style, p, "rnn-hidden_size"),
                               group="rnn-hidden_size", impl=style,
                               device=device, params=p, median=per_step * 28 * h / 128))
        for b in (16, 64, 256):
            p = rnn_params("forward", batch=b)
            cases.append(_case(rng, name=rnn_name(style, p, "rnn-batch"), group="rnn-batch",
                               impl=style,
                               device=device, params=p, median=per_step * 28 * (0.5 + b / 128)))
    return cases


def _cnn_cases(rng, device, scale) -> list[dict]:
    cases = []
    for (family, shortcut), median in CNN_MEDIANS.items():
        for pass_, factor in (("inference", 1.0), ("train_step", 3.0)):
            p = {"pass": pass_, "batch": 64, "family": family, "shortcut": shortcut}
            cases.append(_case(rng, name=f"cnn/{family}/{shortcut}/{pass_}/b64", group="cnn",
                               impl=f"{family}/{shortcut}", device=device, params=p,
                               median=median * factor * scale))
    return cases


def _training(rng, device, seeds, scale) -> list[dict]:
    entries = []
    for (family, shortcut), final in CNN_ACC.items():
        for seed in seeds:
            acc = final + 0.001 * rng.standard_normal()
            epochs = [{"epoch": e, "time_s": 10.0 * e * scale,
                       "train_loss": 0.5 / e + 0.01 * rng.random(),
                       "test_acc": acc - 0.02 / e + 0.02 / 3} for e in (1, 2, 3)]
            reached = [ep["time_s"] for ep in epochs if ep["test_acc"] >= 0.985]
            entries.append({
                "model": family, "variant": shortcut, "device": device, "seed": seed,
                "params_count": 170_000 if family == "resnet" else 90_000,
                "flops": 4.1e7 if shortcut == "projection" else 3.9e7, "epochs": epochs,
                "time_to_target_s": reached[0] if reached else None, "target_acc": 0.985,
                "train_images": 60000, "test_images": 10000,
                "images_per_s": 60000 * 3 / epochs[-1]["time_s"], "status": "ok",
                "error": None})
    return entries


def _failures(device) -> list[dict]:
    p = rnn_params("forward")
    return [
        _not_run(name=rnn_name("native-nocudnn", p), group="rnn", impl="native-nocudnn",
                 device=device, params=p, status="skipped", error="needs a CUDA device"),
        _not_run(name=rnn_name("bmm", rnn_params("forward", batch=512)), group="rnn",
                 impl="bmm", device=device, params=rnn_params("forward", batch=512),
                 status="failed", error="RuntimeError: out of memory"),
    ]


def make_results(*, device="cpu", status="complete", source="data-dir", verified=True,
                 seeds=(0,), cpu=None, gpu=None, fingerprint="aaaabbbbccccdddd", scale=1.0,
                 rng_seed=0, styles=tuple(RNN_MEDIANS), noisy_style="bmm", cnn=True,
                 training=True, sweeps=True, failures=True, hostile=False,
                 run_id="20260101-000000-abcd") -> dict:
    """A synthetic results dict. `scale` multiplies every time (2.0 = a machine twice as slow)."""
    rng = np.random.default_rng(rng_seed)
    styles = tuple(styles) + ((HOSTILE_STYLE,) if hostile else ())
    cases = _rnn_cases(rng, device, scale, styles, noisy_style)
    cases += _sweep_cases(rng, device, scale) if sweeps else []
    cases += _cnn_cases(rng, device, scale) if cnn else []
    cases += _failures(device) if failures else []
    if hostile:
        p = rnn_params("forward", batch=8)
        cases.append(_not_run(name=rnn_name("loop", p), group="rnn", impl=HOSTILE_STYLE,
                              device=device, params=p, status="failed", error=HOSTILE_ERROR))
    return {
        "schema_version": 1, "tool": "mnistbench", "run_id": run_id,
        "created_at": "2026-01-01T00:00:00Z",
        "finished_at": None if status == "partial" else "2026-01-01T00:05:00Z",
        "status": status, "profile": "quick",
        "config": {"profile": "quick", "device": device, "threads": 2, "seed": 0,
                   "dataset": "mnist", "data_dir": None, "warmup_rounds": 3},
        "machine": {
            "host_processor_model_name": cpu or (HOSTILE_CPU if hostile else "Synthetic CPU 9000"),
            "host_processor_core_count": 2, "host_processor_vcpu_count": 4,
            "host_memory_capacity": "15.5 GiB", "accelerator_model_name": gpu,
            "accelerators_per_node": 1 if gpu else 0,
            "accelerator_memory_capacity": "80.0 GiB" if gpu else None,
            "operating_system": "Linux-6.1-x86_64", "fingerprint": fingerprint},
        "software": {
            "python": "3.11.2", "torch": "2.11.0", "torchvision": "0.26.0",
            "cuda": "12.8" if gpu else None, "cudnn": "91000" if gpu else None,
            "driver": "570.1" if gpu else None, "threads": 2, "interop_threads": 2,
            "mkldnn": True, "mkl": True, "openmp": True, "tf32_matmul": False,
            "tf32_cudnn": True, "cudnn_benchmark": False, "cudnn_deterministic": False,
            "pytest_benchmark": "5.1.0"},
        "commit": {"sha": "0123456789abcdef0123456789abcdef01234567", "dirty": True},
        "dataset": {
            "name": "mnist", "source": source, "location": "/data/mnist",
            "train_count": 60000, "test_count": 10000, "train_used": 60000,
            "verified": verified, "files": {"train-images-idx3-ubyte": "0" * 64},
            "notes": [] if verified else ["checksums differ from the standard files"]},
        "benchmarks": cases,
        "training": _training(rng, device, seeds, scale) if training else [],
        "pytest_benchmark_json": "pytest_benchmark.json",
    }


def write_results(directory: Path, results: dict, name: str = "results.json") -> Path:
    """Write `results` as JSON under `directory` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return path
