import os
import sys
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_DIR.parent / "shared"
sys.path.insert(0, str(REPO_DIR))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Both tokenizer conventions, built once per session: {"base": path, "chat": path}."""
    from data_prep.tiny_model import build_tiny_model

    root = Path(os.environ.get("LASER_TEST_MODELS", tmp_path_factory.mktemp("models")))
    return {c: build_tiny_model(root / f"tiny-qwen2-{c}", convention=c) for c in ("base", "chat")}
