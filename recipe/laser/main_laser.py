"""Entry point: ``python -m recipe.laser.main_laser <hydra overrides>`` (run_laser.sh calls it).

Hydra composes ``config/laser_trainer.yaml`` (verl's ``ppo_trainer`` plus the recipe's delta); the
run itself is verl's own ``verl.trainer.main_ppo.main`` body, unchanged: device selection, config
validation, then ``run_ppo`` with verl's v1 or legacy task runner (``trainer.use_v1``).
"""

import hydra

from verl.trainer import main_ppo


@hydra.main(config_path="config", config_name="laser_trainer", version_base=None)
def main(config):
    # verl's main is itself wrapped by hydra.main (for verl's own config path); __wrapped__ is the
    # undecorated function, so the recipe reuses it instead of copying it.
    main_ppo.main.__wrapped__(config)


if __name__ == "__main__":
    main()
