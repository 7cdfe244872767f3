# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Prompts as the authors built them.

- Training and validation (every backbone): one user turn, the problem, one space, then the boxed
  instruction, rendered by the model's own chat template (verl applies it to the chat list stored in
  each row).
- Evaluation (the authors' evaluation script): the problem followed by the family's suffix (Qwen2.5:
  a newline and the boxed instruction; the others: nothing), through the same chat template.
- The format gate of a row follows the rendered prompt: the R1 gate when it contains ``<answer>`` and
  ``</answer>`` (Open-Reasoner-Zero's chat template), otherwise the boxed gate.
"""

from __future__ import annotations

from recipe.laser.families import BOXED_INSTRUCTION, ModelFamily


class ChatTemplateError(ValueError):
    pass


def training_messages(problem: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{problem} {BOXED_INSTRUCTION}"}]


def evaluation_messages(problem: str, family: ModelFamily) -> list[dict[str, str]]:
    return [{"role": "user", "content": problem + family.eval_suffix}]


def render(tokenizer, messages: list[dict[str, str]], chat_template: str | None = None) -> str:
    """The prompt text the model sees, with the generation prompt; ``chat_template`` replaces the
    tokenizer's own (``--chat-template`` / ``laser.chat_template_file``)."""
    template = chat_template or tokenizer.chat_template
    if not template:
        raise ChatTemplateError(
            f"tokenizer {getattr(tokenizer, 'name_or_path', '?')!r} has no chat template: the authors render every "
            "prompt with the model's chat template. Supply one explicitly (prepare_math --chat-template FILE, and "
            "laser.chat_template_file=FILE for training)"
        )
    return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False, add_generation_prompt=True)


def format_gate_for(rendered_prompt: str) -> str:
    """The authors' rule: the R1 gate when the rendered prompt asks for <answer> tags, else boxed."""
    return "r1" if "<answer>" in rendered_prompt and "</answer>" in rendered_prompt else "boxed"


ANSWER_CLOSE = "</answer>"


def cut_after_answer(text: str) -> str:
    """The authors' evaluation keeps a response up to its first ``</answer>`` (inclusive)."""
    end = text.find(ANSWER_CLOSE)
    return text if end < 0 else text[: end + len(ANSWER_CLOSE)]
