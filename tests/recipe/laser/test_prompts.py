# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/prompts.py with two real tokenizer families (Qwen2.5's, Meta's Llama-3) and an R1
test template: the authors' prompts, rendered by each model's own chat template, and the gate rule."""

import pytest
from transformers import AutoTokenizer

from recipe.laser.families import FAMILIES
from recipe.laser.prompts import (
    ChatTemplateError,
    cut_after_answer,
    evaluation_messages,
    format_gate_for,
    render,
    training_messages,
)
from tests.conftest import FIXTURES

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def test_training_prompt_is_the_authors_for_every_family():
    assert training_messages("What is 2+3?") == [{"role": "user", "content": f"What is 2+3? {INSTRUCTION}"}]


def test_evaluation_prompt_per_family():
    assert evaluation_messages("P", FAMILIES["qwen2.5"]) == [{"role": "user", "content": f"P\n{INSTRUCTION}"}]
    for name in ("orz", "octothinker"):
        assert evaluation_messages("P", FAMILIES[name]) == [{"role": "user", "content": "P"}]


def test_qwen_chat_template_renders_the_boxed_gate(tiny_models):
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    text = render(tokenizer, training_messages("What is 2+3?"))
    assert text == f"<|im_start|>user\nWhat is 2+3? {INSTRUCTION}<|im_end|>\n<|im_start|>assistant\n"
    assert format_gate_for(text) == "boxed"


def test_llama3_chat_template_renders_the_boxed_gate(llama3_tokenizer_dir):
    tokenizer = AutoTokenizer.from_pretrained(llama3_tokenizer_dir)
    assert tokenizer.convert_tokens_to_ids("<|end_of_text|>") == 128001
    assert tokenizer.convert_tokens_to_ids("<|reserved_special_token_0|>") == 128002
    text = render(tokenizer, training_messages("What is 2+3?"))
    assert text == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
        f"What is 2+3? {INSTRUCTION}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert format_gate_for(text) == "boxed"


def test_r1_chat_template_gives_the_r1_gate(tiny_models):
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    text = render(tokenizer, training_messages("What is 2+3?"), (FIXTURES / "r1_chat_template.jinja").read_text())
    assert "<answer>" in text and "</answer>" in text and text.endswith("Assistant: <think>")
    assert format_gate_for(text) == "r1"


def test_a_tokenizer_without_chat_template_is_refused_with_the_way_out(tiny_models):
    tokenizer = AutoTokenizer.from_pretrained(tiny_models["base"])
    tokenizer.chat_template = None
    with pytest.raises(ChatTemplateError, match="no chat template.*--chat-template FILE"):
        render(tokenizer, training_messages("x"))


def test_cut_after_the_first_answer_tag():
    assert cut_after_answer("<think>t</think> <answer>\\boxed{3}</answer> more </answer>") == (
        "<think>t</think> <answer>\\boxed{3}</answer>"
    )
    assert cut_after_answer("no tags \\boxed{1}") == "no tags \\boxed{1}"
