"""Launcher of the multi-source experiments (issue 4).

  python -m experiments.multisource_main \
      --config=experiments/configs/multisource_gaussian.py \
      --workdir=runs/multisource_gaussian
"""

from absl import app, flags, logging
from ml_collections import config_flags

from ndc_jax import multisource_experiment

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file (with an optional :arg).",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the results.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  rows = multisource_experiment.train_and_evaluate(_CONFIG.value,
                                                   _WORKDIR.value)
  print(multisource_experiment.format_table(rows))
  print(f"results written to {_WORKDIR.value}")


if __name__ == "__main__":
  app.run(main)
