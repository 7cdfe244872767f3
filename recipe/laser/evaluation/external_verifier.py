# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Score an evaluation's samples with an external outcome reward model, and set its F1 next to the
self-reward's (the paper's comparison with external verifiers, section 4.2).

    python -m recipe.laser.evaluation.external_verifier outputs/eval/<run> --model <reward model> --name <label>
    python -m recipe.laser.evaluation.external_verifier outputs/eval/<run> --table   # the table only

The reward model is a Hugging Face sequence-classification model (``AutoModelForSequenceClassification``:
one logit, read as sigmoid(logit), or two, read as softmax[..., 1]) scoring the problem and the sampled
response, rendered with the reward model's chat template as a user and an assistant turn. It scores
every sample of ``samples/<benchmark>.jsonl``; ``external/<name>/<benchmark>.jsonl`` keeps one score per
sample, and ``verifiers.md`` the F1 of each verifier per benchmark at score > 0.5, over the same
populations as the report ("all": a sample without an answer is judged incorrect by every verifier;
"answered"). A process reward model that scores steps (Qwen2.5-Math-PRM-7B) needs its own step
format and head, and is refused with that message.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from recipe.laser.atomic import write_text_atomic
from recipe.laser.evaluation.metrics import verification_f1
from recipe.laser.evaluation.report import authors_scores, load_samples, pct, read_jsonl


class ExternalVerifierError(ValueError):
    pass


def problem_texts(data_paths: list[str]) -> dict[tuple[str, str], str]:
    """{(benchmark, problem_id): problem text} from the evaluation's data (its run_config's ``data``)."""
    from recipe.laser.evaluation.evaluate import load_benchmarks

    return {(p.benchmark, p.problem_id): p.problem for ps in load_benchmarks(data_paths).values() for p in ps}


class OutcomeRewardModel:
    """A sequence-classification reward model; ``score(problems, responses)`` -> probabilities of correct."""

    def __init__(self, path: str, device: str = "auto", batch_size: int = 8, max_length: int = 4096):
        import torch
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"

        config = AutoConfig.from_pretrained(path)
        if not any(a.endswith("ForSequenceClassification") for a in config.architectures or []):
            raise ExternalVerifierError(
                f"--model {path}: architectures {config.architectures}; expected a sequence-classification reward "
                "model (an outcome reward model). Process reward models that score each step (such as "
                "Qwen2.5-Math-PRM-7B) are not supported here"
            )
        if config.num_labels not in (1, 2):
            raise ExternalVerifierError(f"--model {path}: num_labels={config.num_labels}; expected 1 or 2")
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "right"
        if device.startswith("cuda"):  # bf16, spread over the node's GPUs (a 72B reward model needs several)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                path, dtype=torch.bfloat16, device_map="auto" if device == "cuda" else device
            )
        else:
            self.model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32).to(device)
        self.model.eval()
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        self.batch_size, self.max_length = batch_size, max_length

    def render(self, problem: str, response: str) -> str:
        if self.tokenizer.chat_template:
            messages = [{"role": "user", "content": problem}, {"role": "assistant", "content": response}]
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        return f"{problem}\n\n{response}"

    def score(self, problems: list[str], responses: list[str]) -> list[float]:
        import torch

        out: list[float] = []
        for start in range(0, len(problems), self.batch_size):
            end = start + self.batch_size
            texts = [self.render(p, r) for p, r in zip(problems[start:end], responses[start:end], strict=True)]
            batch = self.tokenizer(
                texts,
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_length,
                add_special_tokens=False,
            ).to(self.model.device)
            with torch.no_grad():
                logits = self.model(**batch).logits.float()
            probability = logits[:, 0].sigmoid() if logits.shape[-1] == 1 else logits.softmax(-1)[:, 1]
            out += probability.tolist()
        return out


def score_run(run_dir: Path, model: OutcomeRewardModel, name: str, data: list[str] | None = None) -> dict[str, Path]:
    """Writes external/<name>/<benchmark>.jsonl for every benchmark of the run; returns the files."""
    run_dir = Path(run_dir)
    if data is None:
        config_path = run_dir / "run_config.json"
        if not config_path.is_file():
            raise ExternalVerifierError(
                f"{run_dir}: no run_config.json; pass --data (the evaluation's benchmark files)"
            )
        data = json.loads(config_path.read_text())["data"]
    texts = problem_texts(data)
    written = {}
    for benchmark, rows in load_samples(run_dir).items():
        problems, responses = [], []
        for line, row in enumerate(rows, start=1):
            if not isinstance(row.get("response"), str):
                raise ExternalVerifierError(
                    f"{run_dir}/samples/{benchmark}.jsonl: line {line} has no text field 'response'"
                )
            key = (benchmark, row["problem_id"])
            if key not in texts:
                raise ExternalVerifierError(
                    f"{run_dir}/samples/{benchmark}.jsonl: line {line}: problem {row['problem_id']!r} is not in the "
                    f"data {data}"
                )
            problems.append(texts[key])
            responses.append(row["response"])
        scores = model.score(problems, responses)
        lines = [json.dumps({"problem_id": r["problem_id"], "sample": r["sample"], "score": s}) + "\n"
                 for r, s in zip(rows, scores, strict=True)]  # fmt: skip
        written[benchmark] = write_text_atomic(run_dir / "external" / name / f"{benchmark}.jsonl", "".join(lines))
    return written


def external_scores(run_dir: Path, name: str, benchmark: str, rows: list[dict]) -> np.ndarray:
    """One external verifier's scores in the order of ``rows``; a missing sample is an error."""
    path = Path(run_dir) / "external" / name / f"{benchmark}.jsonl"
    scored = {(r["problem_id"], r["sample"]): r["score"] for r in read_jsonl(path)}
    missing = [(r["problem_id"], r["sample"]) for r in rows if (r["problem_id"], r["sample"]) not in scored]
    if missing:
        raise ExternalVerifierError(
            f"{path}: {len(missing)} of {len(rows)} samples have no score (first: {missing[0]}); score the run again"
        )
    return np.array([scored[(r["problem_id"], r["sample"])] for r in rows], dtype=float)


def verifier_table(run_dir: Path) -> str:
    """F1 per benchmark and on average (the unweighted mean over benchmarks) of the self-reward and of
    every external verifier in external/, over both populations; markdown."""
    run_dir = Path(run_dir)
    names = (
        sorted(p.name for p in (run_dir / "external").iterdir() if p.is_dir())
        if (run_dir / "external").is_dir()
        else []
    )
    samples = load_samples(run_dir)
    labels = ["self-reward (r_s)", *names]
    f1 = {(population, label): [] for population in ("all", "answered") for label in labels}
    for benchmark, rows in samples.items():  # each file read once, both populations from it
        correct = np.array([r["correct"] for r in rows], dtype=bool)
        answered = np.array([r["extracted_answer"] is not None for r in rows], dtype=bool)
        for label in labels:
            if label == labels[0]:
                score = authors_scores(rows)
            else:  # the same rule as r_s's "all": a sample without an answer is judged incorrect
                score = np.where(answered, external_scores(run_dir, label, benchmark, rows), np.nan)
            f1["all", label].append(verification_f1(correct, score, np.ones_like(correct))["f1"])
            f1["answered", label].append(verification_f1(correct, score, answered)["f1"])
    lines = []
    for population in ("all", "answered"):
        header = "| verifier | " + " | ".join(samples) + " | average |"
        lines += [f"F1 at score > 0.5, {population} samples:", "", header, "|---" * (len(samples) + 2) + "|"]
        for label in labels:
            values = f1[population, label]
            lines.append(f"| {label} | " + " | ".join(pct(v) for v in values) + f" | {pct(float(np.mean(values)))} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="an evaluation folder (recipe.laser.evaluation.evaluate --out-dir)")
    parser.add_argument("--model", help="a sequence-classification reward model (folder or hub id)")
    parser.add_argument("--name", help="its label in external/ and the table (default: the model folder's name)")
    parser.add_argument("--data", nargs="+", help="the evaluation's benchmark files (default: its run_config.json)")
    parser.add_argument("--device", default="auto", help="auto: cuda when there is one, else cpu")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=4096, help="tokens of problem + response, truncated")
    parser.add_argument("--table", action="store_true", help="only (re)write verifiers.md from what is scored")
    args = parser.parse_args(argv)
    try:
        if not args.table:
            if not args.model:
                parser.error("--model is required (or --table)")
            name = args.name or Path(args.model.rstrip("/")).name
            model = OutcomeRewardModel(args.model, args.device, args.batch_size, args.max_length)
            for benchmark, path in score_run(args.run_dir, model, name, args.data).items():
                print(f"external_verifier: {benchmark}: {path}")
        table = verifier_table(args.run_dir)
    except (ExternalVerifierError, FileNotFoundError) as error:
        print(f"external_verifier: error: {error}", file=sys.stderr)
        return 2
    write_text_atomic(args.run_dir / "verifiers.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
