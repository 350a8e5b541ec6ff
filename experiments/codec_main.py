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
x and y are .npy arrays [N, n] (or [N] for n = 1) of real numbers. Every
input is checked before anything is written (a .npy header against the
bytes present, an .ndc file against its own header); an output path that
names an input is refused; outputs are written atomically with the mode the
umask gives.
"""

import io
import json
import os
import stat
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
                                 "block length in indices (at least "
                                 f"{codec.SW_MIN_BLOCK}).")
_SW_MAX_FAILURE = flags.DEFINE_float(
    "sw_max_failure", codec.SW_MAX_FAILURE, "Slepian-Wolf: the encoder's "
    "limit on a block's failure probability with the decoder's y.")
_SW_VERIFY = flags.DEFINE_bool(
    "sw_verify", codec.SW_VERIFY, "Slepian-Wolf: the encoder also decodes "
    "with its simulated side information and adds checks where BP stalls "
    "(~20x slower).")
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


def _regular_file(flag: str, path: str) -> int:
  """The size in bytes of the regular file `path` given as --flag."""
  try:
    st = os.stat(path)
  except OSError as e:
    raise ValueError(f"--{flag}={path}: cannot read it ({e.strerror})"
                     ) from None
  if not stat.S_ISREG(st.st_mode):
    raise ValueError(f"--{flag}={path} is not a regular file (a device, "
                     "pipe or folder); allowed: a file")
  return st.st_size


def _load_npy(flag: str, path: str) -> np.ndarray:
  """A real-valued .npy array from --flag=path, its header checked against
  the bytes present before any allocation."""
  size = _regular_file(flag, path)
  where = f"--{flag}={path}"
  if size == 0:
    raise ValueError(f"{where} is empty (0 bytes); allowed: a .npy array "
                     "as np.save writes it")
  with open(path, "rb") as f:
    head = f.read(6)
    if head[:2] == b"PK":
      raise ValueError(f"{where} is a .npz archive; allowed: one .npy "
                       "array (np.save, not np.savez)")
    if head != b"\x93NUMPY":
      raise ValueError(f"{where} is not a .npy file (it starts with "
                       f"{head!r}, a .npy file with b'\\x93NUMPY'); text "
                       "and other formats are not read")
    f.seek(0)
    try:
      version = np.lib.format.read_magic(f)
      read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
              else np.lib.format.read_array_header_2_0)
      shape, fortran, dtype = read(f)
    except (ValueError, SyntaxError, EOFError, TypeError) as e:
      raise ValueError(f"{where} has a broken .npy header: {e}") from None
    if (dtype.hasobject or not np.issubdtype(dtype, np.number)
        or np.issubdtype(dtype, np.complexfloating)):
      raise ValueError(f"{where} holds dtype {dtype}; allowed: real numbers "
                       "(integer or float)")
    count = int(np.prod(shape, dtype=object))
    present = size - f.tell()
    if count * dtype.itemsize != present:
      raise ValueError(
          f"{where}: its header announces shape {shape} of {dtype} "
          f"({count * dtype.itemsize} bytes) but {present} bytes follow it")
    a = np.fromfile(f, dtype=dtype, count=count)
  return a.reshape(shape, order="F" if fortran else "C")


def _write_output(path: str, data: bytes) -> None:
  """Atomic write (temp file, rename), with the mode the umask gives."""
  results.atomic_write(path, data)


def _check_output(*inputs: str | None) -> None:
  """Refuses an --output that names one of the input files."""
  out = os.path.realpath(_OUTPUT.value)
  for name in inputs:
    flag = flags.FLAGS[name]
    if flag.value and os.path.realpath(flag.value) == out:
      raise ValueError(f"--output={_OUTPUT.value} is the --{name} file; "
                       "allowed: another path (the input would be "
                       "overwritten)")


def _check_sw_block() -> None:
  if not codec.SW_MIN_BLOCK <= _SW_BLOCK.value < 2**32:
    raise ValueError(
        f"--sw_block={_SW_BLOCK.value} is invalid; allowed: "
        f"{codec.SW_MIN_BLOCK} (the shortest Slepian-Wolf block the encoder "
        f"serves) to {2**32 - 1} indices")
  if not 0 < _SW_MAX_FAILURE.value < 1:
    raise ValueError(f"--sw_max_failure={_SW_MAX_FAILURE.value} is invalid; "
                     "allowed: a probability strictly between 0 and 1")


def _check_counts(*pairs) -> None:
  """Refuses each (flag, least) whose value is below `least`."""
  for flag, least, what in pairs:
    if flag.value < least:
      raise ValueError(f"--{flag.name}={flag.value} is invalid; allowed: at "
                       f"least {least} ({what})")


def _model() -> codec.Model:
  _need(_WORKDIR, _ARM)
  return codec.load(_WORKDIR.value, _ARM.value, _LMBDA_INDEX.value)


def _compress():
  _need(_INPUT, _OUTPUT)
  _check_output("input", "side_info")
  _check_sw_block()
  x = _load_npy("input", _INPUT.value)
  y = _load_npy("side_info", _SIDE_INFO.value) if _SIDE_INFO.value else None
  model = _model()
  data, info = codec.compress_with_info(
      model, x, _MODE.value, y=y, sw_block=_SW_BLOCK.value,
      sw_max_failure=_SW_MAX_FAILURE.value, sw_verify=_SW_VERIFY.value)
  _write_output(_OUTPUT.value, data)
  print(f"{_OUTPUT.value}: {len(data)} bytes")
  if "sw_block_failures" in info:
    fails = info["sw_block_failures"]
    print(f"Slepian-Wolf: {fails.size} blocks, failure probability per "
          f"block at most {fails.max():.3g} (limit {_SW_MAX_FAILURE.value:g}"
          f"), for the file {min(fails.sum(), 1.0):.3g}")


def _decompress():
  _need(_INPUT, _OUTPUT, _SIDE_INFO)
  _check_output("input", "side_info")
  _regular_file("input", _INPUT.value)
  y = _load_npy("side_info", _SIDE_INFO.value)
  model = _model()
  with open(_INPUT.value, "rb") as f:
    data = f.read()
  x_hat = codec.decompress(model, data, y)
  buf = io.BytesIO()
  np.save(buf, x_hat)
  _write_output(_OUTPUT.value, buf.getvalue())
  print(f"{_OUTPUT.value}: x̂ {x_hat.shape}")


def _bench():
  _need(_WORKDIR)
  _check_sw_block()
  _check_counts((_NUM_SAMPLES, 1, "test samples for the ANS modes"),
                (_SW_SAMPLES, codec.SW_MIN_BLOCK, "one Slepian-Wolf block"))
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
    _write_output(_BENCH_OUT.value, _jsonl(rows))


def _jsonl(rows) -> bytes:
  return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode()


def _thresholds():
  _need(_WORKDIR, _ARM)
  _check_sw_block()
  _check_counts((_SW_SAMPLES, codec.SW_MIN_BLOCK, "one Slepian-Wolf block"))
  rows = sw_threshold.run(_WORKDIR.value, _ARM.value, _SW_SAMPLES.value,
                          _SW_BLOCK.value)
  if _BENCH_OUT.value:
    _write_output(_BENCH_OUT.value, _jsonl(rows))


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
