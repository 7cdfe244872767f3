# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Verifier throughput and latency, called as verl's reward loop calls it (a thread pool in one
reward worker process), on a realistic mix of outputs built from the five benchmarks' answers.

    .venv/bin/python benchmarks/bench_verifier.py [--calls 3000] [--threads 8]

Prints checks/s and p50/p99 latency, overall and for the calls that reach math-verify.
"""

import argparse
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from data_prep.prepare_math import SHIPPED_EVAL_DIR
from recipe.laser.verifier.answers import as_integer, normalize_answer
from recipe.laser.verifier.reward import POOL_WORKERS, compute_score, verifier_stats


def make_outputs(n: int, seed: int) -> list[tuple[str, str]]:
    """(response, ground truth): correct as written, correct in another form, wrong, no box, two boxes."""
    answers = []
    for f in sorted(SHIPPED_EVAL_DIR.glob("*.jsonl")):
        answers += [str(json.loads(line)["answer"]) for line in f.read_text().splitlines() if line.strip()]
    if not answers:
        raise SystemExit(f"bench_verifier: no answers in {SHIPPED_EVAL_DIR}/*.jsonl (the shipped benchmarks)")
    rng = random.Random(seed)
    reasoning = "Let us work through the problem step by step. " * 20
    out = []
    for _ in range(n):
        gold = rng.choice(answers)
        kind = rng.random()
        if kind < 0.35:
            pred = gold
        elif kind < 0.5:
            pred = f"{gold}\\," if as_integer(gold) is None else f"\\frac{{{2 * as_integer(gold)}}}{{2}}"
        elif kind < 0.85:
            pred = rng.choice(answers)
        elif kind < 0.95:
            out.append((reasoning + "I am not sure.", gold))
            continue
        else:
            out.append((reasoning + f"\\boxed{{{gold}}} or \\boxed{{0}}", gold))
            continue
        out.append((reasoning + f"So the answer is $\\boxed{{{pred}}}$.", gold))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8, help="caller threads (verl: the reward worker's executor)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    outputs = make_outputs(args.calls, args.seed)
    compute_score("math", "\\boxed{\\frac{1}{2}}", "0.5")  # start the worker pool outside the timing

    def timed(item):
        response, gold = item
        start = time.perf_counter()
        result = compute_score("math", response, gold, format_gate="boxed")
        answer = result["extracted_answer"]
        slow = (
            bool(answer)
            and normalize_answer(answer) != normalize_answer(gold)
            and not (as_integer(answer) is not None and as_integer(gold) is not None)
        )
        return time.perf_counter() - start, slow, result

    start = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        results = list(pool.map(timed, outputs))
    wall = time.perf_counter() - start
    latencies = sorted(r[0] for r in results)
    slow = sorted(r[0] for r in results if r[1])

    def pct(values, q):
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")

    print(f"verifier: {args.calls} calls, {args.threads} caller threads, {POOL_WORKERS} math-verify worker processes")
    print(f"  throughput  {args.calls / wall:8.1f} checks/s   (wall {wall:.2f} s)")
    p50, p99 = pct(latencies, 0.5), pct(latencies, 0.99)
    print(f"  latency     p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   max {latencies[-1] * 1000:.1f} ms")
    share = 100 * len(slow) / args.calls
    print(f"  math-verify {len(slow)} calls ({share:.0f}%): p50 {pct(slow, 0.5):.2f} ms  p99 {pct(slow, 0.99):.2f} ms")
    print(f"  accuracy of the mix {statistics.mean(r[2]['score'] for r in results):.3f}; counters {verifier_stats()}")


if __name__ == "__main__":
    main()
