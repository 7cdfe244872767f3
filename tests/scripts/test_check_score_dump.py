# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""scripts/check_score_dump.py on a hand-made dump: the placement errors it must name (a scored
response without end token + z_c, an unscored one that ended, z_c on a truncated response) and the
z_c log-prob comparison."""

import json
import subprocess
import sys

import torch

from tests.conftest import REPO_DIR

ZC, END = 151652, 151645


def test_check_score_dump_names_each_placement_error(tmp_path, tiny_models):
    from transformers import AutoModelForCausalLM

    model_dir = tiny_models["chat"]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    prompt = [151644, 872, 198, 17, 151645, 198, 151644, 77091, 198]
    good = [*prompt, 19, 20, END, ZC]
    with torch.inference_mode():
        zc_log_prob = torch.log_softmax(model(torch.tensor([good[:-1]])).logits[0, -1], -1)[ZC].item()
    records = [
        {"input_ids": good, "response_length": 3, "valid": True, "zc_log_prob": zc_log_prob},
        {"input_ids": [*prompt, 19, 20, 21], "response_length": 3, "valid": False},  # truncated, fine
        {"input_ids": [*prompt, 19, 20, END], "response_length": 3, "valid": False},  # ended, not scored
        {"input_ids": [*prompt, 19, 20, ZC], "response_length": 3, "valid": False},  # truncated, z_c appended
        {"input_ids": [*prompt, 19, 20, ZC], "response_length": 3, "valid": True, "zc_log_prob": 0.0},  # no end
    ]
    dump = tmp_path / "scores.jsonl"
    dump.write_text("".join(json.dumps({"step": 1, **r}) + "\n" for r in records))
    proc = subprocess.run(
        [sys.executable, str(REPO_DIR / "scripts/check_score_dump.py"), "--dump", str(dump), "--model", str(model_dir),
         "--zc-token-id", str(ZC), "--atol", "1e-5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    result = json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("SCORE_DUMP_CHECK ")).split(" ", 1)[1])
    assert proc.returncode == 1 and not result["ok"]
    errors = result["placement_errors"]
    assert [e.split(":")[0] for e in errors] == ["record 2", "record 3", "record 4"], errors
    assert "not scored" in errors[0] and "z_c was appended" in errors[1] and "scored but" in errors[2]
    assert (result["scored"], result["truncated"]) == (2, 3)
    # record 0 matches the forward exactly; record 4's 0.0 does not
    assert result["max_abs_diff"] > 1.0
