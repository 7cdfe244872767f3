# The laser.* overrides, shared by every preset (sourced after the preset sets its variables).
LASER_ARGS=(
    laser.enable=$LASER
    laser.alpha=$ALPHA
    laser.beta_v=$BETA_V
    laser.c_ref=$C_REF
    laser.tau=$TAU
    laser.std_threshold=$STD_THRESHOLD
    laser.reasoning_warmup_steps=$REASONING_WARMUP
    laser.self_reward_warmup_steps=$SELF_REWARD_WARMUP
)
