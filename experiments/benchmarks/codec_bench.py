"""Codec benchmark: estimated vs measured bits, distortion, gap to R_WZ, speed.

For every λ of an arm and every coding mode of its rate model, codes one test
set drawn from the arm's source and reports, in bits per scalar sample:
  est_bits   the cross-entropy estimate −mean log2 q(u[|y]) / n of the model;
  meas_bits  8 · (file bytes) / (N · n), headers included;
  rel_gap    meas_bits / est_bits − 1;
  file_bits  the whole test set as one file (Slepian-Wolf: its blocks behind
             one header), file_gap = file_bits / est_bits − 1;
  distortion of x̂ = g(u, y) as decoded from the file (MSE per scalar);
  bound_bits R_WZ(D) (or the arm's bound) and the gaps of both rates to it;
  na_bits    Slepian-Wolf: the normal approximation of the fewest bits any
             fixed-length code of the block length needs at failure
             probability NA_EPS (`bounds.slepian_wolf_normal_approximation_
             bits` of the test set's per-index costs, no headers), and
             na_gap = na_bits / est_bits − 1: the finite-length share of
             rel_gap that no code avoids (NaN in the other modes);
  Msym/s     indices per second: entropy coding with its model evaluation
             (code / decode), and end to end with the encoder and decoder
             (enc_e2e / dec_e2e; scalar models: their tables, see codec);
  fails      Slepian-Wolf blocks whose decoding failed (always detected) and
             blocks decoded to wrong indices without an error (must be 0);
  retries    simulated failures that made the SW encoder add syndrome bits.
Slepian-Wolf blocks are coded as separate files (each with its header) so that
the failure rate counts blocks; all blocks are coded, then all decoded, each
side starting with an empty cache of LDPC matrices (`slepian_wolf.
parity_check_matrix`), as an encoder and a decoder in their own processes
would. Run on one core with `taskset -c 0`.
"""

import time

import jax
import numpy as np

from ndc_jax import jobs
from ndc_jax.codec import api as codec
from ndc_jax.codec import slepian_wolf
from ndc_jax.core import tables
from ndc_jax.theory import bounds

COLUMNS = ("arm", "lmbda", "mode", "est_bits", "meas_bits", "rel_gap",
           "file_bits", "file_gap",
           "distortion", "bound_bits", "gap_est", "gap_meas", "na_bits",
           "na_gap", "code_Msym/s",
           "decode_Msym/s", "enc_e2e_Msym/s", "dec_e2e_Msym/s", "fails",
           "undetected", "retries", "roundtrip")
NA_EPS = 0.01  # failure probability of the normal approximation (na_bits)


def _timed(fn, *args, **kwargs):
  t0 = time.perf_counter()
  out = fn(*args, **kwargs)
  return out, time.perf_counter() - t0


def bench_model(model: codec.Model, x: np.ndarray, y: np.ndarray, mode: str,
                sw_block: int = codec.SW_BLOCK) -> dict:
  """One (model, mode) row of the table on test data x, y [N, n]."""
  n = x.shape[0]
  blocks = ([(0, n)] if mode != "slepian_wolf" else
            codec.sw_blocks(n, sw_block))
  for a, b in {blocks[0], blocks[-1], (0, n)}:  # compile every shape first
    codec.reconstruct(model, codec.encode_indices(model, x[a:b]), y[a:b])
    codec.estimate_bits(model, np.zeros(b - a, np.int64), y[a:b])
  u, t_enc = _timed(codec.encode_indices, model, x)
  size = t_code = t_dec = 0.0
  fails = undetected = retries = 0
  u_dec = np.full(n, -1)
  files = []
  slepian_wolf.parity_check_matrix.cache_clear()  # both ends start cold
  for a, b in blocks:
    side = y[a:b] if mode == "conditional" else None  # others never see y
    (data, info), t = _timed(codec.compress_with_info, model, x[a:b], mode,
                             y=side, sw_block=sw_block)
    t_code += t - info["encoder_seconds"]  # entropy coding alone
    size += len(data)
    retries += info.get("sw_retries", 0)
    files.append(data)
  slepian_wolf.parity_check_matrix.cache_clear()
  for (a, b), data in zip(blocks, files):
    try:
      u_dec[a:b], t = _timed(codec.decompress_indices, model, data, y[a:b])
      t_dec += t
      undetected += int(not np.array_equal(u_dec[a:b], u[a:b]))
    except codec.DecodingError:
      fails += 1
  ok = u_dec >= 0
  x_hat, t_rec = _timed(codec.reconstruct, model, np.where(ok, u_dec, 0), y)
  src = model.source
  dist = float(np.asarray(model.compressor.distortion(
      x[ok], x_hat[ok])).mean()) if ok.any() else float("nan")
  costs = codec.information_bits(model, u, y)
  est = float(costs.mean())
  na = (bounds.slepian_wolf_normal_approximation_bits(
      est, float(costs.var()), sw_block, NA_EPS) if mode == "slepian_wolf"
        else float("nan"))
  meas = 8 * size / (n * model.dim)
  file_bits = meas if len(blocks) == 1 else 8 * len(codec.compress(
      model, x, mode, sw_block=sw_block)) / (n * model.dim)
  bound = float(src.bound_bits(dist))
  return {"lmbda": model.lmbda, "mode": mode, "est_bits": est,
          "meas_bits": meas, "rel_gap": meas / est - 1,
          "file_bits": file_bits, "file_gap": file_bits / est - 1,
          "distortion": dist,
          "bound_bits": bound, "gap_est": est - bound, "gap_meas": meas - bound,
          "na_bits": na, "na_gap": na / est - 1,
          "code_Msym/s": n / t_code / 1e6, "decode_Msym/s": n / t_dec / 1e6
          if t_dec else float("nan"),
          "enc_e2e_Msym/s": n / (t_code + t_enc) / 1e6,
          "dec_e2e_Msym/s": n / (t_dec + t_rec) / 1e6 if t_dec else
          float("nan"),
          "fails": f"{fails}/{len(blocks)}", "undetected": undetected,
          "retries": retries,
          "roundtrip": bool(ok.all() and np.array_equal(
              x_hat, codec.reconstruct(model, u, y)))}


def run(workdir: str, arms: list[str], num_samples: int, sw_samples: int,
        sw_block: int = codec.SW_BLOCK, seed: int = 2024,
        lmbda_indices: list[int] | None = None) -> list[dict]:
  """Rows for every λ of each arm (or its grid points `lmbda_indices`) and
  every mode of its rate model. Bad arm names and grid points raise
  ValueError before any arm is benchmarked."""
  grids = []
  for arm in arms:
    lmbdas = jobs.load_arm(workdir, arm).lmbdas
    picked = range(len(lmbdas)) if lmbda_indices is None else lmbda_indices
    codec.check_grid_points(arm, lmbdas, picked)
    grids.append((arm, picked))
  rows = []
  for arm, picked in grids:
    for i in picked:
      model = codec.load(workdir, arm, i)
      x, y = (np.asarray(a) for a in model.source.sample(
          jax.random.key(seed), max(num_samples, sw_samples)))
      for mode in codec.MODES_OF[model.rate_model]:
        m = sw_samples if mode == "slepian_wolf" else num_samples
        row = bench_model(model, x[:m], y[:m], mode, sw_block)
        rows.append({"arm": arm, "samples": m, **row})
        print(format_table(rows[-1:], header=len(rows) == 1), flush=True)
  return rows


def format_table(rows: list[dict], header: bool = True) -> str:
  """Fixed-width text; bits per scalar sample, MSE, million indices/s."""
  return tables.format_table(rows, ("arm", "samples") + COLUMNS[1:], 14,
                             header)
