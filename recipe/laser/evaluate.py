"""Evaluate a checkpoint: n samples per problem, verifier correctness, the last-token self-reward
score of every finished sample at about one token of extra compute, then metrics, tables and plots.

    # the five benchmarks prepared by data_prep/prepare_math.py (same template as training)
    python -m recipe.laser.evaluate --model <hf folder> --data data/math_qwen_boxed/eval \\
        --out-dir outputs/eval/my-run --backend vllm --c-ref -23.0
    # a small slice on CPU with transformers
    python -m recipe.laser.evaluate --model models/tiny --data data/math_qwen_boxed/eval \\
        --out-dir outputs/eval/tiny --backend hf --limit 4 --n 2 --max-tokens 64

``--data`` takes parquet files in verl's RL format or folders of them; each file is one benchmark
named by its stem. Sampling defaults follow the authors' evaluation (temperature 1, top-p 1, 8192
new tokens; n = 2 for MATH500 and OlympiadBench, 32 for AMC23, AIME24 and AIME25, else 4).

The output folder holds ``run_config.json``, ``samples/<benchmark>.jsonl`` (one line per sample),
and after scoring ``metrics.json``, ``results.md`` and ``plots/`` (``recipe/laser/eval_report.py``).
Resumable: samples are written per chunk of problems, atomically; a re-run with the same options
skips every problem whose samples are all written. Other options in the same folder are refused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from recipe.laser.eval_report import read_jsonl, write_atomic, write_report  # noqa: E402
from recipe.laser.reward import compute_score, verifier_stats  # noqa: E402

DEFAULT_N = {"math500": 2, "olympiadbench": 2, "amc23": 32, "aime24": 32, "aime25": 32}
FALLBACK_N = 4
# run_config keys that change the samples: a folder written with other values is not resumed
SAMPLING_KEYS = ("model", "backend", "temperature", "top_p", "max_tokens", "seed", "zc_token_id", "n", "chunk_size")


class EvalInputError(ValueError):
    """Bad input: the message names the file, row and field."""


@dataclass
class Problem:
    benchmark: str
    problem_id: str
    prompt: list  # chat messages
    ground_truth: str
    data_source: str
    extra_info: dict


def load_benchmarks(paths: list[str], limit: int | None = None) -> dict[str, list[Problem]]:
    """{benchmark: problems} from parquet files or folders of them (verl RL rows)."""
    import pandas as pd

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.parquet"))
            if not found:
                raise EvalInputError(f"--data {p}: a folder with no .parquet file")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise EvalInputError(f"--data {p}: no such file or folder")
    benchmarks: dict[str, list[Problem]] = {}
    for f in files:
        name = f.stem
        if name in benchmarks:
            raise EvalInputError(f"--data: two files are named {name!r}; benchmark names come from file stems")
        rows = pd.read_parquet(f).to_dict("records")
        for column in ("prompt", "reward_model"):
            if rows and column not in rows[0]:
                raise EvalInputError(f"{f}: column {column!r} is missing (expected verl RL rows: prepare_math.py)")
        problems = []
        for i, row in enumerate(rows[:limit] if limit else rows):
            truth = (row["reward_model"] or {}).get("ground_truth")
            if truth is None or not str(truth).strip():
                raise EvalInputError(f"{f} row {i}: field 'reward_model.ground_truth' is empty")
            prompt = list(row["prompt"])
            if not prompt or not all(isinstance(m, dict) and "content" in m for m in prompt):
                raise EvalInputError(f"{f} row {i}: field 'prompt': expected a list of chat messages")
            extra = dict(row.get("extra_info") or {})
            pid = str(extra.get("source_id", extra.get("index", i)))
            problems.append(Problem(name, pid, [dict(m) for m in prompt], str(truth), str(row.get("data_source", name)), extra))
        if len({p.problem_id for p in problems}) != len(problems):
            raise EvalInputError(f"{f}: problem ids (extra_info.source_id / index) are not unique")
        benchmarks[name] = problems
    return benchmarks


def problem_seed(seed: int, benchmark: str, chunk: list[Problem]) -> int:
    """A chunk's sampling seed: fixed by the run seed and the problems, so a resumed run draws the
    same samples as an uninterrupted one (transformers backend; vLLM seeds its engine once)."""
    key = f"{seed}|{benchmark}|" + ",".join(p.problem_id for p in chunk)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")


def write_jsonl_atomic(path: Path, rows: list[dict]) -> None:
    write_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


def check_or_write_run_config(out_dir: Path, config: dict) -> None:
    path = out_dir / "run_config.json"
    if path.is_file():
        previous = json.loads(path.read_text())
        changed = {k: (previous.get(k), config.get(k)) for k in SAMPLING_KEYS if previous.get(k) != config.get(k)}
        if changed:
            raise EvalInputError(
                f"{path}: this folder holds samples made with other options {changed} (was, now); "
                "use a new --out-dir, or --force to discard them"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(config, indent=1))


def resolve_c_ref(value: str) -> tuple[str, float | None]:
    """--c-ref: a negative number, 'exact', or a laser_c_ref.json written by the trainer's auto mode."""
    if value == "exact":
        return "exact", None
    path = Path(value)
    if path.suffix == ".json":
        if not path.is_file():
            raise EvalInputError(f"--c-ref {value}: no such file (expected the trainer's laser_c_ref.json)")
        data = json.loads(path.read_text())
        if "c_ref" not in data:
            raise EvalInputError(f"--c-ref {value}: no 'c_ref' field in the file")
        return "constant", float(data["c_ref"])
    try:
        c_ref = float(value)
    except ValueError:
        raise EvalInputError(f"--c-ref {value!r}: expected a negative number, 'exact' or a laser_c_ref.json path") from None
    if c_ref >= 0:
        raise EvalInputError(f"--c-ref {c_ref}: a log-prob reference must be negative")
    return "constant", c_ref


def sample_rows(problem: Problem, prompt_ids: list[int], samples, tokenizer, beta_v: float, c_ref: float | None,
                ref_values: list[float | None], format_gate: str) -> list[dict]:
    rows = []
    for j, (s, ref_lp) in enumerate(zip(samples, ref_values, strict=True)):
        text = tokenizer.decode(s.response_ids, skip_special_tokens=True)
        verdict = compute_score(problem.data_source, text, problem.ground_truth, problem.extra_info, format_gate=format_gate)
        ref = ref_lp if c_ref is None else c_ref
        score = beta_v * (s.zc_log_prob - ref) if s.finished and ref is not None else None
        rows.append(
            {
                "benchmark": problem.benchmark,
                "problem_id": problem.problem_id,
                "sample": j,
                "prompt_tokens": len(prompt_ids),
                "response_tokens": len(s.response_ids),
                "finished": s.finished,
                "response": text,
                "ground_truth": problem.ground_truth,
                "extracted_answer": verdict["extracted_answer"] or None,
                "correct": bool(verdict["acc"] > 0.5),
                "verifier_error": verdict["error"],
                "zc_log_prob": s.zc_log_prob,
                "c_ref": ref,
                "score": score,
                **({"kind": problem.extra_info["kind"]} if "kind" in problem.extra_info else {}),
            }
        )
    return rows


def evaluate(args) -> Path:
    from tqdm import tqdm
    from transformers import AutoTokenizer

    from recipe.laser.config import LaSeRConfig, resolve_zc_token
    from recipe.laser.eval_backends import make_backend, stop_token_ids

    out_dir = Path(args.out_dir)
    if args.force and out_dir.exists():
        for f in list((out_dir / "samples").glob("*.jsonl")) + [out_dir / "run_config.json"]:
            f.unlink(missing_ok=True)
    benchmarks = load_benchmarks(args.data, args.limit)
    c_ref_mode, c_ref = resolve_c_ref(args.c_ref)
    if c_ref_mode == "exact" and not args.ref_model:
        raise EvalInputError("--c-ref exact needs --ref-model (the reference model whose z_c log-prob is subtracted)")
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    stops = stop_token_ids(args.model, tokenizer)
    zc = resolve_zc_token(LaSeRConfig(zc_token_id=args.zc_token_id), tokenizer, set(stops))
    n_of = {b: args.n or DEFAULT_N.get(b, FALLBACK_N) for b in benchmarks}
    config = {
        "model": str(args.model), "backend": args.backend, "temperature": args.temperature, "top_p": args.top_p,
        "max_tokens": args.max_tokens, "seed": args.seed, "zc_token_id": zc, "n": n_of, "beta_v": args.beta_v,
        "c_ref_mode": c_ref_mode, "c_ref": c_ref, "ref_model": args.ref_model, "stop_token_ids": stops,
        "format_gate": args.format_gate, "data": [str(d) for d in args.data], "limit": args.limit,
        "chunk_size": args.chunk_size,
    }
    check_or_write_run_config(out_dir, config)
    (out_dir / "samples").mkdir(exist_ok=True)

    # Chunks are cut from each benchmark's full problem list, so a resumed run meets the same chunks
    # (and seeds) as an uninterrupted one; a chunk not complete on disk is sampled again whole.
    todo: dict[str, list[list[Problem]]] = {}
    done_rows: dict[str, list[dict]] = {}
    for name, problems in benchmarks.items():
        rows = read_jsonl(out_dir / "samples" / f"{name}.jsonl")
        count: dict[str, int] = {}
        for r in rows:
            count[r["problem_id"]] = count.get(r["problem_id"], 0) + 1
        chunks = [problems[i:i + args.chunk_size] for i in range(0, len(problems), args.chunk_size)]
        todo[name] = [c for c in chunks if any(count.get(p.problem_id) != n_of[name] for p in c)]
        redo = {p.problem_id for c in todo[name] for p in c}
        done_rows[name] = [r for r in rows if r["problem_id"] not in redo]
    pending = sum(len(c) for chunks in todo.values() for c in chunks)
    skipped = sum(len(v) for v in benchmarks.values()) - pending
    print(f"evaluate: {len(benchmarks)} benchmarks, {pending} problems to sample, {skipped} already done in {out_dir}")

    if pending:
        engine_kwargs = dict(model_path=str(args.model), zc_token_id=zc, stop_ids=stops, dtype=args.dtype)
        if args.backend == "vllm":
            engine_kwargs.update(seed=args.seed, max_model_len=args.max_model_len, block_size=args.block_size,
                                 enforce_eager=args.enforce_eager,
                                 tensor_parallel_size=args.tensor_parallel_size,
                                 gpu_memory_utilization=args.gpu_memory_utilization)
        else:
            engine_kwargs.update(batch_size=args.batch_size)
        backend = make_backend(args.backend, **engine_kwargs)
        ref_backend = make_backend(args.backend, **{**engine_kwargs, "model_path": str(args.ref_model)}) if c_ref_mode == "exact" else None
        timing = {"generate_s": 0.0, "ref_score_s": 0.0, "verify_s": 0.0}
        bar = tqdm(total=pending, desc="problems", unit="problem", disable=args.no_progress)
        for name, chunks in todo.items():
            n = n_of[name]
            order = {p.problem_id: i for i, p in enumerate(benchmarks[name])}  # rows stay in problem order
            for chunk in chunks:
                prompt_ids = [list(tokenizer.apply_chat_template(p.prompt, add_generation_prompt=True, return_dict=False)) for p in chunk]
                t0 = time.time()
                samples = backend.generate(prompt_ids, n, args.temperature, args.top_p, args.max_tokens,
                                           seed=problem_seed(args.seed, name, chunk))
                t1 = time.time()
                refs = [[None] * n for _ in chunk]
                if ref_backend is not None:
                    where = [(i, j) for i, ss in enumerate(samples) for j, s in enumerate(ss) if s.finished]
                    values = ref_backend.score_continuation([prompt_ids[i] + samples[i][j].response_ids for i, j in where])
                    for (i, j), v in zip(where, values, strict=True):
                        refs[i][j] = v
                t2 = time.time()
                for p, ids, ss, rr in zip(chunk, prompt_ids, samples, refs, strict=True):
                    done_rows[name] += sample_rows(p, ids, ss, tokenizer, args.beta_v, c_ref, rr, args.format_gate)
                done_rows[name].sort(key=lambda r: (order[r["problem_id"]], r["sample"]))
                write_jsonl_atomic(out_dir / "samples" / f"{name}.jsonl", done_rows[name])
                timing["generate_s"] += t1 - t0
                timing["ref_score_s"] += t2 - t1
                timing["verify_s"] += time.time() - t2
                bar.update(len(chunk))
        bar.close()
        print("evaluate: " + ", ".join(f"{k} {v:.1f}" for k, v in timing.items()) + f"; verifier {verifier_stats()}")
    report = write_report(out_dir, resamples=args.resamples, seed=args.seed)
    print("\n**".join((out_dir / "results.md").read_text().split("\n**")[:2]))  # headline and averaged scaling
    print(f"evaluate: wrote {out_dir}/samples, metrics.json, results.md and {len(report['plots'])} plots")
    return out_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="Hugging Face model folder (export verl checkpoints with verl.model_merger)")
    parser.add_argument("--data", nargs="+", required=True, help="parquet files or folders of them; one benchmark per file")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--backend", choices=("vllm", "hf"), default="vllm")
    parser.add_argument("--n", type=int, default=None, help=f"samples per problem (default: {DEFAULT_N}, else {FALLBACK_N})")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-tokens", type=int, default=8192, help="new tokens per sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="first K problems of each benchmark")
    parser.add_argument("--beta-v", type=float, default=0.1)
    parser.add_argument("--c-ref", default="-23.0", help="a negative constant, 'exact' (needs --ref-model), or a laser_c_ref.json")
    parser.add_argument("--ref-model", default=None, help="reference model for --c-ref exact")
    parser.add_argument("--zc-token-id", type=int, default=None, help="default: the tokenizer family's z_c")
    parser.add_argument("--format-gate", default="auto", help="verifier format gate: auto (from the template) | boxed | r1 | none")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--chunk-size", type=int, default=64, help="problems per generation call (and per resume point)")
    parser.add_argument("--batch-size", type=int, default=32, help="hf backend: sequences per forward")
    parser.add_argument("--max-model-len", type=int, default=None, help="vllm: context length")
    parser.add_argument("--block-size", type=int, default=None, help="vllm: KV block size (smaller: more prefix-cache hits)")
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--enforce-eager", action="store_true", help="vllm: no compilation (faster start; CPU tests)")
    parser.add_argument("--gpu-memory-utilization", type=float, default=None,
                        help="vllm: memory share for weights and KV cache (default 0.85 on GPU, 0.2 of host memory on CPU)")
    parser.add_argument("--resamples", type=int, default=64, help="draws of k of n samples for the scaling curves")
    parser.add_argument("--force", action="store_true", help="discard samples already in --out-dir")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        evaluate(args)
    except EvalInputError as error:
        print(f"evaluate: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
