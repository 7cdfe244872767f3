# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/evaluation/external_verifier.py with a tiny randomly initialised reward model: its
scores against a plain forward of each sample alone, the side-by-side F1 table by hand, and the
errors for a step-scoring model, a sample without text and a verifier file with a sample missing."""

import json

import pandas as pd
import pytest
import torch

from recipe.laser.evaluation.external_verifier import (
    ExternalVerifierError,
    OutcomeRewardModel,
    main,
    score_run,
    verifier_table,
)


def reward_model(tiny_model, out, architecture="Qwen2ForSequenceClassification"):
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(tiny_model)
    config.num_labels, config.architectures = 1, [architecture]
    torch.manual_seed(0)
    getattr(transformers, architecture)(config).save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(out)
    return out


def evaluation_folder(root):
    """Two problems x 2 samples of one benchmark, as evaluate writes them, and its data file."""
    data = root / "data"
    data.mkdir(parents=True)
    pd.DataFrame([
        {"prompt": [{"role": "user", "content": f"Q{i}"}], "reward_model": {"ground_truth": t},
         "data_source": "toy", "extra_info": {"problem": f"What is {t} + 0?", "index": i}}
        for i, t in enumerate(["7", "5"])
    ]).to_parquet(data / "toy.parquet")  # fmt: skip
    run = root / "run"
    (run / "samples").mkdir(parents=True)
    rows = [  # (problem, sample, correct, answer, r_s)
        ("0", 0, True, "7", 0.9), ("0", 1, False, "8", 0.7), ("1", 0, False, "4", 0.2), ("1", 1, False, None, None),
    ]  # fmt: skip
    lines = [json.dumps({"benchmark": "toy", "problem_id": p, "sample": s, "correct": c, "extracted_answer": a,
                         "score": r, "vote_key": a, "finished": True, "response_tokens": 5,
                         "response": "no answer" if a is None else f"So it is \\boxed{{{a}}}."}) + "\n"
             for p, s, c, a, r in rows]  # fmt: skip
    (run / "samples" / "toy.jsonl").write_text("".join(lines))
    (run / "run_config.json").write_text(json.dumps({"data": [str(data)]}))
    return run


def test_scores_are_the_models_own_on_each_rendered_sample(tmp_path, tiny_models):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = reward_model(tiny_models["base"], tmp_path / "rm")
    run = evaluation_folder(tmp_path)
    score_run(run, OutcomeRewardModel(str(path), batch_size=3), "tiny-rm")  # a batch of 3 and one of 1: padding
    scored = [json.loads(x) for x in (run / "external" / "tiny-rm" / "toy.jsonl").read_text().splitlines()]
    assert [(r["problem_id"], r["sample"]) for r in scored] == [("0", 0), ("0", 1), ("1", 0), ("1", 1)]
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    samples = [json.loads(x) for x in (run / "samples" / "toy.jsonl").read_text().splitlines()]
    for row, sample in zip(scored, samples, strict=True):
        problem = {"0": "What is 7 + 0?", "1": "What is 5 + 0?"}[sample["problem_id"]]
        messages = [{"role": "user", "content": problem}, {"role": "assistant", "content": sample["response"]}]
        ids = tok(tok.apply_chat_template(messages, tokenize=False), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            expected = float(model(**ids).logits[0, 0].sigmoid())
        assert row["score"] == pytest.approx(expected, abs=1e-5)


def test_the_verifier_table_by_hand(tmp_path):
    run = evaluation_folder(tmp_path)
    # an external verifier that accepts exactly the right sample, and one that accepts every sample
    for name, scores in (("perfect", [0.9, 0.1, 0.2, 0.0]), ("yes-man", [0.8, 0.8, 0.8, 0.8])):
        folder = run / "external" / name
        folder.mkdir(parents=True)
        keys = [("0", 0), ("0", 1), ("1", 0), ("1", 1)]
        folder.joinpath("toy.jsonl").write_text(
            "".join(
                json.dumps({"problem_id": p, "sample": s, "score": v}) + "\n"
                for (p, s), v in zip(keys, scores, strict=True)
            )
        )
    lines = verifier_table(run).splitlines()
    # all samples: r_s accepts the right one (TPR 1) and one of three wrong (TNR 2/3): F1 = 2 * 2/3 / (5/3) = 80;
    # perfect: 100; yes-man accepts every answered sample, the unanswered one is judged incorrect: TNR 1/3, F1 50
    assert lines[:2] == ["F1 at score > 0.5, all samples:", ""]
    assert "| self-reward (r_s) | 80.0 | 80.0 |" in lines[:8]
    assert "| perfect | 100.0 | 100.0 |" in lines[:8] and "| yes-man | 50.0 | 50.0 |" in lines[:8]
    # answered samples: the unanswered one leaves; yes-man TNR 0 -> F1 0; r_s TNR 1/2 -> F1 2/3
    answered = lines[lines.index("F1 at score > 0.5, answered samples:") :]
    assert "| self-reward (r_s) | 66.7 | 66.7 |" in answered and "| yes-man | 0.0 | 0.0 |" in answered


def test_bad_inputs_are_errors_that_name_them(tmp_path, tiny_models, capsys):
    run = evaluation_folder(tmp_path)
    prm = reward_model(tiny_models["base"], tmp_path / "prm", architecture="Qwen2ForTokenClassification")
    assert main([str(run), "--model", str(prm)]) == 2
    assert "expected a sequence-classification reward model" in capsys.readouterr().err
    folder = run / "external" / "partial"
    folder.mkdir(parents=True)
    folder.joinpath("toy.jsonl").write_text(json.dumps({"problem_id": "0", "sample": 0, "score": 0.5}) + "\n")
    with pytest.raises(ExternalVerifierError, match=r"partial/toy.jsonl: 3 of 4 samples have no score"):
        verifier_table(run)
    samples = run / "samples" / "toy.jsonl"
    rows = [json.loads(x) for x in samples.read_text().splitlines()]
    del rows[2]["response"]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rm = reward_model(tiny_models["base"], tmp_path / "rm")
    with pytest.raises(ExternalVerifierError, match=r"toy.jsonl: line 3 has no text field 'response'"):
        score_run(run, OutcomeRewardModel(str(rm)), "tiny-rm")
