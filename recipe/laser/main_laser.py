"""Entry point: ``python -m recipe.laser.main_laser <hydra overrides>`` (run_laser.sh calls it).

Hydra composes ``config/laser_trainer.yaml`` (verl's ``ppo_trainer`` plus the recipe's delta). The
recipe's trainer (``recipe.laser.trainer``, registered as v1 trainer mode "laser") is imported in
every verl process through verl's plugin variable ``VERL_USE_EXTERNAL_MODULES``; the run itself is
verl's own ``verl.trainer.main_ppo.main`` body, unchanged.
"""

import os

import hydra
from omegaconf import open_dict

from recipe.laser.config import LaSeRConfig, LaSeRConfigError

TRAINER_MODULE = "recipe.laser.trainer"


def prepare_config(config) -> LaSeRConfig:
    """Validate the laser block and the combinations verl would only reject deep inside a worker."""
    laser = LaSeRConfig.from_config(config.get("laser"))
    if not laser.enable:
        return laser
    if not config.trainer.use_v1:
        raise LaSeRConfigError(
            "laser.enable=true needs verl's v1 trainer (trainer.use_v1=True): the recipe's z_c insertion and "
            "advantage blending are step methods of the v1 trainer (see README, 'Which verl trainer')"
        )
    if config.trainer.v1.trainer_mode != "laser":
        raise LaSeRConfigError(f"laser.enable=true needs trainer.v1.trainer_mode=laser, not {config.trainer.v1.trainer_mode}")
    if laser.c_ref_mode == "exact" and not (
        config.actor_rollout_ref.actor.use_kl_loss or config.algorithm.get("use_kl_in_reward", False)
    ):
        # verl starts the reference worker only for a KL term; a zero-weight KL loss asks for it.
        with open_dict(config):
            config.actor_rollout_ref.actor.use_kl_loss = True
            config.actor_rollout_ref.actor.kl_loss_coef = 0.0
        print("[laser] c_ref=exact: reference worker enabled (actor.use_kl_loss=True, kl_loss_coef=0.0)")
    return laser


@hydra.main(config_path="config", config_name="laser_trainer", version_base=None)
def main(config):
    prepare_config(config)
    modules = [m for m in os.environ.get("VERL_USE_EXTERNAL_MODULES", "").split(",") if m]
    if TRAINER_MODULE not in modules:
        # read by `import verl` in each Ray process (the driver has imported verl already)
        os.environ["VERL_USE_EXTERNAL_MODULES"] = ",".join([*modules, TRAINER_MODULE])
    from verl.trainer import main_ppo

    # verl's main is wrapped by hydra.main for verl's own config path; __wrapped__ is the
    # undecorated function, so the recipe reuses it instead of copying it.
    main_ppo.main.__wrapped__(config)


if __name__ == "__main__":
    main()
