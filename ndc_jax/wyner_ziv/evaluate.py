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


def hard_indices(trainer: Trainer, params, x, lmbda, key):
  """Test-time indices u [N] of one model for x [N, n], in chunks."""
  n = x.shape[0]
  pad = -n % EVAL_CHUNK
  xs = jnp.pad(x, ((0, pad), (0, 0))).reshape(-1, EVAL_CHUNK, x.shape[1])
  keys = jax.random.split(key, xs.shape[0])
  u = jax.lax.map(lambda a: trainer.compressor.encode(params, a[0], lmbda,
                                                      a[1]), (xs, keys))
  return u.reshape(-1)[:n]


def _evaluate_one(trainer: Trainer, params, lmbda, x, y, key):
  comp = trainer.compressor
  u = hard_indices(trainer, params, x, lmbda, key)
  bits = rate.index_bits(u, comp.prior_logits(params, y)) / comp.dim
  x_hat = comp.decode_indices(params, u, y)
  d = comp.distortion(x, x_hat)
  return {"rate_bits": bits.mean(), "distortion": d.mean(),
          "index_entropy_bits": rate.empirical_entropy_bits(
              u, comp.num_indices) / comp.dim,
          "used_indices": jnp.sum(jnp.bincount(u, length=comp.num_indices) > 0),
          "u": u}


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

  Returns a dict of [M] arrays: rate_bits, distortion, distortion_db,
  index_entropy_bits, used_indices, bound_bits, gap_bits, bound_mse, gap_db,
  no_side_info_bits, and for scalar sources max_intervals and binned_indices
  (indices serving ≥ 2 disjoint intervals of x); NaN for vector sources.
  """
  k_data, k_enc = jax.random.split(key)
  x, y = trainer.source.sample(k_data, num_samples)
  out = jax.jit(jax.vmap(lambda p, l: _evaluate_one(trainer, p, l, x, y,
                                                    k_enc)))(params, lmbdas)
  out = jax.tree.map(np.asarray, out)
  u = out.pop("u")
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
