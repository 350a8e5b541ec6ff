"""Codec CLI: a trained Wyner-Ziv model as a file compressor.

  python -m experiments.codec_main compress --workdir=runs/wyner_ziv \
      --arm=gaussian_marginal --lmbda_index=2 --mode=marginal \
      --input=x.npy --output=x.ndc
  python -m experiments.codec_main decompress --workdir=runs/wyner_ziv \
      --arm=gaussian_marginal --lmbda_index=2 --input=x.ndc \
      --side_info=y.npy --output=x_hat.npy
  taskset -c 0 python -m experiments.codec_main bench \
      --workdir=runs/wyner_ziv --num_samples=100000 --sw_samples=100000
  python -m experiments.codec_main thresholds --workdir=runs/wyner_ziv \
      --arm=gaussian_conditional --sw_samples=30000

`thresholds` prints the fewest syndrome bits with which BP decodes each
Slepian-Wolf bit-plane (`benchmarks/sw_threshold.py`).

Modes: marginal (q(u), distributed), conditional (q(u|y) at both ends: give
--side_info to compress too), slepian_wolf (LDPC syndromes, distributed).
x and y are .npy arrays [N, n] (or [N] for n = 1).
"""

import io
import json
import os
import sys

import numpy as np
from absl import app, flags

from experiments.benchmarks import codec_bench, sw_threshold
from ndc_jax.codec import api as codec
from ndc_jax.core import results

_WORKDIR = flags.DEFINE_string("workdir", None, "Trained models (see main).")
_ARM = flags.DEFINE_string("arm", None, "Arm of the workdir; for bench a comma"
                           " list (default: all arms).")
_LMBDA_INDEX = flags.DEFINE_integer("lmbda_index", 0, "Grid point of the "
                                    "arm's λ × seed sweep.")
_MODE = flags.DEFINE_enum("mode", None, list(codec.MODES), "Coding mode "
                          "(default: the rate model's own).")
_INPUT = flags.DEFINE_string("input", None, "x .npy (compress) or .ndc file.")
_OUTPUT = flags.DEFINE_string("output", None, ".ndc file or x̂ .npy.")
_SIDE_INFO = flags.DEFINE_string("side_info", None, "y .npy (decompress; "
                                 "compress in conditional mode).")
_SW_BLOCK = flags.DEFINE_integer("sw_block", codec.SW_BLOCK, "Slepian-Wolf "
                                 "block length in indices.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 100_000, "bench: test "
                                    "samples for the ANS modes.")
_SW_SAMPLES = flags.DEFINE_integer("sw_samples", 100_000, "bench, "
                                   "thresholds: test samples for "
                                   "Slepian-Wolf.")
_BENCH_LMBDAS = flags.DEFINE_list("bench_lmbdas", [], "bench: the grid "
                                   "points (as --lmbda_index) to run; "
                                   "default all.")
_BENCH_OUT = flags.DEFINE_string("bench_output", None, "bench, thresholds: "
                                 "also write the rows as JSON lines here.")
COMMANDS = ("compress", "decompress", "bench", "thresholds")


def _need(*fl):
  missing = [f.name for f in fl if f.value is None]
  if missing:
    raise app.UsageError(f"missing flags: {', '.join('--' + m for m in missing)}")


def _load_npy(path: str) -> np.ndarray:
  try:
    return np.load(path, allow_pickle=False)
  except (OSError, ValueError) as e:
    raise ValueError(f"cannot read {path} as a .npy array: {e}") from None


def _model() -> codec.Model:
  _need(_WORKDIR, _ARM)
  return codec.load(_WORKDIR.value, _ARM.value, _LMBDA_INDEX.value)


def _compress():
  _need(_INPUT, _OUTPUT)
  model = _model()
  y = _load_npy(_SIDE_INFO.value) if _SIDE_INFO.value else None
  data = codec.compress(model, _load_npy(_INPUT.value), _MODE.value, y=y,
                        sw_block=_SW_BLOCK.value)
  results.atomic_write(_OUTPUT.value, data)
  print(f"{_OUTPUT.value}: {len(data)} bytes")


def _decompress():
  _need(_INPUT, _OUTPUT, _SIDE_INFO)
  model = _model()
  with open(_INPUT.value, "rb") as f:
    data = f.read()
  x_hat = codec.decompress(model, data, _load_npy(_SIDE_INFO.value))
  buf = io.BytesIO()
  np.save(buf, x_hat)
  results.atomic_write(_OUTPUT.value, buf.getvalue())
  print(f"{_OUTPUT.value}: x̂ {x_hat.shape}")


def _bench():
  _need(_WORKDIR)
  if _ARM.value:
    arms = _ARM.value.split(",")
  else:
    with open(os.path.join(_WORKDIR.value, "config.json")) as f:
      arms = list(json.load(f)["config"]["arms"])
  try:
    picked = [int(i) for i in _BENCH_LMBDAS.value] or None
  except ValueError:
    raise app.UsageError(f"--bench_lmbdas={_BENCH_LMBDAS.value} must be grid "
                         "point numbers (integers)") from None
  rows = codec_bench.run(_WORKDIR.value, arms, _NUM_SAMPLES.value,
                         _SW_SAMPLES.value, _SW_BLOCK.value,
                         lmbda_indices=picked)
  print(codec_bench.format_table(rows))
  if _BENCH_OUT.value:
    results.write_jsonl(_BENCH_OUT.value, rows)


def _thresholds():
  _need(_WORKDIR, _ARM)
  rows = sw_threshold.run(_WORKDIR.value, _ARM.value, _SW_SAMPLES.value,
                          _SW_BLOCK.value)
  if _BENCH_OUT.value:
    results.write_jsonl(_BENCH_OUT.value, rows)


def main(argv):
  if len(argv) != 2 or argv[1] not in COMMANDS:
    raise app.UsageError(f"give one command, one of {COMMANDS}; got "
                         f"{argv[1:]}")
  try:
    {"compress": _compress, "decompress": _decompress,
     "bench": _bench, "thresholds": _thresholds}[argv[1]]()
  except (ValueError, codec.DecodingError, OSError) as e:
    sys.exit(f"error: {e}")


if __name__ == "__main__":
  app.run(main)
