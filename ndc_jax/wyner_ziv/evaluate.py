"""Hard (deterministic-encoder) evaluation of trained compressors, with bounds.

Rates are the ideal code lengths −log2 q(u) (or −log2 q(u|y)) of the hard
indices, in bits per scalar sample; distortions are MSE per scalar sample (or
the configured measure). The gap to the bound is given in bits
(R − R_bound(D)) and in dB (10·log10(D / D_bound(R))).
"""

import jax
import jax.numpy as jnp
import numpy as np

from ndc_jax.theory import bounds
from ndc_jax.wyner_ziv import distortion
from ndc_jax.wyner_ziv import rate
from ndc_jax.wyner_ziv.train import Trainer

EVAL_CHUNK = 8192


def _chunks(a, n_pad):
  """[N, ...] -> [N_pad / EVAL_CHUNK, EVAL_CHUNK, ...], zero-padded."""
  a = jnp.pad(a, [(0, n_pad - a.shape[0])] + [(0, 0)] * (a.ndim - 1))
  return a.reshape(-1, EVAL_CHUNK, *a.shape[1:])


def hard_indices(trainer: Trainer, params, x, lmbda, key):
  """Test-time indices u [N] of one model for x [N, n], in chunks."""
  n = x.shape[0]
  xs = _chunks(x, n + (-n % EVAL_CHUNK))
  keys = jax.random.split(key, xs.shape[0])
  u = jax.lax.map(lambda a: trainer.compressor.encode(params, a[0], lmbda,
                                                      a[1]), (xs, keys))
  return u.reshape(-1)[:n]


def _evaluate_one(trainer: Trainer, params, lmbda, x, y, key):
  """Per-sample hard-index results of one model, computed EVAL_CHUNK rows
  at a time: u [N], bits [N] (−log2 q(u) / n) and distortion [N]."""
  comp, n = trainer.compressor, x.shape[0]
  n_pad = n + (-n % EVAL_CHUNK)
  u = hard_indices(trainer, params, x, lmbda, key)

  def chunk(a):
    u_c, y_c, x_c = a
    bits = rate.index_bits(u_c, comp.prior_logits(params, y_c)) / comp.dim
    return bits, comp.distortion(x_c, comp.decode_indices(params, u_c, y_c))

  bits, d = jax.lax.map(chunk, (_chunks(u, n_pad), _chunks(y, n_pad),
                                _chunks(x, n_pad)))
  return {"u": u, "bits": bits.reshape(-1)[:n], "d": d.reshape(-1)[:n]}


def mean_and_se(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean over the last axis (float64) and its standard error σ̂ / √N."""
  v = np.asarray(v, np.float64)
  return v.mean(-1), v.std(-1, ddof=1) / np.sqrt(v.shape[-1])


def count_intervals(x: np.ndarray, u: np.ndarray, num_indices: int,
                    min_mass: float = 1e-3) -> np.ndarray:
  """Disjoint intervals of x that each index serves (scalar sources).

  Sorts the test samples by x and finds maximal runs of equal index; runs
  holding less than `min_mass` of the samples are dropped (single samples at
  a boundary are no interval, nor do they split their neighbour's), then
  neighbouring runs of the same index are merged and counted.

  Args:
    x: [N] test samples.  u: [N] their indices.
  Returns:
    [num_indices] int counts of intervals per index (0 for unused ones).
  """
  us = u[np.argsort(x, kind="stable")]
  starts = np.flatnonzero(np.r_[True, us[1:] != us[:-1]])
  lengths = np.diff(np.r_[starts, us.size])
  idx = us[starts[lengths >= min_mass * us.size]]
  idx = idx[np.r_[True, idx[1:] != idx[:-1]]]
  return np.bincount(idx, minlength=num_indices)


def evaluate(trainer: Trainer, params, lmbdas, key, num_samples: int
             ) -> dict[str, np.ndarray]:
  """Evaluates M models (params batched on axis 0) on one shared test set.

  Returns a dict of [M] arrays: rate_bits and rate_se_bits (its standard
  error over the test samples), distortion and distortion_se, distortion_db,
  index_entropy_bits, used_indices, bound_bits, gap_bits, bound_mse, gap_db,
  no_side_info_bits, and for scalar sources max_intervals and binned_indices
  (indices serving ≥ 2 disjoint intervals of x); NaN for vector sources.
  """
  k_data, k_enc = jax.random.split(key)
  x, y = trainer.source.sample(k_data, num_samples)
  per = jax.jit(jax.vmap(lambda p, l: _evaluate_one(trainer, p, l, x, y,
                                                    k_enc)))(params, lmbdas)
  u = np.asarray(per["u"])
  k = trainer.compressor.num_indices
  out = {}
  out["rate_bits"], out["rate_se_bits"] = mean_and_se(per["bits"])
  out["distortion"], out["distortion_se"] = mean_and_se(per["d"])
  out["index_entropy_bits"] = np.asarray(jax.vmap(
      lambda ui: rate.empirical_entropy_bits(ui, k))(u)) / trainer.source.dim
  out["used_indices"] = np.asarray(
      [np.count_nonzero(np.bincount(ui, minlength=k)) for ui in u], float)
  src = trainer.source
  d, r = out["distortion"], out["rate_bits"]
  out["distortion_db"] = np.asarray(distortion.to_db(d))
  out["bound_bits"] = np.asarray(src.bound_bits(d))
  out["gap_bits"] = r - out["bound_bits"]
  out["bound_mse"] = np.asarray(src.bound_mse(r))
  out["gap_db"] = np.asarray(bounds.gap_db(d, out["bound_mse"]))
  out["no_side_info_bits"] = np.asarray(src.no_side_info_bits(d))
  if src.dim == 1:
    counts = np.stack([count_intervals(np.asarray(x[:, 0]), ui,
                                       trainer.compressor.num_indices)
                       for ui in u])
    out["max_intervals"] = counts.max(axis=1).astype(float)
    out["binned_indices"] = (counts >= 2).sum(axis=1).astype(float)
  else:
    out["max_intervals"] = np.full(r.shape, np.nan)
    out["binned_indices"] = np.full(r.shape, np.nan)
  return out
