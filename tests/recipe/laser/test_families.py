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
