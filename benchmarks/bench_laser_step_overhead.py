# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""The LaSeR work of one training step at the paper's shape, measured with the recipe's own step code.

    .venv/bin/python benchmarks/bench_laser_step_overhead.py [--prompts 128 --n 8 --max-response 8192]
                                                             [--storage-units 8]

A synthetic batch shaped like the paper's (128 prompts x 8 responses = 1024, prompts of 100-1000
tokens, responses uniform in 1..8192 tokens, 90% of them finished) is put into a local TransferQueue
(verl's own, with its Ray actors) the way verl's agent loop stores it. Then the LaSeRTrainer methods
that a step runs on top of GRPO are timed: the z_c append before the old-log-prob pass, the scores,
MSE weights and blending after the advantages (fetch, ``laser_step``, write back), and the removal of
z_c before verl's metrics. The log-prob and advantage fields the engines would produce are filled in
between, outside the timed regions.

Printed: seconds per phase (median of the repeats), the part of each spent in TransferQueue reads
and writes with the megabytes they move, and their sum, against two GPU GRPO steps of the same shape:
- a measured one: 394 s a step on 8 A100s (396 s on 8 H200s) for DeepScaleR's first stage, verl's
  GRPO with 128 prompts x 8 responses of up to 8192 tokens, the paper's shape, and a 1.5B model
  (DeepSeek-R1-Distill-Qwen-1.5B), as a user reported it in https://github.com/rllm-org/rllm/issues/29;
  the paper's 7B model takes longer on the same node, so its share is smaller than the one printed;
- a lower bound for the 7B model: the actor's two passes over the step's tokens (update: 6 FLOPs per
  parameter and token; old log-probs: 2), 7.6B parameters on 8 H100s at 40% of their dense bf16 peak
  (989 TFLOP/s), generation left out: no real step is this short.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

H100_BF16_PEAK = 989e12  # dense bf16 FLOP/s of one H100 SXM
MFU = 0.4
PARAMS_7B = 7.6e9  # Qwen2.5-7B
# verl GRPO, 128 prompts x 8 responses, responses up to 8192 tokens, 1.5B model, 8 A100s:
# https://github.com/rllm-org/rllm/issues/29 (DeepScaleR stage 1; 396 s on 8 H200s)
MEASURED_GRPO_STEP_S = 394.0


def grpo_step_lower_bound_s(total_tokens: int, gpus: int = 8) -> float:
    return 8 * PARAMS_7B * total_tokens / (gpus * H100_BF16_PEAK * MFU)


def synthetic_batch(prompts: int, n: int, max_response: int, seed: int = 0):
    from tensordict import NonTensorStack, TensorDict

    g = np.random.default_rng(seed)
    rows = prompts * n
    prompt_len = np.repeat(g.integers(100, 1001, prompts), n)
    response_len = g.integers(1, max_response + 1, rows)
    finished = g.random(rows) < 0.9
    eos, zc = 151643, 151652

    def nested(lengths, fill, dtype):
        return torch.nested.nested_tensor(
            [torch.full((int(k),), fill, dtype=dtype) for k in lengths], layout=torch.jagged
        )

    responses = [torch.from_numpy(g.integers(0, 150000, int(k))) for k in response_len]
    for r, done in zip(responses, finished, strict=True):
        r[-1] = eos if done else 11
    input_ids = [
        torch.cat([torch.from_numpy(g.integers(0, 150000, int(p))), r])
        for p, r in zip(prompt_len, responses, strict=True)
    ]
    fields = TensorDict(
        {
            "responses": torch.nested.nested_tensor(responses, layout=torch.jagged),
            "input_ids": torch.nested.nested_tensor(input_ids, layout=torch.jagged),
            "position_ids": torch.nested.nested_tensor([torch.arange(len(x)) for x in input_ids], layout=torch.jagged),
            "response_mask": nested(response_len, 1, torch.int64),
            "loss_mask": nested(response_len, 1, torch.int64),
            "rm_scores": nested(response_len, 0.0, torch.float32),
            "rollout_log_probs": nested(response_len, -1.0, torch.float32),
            "uid": NonTensorStack(*[f"p{i // n}" for i in range(rows)]),  # the prompt group, as verl stores it
        },
        batch_size=rows,
    )
    return fields, int(prompt_len.sum() + response_len.sum()), zc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-response", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--storage-units", type=int, default=8, help="TransferQueue storage units (verl's default, the paper presets')"
    )
    args = parser.parse_args(argv)

    import ray
    import transfer_queue as tq
    from omegaconf import OmegaConf
    from tensordict import TensorDict
    from transfer_queue import KVBatchMeta

    from recipe.laser.config import LaSeRConfig
    from recipe.laser.core_algos import StepInputs, laser_step
    from recipe.laser.nested import last_of_nested
    from recipe.laser.trainer import LaSeRTrainer

    ray.init(num_cpus=max(4, args.storage_units + 2), include_dashboard=False, logging_level="ERROR")
    storage = {"total_storage_size": 100000, "num_data_storage_units": args.storage_units}
    tq.init(OmegaConf.create({"enable": True, "metrics": {"enabled": False, "port": 0},
                              "backend": {"storage_backend": "SimpleStorage", "SimpleStorage": storage}}))  # fmt: skip
    fields, total_tokens, zc = synthetic_batch(args.prompts, args.n, args.max_response)
    rows = len(fields)
    trainer = LaSeRTrainer.__new__(LaSeRTrainer)  # the recipe's step methods, without verl's workers
    trainer.laser = LaSeRConfig(enable=True, c_ref=-23.0, reasoning_warmup_steps=0, self_reward_warmup_steps=0)
    rollout = {"calculate_log_probs": True, "n": args.n}
    trainer.config = OmegaConf.create(
        {"actor_rollout_ref": {"rollout": rollout, "actor": {"ppo_mini_batch_size": args.prompts}}}
    )
    trainer.zc_token_id, trainer.end_token_ids = zc, torch.tensor([151643])
    trainer.use_reference_policy, trainer.global_steps, trainer.c_ref = False, 1, -23.0

    # the recipe reaches TransferQueue through the module; count the time its calls spend there
    put, get = tq.kv_batch_put, tq.kv_batch_get
    in_transfer = [0.0, 0]  # seconds, bytes

    def tensor_bytes(fields) -> int:
        tensors = [v for v in fields.values() if isinstance(v, torch.Tensor)]
        return sum((t.values() if t.is_nested else t).nbytes for t in tensors)

    def counted(fn):
        def call(*a, **k):
            t0 = time.perf_counter()
            try:
                result = fn(*a, **k)
            finally:
                in_transfer[0] += time.perf_counter() - t0
            in_transfer[1] += tensor_bytes(k.get("fields", result))
            return result

        return call

    tq.kv_batch_put, tq.kv_batch_get = counted(put), counted(get)
    timings: dict[str, list[float]] = {"append_zc": [], "score_weights_blend": [], "remove_zc": []}
    transfers: dict[str, list[float]] = {k: [] for k in timings}
    moved: dict[str, int] = {}

    def timed(phase, fn, *a):
        in_transfer[0], in_transfer[1], t0 = 0.0, 0, time.perf_counter()
        result = fn(*a)
        timings[phase].append(time.perf_counter() - t0)
        transfers[phase].append(in_transfer[0])
        moved[phase] = in_transfer[1]
        return result

    def score_weights_blend(batch, keys):
        inputs = trainer._fetch_step_inputs(batch)
        out = laser_step(inputs, trainer.laser, 1, -23.0, trainer._num_minibatches(rows))
        tq.kv_batch_put(keys=keys, partition_id="train", fields=TensorDict(out.fields, batch_size=rows))
        return inputs

    for repeat in range(args.repeats):
        keys = [f"r{repeat}_{i}" for i in range(rows)]
        tags = [{} for _ in keys]
        put(keys=keys, partition_id="train", fields=fields.clone(), tags=tags)
        batch = KVBatchMeta(keys=keys, tags=tags, partition_id="train")
        timed("append_zc", trainer._append_zc, batch)
        # what the engines would write between the two LaSeR hooks (not timed)
        data = get(keys=keys, partition_id="train", select_fields=["responses", "rm_scores"])
        lengths = data["responses"].offsets().diff().tolist()
        filled = {
            name: torch.nested.nested_tensor([torch.full((k,), value) for k in lengths], layout=torch.jagged)
            for name, value in (("old_log_probs", -20.0), ("advantages", 0.5), ("returns", 0.5))
        }
        put(keys=keys, partition_id="train", fields=TensorDict(filled, batch_size=rows))

        inputs = timed("score_weights_blend", score_weights_blend, batch, keys)
        timed("remove_zc", trainer._remove_zc, batch)
        assert isinstance(inputs, StepInputs) and last_of_nested(inputs.advantages).numel() == rows
        tq.kv_clear(keys=keys, partition_id="train")

    medians = {k: statistics.median(v) for k, v in timings.items()}
    total = sum(medians.values())
    bound = grpo_step_lower_bound_s(total_tokens)
    print(f"batch: {rows} responses, {total_tokens:,} tokens (prompts 100-1000, responses 1-{args.max_response})")
    transfer = {k: statistics.median(v) for k, v in transfers.items()}
    print(f"TransferQueue: SimpleStorage, {args.storage_units} storage units")
    print(f"  {'phase':22s} {'seconds':>8s}   of which TransferQueue reads and writes (MB moved)")
    for k, v in medians.items():
        print(f"  {k:22s} {v:8.3f}   {transfer[k]:8.3f} ({moved[k] / 1e6:5.0f} MB)")
    mb, io_s = sum(moved.values()) / 1e6, sum(transfer.values())
    print(f"  {'LaSeR work per step':22s} {total:8.3f}   {io_s:8.3f} ({mb:5.0f} MB, {mb / io_s:.0f} MB/s)")
    print("LaSeR work / GPU GRPO step of this shape (target: at most 1%):")
    print(
        f"  measured step, 1.5B model, 8 A100s ({MEASURED_GRPO_STEP_S:.0f} s): {total / MEASURED_GRPO_STEP_S:.2%}"
        f" (without the TransferQueue transfers: {(total - io_s) / MEASURED_GRPO_STEP_S:.2%})"
    )
    print(
        f"  lower bound, 7.6B model, 8 H100s, no generation ({bound:.1f} s: 8 x params x tokens FLOPs, {MFU:.0%} MFU):"
        f" {total / bound:.2%} (without the transfers: {(total - io_s) / bound:.2%})"
    )
    print("BENCH_LASER_STEP " + json.dumps({"phases_s": medians, "transfer_s": transfer, "moved_bytes": moved,
                                            "total_s": total,
                                            "tokens": total_tokens, "grpo_step_lower_bound_s": bound,
                                            "share_of_lower_bound": total / bound,
                                            "measured_grpo_step_s": MEASURED_GRPO_STEP_S,
                                            "share_of_measured_step": total / MEASURED_GRPO_STEP_S}))  # fmt: skip
    tq.close()
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
