# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/config.py: the laser block's validation, the warm-up schedule and the z_c choice."""

import pytest

from recipe.laser.config import LaSeRConfig, LaSeRConfigError, resolve_zc_token
from recipe.laser.families import FAMILIES


def test_config_validation_messages():
    assert LaSeRConfig.from_config({"enable": True, "c_ref": -20.0}).c_ref_mode == "constant"
    assert LaSeRConfig.from_config({"c_ref": "auto"}).c_ref_mode == "auto"
    for bad, match in [
        ({"c_ref": 0.0}, "c_ref=0.0"),
        ({"c_ref": "ref"}, "c_ref='ref'"),
        ({"alpha": -0.1}, "alpha"),
        ({"beta_v": 0}, "beta_v"),
        ({"tau": 1.5}, "tau"),
        ({"reasoning_warmup_steps": -1}, "reasoning_warmup_steps"),
        ({"family": "llama"}, "laser.family='llama'"),
        ({"alhpa": 0.1}, "unknown keys"),
    ]:
        with pytest.raises(LaSeRConfigError, match=match):
            LaSeRConfig.from_config(bad)


def test_family_supplies_c_ref_only_when_unset():
    assert LaSeRConfig().with_family(FAMILIES["octothinker"]).c_ref == -25.0
    assert LaSeRConfig(c_ref=-20.0).with_family(FAMILIES["octothinker"]).c_ref == -20.0
    assert LaSeRConfig(c_ref="auto").with_family(FAMILIES["orz"]).c_ref == "auto"


def test_warmup_schedule_matches_the_authors_scripts():
    c = LaSeRConfig(enable=True, reasoning_warmup_steps=200, self_reward_warmup_steps=200)
    assert not c.mse_active(200) and c.mse_active(201)
    assert not c.blend_active(400) and c.blend_active(401)
    orz = LaSeRConfig(enable=True, reasoning_warmup_steps=0, self_reward_warmup_steps=200)
    assert orz.mse_active(1) and not orz.blend_active(200) and orz.blend_active(201)
    assert not LaSeRConfig(enable=True, tau=0.0).blend_active(10**6)


def test_zc_token_resolution(tiny_models, llama3_tokenizer_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_models["chat"])
    assert resolve_zc_token(LaSeRConfig(), tok, {151645, 151643}) == 151652
    with pytest.raises(LaSeRConfigError, match="end, stop or pad"):
        resolve_zc_token(LaSeRConfig(zc_token_id=151645), tok, {151645})
    with pytest.raises(LaSeRConfigError, match="end, stop or pad"):
        resolve_zc_token(LaSeRConfig(zc_token_id=151643), tok, {151645})  # pad
    with pytest.raises(LaSeRConfigError, match="outside the tokenizer"):
        resolve_zc_token(LaSeRConfig(zc_token_id=10**7), tok, set())
    llama = AutoTokenizer.from_pretrained(llama3_tokenizer_dir)
    assert resolve_zc_token(LaSeRConfig(family="octothinker"), llama, {128001, 128009}) == 128002


def test_the_self_reward_loss_is_mse_or_bce_and_bce_takes_no_exact_c_ref():
    assert LaSeRConfig(enable=True, self_reward_loss="bce").self_reward_loss == "bce"
    with pytest.raises(LaSeRConfigError, match=r"laser.self_reward_loss='sft': expected one of \['mse', 'bce'\]"):
        LaSeRConfig.from_config({"self_reward_loss": "sft"})
    with pytest.raises(LaSeRConfigError, match="reads no c_ref"):
        LaSeRConfig.from_config({"self_reward_loss": "bce", "c_ref": "exact"})
