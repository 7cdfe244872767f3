# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""LaSeR step time / GRPO step time on the tiny CPU preset: same warm-started model, seed, steps,
reward and settings (no KL, so neither starts a reference worker); only laser.enable differs.

    .venv/bin/python benchmarks/bench_laser_step_time.py [--steps 6]

Prints per-phase seconds (mean over steps 2..N; step 1 includes start-up effects), the tokens per
step, and the ratios. LaSeR adds one token (z_c) per finished response to the forward passes it
already runs, two TransferQueue reads/writes, and the score arithmetic.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PHASES = ("timing_s/gen", "timing_s/old_log_prob", "timing_s/adv", "timing_s/update_actor", "timing_s/step")


def run(preset: str, model: Path, data: Path, steps: int, workdir: Path) -> list[dict]:
    ckpt = workdir / preset
    env = {
        **os.environ,
        "PRESET": preset,
        "MODEL_PATH": str(model),
        "WARM_STEPS": "0",  # the model given is trained as it is
        "DATA_DIR": str(data),
        "TASK": "arithmetic",
        "C_REF": "-18.0",
        "CKPT_DIR": str(ckpt),
        "TOTAL_STEPS": str(steps),
        "USE_KL_LOSS": "False",
        "REWARD_FN_PATH": str(REPO / "tests/fixtures/parity_reward.py"),
    }
    proc = subprocess.run(["bash", str(REPO / "run_laser.sh")], env=env, cwd=REPO, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{preset} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    rows = [json.loads(line)["data"] for line in (ckpt / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in rows if "timing_s/step" in r]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    from data_prep.synthetic_arithmetic import write_synthetic_arithmetic
    from data_prep.tiny_model import build_tiny_model
    from data_prep.warm_start import warm_start

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_synthetic_arithmetic(tmp / "data", n_train=512, n_test=64)["train"].parent
        model = warm_start(build_tiny_model(tmp / "tiny"), data, tmp / "warm", steps=150, log_every=0)
        results = {p: run(p, model, data, args.steps, tmp) for p in ("tiny_cpu_grpo", "tiny_cpu_laser")}

    def mean(rows, key):
        values = [r[key] for r in rows[1:] if key in r]
        return sum(values) / len(values) if values else float("nan")

    grpo, laser = results["tiny_cpu_grpo"], results["tiny_cpu_laser"]
    print(f"tiny CPU preset, {args.steps} steps each, means over steps 2..{args.steps}")
    print(f"  {'phase':24s} {'GRPO':>9s} {'LaSeR':>9s} {'ratio':>7s}")
    for key in (*PHASES, "perf/total_num_tokens"):
        g, l_ = mean(grpo, key), mean(laser, key)
        print(f"  {key:24s} {g:9.3f} {l_:9.3f} {l_ / g:7.3f}")
    g_tok = mean(grpo, "timing_s/step") / mean(grpo, "perf/total_num_tokens")
    l_tok = mean(laser, "timing_s/step") / mean(laser, "perf/total_num_tokens")
    print(f"  step time per token      {g_tok * 1e3:9.3f} {l_tok * 1e3:9.3f} {l_tok / g_tok:7.3f}  (ms)")
    print(f"LaSeR step time / GRPO step time: {mean(laser, 'timing_s/step') / mean(grpo, 'timing_s/step'):.3f}")


if __name__ == "__main__":
    main()
