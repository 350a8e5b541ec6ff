"""The `ndc` console script: one entry point for the launcher and the codec.

  ndc train --config=experiments/configs/wyner_ziv.py --workdir=runs/wyner_ziv
  ndc compress --workdir=runs/wyner_ziv --arm=gaussian_marginal \
      --lmbda_index=2 --mode=marginal --input=x.npy --output=x.ndc
  ndc decompress|bench|thresholds ...   (flags as experiments/codec_main.py)

`ndc train ...` is `python -m experiments.main ...`; the other commands are
`python -m experiments.codec_main COMMAND ...`. Only the command's module is
imported, so each command sees only its own flags.
"""

import importlib
import sys

from absl import app

from ndc_jax.core import registry

COMMANDS = {"train": "experiments.main", "compress": "experiments.codec_main",
            "decompress": "experiments.codec_main",
            "bench": "experiments.codec_main",
            "thresholds": "experiments.codec_main"}


def main() -> None:
  command = sys.argv[1] if len(sys.argv) > 1 else None
  try:
    module = registry.lookup(COMMANDS, command, "the ndc command")
  except ValueError as e:
    sys.exit(f"usage: ndc COMMAND [--flags]\nerror: {e}")
  rest = sys.argv[2:]
  argv = ([f"ndc {command}", *rest] if command == "train"
          else ["ndc", command, *rest])
  app.run(importlib.import_module(module).main, argv=argv)


if __name__ == "__main__":
  main()
