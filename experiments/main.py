"""Launcher: trains and evaluates the arms of a config, writes results.

  python -m experiments.main --config=experiments/configs/wyner_ziv.py \
      --workdir=runs/wyner_ziv
  python -m experiments.main --config=experiments/configs/multisource_gaussian.py \
      --workdir=runs/multisource_gaussian

  python -m experiments.main --config=experiments/configs/stereo_middlebury.py \
      --workdir=runs/stereo_middlebury

A config with a `data` section runs the real-data job, one whose arms have
`kind = "multisource"` the multi-source job, any other the Wyner-Ziv job. `--mesh` lays the sweep over devices; `--distributed` joins a
multi-host job first (only process 0 writes results). On a CPU
`--cpu_devices=-1` makes each core a device, so a small-batch sweep's shares
train at once.
"""

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from experiments import device_flags
from ndc_jax import (experiment, multisource_experiment, realdata_experiment,
                     sharding)

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
  logging.set_verbosity(logging.INFO)
  device_flags.split_cpu()
  if _DISTRIBUTED.value:
    sharding.distributed_init(_COORDINATOR.value, _NUM_PROCESSES.value,
                              _PROCESS_ID.value)
  config, mesh = _CONFIG.value, device_flags.mesh()
  if "data" in config:
    rows = realdata_experiment.train_and_evaluate(config, _WORKDIR.value,
                                                  mesh=mesh)
    table = realdata_experiment.format_table(rows, config.claim.metric)
  else:
    job = (multisource_experiment if any(
        a.get("kind") == "multisource" for a in config.arms.values())
           else experiment)
    rows = job.train_and_evaluate(config, _WORKDIR.value, mesh=mesh)
    table = job.format_table(rows)
  if jax.process_index() == 0:
    print(table)
    print(f"results written to {_WORKDIR.value}")


if __name__ == "__main__":
  app.run(main)
