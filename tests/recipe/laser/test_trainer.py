# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""recipe/laser/trainer.py without Ray: the jagged-tensor plumbing, the LaSeR step as a pure function
(padding rows excluded, hand-checked weights and blend), the fault counters, and the verl internals
the trainer relies on."""

import inspect
import re

import pytest
import torch

from recipe.laser import c_ref_record
from recipe.laser.config import LaSeRConfig, LaSeRConfigError
from recipe.laser.core_algos import StepInputs, laser_step, mse_sample_weights
from recipe.laser.nested import append_to_nested, drop_last_of_nested, last_of_nested, row_sums
from recipe.laser.score_dump import score_dump_lines
from recipe.laser.trainer import RESPONSE_TOKEN_FIELDS_FILL, response_fault_metrics, reward_step_metrics


def nested(rows, dtype=torch.long):
    return torch.nested.nested_tensor([torch.tensor(r, dtype=dtype) for r in rows], layout=torch.jagged)


def test_append_to_nested_appends_only_where_asked():
    nt = nested([[1, 2, 3], [4], [5, 6]])
    out = append_to_nested(nt, torch.tensor([7, 8, 9]), torch.tensor([True, False, True]))
    assert [t.tolist() for t in out.unbind()] == [[1, 2, 3, 7], [4], [5, 6, 9]]
    assert last_of_nested(out).tolist() == [7, 4, 9]
    assert row_sums(nested([[1.0, 2.0], [3.0]], torch.float32)).tolist() == [3.0, 3.0]
    back = drop_last_of_nested(out, torch.tensor([True, False, True]))
    assert [t.tolist() for t in back.unbind()] == [[1, 2, 3], [4], [5, 6]]


def test_empty_rows_are_handled():
    nt = nested([[], [4, 5], []])
    out = append_to_nested(nt, torch.tensor([7, 8, 9]), torch.tensor([False, True, False]))
    assert [t.tolist() for t in out.unbind()] == [[], [4, 5, 8], []]
    assert last_of_nested(out)[1].item() == 8


def test_response_token_fields_match_what_verls_agent_loop_stores():
    from verl.trainer.ppo.v1 import agent_loop_tq

    source = inspect.getsource(agent_loop_tq.AgentLoopWorkerTQ._agent_loop_postprocess)
    assert 'field["loss_mask"] = field["response_mask"]' in source
    assert 'field["input_ids"] = input_ids' in source and 'field["position_ids"] = position_ids' in source
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput

    # every per-response-token field the postprocess writes to TransferQueue gets a z_c slot from the trainer
    written = set(re.findall(r'field\["(\w+)"\] =', source))
    per_token = {f for f in written if f in {"response_mask", "loss_mask", "rm_scores", "rollout_log_probs"}}
    assert per_token <= set(RESPONSE_TOKEN_FIELDS_FILL), (written, RESPONSE_TOKEN_FIELDS_FILL)
    assert {"response_mask", "response_logprobs"} <= set(AgentLoopOutput.model_fields)


# -- the LaSeR step: padding rows are never LaSeR samples --------------------------------------------------------
def _inputs(with_padding: bool) -> StepInputs:
    """Two prompts x 3 responses (one unfinished), and, like verl's upsampling, 2 padding rows that
    reuse a real response's fields but carry their own uid and is_padding tags."""
    zc = [-13.0, -21.0, -17.0, -14.0, -22.0, -30.0]
    reward = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    valid = [True, True, True, True, True, False]
    group = [0, 0, 0, 1, 1, 1]
    advantages = [[1.0, 1.0], [-1.0, -1.0, -1.0], [0.5], [0.8, 0.8], [-0.8], [-0.2, -0.2]]
    padding = [False] * 6
    if with_padding:
        zc += [-13.0, -13.0]
        reward += [0.0, 0.0]
        valid += [True, True]  # even if something marked them: padding wins
        group += [2, 2]
        advantages += [[0.0], [0.0]]
        padding += [True, True]
    return StepInputs(
        zc_log_prob=torch.tensor(zc),
        ref_zc_log_prob=None,
        verifier_reward=torch.tensor(reward),
        valid=torch.tensor(valid),
        padding=torch.tensor(padding),
        group=torch.tensor(group),
        advantages=nested(advantages, torch.float32),
    )


def test_padding_rows_change_no_weight_no_advantage_and_no_metric():
    laser = LaSeRConfig(enable=True, beta_v=0.1, c_ref=-23.0, tau=0.1, std_threshold=0.1)
    plain = laser_step(_inputs(False), laser, step=1, c_ref=-23.0, num_minibatches=1)
    padded = laser_step(_inputs(True), laser, step=1, c_ref=-23.0, num_minibatches=1)
    for name in ("laser_mse_weight", "laser_target"):
        torch.testing.assert_close(padded.fields[name][:6], plain.fields[name])
    assert padded.fields["laser_mse_weight"][6:].eq(0).all()
    for a, b in zip(plain.fields["advantages"].unbind(), padded.fields["advantages"].unbind()[:6], strict=True):
        torch.testing.assert_close(a, b)
    assert padded.metrics.pop("laser/padding_rows") == 2.0 and plain.metrics.pop("laser/padding_rows") == 0.0
    assert padded.metrics == plain.metrics
    assert plain.metrics["laser/valid_fraction"] == pytest.approx(5 / 6)


def test_laser_step_by_hand():
    laser = LaSeRConfig(enable=True, beta_v=0.1, c_ref=-23.0, tau=0.1, std_threshold=0.1)
    out = laser_step(_inputs(False), laser, step=1, c_ref=-23.0, num_minibatches=2)
    # r_s = 0.1 (zc + 23): 1.0, 0.2, 0.6 | 0.9, 0.1, (unfinished: 0)
    torch.testing.assert_close(out.score, torch.tensor([1.0, 0.2, 0.6, 0.9, 0.1, 0.0]))
    # weights: N = 5 valid, N_c = 3, N_i = 2 -> w_c = 5/6, w_i = 5/4; / 5 x 2 mini-batches
    reward, valid = torch.tensor([1.0, 0, 1, 1, 0, 0]), torch.tensor([True] * 5 + [False])
    torch.testing.assert_close(out.fields["laser_mse_weight"], mse_sample_weights(reward, valid, num_minibatches=2))
    torch.testing.assert_close(out.fields["laser_mse_weight"][:2], torch.tensor([1 / 3, 0.5]))
    # group 1 blends (scores 0.9, 0.1: std 0.566 > 0.1); its unfinished member keeps (1 - tau) A_v
    adv = out.fields["advantages"].unbind()
    torch.testing.assert_close(adv[5], torch.tensor([-0.18, -0.18]))
    s = 0.8 / 2**0.5 + 1e-6
    torch.testing.assert_close(adv[3], torch.tensor([0.9 * 0.8 + 0.1 * 0.4 / s] * 2))
    assert out.metrics["laser/self_adv_group_fraction"] == 1.0 and out.metrics["laser/blend_active"] == 1.0
    # before the warm-ups end: no MSE weight, no blend
    late = LaSeRConfig(enable=True, c_ref=-23.0, reasoning_warmup_steps=1, self_reward_warmup_steps=1)
    out = laser_step(_inputs(False), late, step=1, c_ref=-23.0, num_minibatches=1)
    assert out.fields["laser_mse_weight"].eq(0).all() and "advantages" not in out.fields


def test_the_ablations_self_reward_only_and_cross_entropy_by_hand():
    """tau = 1, T = 0 (the paper's self-reward-only RL): advantages are A_self alone where a group's
    scores differ. self_reward_loss=bce: the score is p(z_c), the same weights serve the loss."""
    only = LaSeRConfig(enable=True, beta_v=0.1, c_ref=-23.0, tau=1.0, std_threshold=0.0)
    adv = laser_step(_inputs(False), only, step=1, c_ref=-23.0, num_minibatches=1).fields["advantages"].unbind()
    # group 1: scores 0.9, 0.1 (mean 0.5, unbiased std 0.8 / sqrt 2); the unfinished member: 0
    s = 0.8 / 2**0.5 + 1e-6
    torch.testing.assert_close(adv[3], torch.tensor([0.4 / s] * 2))
    torch.testing.assert_close(adv[4], torch.tensor([-0.4 / s]))
    torch.testing.assert_close(adv[5], torch.tensor([0.0, 0.0]))
    bce = LaSeRConfig(enable=True, c_ref=-23.0, tau=0.0, self_reward_loss="bce")
    out = laser_step(_inputs(False), bce, step=1, c_ref=-23.0, num_minibatches=1)
    zc = torch.tensor([-13.0, -21.0, -17.0, -14.0, -22.0])
    torch.testing.assert_close(out.score[:5], zc.exp())
    assert out.score[5] == 0.0 and out.metrics["laser/tnr"] == 1.0 and out.metrics["laser/tpr"] == 0.0
    mse = laser_step(_inputs(False), LaSeRConfig(enable=True, c_ref=-23.0, tau=0.0), step=1, c_ref=-23.0,
                     num_minibatches=1)  # fmt: skip
    torch.testing.assert_close(out.fields["laser_mse_weight"], mse.fields["laser_mse_weight"])


def test_auto_c_ref_before_measurement_scores_nothing():
    laser = LaSeRConfig(enable=True, c_ref="auto")
    out = laser_step(_inputs(False), laser, step=1, c_ref=None, num_minibatches=1)
    assert out.fields["laser_mse_weight"].eq(0).all() and out.metrics["laser/valid_fraction"] == 0.0


def test_fault_counters_for_empty_zc_and_unfinished_responses():
    responses = nested([[], [151643], [5, 151652, 151643], [7, 8]])
    lengths = responses.offsets().diff()
    finished = torch.tensor([False, True, True, False])
    m = response_fault_metrics(responses, lengths, finished, torch.tensor([False] * 4), 151652)
    assert m == {
        "laser/empty_response_fraction": 0.25,
        "laser/end_token_only_fraction": 0.25,
        "laser/zc_emitted_fraction": 0.25,
        "laser/unfinished_fraction": 0.5,
    }


def test_reward_metrics_count_dropped_responses_and_stop_on_an_unusable_judge():
    rule = {"timed_out": False, "error": ""}
    metrics = reward_step_metrics([rule] * 6, expected_responses=16, step=3)
    assert metrics["training/dropped_responses"] == 10.0 and metrics["verifier/error_rate"] == 0.0
    assert reward_step_metrics([rule] * 16, 16, 3)["training/dropped_responses"] == 0.0
    dead = {**rule, "error": "judge:unavailable: judge at http://h:1/v1/chat/completions is unreachable (3 tries)"}
    with pytest.raises(RuntimeError, match=r"step 3: judge:unavailable: judge at http://h:1/v1/chat/completions"):
        reward_step_metrics([rule, dead], 2, 3)
    # why the judge reports instead of raising: verl marks a prompt whose session raised as failed and
    # trains on the step's other responses (tests/e2e/test_judge_reward.py sees the run stop instead)
    from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopWorkerTQ

    run_prompt = inspect.getsource(AgentLoopWorkerTQ._run_prompt)
    assert "session_errors = await _settle_session_tasks(tasks)" in run_prompt and 'status = "failure"' in run_prompt


def test_seams_the_trainer_relies_on():
    from verl.trainer.ppo import padding_utils
    from verl.trainer.ppo.v1 import trainer_base

    # padding rows are tagged, and verl itself filters its metrics by that tag
    assert "is_padding=True" in inspect.getsource(padding_utils.construct_minimal_padding_template)
    assert 'tag.get("is_padding", False)' in inspect.getsource(trainer_base.PPOTrainer._compute_metrics)
    # verl's sync-vs-async behaviour hangs on trainer_mode == "sync", read in __init__
    init = inspect.getsource(trainer_base.PPOTrainer.__init__)
    assert "self.trainer_mode = self.config.trainer.v1.trainer_mode" in init
    assert 'self.trainer_mode != "sync"' in inspect.getsource(trainer_base.PPOTrainer._save_checkpoint)
    # verl calls the hook the trainer's setup lives in, after its own setup
    assert "self.on_init_end()" in inspect.getsource(trainer_base.PPOTrainer.init)
    # the old-log-prob pass reads rollout_log_probs only with calculate_log_probs (and so does the append)
    assert "if self.config.actor_rollout_ref.rollout.calculate_log_probs:" in inspect.getsource(
        trainer_base.PPOTrainer._compute_old_log_prob
    )
    # z_c is taken off `responses` only: verl reads the lengths and the clip ratio's maximum from it,
    # and the token statistics through response_mask, which is 0 in the z_c slot
    from verl.trainer.ppo import metric_utils

    assert 'response_length = data["responses"].offsets().diff()' in inspect.getsource(
        trainer_base.PPOTrainer._compute_metrics
    )
    data_metrics = inspect.getsource(metric_utils.compute_data_metrics)
    assert 'max_response_length = batch.batch["responses"].shape[-1]' in data_metrics
    assert "torch.masked_select(advantages, response_mask)" in data_metrics
    assert "torch.masked_select(returns, response_mask)" in data_metrics
    assert RESPONSE_TOKEN_FIELDS_FILL["response_mask"] == 0 and RESPONSE_TOKEN_FIELDS_FILL["rm_scores"] == 0.0


# -- c_ref = auto: one measurement, kept with the checkpoints, checked when read back ---------------------------
def test_c_ref_is_measured_once_saved_atomically_and_checked_on_resume(tmp_path):
    path, identity = tmp_path / c_ref_record.FILE_NAME, {"model": "models/m", "zc_token_id": 151652}
    assert c_ref_record.load(path, identity) is None
    inputs = _inputs(False)
    value, n = c_ref_record.measure(inputs, step=1)  # no reference worker: the actor's own z_c log-probs
    assert (value, n) == (pytest.approx(float(inputs.zc_log_prob[:5].mean())), 5)  # the 5 finished responses
    c_ref_record.save(path, value, 1, n, identity)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["laser_c_ref.json"]  # no temporary file left
    assert c_ref_record.load(path, identity) == pytest.approx(value)
    with pytest.raises(LaSeRConfigError, match=r"measured for another setup .*'model'"):
        c_ref_record.load(path, {**identity, "model": "models/other"})
    with pytest.raises(LaSeRConfigError, match=r"measured for another setup .*'zc_token_id'"):
        c_ref_record.load(path, {**identity, "zc_token_id": 151653})
    path.write_text('{"c_ref": -18.')  # cut off
    with pytest.raises(LaSeRConfigError, match="laser_c_ref.json: not a valid c_ref record"):
        c_ref_record.load(path, identity)
    with pytest.raises(LaSeRConfigError, match="cannot be measured later"):
        c_ref_record.measure(inputs, step=3)
    nothing_finished = StepInputs(**{**inputs.__dict__, "valid": torch.zeros(6, dtype=torch.bool)})
    assert c_ref_record.measure(nothing_finished, step=3) is None  # wait for a step with finished responses
    reference = StepInputs(**{**inputs.__dict__, "ref_zc_log_prob": inputs.zc_log_prob - 1.0})
    assert c_ref_record.measure(reference, step=3)[0] == pytest.approx(value - 1.0)  # the reference worker's


def test_score_dump_lines_leave_out_padding_and_null_what_has_no_z_c_slot():
    import json

    ids = nested([[1, 2, 9], [3, 4], [1, 2, 9]])
    lines = score_dump_lines(
        step=2,
        input_ids=ids,
        response_lengths=[2, 1, 2],
        zc_log_prob=torch.tensor([-13.0, -5.0, -13.0]),
        ref_zc_log_prob=None,
        score=torch.tensor([1.0, 0.0, 1.0]),
        reward=torch.tensor([1.0, 0.0, 1.0]),
        valid=torch.tensor([True, False, True]),
        padding=torch.tensor([False, False, True]),
    )
    rows = [json.loads(x) for x in lines]
    assert rows == [
        {"step": 2, "input_ids": [1, 2, 9], "response_length": 2, "valid": True, "zc_log_prob": -13.0,
         "ref_zc_log_prob": None, "score": 1.0, "reward": 1.0},
        {"step": 2, "input_ids": [3, 4], "response_length": 1, "valid": False, "zc_log_prob": None,
         "ref_zc_log_prob": None, "score": None, "reward": 0.0},
    ]  # fmt: skip
