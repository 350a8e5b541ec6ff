"""The job registry: `config.job` names the package that runs a config.

JOBS maps a job's name to a constructor of its `job` module, imported on
first use, so that naming a job loads only that job. Every job module offers
`train_and_evaluate(config, workdir, mesh=None) -> rows` and
`format_table(rows, config) -> str`; the Wyner-Ziv job also `load_arm`, the
trained models the codec codes with.
"""

import importlib
import json
import os
from types import ModuleType

import ml_collections

from ndc_jax.core import registry


def _module(name: str):
  return lambda: importlib.import_module(f"ndc_jax.{name}.job")


JOBS = {name: _module(name) for name in ("wyner_ziv", "multisource",
                                         "realdata", "stereo")}


def get(config: ml_collections.ConfigDict) -> ModuleType:
  """The job module that runs `config` (by its required field `job`)."""
  return registry.lookup(JOBS, config.get("job"), "config.job")()


def read_config(workdir: str) -> ml_collections.ConfigDict:
  """The config a run left in `workdir/config.json`."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise ValueError(f"{path} does not exist: {workdir!r} is not a workdir "
                     "of a finished or started run")
  with open(path) as f:
    return ml_collections.ConfigDict(json.load(f)["config"])


def load_arm(workdir: str, arm: str):
  """Arm `arm` of the run in `workdir`, model only (see its job's
  `load_arm`); only jobs whose models the codec codes have one."""
  config = read_config(workdir)
  job = get(config)
  if not hasattr(job, "load_arm"):
    raise ValueError(f"{workdir} holds a {config.job!r} run; the codec codes "
                     "the models of 'wyner_ziv' runs only")
  return job.load_arm(config, workdir, arm)
