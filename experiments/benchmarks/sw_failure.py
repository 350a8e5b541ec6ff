"""Slepian-Wolf failure rate with the decoder's true y, beside the rate paid.

For each grid point of a conditional arm, draws `blocks` independent blocks
of `block` test pairs (x, y) from the source, codes each block as its own
`.ndc` file with the encoder's failure limit, decodes it with the true y and
counts the blocks that fail to decode (every failure is detected: the
block's and the file's CRC-32s). Prints per grid point
  verify            the encoder's --sw_verify;
  raw_planes        planes per file the encoder found off the code
                    families' fits and sent raw (`slepian_wolf.calibrate`),
                    mean over the files;
  blocks, fails     blocks coded and blocks that failed to decode;
  fail_rate         fails / blocks, and fail_ub95 its 95% upper bound
                    (Clopper-Pearson; 3/blocks when no block failed);
  stated            the encoder's mean stated failure probability per block
                    (`api.compress_with_info`'s sw_block_failures), limit;
  est_bits          −mean log2 q(u|y) of the float model (bits per sample);
  sw_bits           the blocks' Slepian-Wolf payload, without the file
                    header, per sample, and rate_cost = sw_bits / est_bits
                    − 1 (what the code pays above H(U|Y), the block's CRC
                    and plane lengths included);
  enc_Msym/s, dec_Msym/s  Slepian-Wolf coding alone, indices per second.
Run on one core:

  taskset -c 0 python -m experiments.benchmarks.sw_failure \
      --workdir=runs/wyner_ziv --arm=gaussian_conditional --lmbda_index=1 \
      --blocks=1000 --block=10000
"""

import time

import jax
import numpy as np
import scipy.stats
from absl import app, flags

from ndc_jax.codec import api as codec
from ndc_jax.codec import container
from ndc_jax.core import tables

COLUMNS = ("lmbda", "verify", "raw_planes", "block", "blocks", "fails",
           "fail_rate", "fail_ub95", "stated", "limit", "est_bits", "sw_bits", "rate_cost",
           "enc_Msym/s", "dec_Msym/s")


def upper_bound(fails: int, blocks: int, level: float = 0.95) -> float:
  """One-sided Clopper-Pearson upper bound on a failure probability."""
  if fails >= blocks:
    return 1.0
  return float(scipy.stats.beta.ppf(level, fails + 1, blocks - fails))


def measure(model: codec.Model, blocks: int, block: int, seed: int = 7,
            max_failure: float = codec.SW_MAX_FAILURE,
            verify: bool | None = None) -> dict:
  """One row: `blocks` files of `block` pairs each, coded and decoded."""
  if blocks < 1:
    raise ValueError(f"blocks={blocks} is invalid; allowed: at least 1")
  fails = undetected = payload = raw_planes = 0
  stated, est, t_enc, t_dec = [], 0.0, 0.0, 0.0
  for b in range(blocks):
    x, y = (np.asarray(a) for a in model.source.sample(
        jax.random.fold_in(jax.random.key(seed), b), block))
    t0 = time.perf_counter()
    data, info = codec.compress_with_info(model, x, "slepian_wolf",
                                          sw_block=block,
                                          sw_max_failure=max_failure,
                                          sw_verify=verify)
    t_enc += time.perf_counter() - t0 - info["encoder_seconds"]
    stated.append(float(info["sw_block_failures"].sum()))
    raw_planes += int(info["sw_raw_planes"].sum())
    payload += len(data) - container.HEADER_BYTES
    est += float(codec.information_bits(model, info["u"], y).sum())
    t0 = time.perf_counter()
    try:
      u = codec.decompress_indices(model, data, y)
      undetected += int(not np.array_equal(u, info["u"]))
    except codec.DecodingError:
      fails += 1
    t_dec += time.perf_counter() - t0
  n = blocks * block * model.dim
  est_bits, sw_bits = est / n, 8 * payload / n
  if undetected:
    raise AssertionError(f"{undetected} blocks decoded to wrong indices "
                         "without an error")
  return {"lmbda": model.lmbda,
          "verify": codec.SW_VERIFY if verify is None else verify,
          "raw_planes": raw_planes / blocks,
          "block": block, "blocks": blocks,
          "fails": fails, "fail_rate": fails / blocks,
          "fail_ub95": upper_bound(fails, blocks),
          "stated": float(np.mean(stated)), "limit": max_failure,
          "est_bits": est_bits, "sw_bits": sw_bits,
          "rate_cost": sw_bits / est_bits - 1,
          "enc_Msym/s": blocks * block / t_enc / 1e6,
          "dec_Msym/s": blocks * block / t_dec / 1e6}


def format_table(rows: list[dict], header: bool = True) -> str:
  """Fixed-width text; bits per scalar sample, million indices/s."""
  return tables.format_table(rows, COLUMNS, 11, header)


def _define_flags() -> dict:
  """The command's flags, defined only when it runs as a program (the tests
  import this module beside the codec CLI, which has its own --workdir)."""
  return {
      "workdir": flags.DEFINE_string("workdir", None, "Trained models."),
      "arm": flags.DEFINE_string("arm", "gaussian_conditional",
                                 "A conditional arm."),
      "lmbda_index": flags.DEFINE_list("lmbda_index", ["1"], "Grid points."),
      "blocks": flags.DEFINE_integer("blocks", 1000, "Blocks per grid point."),
      "block": flags.DEFINE_integer("block", codec.SW_BLOCK,
                                    "Indices per block."),
      "max_failure": flags.DEFINE_float("max_failure", codec.SW_MAX_FAILURE,
                                        "The encoder's limit per block."),
      "verify": flags.DEFINE_bool("verify", codec.SW_VERIFY, "The encoder "
                                  "also decodes with its simulated side "
                                  "information."),
  }


def main(argv, f: dict):
  del argv
  for i, index in enumerate(f["lmbda_index"].value):
    model = codec.load(f["workdir"].value, f["arm"].value, int(index))
    row = measure(model, f["blocks"].value, f["block"].value,
                  max_failure=f["max_failure"].value,
                  verify=f["verify"].value)
    print(format_table([row], header=i == 0), flush=True)


if __name__ == "__main__":
  _FLAGS = _define_flags()
  flags.mark_flags_as_required(["workdir"])
  app.run(lambda argv: main(argv, _FLAGS))
