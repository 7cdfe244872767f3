# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-backbone defaults in one place: the paper's four backbones (and the tiny test models, which
share Qwen2.5's vocabulary) mapped to what differs between them.

| family      | z_c                             | c_ref | evaluation prompt                 | training gate |
|-------------|---------------------------------|-------|-----------------------------------|---------------|
| qwen2.5     | ``<|vision_start|>`` (151652)   | -23   | problem + "\\n" + boxed instruction | boxed         |
| orz         | ``<|vision_start|>`` (151652)   | -23   | the plain problem                 | r1            |
| octothinker | ``<|reserved_special_token_0|>`` | -25   | the plain problem                 | boxed         |
| qwen3       | ``<|vision_start|>`` (151652)   | auto  | problem + "\\n" + boxed instruction | boxed         |

qwen3 is the backbone of the paper's general-reasoning run (Qwen3-4B-Base). The paper reports no c_ref
for it, so its c_ref is ``auto``: the mean log-prob of z_c under the starting model on the first
step's finished responses, measured once and kept with the checkpoints (what the constants of the
other families approximate). A Qwen3 checkpoint shares Qwen2.5's vocabulary, so a local folder is told
apart by its ``config.json`` (``model_type: qwen3``), not by its tokenizer.

Training and validation prompts are the same for every family (``recipe.laser.prompts``); the format
gate of a row is decided from the rendered prompt at data preparation, and the table's gate is what
that rule gives with the family's own chat template (``prepare_math`` warns when they disagree).
The presets, ``data_prep/prepare_math.py``, ``run_eval.sh`` and the trainer read this table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelFamily:
    name: str
    zc_token: str  # a special token the model never emits, scored after the end token
    # the constant reference log-prob of z_c (the authors' scripts), or "auto" where none is reported
    c_ref: float | str
    eval_suffix: str  # appended to the problem in the authors' evaluation prompt ("" = the plain problem)
    training_gate: str  # the gate the rendered training prompt gives with this family's chat template
    models: tuple[str, ...]  # hub ids of the paper's checkpoints of this family


BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

FAMILIES: dict[str, ModelFamily] = {
    f.name: f
    for f in (
        ModelFamily(
            "qwen2.5",
            "<|vision_start|>",
            -23.0,
            "\n" + BOXED_INSTRUCTION,
            "boxed",
            ("Qwen/Qwen2.5-7B", "Keven16/Qwen2.5-7B-LaSeR"),
        ),
        ModelFamily(
            "orz",
            "<|vision_start|>",
            -23.0,
            "",
            "r1",
            ("Open-Reasoner-Zero/Open-Reasoner-Zero-7B", "Keven16/ORZ-7B-LaSeR"),
        ),
        ModelFamily(
            "octothinker",
            "<|reserved_special_token_0|>",
            -25.0,
            "",
            "boxed",
            ("OctoThinker/OctoThinker-3B-Short-Base", "Keven16/OctoThinker-3B-Short-LaSeR"),
        ),
        ModelFamily(
            "qwen3",
            "<|vision_start|>",
            "auto",
            "\n" + BOXED_INSTRUCTION,
            "boxed",
            ("Qwen/Qwen3-4B-Base",),
        ),
    )
}


class FamilyError(ValueError):
    pass


def get_family(name: str) -> ModelFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise FamilyError(f"family {name!r}: unknown; expected one of {sorted(FAMILIES)}") from None


def family_of(name: str | None, model_path: str | Path, tokenizer=None) -> tuple[ModelFamily, str]:
    """The family named (``laser.family``, ``--family``) or, for None or "auto", the one the model
    folder or hub id implies; and why."""
    if name is not None and name != "auto":
        return get_family(name), f"given: {name}"
    return infer_family(model_path, tokenizer)


def folder_model_type(folder: Path) -> str | None:
    """``model_type`` of a local model folder's config.json; None for a hub id or a folder without one."""
    config = folder / "config.json"
    if not config.is_file():
        return None
    try:
        return json.loads(config.read_text()).get("model_type")
    except (json.JSONDecodeError, AttributeError) as error:
        raise FamilyError(f"{config}: not a JSON object with a model_type ({error})") from None


def infer_family(model_path: str | Path, tokenizer=None) -> tuple[ModelFamily, str]:
    """The family of a model folder or hub id, and why: a known hub id, else a folder's
    ``config.json`` model_type ``qwen3`` (qwen3), else its tokenizer's vocabulary (Llama-3 reserved
    tokens: octothinker; Qwen2 vision tokens: qwen2.5) and chat template (one that contains
    ``<answer>`` is Open-Reasoner-Zero's R1 template: orz)."""
    path = str(model_path).rstrip("/")
    for family in FAMILIES.values():
        if any(path == m or path.endswith("/" + m) for m in family.models):
            return family, f"{path} is a {family.name} checkpoint of the paper"
    model_type = folder_model_type(Path(path))
    if model_type == "qwen3":
        return FAMILIES["qwen3"], f"{path}/config.json: model_type qwen3"
    if tokenizer is None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
    vocab = tokenizer.get_vocab()
    template = tokenizer.chat_template or ""
    if FAMILIES["octothinker"].zc_token in vocab:
        return FAMILIES["octothinker"], "Llama-3 vocabulary (<|reserved_special_token_0|>)"
    if FAMILIES["qwen2.5"].zc_token in vocab:
        if model_type is not None and model_type != "qwen2":
            raise FamilyError(
                f"{path}: a Qwen vocabulary with config.json model_type {model_type!r} (expected qwen2 for "
                f"qwen2.5/orz, qwen3 for qwen3); pass the family explicitly (one of {sorted(FAMILIES)})"
            )
        if "<answer>" in template and "</answer>" in template:
            return FAMILIES["orz"], "Qwen2 vocabulary and an R1 chat template (<answer> tags)"
        return FAMILIES["qwen2.5"], "Qwen2 vocabulary and a chat template without <answer> tags"
    raise FamilyError(
        f"{path}: cannot tell its model family (no {FAMILIES['qwen2.5'].zc_token} or "
        f"{FAMILIES['octothinker'].zc_token} in the vocabulary); pass the family explicitly "
        f"(one of {sorted(FAMILIES)}) and set z_c and c_ref for this model"
    )


def stop_token_ids(model_path: str, tokenizer) -> list[int]:
    """The ids that end a response: the generation config's EOS ids (what verl's rollout and vLLM stop
    at) plus the tokenizer's EOS. The trainer's "finished" and the evaluation's both come from here."""
    from transformers import GenerationConfig

    ids: set[int] = set()
    try:
        eos = GenerationConfig.from_pretrained(model_path).eos_token_id
        ids.update([eos] if isinstance(eos, int) else list(eos or []))
    except OSError:  # no generation_config.json: the tokenizer's EOS alone
        pass
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    if not ids:
        raise ValueError(f"{model_path}: neither generation_config.json nor the tokenizer names an EOS token")
    return sorted(ids)
