# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""An "hf" rollout backend for verl 0.9.1: transformers generation behind verl's server interface.

verl 0.9.1 generates only through server replicas (vllm, sglang, trtllm; ``workers/rollout/base.py:
_ROLLOUT_REGISTRY`` and ``replica.py: RolloutReplicaRegistry``), none of which runs without a GPU.
This module registers a fourth, ``actor_rollout_ref.rollout.name=hf``, through those two registries:

- ``HFServerAdapter`` (in each hybrid actor worker, like vLLM's ``ServerAdapter``): receives the
  actor's full weights from verl's normal sync (``ActorRolloutRefWorker.update_weights`` ->
  ``rollout.update_weights``) and forwards them to its replica's server.
- ``HFRolloutServer`` (one Ray actor per replica): holds a transformers model and answers verl's
  token-in/token-out ``generate`` calls, batching concurrent requests into one ``model.generate``.
- ``HFReplica``: launches the server next to the replica's workers.

Log-probs are the raw model distribution at the sampling temperature, log_softmax(logits / T), the
same quantity the actor computes, so verl's rollout/actor log-prob gap metric stays meaningful.

With ``actor_rollout_ref.rollout.full_determinism=True`` each request is generated on its own, with a
seed made from ``rollout.seed``, the training step, its prompt and how many requests for the same
prompt came before it in that step: a prompt's n samples are then the same set of responses in every
run, whatever the order and batching of the requests. (verl 0.9.1's v1 agent loop gives every
request the same id under full determinism, ``det-0``: no priority is set, so the id cannot tell the n
samples of a prompt apart.)
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import ray
import torch
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutReplica, TokenOutput

SERVER_NAME_PREFIX = "hf_"


def _server_name(replica_rank: int, is_reward_model=False, is_teacher_model=False, name_suffix="") -> str:
    kind = "reward_" if is_reward_model else "teacher_" if is_teacher_model else ""
    return f"{SERVER_NAME_PREFIX}server_{kind}{replica_rank}_0{name_suffix}"


def _as_id_list(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


@dataclass
class _Request:
    prompt_ids: list[int]
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    want_logprobs: bool
    future: asyncio.Future = field(repr=False)
    seed: int | None = None  # set under rollout.full_determinism: the request is generated alone

    @property
    def batch_key(self) -> tuple:
        # Requests that share sampling settings are generated together.
        return (self.temperature, self.top_p, self.top_k, self.want_logprobs)


class HFRolloutServer:
    """Token-in/token-out generation with a transformers causal LM (one per rollout replica)."""

    def __init__(self, config, model_config, replica_rank: int = 0, max_batch_size: int = 256):
        from transformers import AutoModelForCausalLM
        from verl.utils.config import omega_conf_to_dataclass

        # Same conversion verl's BaseRollout applies: replicas pass hydra nodes, not dataclasses.
        self.config = config = omega_conf_to_dataclass(config)
        self.model_config = model_config = omega_conf_to_dataclass(model_config)
        self.replica_rank = replica_rank
        self.max_batch_size = max_batch_size
        self.global_steps: int | None = None
        dtype = getattr(torch, str(config.dtype)) if isinstance(config.dtype, str) else config.dtype
        self.model = AutoModelForCausalLM.from_pretrained(
            model_config.local_path, torch_dtype=dtype, attn_implementation="sdpa"
        ).eval()
        generation_config = getattr(model_config, "generation_config", None)
        self.eos_token_ids = _as_id_list(getattr(generation_config, "eos_token_id", None)) or _as_id_list(
            self.model.config.eos_token_id
        )
        tokenizer = getattr(model_config, "tokenizer", None)
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_token_id = int(pad if pad is not None else self.eos_token_ids[0])
        self.seed = int(getattr(config, "seed", 0) or 0)
        self.full_determinism = bool(getattr(config, "full_determinism", False))
        self._seen: dict[tuple, int] = {}  # (step, prompt) -> requests so far, under full_determinism
        torch.manual_seed(self.seed + replica_rank)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Request] | None = None
        self._worker: asyncio.Task | None = None

    # -- generation ------------------------------------------------------------------------------
    async def generate(
        self,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        request_id: str,
        image_data=None,
        video_data=None,
        audio_data=None,
        mm_processor_kwargs=None,
        priority: int = 0,
        **kwargs,
    ) -> TokenOutput:
        if image_data is not None or video_data is not None or audio_data is not None:
            raise NotImplementedError("the hf rollout backend generates text only")
        params = dict(sampling_params)
        max_tokens = params.pop("max_tokens", params.pop("max_new_tokens", None))
        if max_tokens is None:  # same default as verl's vLLM server
            max_tokens = min(
                self.config.response_length,
                self.config.prompt_length + self.config.response_length - len(prompt_ids),
            )
        if max_tokens < 1:
            raise ValueError(f"prompt of {len(prompt_ids)} tokens leaves no room to generate")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first request, or a new event loop: (re)start the batcher here
            self._loop, self._queue = loop, asyncio.Queue()
            self._worker = loop.create_task(self._serve())
        request = _Request(
            prompt_ids=[int(t) for t in prompt_ids],
            max_tokens=int(max_tokens),
            temperature=float(params.get("temperature", 1.0)),
            top_p=float(params.get("top_p", 1.0)),
            top_k=int(params.get("top_k", -1) or -1),
            want_logprobs=bool(params.get("logprobs", False)),
            future=asyncio.get_running_loop().create_future(),
            seed=self._request_seed(prompt_ids) if self.full_determinism else None,
        )
        await self._queue.put(request)
        token_ids, log_probs = await request.future
        return TokenOutput(
            token_ids=token_ids,
            log_probs=log_probs,
            stop_reason="completed",
            extra_fields={"global_steps": self.global_steps},
        )

    def _request_seed(self, prompt_ids: list[int]) -> int:
        """The seed of the k-th request for this prompt in this training step (full determinism)."""
        key = (self.global_steps, tuple(int(t) for t in prompt_ids))
        k = self._seen.get(key, 0)
        self._seen[key] = k + 1
        digest = zlib.crc32(repr((self.global_steps, key[1], k)).encode())
        return (self.seed * 1_000_003 + digest) % 2**63

    async def _serve(self):
        """Drain the queue in batches; generation runs in a thread so requests keep arriving."""
        while True:
            first = await self._queue.get()
            await asyncio.sleep(0.005)  # let concurrent requests of the same step join the batch
            pending = [first]
            while not self._queue.empty() and len(pending) < self.max_batch_size:
                pending.append(self._queue.get_nowait())
            groups: dict[tuple, list[_Request]] = {}
            for request in pending:
                groups.setdefault(request.batch_key, []).append(request)
            batches = list(groups.values())
            if self.full_determinism:  # one request at a time, each with its own seed
                batches = [[request] for batch in batches for request in batch]
            for batch in batches:
                try:
                    results = await asyncio.to_thread(self._generate_batch, batch)
                except Exception as error:  # surface to every caller instead of hanging them
                    for request in batch:
                        if not request.future.done():
                            request.future.set_exception(error)
                    continue
                for request, result in zip(batch, results, strict=True):
                    request.future.set_result(result)

    @torch.no_grad()
    def _generate_batch(self, batch: list[_Request]) -> list[tuple[list[int], list[float] | None]]:
        first = batch[0]
        if first.seed is not None:
            torch.manual_seed(first.seed)
        greedy = first.temperature <= 0
        width = max(len(r.prompt_ids) for r in batch)
        input_ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, request in enumerate(batch):  # left padding
            n = len(request.prompt_ids)
            input_ids[row, width - n :] = torch.tensor(request.prompt_ids)
            attention_mask[row, width - n :] = 1
        max_new = max(r.max_tokens for r in batch)
        out = self.model.generate(
            input_ids=input_ids,
            attention_mask=attention_mask,
            do_sample=not greedy,
            temperature=None if greedy else first.temperature,
            top_p=None if greedy else first.top_p,
            top_k=None if greedy or first.top_k <= 0 else first.top_k,
            max_new_tokens=max_new,
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.pad_token_id,
            return_dict_in_generate=True,
            output_logits=first.want_logprobs,
        )
        new_tokens = out.sequences[:, width:]
        log_probs = None
        if first.want_logprobs:
            logits = torch.stack(out.logits, dim=1).float()  # (batch, new, vocab): raw, before warpers
            if not greedy:
                logits = logits / first.temperature
            log_probs = torch.log_softmax(logits, dim=-1).gather(-1, new_tokens.unsqueeze(-1)).squeeze(-1)
        eos = torch.tensor(self.eos_token_ids)
        results = []
        for row, request in enumerate(batch):
            tokens = new_tokens[row, : request.max_tokens]
            is_eos = torch.isin(tokens, eos).nonzero()
            length = int(is_eos[0]) + 1 if len(is_eos) else len(tokens)  # keep the stop token, as vLLM does
            ids = tokens[:length].tolist()
            results.append((ids, log_probs[row, :length].tolist() if log_probs is not None else None))
        return results

    # -- weights and lifecycle (verl's server interface) ------------------------------------------
    async def update_weights(self, state_dict: dict[str, torch.Tensor], global_steps: int | None = None):
        missing, unexpected = self.model.load_state_dict(state_dict, strict=False)
        # Tied embeddings may arrive once; anything else missing means the sync is broken.
        missing = [k for k in missing if k != "lm_head.weight"]
        if missing or unexpected:
            raise RuntimeError(f"hf rollout weight sync: missing={missing[:5]} unexpected={unexpected[:5]}")
        if global_steps is not None:
            self.global_steps = global_steps
            self._seen.clear()  # per-step request counts (full determinism)

    async def set_global_steps(self, global_steps: int):
        self.global_steps = global_steps

    async def ready(self) -> bool:
        return True

    # Weights stay resident on the host: sleep/wake and cache management have nothing to do.
    async def wake_up(self, tags: list[str] | None = None): ...

    async def sleep(self): ...

    async def clear_kv_cache(self): ...

    async def release_kv_cache(self): ...

    async def resume_kv_cache(self): ...

    async def wait_for_requests_to_drain(self): ...

    async def resume_generation(self): ...

    async def resume_engine_generation(self): ...

    async def open_submission_gate(self): ...

    async def start_profile(self, **kwargs): ...

    async def stop_profile(self): ...

    async def abort_all_requests(self, reset_prefix_cache: bool = True, reject_request: bool = False):
        return {"aborted_count": 0, "request_ids": []}

    async def abort_request(self, request_id: str, reset_prefix_cache: bool = True):
        return {"aborted": False, "request_id": request_id}


class HFServerAdapter(BaseRollout):
    """The hybrid worker's handle on its replica's ``HFRolloutServer``."""

    def __init__(self, config, model_config, device_mesh, replica_rank: int = -1):
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ.get("RANK", 0))
        rollout_world_size = (
            self.config.tensor_model_parallel_size
            * self.config.data_parallel_size
            * self.config.pipeline_model_parallel_size
        )
        self.replica_rank = rank // rollout_world_size if replica_rank == -1 else replica_rank
        self.rollout_rank = rank % rollout_world_size
        self._server = None

    def _server_handle(self):
        if self._server is None:
            self._server = ray.get_actor(_server_name(self.replica_rank))
        return self._server

    async def resume(self, tags: list[str]):
        return None

    async def release(self):
        return None

    @torch.no_grad()
    async def update_weights(
        self,
        weights: Generator[tuple[str, torch.Tensor], None, None],
        global_steps: int | None = None,
        wire_format: str = "named_tensors",
        **kwargs,
    ):
        if wire_format != "named_tensors":
            raise NotImplementedError(f"the hf rollout backend takes full tensors, not wire_format={wire_format!r}")
        # Every rank must drain the generator: for FSDP each full_tensor() is a collective.
        state = {name: tensor.detach().to("cpu", copy=True).contiguous() for name, tensor in weights}
        if self.rollout_rank == 0:
            await self._server_handle().update_weights.remote(state, global_steps)


class HFReplica(RolloutReplica):
    """One ``HFRolloutServer`` per replica, on the node of the replica's first worker."""

    async def launch_servers(self):
        node_id = await self.workers[0].__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id())
        name = _server_name(self.replica_rank, self.is_reward_model, self.is_teacher_model, self.name_suffix)
        server = (
            ray.remote(HFRolloutServer)
            .options(
                scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(
                    node_id=node_id, soft=False
                ),
                name=name,
                num_cpus=0,
                max_concurrency=self.max_concurrency,
            )
            .remote(config=self.config, model_config=self.model_config, replica_rank=self.replica_rank)
        )
        await server.ready.remote()
        self.servers = [server]
        self._server_handle = server
        self._server_address = f"hf-rollout-replica-{self.replica_rank}{self.name_suffix}"

    def rollout_worker_use_gpu(self) -> bool:
        return False
