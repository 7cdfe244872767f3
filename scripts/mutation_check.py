# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Break the code on purpose, one place at a time, and check that the test which names that behaviour
fails: the LaSeR math, the verifier and the judge, multiple choice, the refusals, resume and the
evaluation's within-problem figure.

    .venv/bin/python scripts/mutation_check.py            # all mutations (10 to 13 minutes on 2 cores)
    .venv/bin/python scripts/mutation_check.py -k blend   # those whose name contains "blend"
    .venv/bin/python scripts/mutation_check.py -k e2e     # the end-to-end one only (7 to 11 minutes)

Each mutation replaces one line of the product and runs the tests that cover it (unit tests, or an
end-to-end test); the file is restored afterwards whatever happens. Prints CAUGHT or MISSED per
mutation and exits 1 if any was missed or its line is no longer in the file (then the list below
needs updating with the code).
Not part of the test suite: it edits the working tree while it runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent

# (name, file, the line as it is, the line broken, the tests that must fail)
MUTATIONS = (
    ("r_s adds c_ref", "recipe/laser/core_algos.py", "return beta_v * (zc_log_prob - c_ref)",
     "return beta_v * (zc_log_prob + c_ref)", "tests/recipe/laser/test_core_algos.py"),
    ("class weights swapped", "recipe/laser/core_algos.py",
     "member * w_c + (1 - member) * w_i", "member * w_i + (1 - member) * w_c", "tests/recipe/laser/test_core_algos.py"),
    ("rewards outside [0, 1] accepted", "recipe/laser/core_algos.py", "check_verifier_reward(verifier_reward, valid)",
     "None", "tests/recipe/laser/test_core_algos.py"),
    ("MSE weights ignore the mini-batches", "recipe/laser/core_algos.py",
     "return w / valid.sum().clamp(min=1).to(w.dtype) * num_minibatches",
     "return w / valid.sum().clamp(min=1).to(w.dtype)", "tests/recipe/laser/test_core_algos.py"),
    ("A_self without clipping r_s", "recipe/laser/core_algos.py", "s = score.clamp(0.0, 1.0)", "s = score",
     "tests/recipe/laser/test_core_algos.py"),
    ("A_self with the population std", "recipe/laser/core_algos.py",
     "std = torch.sqrt(sq / (count - 1).clamp(min=1))", "std = torch.sqrt(sq / count.clamp(min=1))",
     "tests/recipe/laser/test_core_algos.py"),
    ("blend weights flipped", "recipe/laser/core_algos.py",
     "blended = (1.0 - tau) * verifier_adv + tau * self_adv.to(verifier_adv.dtype)",
     "blended = tau * verifier_adv + (1.0 - tau) * self_adv.to(verifier_adv.dtype)",
     "tests/recipe/laser/test_core_algos.py"),
    ("BCE without its wrong-answer term", "recipe/laser/core_algos.py", "nll = -(r * lp + (1 - r) * log_not)",
     "nll = -(r * lp)", "tests/recipe/laser/test_core_algos.py"),
    ("the first box instead of the last", "recipe/laser/verifier/answers.py",
     "return spans[-1][2] if spans else None", "return spans[0][2] if spans else None", "tests/recipe/laser/verifier"),
    ("trainer_mode refusal removed", "recipe/laser/launch.py",
     'yield f"trainer.v1.trainer_mode={config.trainer.v1.trainer_mode}: LaSeR needs trainer_mode=laser"',
     "pass", "tests/recipe/laser/test_launch.py"),
    ("resume: a c_ref record of another model accepted", "recipe/laser/c_ref_record.py",
     "mismatched = {k: (state.get(k), v) for k, v in identity.items() if state.get(k) != v}", "mismatched = {}",
     "tests/recipe/laser/test_trainer.py"),
    # end to end: verl's trainer killed after step 2 and resumed
    ("resume e2e: c_ref measured again instead of read", "recipe/laser/trainer.py",
     "self.c_ref = c_ref_record.load(self._c_ref_path(), self._c_ref_identity())", "self.c_ref = None",
     "tests/e2e/test_resume.py"),
    ("resume: metrics of steps after the checkpoint kept", "verl_patches/file_logger.py",
     'keep = int(record["step"]) <= step', "keep = True", "tests/verl_patches/test_file_logger.py"),
    ("judge: the first decision instead of the last", "recipe/laser/verifier/judge.py",
     'found[-1].lower() == "yes"', 'found[0].lower() == "yes"',
     "tests/recipe/laser/verifier/test_judge.py::test_parse_decision"),
    ("judge: a reply without a decision read as No", "recipe/laser/verifier/judge.py",
     "        if decision is None:\n", "        if False:\n",
     "tests/recipe/laser/verifier/test_judge.py::test_a_reply_without_a_decision_is_counted_not_silent"),
    ("judge: an unreachable judge scores 0 instead of stopping the run", "recipe/laser/verifier/judge.py",
     "if refused == max_tries:", "if False:",
     "tests/recipe/laser/verifier/test_judge.py::test_an_unreachable_judge_is_an_unavailable_judge_named_with_its_url"),
    ("judge: the trainer trains on through an unusable judge", "recipe/laser/trainer.py",
     "    if unusable is not None:\n", "    if False:\n",
     "tests/recipe/laser/test_trainer.py::test_reward_metrics_count_dropped_responses_and_stop_on_an_unusable_judge"),
    ("multiple choice: a letter with another option's text accepted", "recipe/laser/verifier/answers.py",
     "if not rest or normalize_answer(rest) == normalize_answer(options[letters.index(letter)]):", "if True:",
     "tests/recipe/laser/verifier/test_multiple_choice.py"),
    ("GPQA: the ground truth letter not following the shuffled correct answer", "data_prep/prepare_general.py",
     "OPTION_LETTERS[options.index(correct)]", "OPTION_LETTERS[0]", "tests/data_prep/test_prepare_general.py"),
    ("within-problem AUROC over all pairs", "recipe/laser/evaluation/metrics.py",
     "torch.as_tensor(scored), torch.as_tensor(group)\n", "torch.as_tensor(scored)\n",
     "tests/recipe/laser/evaluation/test_evaluate.py::test_report_metrics_by_hand_and_compare"),
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    args = parser.parse_args(argv)
    bad = 0
    for name, rel, line, broken, tests in MUTATIONS:
        if args.k not in name:
            continue
        path = REPO_DIR / rel
        original = path.read_text()
        if original.count(line) != 1:
            print(f"STALE  {name}: the line is {original.count(line)} times in {rel}; update MUTATIONS")
            bad += 1
            continue
        try:
            path.write_text(original.replace(line, broken))
            command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests.split()]
            proc = subprocess.run(command, cwd=REPO_DIR, capture_output=True, text=True, timeout=1200)
        finally:
            path.write_text(original)
        summary = next((x for x in reversed(proc.stdout.splitlines()) if " in " in x and "passed" in x
                        or "failed" in x), "")  # fmt: skip
        if proc.returncode in (4, 5):  # pytest: a test id not found, or no test collected
            print(f"STALE  {name}: pytest found no test {tests!r} (rc={proc.returncode}); update MUTATIONS")
            bad += 1
            continue
        caught = proc.returncode != 0
        bad += not caught
        print(f"{'CAUGHT' if caught else 'MISSED'} {name}: {tests}: {summary.strip('= ')}", flush=True)
        # what failed first: pytest's first "E " line, so a failure for another reason shows
        reason = next((x for x in proc.stdout.splitlines() if x.startswith("E ")), "")
        if caught and reason:
            print(f"       {reason[:200]}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
