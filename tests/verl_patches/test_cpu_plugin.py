# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""verl_patches.cpu: each patch applied, opt-in, and pinned to the verl internals it relies on.

The "seam" tests fail loudly when a verl upgrade moves or changes what a patch touches; the
subprocess tests check what the plugin does in a fresh process, as each Ray worker loads it.
"""

import asyncio
import inspect
import os
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
import torch

from tests.conftest import REPO_DIR

CPU_ENV = {"VERL_USE_EXTERNAL_MODULES": "verl_patches.cpu.plugin", "VERL_PLATFORM": "cpu"}


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("VERL_USE_EXTERNAL_MODULES", "VERL_PLATFORM")}
    full_env.update(env, PYTHONPATH=str(REPO_DIR))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=full_env, capture_output=True, text=True, timeout=300
    )


# -- version pin -----------------------------------------------------------------------------------
def test_one_pin_and_a_range_per_patch(monkeypatch):
    import verl_patches
    from verl_patches import file_logger

    pinned = verl_patches.required_verl_version()  # recipe/laser/REQUIRED_VERL.txt
    assert pinned == verl_patches.installed_verl_version()
    for requirements in ("requirements.txt", "requirements-cpu.txt", "requirements-vllm-cpu.txt"):
        lines = (REPO_DIR / requirements).read_text().splitlines()
        assert "-c recipe/laser/REQUIRED_VERL.txt" in lines, requirements  # the pin is read, not copied
        assert not [x for x in lines if x.startswith("verl") and "=" in x.split("#")[0]], requirements
    # the CPU plugin checks its range when it loads (in its own process: it patches verl)
    code = "from verl_patches.cpu import plugin; print('RANGE', plugin.SUPPORTED_VERL)"
    loaded = run_python(code, VERL_PLATFORM="cpu")
    plugin_range = next(x for x in loaded.stdout.splitlines() if x.startswith("RANGE ")).split(" ", 1)[1]
    for supported in (file_logger.SUPPORTED_VERL, plugin_range):
        assert verl_patches.check_verl_version("test", supported, "f") == pinned
    monkeypatch.setattr(verl_patches, "installed_verl_version", lambda: "0.10.0")
    with pytest.raises(verl_patches.VerlVersionError, match=r"test patches verl\.f, checked against verl >=0\.9\.1"):
        verl_patches.check_verl_version("test", plugin_range, "verl.f")


def test_file_logger_patch_steps_aside_on_an_unchecked_verl():
    """Outside its range the optional file-logger patch says it is not applied, and a plain run goes on."""
    code = """
        import importlib.metadata as md
        real = md.version
        md.version = lambda name: "0.10.0" if name == "verl" else real(name)
        from verl_patches import file_logger
        assert file_logger.VERL_VERSION is None
        import verl.utils.tracking as tracking
        assert not getattr(tracking.FileLogger.__init__, "_laser_patch", False)
        print("GRPO_GOES_ON")
    """
    proc = run_python(code)
    assert proc.returncode == 0 and "GRPO_GOES_ON" in proc.stdout, proc.stderr[-2000:]
    said = "[laser] not applied: verl_patches.file_logger patches verl.utils.tracking.FileLogger.__init__"
    assert said in proc.stdout, proc.stdout[-2000:]


# -- the verl internals each patch relies on -----------------------------------------------------------
def test_seam_platform_registry():
    from verl.plugin.platform import PlatformBase, PlatformRegistry, platform_manager

    assert callable(PlatformRegistry.register) and callable(PlatformRegistry.get)
    # the selection variable the CPU preset uses
    assert "VERL_PLATFORM" in inspect.getsource(platform_manager._detect_platform_name)
    from verl_patches.cpu.platform import PlatformCPU

    missing = [m for m in PlatformBase.__abstractmethods__ if m not in PlatformCPU.__dict__]
    assert not missing, f"verl added abstract platform methods: {missing}"


def test_seam_distributed_backend_string():
    from verl.utils import distributed

    sig = inspect.signature(distributed.initialize_global_process_group_ray)
    assert list(sig.parameters) == ["timeout_second", "backend"]
    # the reason for the patch: the default backend string names the CPU device twice on CPU
    assert 'f"cpu:gloo,{get_device_name()}:{get_nccl_backend()}"' in inspect.getsource(
        distributed.initialize_global_process_group_ray
    )
    from verl.workers import engine_workers

    assert "initialize_global_process_group_ray(timeout_second=None)" in inspect.getsource(engine_workers)


def test_seam_fsdp_engine_module():
    from verl.workers.engine.base import EngineRegistry
    from verl.workers.engine.fsdp import transformer_impl

    for name in ("FSDPEngineWithLMHead", "FSDPEngineWithValueHead", "CPUOffloadPolicy"):
        assert hasattr(transformer_impl, name), name
    assert "CPUOffloadPolicy(pin_memory=True)" in inspect.getsource(transformer_impl)
    assert list(inspect.signature(EngineRegistry.register).parameters) == ["model_type", "backend", "device", "vendor"]
    assert "VERL_ENGINE_DEVICE" in inspect.getsource(EngineRegistry.get_engine_cls)


def test_seam_rollout_registries_and_server_interface():
    from verl.workers.rollout import base, llm_server, replica

    assert ("vllm", "async") in base._ROLLOUT_REGISTRY
    assert callable(replica.RolloutReplicaRegistry.register)
    assert {"token_ids", "log_probs", "stop_reason", "extra_fields"} <= set(replica.TokenOutput.model_fields)
    from verl_patches.cpu.hf_rollout import HFReplica, HFRolloutServer, HFServerAdapter

    assert not inspect.isabstract(HFReplica) and not inspect.isabstract(HFServerAdapter)
    # every server method verl calls on a replica's servers and on the generation path exists on ours
    called = set()
    for module in (replica, llm_server):
        called |= set(re.findall(r"server\.(\w+)\.remote", inspect.getsource(module)))
    missing = sorted(m for m in called if not hasattr(HFRolloutServer, m))
    assert not missing, f"verl now calls these server methods: {missing}"
    gen_params = inspect.signature(HFRolloutServer.generate).parameters
    assert {"prompt_ids", "sampling_params", "request_id"} <= set(gen_params)


# -- what the plugin does in a fresh process ------------------------------------------------------------
def test_plugin_applies_every_patch_in_a_fresh_process(tmp_path):
    result = run_python(
        """
        import os
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29533", RANK="0", WORLD_SIZE="1")
        import torch, verl
        from verl.utils.device import get_device_name, get_nccl_backend, get_torch_device
        assert get_device_name() == "cpu" and get_nccl_backend() == "gloo"
        assert get_torch_device().get_device_name() == "CPU"
        from verl.utils.distributed import initialize_global_process_group_ray
        initialize_global_process_group_ray()
        assert torch.distributed.get_backend() in ("gloo", "cpu:gloo"), torch.distributed.get_backend()
        from verl.workers.engine.base import EngineRegistry
        from verl.workers.engine.fsdp import transformer_impl as ti
        assert EngineRegistry.get_engine_cls("language_model", "fsdp2") is ti.FSDPEngineWithLMHead
        assert EngineRegistry.get_engine_cls("value_model", "fsdp") is ti.FSDPEngineWithValueHead
        assert ti.CPUOffloadPolicy().pin_memory is False
        from verl.workers.rollout.base import get_rollout_class
        from verl.workers.rollout.replica import get_rollout_replica_class
        from verl_patches.cpu.hf_rollout import HFReplica, HFServerAdapter
        assert get_rollout_class("hf", "async") is HFServerAdapter
        assert get_rollout_replica_class("hf") is HFReplica
        print("PATCHES-OK")
        """,
        **CPU_ENV,
    )
    assert "PATCHES-OK" in result.stdout, result.stdout[-2000:] + result.stderr[-4000:]


def test_plugin_is_opt_in():
    result = run_python(
        """
        import verl
        from verl.plugin.platform import PlatformRegistry
        from verl.workers.rollout.base import _ROLLOUT_REGISTRY
        assert "cpu" not in PlatformRegistry.registered_names()
        assert ("hf", "async") not in _ROLLOUT_REGISTRY
        import sys; assert "verl_patches" not in sys.modules
        print("UNTOUCHED")
        """
    )
    assert "UNTOUCHED" in result.stdout, result.stderr[-3000:]


def test_plugin_refuses_without_cpu_platform():
    result = run_python("import verl_patches.cpu.plugin", VERL_USE_EXTERNAL_MODULES="", VERL_PLATFORM="")
    assert result.returncode != 0
    assert "VERL_PLATFORM" in result.stderr


# -- the hf rollout server, without Ray -----------------------------------------------------------------
def _server(model_dir, response_length=12):
    from transformers import AutoTokenizer, GenerationConfig

    from verl_patches.cpu.hf_rollout import HFRolloutServer

    config = SimpleNamespace(dtype="float32", response_length=response_length, prompt_length=64, seed=0)
    model_config = SimpleNamespace(
        local_path=str(model_dir),
        generation_config=GenerationConfig.from_pretrained(model_dir),
        tokenizer=AutoTokenizer.from_pretrained(model_dir),
    )
    return HFRolloutServer(config, model_config), model_config.tokenizer


def _prompts(tokenizer, n):
    return [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": f"What is {i} + {2 * i}?"}], add_generation_prompt=True, return_dict=False
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("convention", ["base", "chat"])
def test_hf_server_batches_requests_and_returns_actor_log_probs(tiny_models, convention):
    server, tokenizer = _server(tiny_models[convention])
    prompts = _prompts(tokenizer, 5)
    params = {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "logprobs": True}

    async def go():
        return await asyncio.gather(*[server.generate(p, dict(params), f"r{i}") for i, p in enumerate(prompts)])

    outputs = asyncio.run(go())
    model = server.model
    for prompt, out in zip(prompts, outputs, strict=True):
        assert 1 <= len(out.token_ids) <= 12 and len(out.log_probs) == len(out.token_ids)
        eos_hits = [i for i, t in enumerate(out.token_ids) if t in server.eos_token_ids]
        assert eos_hits in ([], [len(out.token_ids) - 1]), "generation must stop at the first end token"
        ids = torch.tensor([prompt + out.token_ids])
        with torch.no_grad():
            logits = model(ids).logits[0, len(prompt) - 1 : -1].float()
        expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(out.token_ids)[:, None]).squeeze(-1)
        torch.testing.assert_close(torch.tensor(out.log_probs), expected, atol=1e-4, rtol=0)


def test_hf_server_greedy_is_deterministic_and_follows_weight_updates(tiny_models):
    server, tokenizer = _server(tiny_models["base"])
    prompt = _prompts(tokenizer, 1)[0]
    greedy = {"temperature": 0.0, "top_p": 1.0, "top_k": -1}

    def gen():
        return asyncio.run(server.generate(prompt, dict(greedy), "g")).token_ids

    first = gen()
    assert gen() == first
    state = {k: v.clone() for k, v in server.model.state_dict().items()}
    torch.manual_seed(1)
    state["model.norm.weight"] = torch.randn_like(state["model.norm.weight"]) * 3
    asyncio.run(server.update_weights(state, global_steps=7))
    assert server.global_steps == 7
    assert gen() != first
    with pytest.raises(RuntimeError, match="missing"):
        asyncio.run(server.update_weights({"model.norm.weight": state["model.norm.weight"]}))


def test_hf_server_full_determinism_gives_each_prompt_the_same_samples_in_any_order(tiny_models):
    """verl's v1 agent loop sends every request as "det-0" under full determinism: the n samples of a
    prompt still differ from each other, and a run with the requests in another order (another
    server, as another run) draws the same set of responses for each prompt."""
    prompts = _prompts(_server(tiny_models["base"])[1], 3)
    params = {"temperature": 1.0, "top_p": 1.0, "top_k": -1}

    def run(order):
        server, _ = _server(tiny_models["base"])
        server.full_determinism = True

        async def go():
            return await asyncio.gather(*[server.generate(prompts[i], dict(params), "det-0") for i in order])

        samples: dict[int, list] = {}
        for i, out in zip(order, asyncio.run(go()), strict=True):
            samples.setdefault(i, []).append(tuple(out.token_ids))
        return {i: sorted(s) for i, s in samples.items()}

    first = run([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    again = run([2, 1, 0, 0, 2, 1, 1, 0, 2, 0, 1, 2])
    assert first == again
    assert all(len(set(s)) > 1 for s in first.values()), "a prompt's samples must not all be the same"
