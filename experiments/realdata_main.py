"""Launcher of the real-data experiments (issue 5).

  python -m experiments.realdata_main \
      --config=experiments/configs/stereo_middlebury.py \
      --workdir=runs/stereo_middlebury
"""

from absl import app, flags, logging
from ml_collections import config_flags

from ndc_jax import realdata_experiment

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file (with an optional :arg).",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the results.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  rows = realdata_experiment.train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  print(realdata_experiment.format_table(rows, _CONFIG.value.claim.metric))
  print(f"results written to {_WORKDIR.value}")


if __name__ == "__main__":
  app.run(main)
