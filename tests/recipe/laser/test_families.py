# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/families.py: the per-backbone table and the inference of a model's family."""

import pytest
from transformers import AutoTokenizer

from recipe.laser.families import FAMILIES, FamilyError, get_family, infer_family
from tests.conftest import FIXTURES


def test_table_holds_the_papers_values():
    assert {n: (f.c_ref, f.zc_token, f.training_gate) for n, f in FAMILIES.items()} == {
        "qwen2.5": (-23.0, "<|vision_start|>", "boxed"),
        "orz": (-23.0, "<|vision_start|>", "r1"),
        "octothinker": (-25.0, "<|reserved_special_token_0|>", "boxed"),
        "qwen3": ("auto", "<|vision_start|>", "boxed"),  # no c_ref reported for Qwen3-4B-Base: measured
    }
    with pytest.raises(FamilyError, match="expected one of"):
        get_family("llama")


def test_family_of_a_paper_checkpoint_by_its_hub_id():
    family, why = infer_family("Keven16/ORZ-7B-LaSeR", tokenizer=object())
    assert family.name == "orz" and "checkpoint of the paper" in why


def test_family_from_the_tokenizer(tiny_models, llama3_tokenizer_dir):
    qwen = AutoTokenizer.from_pretrained(tiny_models["base"])
    assert infer_family("a/local/export", qwen)[0].name == "qwen2.5"
    qwen.chat_template = (FIXTURES / "r1_chat_template.jinja").read_text()
    family, why = infer_family("a/local/export", qwen)
    assert family.name == "orz" and "<answer>" in why
    llama = AutoTokenizer.from_pretrained(llama3_tokenizer_dir)
    assert infer_family("a/local/export", llama)[0].name == "octothinker"


def test_unknown_vocabulary_is_refused():
    class Tokenizer:
        chat_template = ""

        def get_vocab(self):
            return {"a": 0}

    with pytest.raises(FamilyError, match="pass the family explicitly"):
        infer_family("somewhere/model", Tokenizer())


def test_a_qwen3_folder_is_told_from_qwen2_by_its_config_not_its_vocabulary(tiny_models, tmp_path):
    """The tiny models' tokenizer is Qwen3's vocabulary and template; their config says qwen2."""
    qwen = AutoTokenizer.from_pretrained(tiny_models["base"])
    assert "<think>" in qwen.get_vocab()
    assert infer_family(tiny_models["base"], qwen)[0].name == "qwen2.5"
    (tmp_path / "config.json").write_text('{"model_type": "qwen3"}')
    family, why = infer_family(tmp_path, qwen)
    assert family.name == "qwen3" and "model_type qwen3" in why
    assert infer_family("Qwen/Qwen3-4B-Base", tokenizer=object())[0].name == "qwen3"
    # a Qwen vocabulary under another architecture is not guessed
    (tmp_path / "config.json").write_text('{"model_type": "qwen2_moe"}')
    with pytest.raises(FamilyError, match=r"model_type 'qwen2_moe' \(expected qwen2 for qwen2.5/orz"):
        infer_family(tmp_path, qwen)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(FamilyError, match="config.json: not a JSON object with a model_type"):
        infer_family(tmp_path, qwen)


def test_qwen3_takes_c_ref_auto_in_training_and_asks_for_it_in_evaluation():
    from recipe.laser.config import LaSeRConfig
    from recipe.laser.evaluation.evaluate import EvalInputError, resolve_c_ref

    qwen3 = get_family("qwen3")
    assert LaSeRConfig().with_family(qwen3).c_ref_mode == "auto"
    assert LaSeRConfig(c_ref=-21.5).with_family(qwen3).c_ref == -21.5  # a given c_ref wins
    with pytest.raises(EvalInputError, match="family qwen3 has no reported constant"):
        resolve_c_ref(None, qwen3)
    assert resolve_c_ref("-21.5", qwen3) == ("constant", -21.5)
