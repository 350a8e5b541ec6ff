"""Slepian-Wolf code thresholds: how many syndrome bits belief propagation needs.

For every λ of a conditional arm, cuts a test set drawn from the source (x and
the decoder's y) into blocks and, for each bit-plane of each block that BP
has to decode, prints
  info_bits   e = −Σ log2 P(b | y, lower planes): the plane's rate given y;
  thr_checks  the fewest syndrome bits with which BP recovers the plane
              (`slepian_wolf.decoding_threshold`, bisection to 0.5% of e);
  thr_ratio   thr_checks / e: the code's gap at this block length;
  first       `slepian_wolf.num_checks(N, e)`: the encoder's first rate for
              a known e (σ = 0), i.e. the code family's model of the gap.
A plane with more information than indices decodes only raw (thr_checks = N).
The code families' gap and spread (`slepian_wolf.CodeFamily`) model these
measurements.

  python -m experiments.codec_main thresholds --workdir=runs/wyner_ziv \
      --arm=gaussian_conditional --sw_samples=30000 --sw_block=10000
"""

import jax
import numpy as np

from ndc_jax import jobs
from ndc_jax.codec import api as codec
from ndc_jax.codec import slepian_wolf

COLUMNS = ("grid", "lmbda", "block", "plane", "info_bits", "thr_checks", "thr_ratio",
           "first")


def plane_thresholds(model: codec.Model, x: np.ndarray, y: np.ndarray
                     ) -> list[dict]:
  """One row per bit-plane of the block x, y [N, n] that BP has to decode
  (its hard decisions given y are not all right)."""
  if model.rate_model != "conditional":
    raise ValueError(f"rate model {model.rate_model!r} has no Slepian-Wolf "
                     "code; allowed: an arm with the conditional rate model")
  u = codec.encode_indices(model, x)
  rows = []
  for k, (bits, p_one) in enumerate(slepian_wolf.plane_side_info(
      u, codec.side_info_probs(model, y), model.num_indices,
      model.sw_labels)):
    thr = slepian_wolf.decoding_threshold(bits, p_one, k)
    if thr == 0:
      continue
    e = float(slepian_wolf.plane_costs(bits, p_one).sum())
    rows.append({"lmbda": model.lmbda, "plane": k, "info_bits": e,
                 "thr_checks": thr, "thr_ratio": thr / e,
                 "first": slepian_wolf.num_checks(bits.size, e)})
  return rows


def run(workdir: str, arm: str, samples: int, block: int = codec.SW_BLOCK,
        seed: int = 2024) -> list[dict]:
  """Rows for every grid point (λ, seed) of `arm` on `samples` test pairs in
  blocks of `block` indices (`codec.sw_blocks`), printed as they come."""
  lmbdas = jobs.load_arm(workdir, arm).lmbdas
  print(format_rows([]), flush=True)
  rows = []
  for i in range(len(lmbdas)):
    model = codec.load(workdir, arm, i)
    x, y = (np.asarray(a) for a in model.source.sample(
        jax.random.key(seed), samples))
    for b, (start, stop) in enumerate(codec.sw_blocks(samples, block)):
      new = [{"grid": i, **r, "block": b} for r in plane_thresholds(
          model, x[start:stop], y[start:stop])]
      rows += new
      if new:
        print(format_rows(new, header=False), flush=True)
  return rows


def format_rows(rows: list[dict], header: bool = True) -> str:
  """Fixed-width text; bits and syndrome bits per block."""
  lines = [" ".join(f"{c:>10}" for c in COLUMNS)] if header else []
  for r in rows:
    lines.append(" ".join(f"{r[c]:>10.4g}" if isinstance(r[c], float)
                          else f"{r[c]:>10}" for c in COLUMNS))
  return "\n".join(lines)
