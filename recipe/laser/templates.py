"""Prompt templates: one place, shared by data preparation, training, validation and evaluation.

A run must use the same template everywhere; the template name is stored in every parquet row
(``extra_info.template``) so that the verifier applies the matching format gate.
"""

from __future__ import annotations

from dataclasses import dataclass

BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    format_gate: str  # "boxed": exactly one \boxed{...}; "r1": <think>/<answer> tags with a box inside
    user_format: str  # "{problem}" is replaced by the problem text (no str.format: prompts hold braces)
    system: str | None = None

    def messages(self, problem: str) -> list[dict[str, str]]:
        """The chat-list prompt verl's RL dataset expects."""
        turns = [{"role": "system", "content": self.system}] if self.system else []
        turns.append({"role": "user", "content": self.user_format.replace("{problem}", problem)})
        return turns


ORZ_SYSTEM = (
    "A conversation between User and Assistant. The User asks a question, and the Assistant solves it. "
    "The Assistant first thinks about the reasoning process in the mind and then provides the User with "
    "the answer. The reasoning process is enclosed within <think> </think> and answer is enclosed within "
    "<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> "
    "<answer> answer here </answer>."
)

TEMPLATES: dict[str, PromptTemplate] = {
    t.name: t
    for t in (
        # The authors' training prompt for Qwen2.5-7B-Base and OctoThinker (process_math_dataset.py):
        # the problem, one space, the boxed instruction, as a chat user turn.
        PromptTemplate("qwen_boxed", "boxed", "{problem} " + BOXED_INSTRUCTION),
        # OctoThinker's base models share the same instruction; kept as its own name so that a run
        # records which family it was prepared for.
        PromptTemplate("octothinker_boxed", "boxed", "{problem} " + BOXED_INSTRUCTION),
        # Open-Reasoner-Zero: R1-style tags, final answer boxed inside <answer>.
        PromptTemplate(
            "orz_r1",
            "r1",
            "{problem}\nPut your final answer within \\boxed{} inside the <answer> </answer> tags.",
            system=ORZ_SYSTEM,
        ),
    )
}


def get_template(name: str) -> PromptTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown prompt template {name!r}; expected one of {sorted(TEMPLATES)}") from None
