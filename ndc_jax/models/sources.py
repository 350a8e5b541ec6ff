"""Batches (x_1, ..., x_N) of N correlated sources for multi-source coding.

* ``gaussian``: N equicorrelated Gaussian vector sources: component k of
  every source is jointly Gaussian with Var = var and pairwise correlation
  rho, i.i.d. over k = 1..dim (for N = 2 the two-terminal source of Wagner,
  Tavildar, Viswanath 2008). Covariance var·((1 − ρ)I + ρ·11ᵀ), positive
  definite iff −1/(N − 1) < ρ < 1.
* any `ndc_jax.data.MultiSourceData` (stereo views, EEG channels, ...): rows
  drawn uniformly with replacement. A data set is just another sampler.

A sampler returns a tuple of N float32 arrays, source i shaped [batch, dim_i].
"""

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

SOURCES = ("gaussian",)


class MultiSource(NamedTuple):
  """N aligned sources.

  Attributes:
    name: source name.
    dims: (dim_1, ..., dim_N) scalars per example of each source.
    sample: (key, batch) -> tuple of N arrays [batch, dim_i].
    rho: pairwise correlation of the Gaussian source (None for data sets).
    var: per-component variance of the Gaussian source (None for data sets).
  """
  name: str
  dims: tuple[int, ...]
  sample: Callable
  rho: float | None = None
  var: float | None = None

  @property
  def num_sources(self) -> int:
    return len(self.dims)


def gaussian(num_sources: int, dim: int, rho: float, var: float = 1.0
             ) -> MultiSource:
  """The equicorrelated Gaussian source (see the module docstring)."""
  if not (isinstance(num_sources, int) and num_sources >= 2):
    raise ValueError(f"source.num_sources={num_sources!r} is invalid; "
                     "multi-source coding needs an integer >= 2")
  if not (isinstance(dim, int) and dim >= 1):
    raise ValueError(f"source.dim={dim!r} is invalid; it must be an integer "
                     ">= 1")
  if not var > 0:
    raise ValueError(f"source.var={var!r} is invalid; it must be > 0")
  low = -1.0 / (num_sources - 1)
  if not low < rho < 1.0:
    raise ValueError(f"source.rho={rho!r} is invalid; with {num_sources} "
                     f"sources the covariance is positive definite only for "
                     f"{low:g} < rho < 1")
  cov = var * ((1 - rho) * np.eye(num_sources) + rho)
  chol = jnp.asarray(np.linalg.cholesky(cov), jnp.float32)

  def sample(key, batch):
    g = jax.random.normal(key, (batch, dim, num_sources))
    x = g @ chol.T  # [batch, dim, N]
    return tuple(x[..., i] for i in range(num_sources))

  return MultiSource("gaussian", (dim,) * num_sources, sample, float(rho),
                     float(var))


def from_data(data, name: str | None = None) -> MultiSource:
  """A sampler over the rows of a `MultiSourceData` (checked before use).

  Raises ValueError for fewer than 2 sources, mismatched example counts or
  shapes, non-2-D arrays, or non-finite values.
  """
  arrays = tuple(np.asarray(s) for s in data.sources)
  if len(arrays) < 2:
    raise ValueError(f"the data set has {len(arrays)} source(s); multi-source "
                     "coding needs N >= 2")
  for i, (a, shape) in enumerate(zip(arrays, data.shapes)):
    if a.ndim != 2:
      raise ValueError(f"source {i} has shape {a.shape}; expected "
                       "[num_examples, dim]")
    if a.shape[0] != arrays[0].shape[0]:
      raise ValueError(f"source {i} has {a.shape[0]} examples but source 0 has "
                       f"{arrays[0].shape[0]}; the sources must be aligned")
    if math.prod(shape) != a.shape[1]:
      raise ValueError(f"source {i} has dim {a.shape[1]} but its example shape "
                       f"{tuple(shape)} holds {math.prod(shape)} values")
    bad = np.size(a) - np.count_nonzero(np.isfinite(a))
    if bad:
      raise ValueError(f"source {i} holds {bad} NaN/inf value(s); clean the "
                       "data before training")
  table = tuple(jnp.asarray(a, jnp.float32) for a in arrays)
  n = arrays[0].shape[0]

  def sample(key, batch):
    idx = jax.random.randint(key, (batch,), 0, n)
    return tuple(a[idx] for a in table)

  meta = getattr(data, "meta", {}) or {}
  return MultiSource(name or str(meta.get("name", "data")),
                     tuple(a.shape[1] for a in arrays), sample)


def make_source(cfg: ml_collections.ConfigDict) -> MultiSource:
  """The source of a `source` config (name, num_sources, dim, rho, var)."""
  if cfg.name not in SOURCES:
    raise ValueError(f"source.name={cfg.name!r} is unknown; allowed: {SOURCES}"
                     " (data sets are passed to make_train as a MultiSource)")
  return gaussian(cfg.num_sources, cfg.dim, float(cfg.rho), float(cfg.var))


def check_batch(xs, dims) -> None:
  """Raises ValueError if a batch does not match the sources' shapes."""
  if len(xs) != len(dims):
    raise ValueError(f"got {len(xs)} sources, the model has {len(dims)}")
  for i, (x, d) in enumerate(zip(xs, dims)):
    if x.ndim != 2 or x.shape[1] != d or x.shape[0] != xs[0].shape[0]:
      raise ValueError(f"source {i} batch has shape {x.shape}; expected "
                       f"[{xs[0].shape[0]}, {d}]")
