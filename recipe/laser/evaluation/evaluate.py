# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluate a checkpoint as the authors do: n samples per problem, accuracy by the last box and
math-verify, and the last-token self-reward score of every answered sample at about one token of
extra compute; then metrics, tables and plots.

    # the five benchmarks prepared by data_prep/prepare_math.py; family, prompt and c_ref from the model
    python -m recipe.laser.evaluation.evaluate --model <hf folder> --data data/math_qwen2.5/eval \\
        --out-dir outputs/eval/my-run --backend vllm
    # a small slice on CPU with transformers
    python -m recipe.laser.evaluation.evaluate --model models/tiny --data data/math_qwen2.5/eval \\
        --out-dir outputs/eval/tiny --backend hf --limit 4 --n 2 --max-tokens 64

``--data`` takes parquet files in verl's RL format or folders of them; each file is one benchmark
named by its stem. Sampling defaults follow the authors' evaluation (temperature 1, top-p 1, 8192
new tokens; n = 2 for MATH500 and OlympiadBench, 32 for AMC23, AIME24 and AIME25, else 4).

What is the authors' (their ``src/eval_math.py`` and ``calculate_self_rewarding_scores.py``):
- the prompt: the family's evaluation prompt through the model's chat template (``--prompt-style
  authors``; ``training`` uses each row's training prompt instead);
- a response is cut after its first ``</answer>``; its answer is its last ``\\boxed{}``, checked
  with math-verify without a format gate (the training verifier's gated verdict is kept too);
- every answered response is scored, a truncated (or cut) one with an EOS appended; a response
  without an answer gets score 0.

The output folder holds ``run_config.json``, ``samples/<benchmark>.jsonl`` (one line per sample),
``engine.json`` (vLLM: KV-cache size and the prefix-cache hit rate of the score requests), and after
scoring ``metrics.json``, ``results.md`` and ``plots/`` (``recipe/laser/evaluation/report.py``).
Resumable: samples are written per chunk of problems, atomically; a re-run with the same options
skips every problem whose samples are all written, and a damaged samples file (a cut line) is named
and its problems are sampled again. Other options in the same folder are refused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from recipe.laser.atomic import write_text_atomic
from recipe.laser.core_algos import self_reward
from recipe.laser.evaluation.metrics import equivalence_keys
from recipe.laser.evaluation.report import read_jsonl_checked, write_report
from recipe.laser.families import ModelFamily, family_of
from recipe.laser.prompts import cut_after_answer, evaluation_messages, format_gate_for
from recipe.laser.verifier.answers import choice_letter, extract_last_boxed
from recipe.laser.verifier.reward import (
    answer_verdict,
    answers_match,
    compute_score,
    multiple_choice_options,
    verifier_stats,
)

DEFAULT_N = {"math500": 2, "olympiadbench": 2, "amc23": 32, "aime24": 32, "aime25": 32}
FALLBACK_N = 4
MAX_CHUNK = 64
LOW_CACHE_HIT_RATE = 0.5
# run_config keys that change the samples: a folder written with other values is not resumed
SAMPLING_KEYS = (
    "model",
    "backend",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "zc_token_id",
    "n",
    "chunk_size",
    "family",
    "prompt_style",
)


class EvalInputError(ValueError):
    """Bad input: the message names the file, row and field."""


@dataclass
class Problem:
    benchmark: str
    problem_id: str
    problem: str  # the problem text (extra_info.problem)
    prompt: list  # the row's training prompt (chat messages)
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
            text = extra.get("problem") or prompt[-1]["content"]
            pid = str(extra.get("source_id", extra.get("index", i)))
            source = str(row.get("data_source", name))
            problems.append(Problem(name, pid, str(text), [dict(m) for m in prompt], str(truth), source, extra))
        if len({p.problem_id for p in problems}) != len(problems):
            raise EvalInputError(f"{f}: problem ids (extra_info.source_id / index) are not unique")
        benchmarks[name] = problems
    return benchmarks


def problem_seed(seed: int, benchmark: str, chunk: list[Problem]) -> int:
    """A chunk's sampling seed: fixed by the run seed and the problems, so a resumed run draws the
    same samples as an uninterrupted one (both backends: vLLM seeds each request from it)."""
    key = f"{seed}|{benchmark}|" + ",".join(p.problem_id for p in chunk)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")


def write_jsonl_atomic(path: Path, rows: list[dict]) -> None:
    write_text_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


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
    write_text_atomic(path, json.dumps(config, indent=1))


def resolve_c_ref(value: str | None, family: ModelFamily) -> tuple[str, float | None]:
    """--c-ref: a negative number, 'exact', a laser_c_ref.json written by the trainer's auto mode, or
    unset (the family's constant)."""
    if value is None:
        if isinstance(family.c_ref, str):
            raise EvalInputError(
                f"--c-ref: family {family.name} has no reported constant (the trainer measures it: c_ref=auto); "
                "pass the trainer's laser_c_ref.json, a negative number or exact"
            )
        return "constant", family.c_ref
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
        raise EvalInputError(
            f"--c-ref {value!r}: expected a negative number, 'exact' or a laser_c_ref.json path"
        ) from None
    if c_ref >= 0:
        raise EvalInputError(f"--c-ref {c_ref}: a log-prob reference must be negative")
    return "constant", c_ref


def auto_chunk_size(kv_cache_tokens: int | None, n: int, prompt_tokens: int, max_tokens: int) -> int:
    """Problems per chunk such that a chunk's sequences fit in the engine's KV cache at once (so the
    one-token score finds each [x, y] still cached): capacity / (n x longest sequence), 1..64."""
    if not kv_cache_tokens:
        return MAX_CHUNK
    return max(1, min(MAX_CHUNK, kv_cache_tokens // max(1, n * (prompt_tokens + max_tokens))))


def answer_cut_ids(response_ids: list[int], text: str, tokenizer) -> list[int]:
    """The shortest prefix of the response whose text holds the whole first ``</answer>`` (the
    authors cut the text there); the response itself when it has none."""
    if "</answer>" not in text:
        return response_ids
    lo, hi = 1, len(response_ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if "</answer>" in tokenizer.decode(response_ids[:mid], skip_special_tokens=True):
            hi = mid
        else:
            lo = mid + 1
    return response_ids[:lo]


def judge_sample(problem: Problem, sample, tokenizer, gate: str) -> dict:
    """The authors' verdict (cut, last box, math-verify without a gate), the training verifier's gated
    verdict, and the token ids whose z_c log-prob is the sample's score (None: not scored)."""
    full_text = tokenizer.decode(sample.response_ids, skip_special_tokens=True)
    text = cut_after_answer(full_text)
    answer = extract_last_boxed(text.strip())
    correct = False
    if answer is not None:
        correct = answer_verdict(answer, problem.ground_truth, problem.extra_info)[0]
    options = problem.extra_info.get("options")
    gate_info = {"format_gate": gate} if options is None else {"format_gate": gate, "options": options}
    gated = compute_score(problem.data_source, full_text, problem.ground_truth, gate_info)
    body = sample.response_ids[:-1] if sample.finished else sample.response_ids
    cut_ids = answer_cut_ids(body, full_text, tokenizer) if text != full_text else body
    if sample.finished and len(cut_ids) == len(body):
        scored_at = "end"  # z_c after the end token the model generated: the training score
    elif answer is not None:
        scored_at = "appended_eos"  # truncated or cut: an EOS appended, as the authors score it
    else:
        scored_at = None
    return {
        "response": text,
        "cut": text != full_text,
        "extracted_answer": answer,
        "correct": bool(correct),
        "correct_gated": bool(gated["acc"] > 0.5),
        "verifier_error": gated["error"],
        "scored_at": scored_at,
        "score_ids": None if scored_at in (None, "end") else cut_ids,
    }


def vote_keys(problem: Problem, judged: list[dict]) -> list[str | None]:
    """The voting key of each of a problem's samples (``metrics.equivalence_keys``); on a
    multiple-choice problem wrong answers vote by the option they name."""
    answers = [x["extracted_answer"] for x in judged]
    correct = [x["correct"] for x in judged]
    options = multiple_choice_options(problem.extra_info)
    if options is None:
        return equivalence_keys(answers, correct, answers_match)
    letters = [None if a is None else choice_letter(a, options) for a in answers]
    return equivalence_keys(letters, correct, lambda a, b: (a == b,))


def evaluate_chunk(chunk, prompt_ids, samples, backend, ref_backend, tokenizer, args, c_ref, gate) -> list[dict]:
    """Verdicts, scores and vote keys of one chunk's samples (rows in problem and sample order)."""
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else backend.stop_ids[0]
    judged = [[judge_sample(p, s, tokenizer, gate) for s in ss] for p, ss in zip(chunk, samples, strict=True)]
    # the one-token scores the generation did not give: truncated or cut answers with an EOS appended
    extra = [(i, j) for i, jj in enumerate(judged) for j, x in enumerate(jj) if x["score_ids"] is not None]
    values = backend.score_continuation([prompt_ids[i] + judged[i][j]["score_ids"] + [eos] for i, j in extra])
    zc = [
        [s.zc_log_prob if x["scored_at"] == "end" else None for s, x in zip(ss, jj, strict=True)]
        for ss, jj in zip(samples, judged, strict=True)
    ]
    for (i, j), v in zip(extra, values, strict=True):
        zc[i][j] = v
    refs = [[None] * len(ss) for ss in samples]
    if ref_backend is not None:
        where = [(i, j) for i, row in enumerate(zc) for j, v in enumerate(row) if v is not None]
        sequences = []
        for i, j in where:
            x, s = judged[i][j], samples[i][j]
            sequences.append(prompt_ids[i] + (s.response_ids if x["scored_at"] == "end" else x["score_ids"] + [eos]))
        for (i, j), v in zip(where, ref_backend.score_continuation(sequences), strict=True):
            refs[i][j] = v
    rows = []
    for i, (p, ss) in enumerate(zip(chunk, samples, strict=True)):
        keys = vote_keys(p, judged[i])
        for j, (s, x) in enumerate(zip(ss, judged[i], strict=True)):
            ref = refs[i][j] if c_ref is None else c_ref
            score = None
            if zc[i][j] is not None and (ref is not None or args.self_reward_loss == "bce"):  # bce reads no c_ref
                lp = torch.tensor(zc[i][j], dtype=torch.float64)
                score = float(self_reward(lp, ref, args.beta_v, args.self_reward_loss))
            rows.append(
                {
                    "benchmark": p.benchmark,
                    "problem_id": p.problem_id,
                    "sample": j,
                    "prompt_tokens": len(prompt_ids[i]),
                    "response_tokens": len(s.response_ids),
                    "finished": s.finished,
                    **{k: v for k, v in x.items() if k != "score_ids"},
                    "ground_truth": p.ground_truth,
                    "vote_key": keys[j],
                    "zc_log_prob": zc[i][j],
                    "c_ref": ref,
                    "score": score,
                    **({"kind": p.extra_info["kind"]} if "kind" in p.extra_info else {}),
                }
            )
    return rows


def load_done_rows(out_dir: Path, name: str) -> list[dict]:
    """The samples already on disk for one benchmark; a damaged line is reported and its problem's
    samples are drawn again (its chunk is incomplete without it)."""
    path = out_dir / "samples" / f"{name}.jsonl"
    rows, bad = read_jsonl_checked(path)
    if bad:
        print(
            f"evaluate: warning: {path}: lines {bad[:10]} are not valid JSON (a damaged file); "
            "their problems are sampled again"
        )
    return rows


def open_backends(args, c_ref_mode: str, zc: int, stops: list[int]):
    """The policy's engine, and the reference model's for --c-ref exact (None otherwise)."""
    from recipe.laser.evaluation.backends import default_memory_shares, make_backend

    policy_share, ref_share = default_memory_shares(args.backend, c_ref_mode == "exact")
    engine_kwargs = {"model_path": str(args.model), "zc_token_id": zc, "stop_ids": stops, "dtype": args.dtype}
    if args.backend == "vllm":
        engine_kwargs.update(seed=args.seed, max_model_len=args.max_model_len, block_size=args.block_size,
                             enforce_eager=args.enforce_eager, tensor_parallel_size=args.tensor_parallel_size,
                             gpu_memory_utilization=args.gpu_memory_utilization or policy_share)  # fmt: skip
    else:
        engine_kwargs.update(batch_size=args.batch_size)
    backend = make_backend(args.backend, **engine_kwargs)
    ref_backend = None
    if c_ref_mode == "exact":
        ref_kwargs = {**engine_kwargs, "model_path": str(args.ref_model)}
        if args.backend == "vllm":
            ref_kwargs["gpu_memory_utilization"] = args.ref_gpu_memory_utilization or ref_share
        ref_backend = make_backend(args.backend, **ref_kwargs)
    return backend, ref_backend


def chunks_to_sample(
    benchmarks: dict[str, list[Problem]], done_rows: dict[str, list[dict]], n_of: dict[str, int], sizes: dict[str, int]
) -> dict[str, list[list[Problem]]]:
    """Each benchmark's chunks that are not complete on disk; their rows leave ``done_rows``.

    Chunks are cut from each benchmark's full problem list, so a resumed run meets the same chunks
    (and seeds) as an uninterrupted one; a chunk not complete on disk is sampled again whole."""
    todo: dict[str, list[list[Problem]]] = {}
    for name, problems in benchmarks.items():
        count: dict[str, int] = {}
        for r in done_rows[name]:
            count[r["problem_id"]] = count.get(r["problem_id"], 0) + 1
        size = sizes[name]
        chunks = [problems[i : i + size] for i in range(0, len(problems), size)]
        todo[name] = [c for c in chunks if any(count.get(p.problem_id) != n_of[name] for p in c)]
        redo = {p.problem_id for c in todo[name] for p in c}
        done_rows[name] = [r for r in done_rows[name] if r["problem_id"] not in redo]
    return todo


def sample_chunk(name, chunk, prompt_ids, n, backend, ref_backend, tokenizer, args, c_ref, gate, timing) -> list[dict]:
    """One chunk's samples, drawn with its own seed, judged and scored; ``timing`` adds the seconds."""
    t0 = time.time()
    samples = backend.generate(prompt_ids, n, args.temperature, args.top_p, args.max_tokens,
                               seed=problem_seed(args.seed, name, chunk))  # fmt: skip
    t1 = time.time()
    rows = evaluate_chunk(chunk, prompt_ids, samples, backend, ref_backend, tokenizer, args, c_ref, gate)
    timing["generate_s"] += t1 - t0
    timing["score_and_verify_s"] += time.time() - t1
    return rows


def evaluate(args) -> Path:
    from tqdm import tqdm
    from transformers import AutoTokenizer

    from recipe.laser.config import LaSeRConfig, resolve_zc_token
    from recipe.laser.families import stop_token_ids

    out_dir = Path(args.out_dir)
    if args.force and out_dir.exists():
        for f in [*(out_dir / "samples").glob("*.jsonl"), out_dir / "run_config.json", out_dir / "engine.json"]:
            f.unlink(missing_ok=True)
    benchmarks = load_benchmarks(args.data, args.limit)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    family, why = family_of(args.family, str(args.model), tokenizer)
    print(
        f"evaluate: family {family.name} ({why}): c_ref {family.c_ref}, z_c {family.zc_token}, "
        f"evaluation prompt suffix {family.eval_suffix!r}"
    )
    if args.self_reward_loss == "bce":  # the score is p(z_c) itself (core_algos.self_reward)
        if args.c_ref == "exact":
            raise EvalInputError("--c-ref exact with --self-reward-loss bce: p(z_c) reads no reference model")
        c_ref_mode, c_ref = "unused", None
        if args.c_ref is not None:
            print(f"evaluate: --self-reward-loss bce scores p(z_c): --c-ref {args.c_ref} is not read")
    else:
        c_ref_mode, c_ref = resolve_c_ref(args.c_ref, family)
    if c_ref_mode == "exact" and not args.ref_model:
        raise EvalInputError("--c-ref exact needs --ref-model (the reference model whose z_c log-prob is subtracted)")
    stops = stop_token_ids(args.model, tokenizer)
    zc = resolve_zc_token(LaSeRConfig(family=family.name, zc_token_id=args.zc_token_id), tokenizer, set(stops))
    n_of = {b: args.n or DEFAULT_N.get(b, FALLBACK_N) for b in benchmarks}

    def prompt_of(p: Problem) -> list[int]:
        messages = evaluation_messages(p.problem, family) if args.prompt_style == "authors" else p.prompt
        return list(tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=False))

    example = next(iter(benchmarks.values()))[0]
    gate = format_gate_for(tokenizer.decode(prompt_of(example)))  # the training verifier's gate for these prompts
    config = {
        "model": str(args.model), "backend": args.backend, "temperature": args.temperature, "top_p": args.top_p,
        "max_tokens": args.max_tokens, "seed": args.seed, "zc_token_id": zc, "n": n_of, "beta_v": args.beta_v,
        "self_reward_loss": args.self_reward_loss,
        "family": family.name, "prompt_style": args.prompt_style, "format_gate": gate,
        "c_ref_mode": c_ref_mode, "c_ref": c_ref, "ref_model": args.ref_model, "stop_token_ids": stops,
        "data": [str(d) for d in args.data], "limit": args.limit, "chunk_size": args.chunk_size,
    }  # fmt: skip
    check_or_write_run_config(out_dir, config)
    (out_dir / "samples").mkdir(exist_ok=True)
    done_rows = {name: load_done_rows(out_dir, name) for name in benchmarks}

    pending_any = any(
        sum(r["problem_id"] == p.problem_id for r in done_rows[name]) != n_of[name]
        for name, problems in benchmarks.items()
        for p in problems
    )
    backend = ref_backend = None
    engine = {"kv_cache_tokens": None, "chunk_size": None, "score_prefix_cache": {"hits": 0, "queries": 0}}
    if pending_any:
        backend, ref_backend = open_backends(args, c_ref_mode, zc, stops)
        engine["kv_cache_tokens"] = getattr(backend, "kv_cache_tokens", lambda: None)()
    longest_prompt = max(len(prompt_of(p)) for problems in benchmarks.values() for p in problems)
    sizes = {
        name: int(args.chunk_size) if args.chunk_size != "auto" else (
            auto_chunk_size(engine["kv_cache_tokens"], n_of[name], longest_prompt, args.max_tokens)
            if args.backend == "vllm" else MAX_CHUNK
        )
        for name in benchmarks
    }  # fmt: skip
    engine["chunk_size"] = sizes
    todo = chunks_to_sample(benchmarks, done_rows, n_of, sizes)
    pending = sum(len(c) for chunks in todo.values() for c in chunks)
    skipped = sum(len(v) for v in benchmarks.values()) - pending
    print(f"evaluate: {len(benchmarks)} benchmarks, {pending} problems to sample, {skipped} already done in {out_dir}")

    if pending:
        bar = tqdm(total=pending, desc="problems", unit="problem", disable=args.no_progress)
        timing = {"generate_s": 0.0, "score_and_verify_s": 0.0}
        for name, chunks in todo.items():
            order = {p.problem_id: i for i, p in enumerate(benchmarks[name])}  # rows stay in problem order
            for chunk in chunks:
                prompt_ids = [prompt_of(p) for p in chunk]
                rows = sample_chunk(name, chunk, prompt_ids, n_of[name], backend, ref_backend, tokenizer, args,
                                    c_ref, gate, timing)  # fmt: skip
                done_rows[name] = sorted(done_rows[name] + rows, key=lambda r: (order[r["problem_id"]], r["sample"]))
                write_jsonl_atomic(out_dir / "samples" / f"{name}.jsonl", done_rows[name])
                bar.update(len(chunk))
        bar.close()
        print("evaluate: " + ", ".join(f"{k} {v:.1f}" for k, v in timing.items()) + f"; verifier {verifier_stats()}")
        stats = getattr(backend, "score_cache_stats", None)
        if stats is not None:
            engine["score_prefix_cache"] = stats()
    report_engine(out_dir, engine)
    report = write_report(out_dir, resamples=args.resamples, seed=args.seed)
    print("\n**".join((out_dir / "results.md").read_text().split("\n**")[:2]))  # headline and averaged scaling
    print(f"evaluate: wrote {out_dir}/samples, metrics.json, results.md and {len(report['plots'])} plots")
    return out_dir


def report_engine(out_dir: Path, engine: dict) -> None:
    """engine.json, and a warning when the score requests mostly missed the prefix cache (the KV
    cache could not hold a chunk's sequences, so the cheap score re-read whole prompts)."""
    cache = engine["score_prefix_cache"]
    rate = cache["hits"] / cache["queries"] if cache.get("queries") else None
    cache["hit_rate"] = rate
    if rate is not None and rate < LOW_CACHE_HIT_RATE:
        print(
            f"evaluate: warning: the score requests found only {100 * rate:.0f}% of their tokens in the prefix cache; "
            f"lower --chunk-size (now {engine['chunk_size']}) or raise --gpu-memory-utilization"
        )
    previous = json.loads((out_dir / "engine.json").read_text()) if (out_dir / "engine.json").is_file() else {}
    if not cache.get("queries") and previous:
        return  # a resumed run that sampled nothing keeps the figures of the run that did
    write_text_atomic(out_dir / "engine.json", json.dumps(engine, indent=1))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True, help="a Hugging Face model folder (export verl checkpoints first)")
    parser.add_argument("--data", nargs="+", required=True, help="parquet files or folders; one benchmark per file")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--backend", choices=("vllm", "hf"), default="vllm")
    parser.add_argument("--family", default="auto", help="qwen2.5, orz, octothinker, or auto (from the model)")
    parser.add_argument(
        "--prompt-style",
        choices=("authors", "training"),
        default="authors",
        help="authors: the family's evaluation prompt; training: each row's training prompt",
    )
    parser.add_argument("--n", type=int, default=None, help=f"samples per problem (default: {DEFAULT_N}, else 4)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-tokens", type=int, default=8192, help="new tokens per sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="first K problems of each benchmark")
    parser.add_argument("--beta-v", type=float, default=0.1)
    parser.add_argument(
        "--self-reward-loss",
        choices=("mse", "bce"),
        default="mse",
        help="the model's laser.self_reward_loss: mse scores r_s = beta_v (log p(z_c) - c_ref), bce scores p(z_c)",
    )
    parser.add_argument(
        "--c-ref",
        default=None,
        help="default: the family's constant; a negative number, 'exact' (--ref-model) or laser_c_ref.json",
    )
    parser.add_argument("--ref-model", default=None, help="the reference model, for --c-ref exact")
    parser.add_argument("--zc-token-id", type=int, default=None, help="default: the family's z_c")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument(
        "--chunk-size",
        default="auto",
        help="problems per chunk (resume unit); auto: what the vLLM KV cache holds, at most 64",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="hf backend: sequences per forward")
    parser.add_argument("--max-model-len", type=int, default=None, help="vllm: context length")
    parser.add_argument("--block-size", type=int, default=None, help="vllm: KV block size")
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--enforce-eager", action="store_true", help="vllm: no compilation (faster start; CPU tests)")
    parser.add_argument(
        "--gpu-memory-utilization",
        type=float,
        default=None,
        help="vllm: the policy engine's share (default 0.85; 0.55 with --c-ref exact; CPU: 0.2)",
    )
    parser.add_argument(
        "--ref-gpu-memory-utilization",
        type=float,
        default=None,
        help="vllm, --c-ref exact: the reference engine's share of the same GPU (default 0.3)",
    )
    parser.add_argument("--resamples", type=int, default=64, help="draws of k of n samples for the scaling curves")
    parser.add_argument("--force", action="store_true", help="discard samples already in --out-dir")
    parser.add_argument("--no-progress", action="store_true")
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.chunk_size != "auto" and (not args.chunk_size.isdigit() or int(args.chunk_size) < 1):
        print(
            f"evaluate: error: --chunk-size {args.chunk_size!r}: expected a positive integer or auto", file=sys.stderr
        )
        return 2
    try:
        evaluate(args)
    except EvalInputError as error:
        print(f"evaluate: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
