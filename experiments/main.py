"""Launcher: trains and evaluates the arms of a config, writes results.

  python -m experiments.main --config=experiments/configs/wyner_ziv.py \
      --workdir=runs/wyner_ziv
  python -m experiments.main --config=experiments/configs/multisource_gaussian.py \
      --workdir=runs/multisource_gaussian
  python -m experiments.main --config=experiments/configs/stereo_middlebury.py \
      --workdir=runs/stereo_middlebury

The config's required field `job` names the job that runs it (a key of
`ndc_jax.jobs.JOBS`). `--mesh` lays the sweep over devices; `--distributed`
joins a multi-host job first (only process 0 writes results). On a CPU
`--cpu_devices=-1` makes each core a device, so a small-batch sweep's shares
train at once. The console script `ndc train` runs the same function.

A config, flag or input file the job refuses (a ValueError: the jobs' checks
name the field, the value and what is allowed) ends the launcher with that
one-line message on stderr and exit status 2, before anything trains;
`--verbosity=1` adds the traceback.
"""

import sys

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from experiments import device_flags
from ndc_jax import jobs
from ndc_jax.core import sharding

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file (with an optional :arg).",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the results.")
_DISTRIBUTED = flags.DEFINE_bool(
    "distributed", False, "Join a multi-host job (jax.distributed) first.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None,
    "host:port of process 0 (omit on SLURM / Cloud TPU / Open MPI).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None,
                                      "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None,
                                   "This process's index.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  logging.set_verbosity(max(logging.get_verbosity(), logging.INFO))
  if not _WORKDIR.value.strip():
    raise app.UsageError(f"--workdir={_WORKDIR.value!r} is empty; give a "
                         "folder for the results")
  config = _CONFIG.value
  try:
    job = jobs.get(config)  # an unknown job fails before any device set-up
    device_flags.split_cpu()
    if _DISTRIBUTED.value:
      sharding.distributed_init(_COORDINATOR.value, _NUM_PROCESSES.value,
                                _PROCESS_ID.value)
    rows = job.train_and_evaluate(config, _WORKDIR.value,
                                  mesh=device_flags.mesh())
  except ValueError as e:
    logging.debug("refused", exc_info=True)
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  if jax.process_index() == 0:
    print(job.format_table(rows, config))
    print(f"results written to {_WORKDIR.value}")


if __name__ == "__main__":
  app.run(main)
