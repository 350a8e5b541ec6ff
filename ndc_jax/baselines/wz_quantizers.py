"""The best classical one-shot Wyner-Ziv curve: lower R-D hulls and lookups.

The operating points of the baselines in `nested_sq` and `wz_lloyd` (rates in
bits per scalar sample, distortions in MSE) are combined by time sharing, so
the achievable curve is their lower convex hull. `best_baseline` builds it for
one source of Ozyilkan, Ballé, Erkip (ISIT 2023): the nested SQ over (Δ, M),
M = 1..64 and ∞ (exact), the Lloyd designs (numeric one-shot optima at a few
λ) and, for the signed Laplacian, the entropy-coded quantizer of |X| with the
sign known at the decoder (closed form). `rate_at_distortion` reads it.
"""

import functools
from typing import NamedTuple

import numpy as np

from . import nested_sq as nsq
from . import wz_lloyd

_LAMBDAS = {"gaussian": (30.0, 100.0, 300.0, 1000.0, 3000.0),
            "signed_laplace": (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)}


class Hull(NamedTuple):
  """Vertices of a lower convex R-D hull: rate ascending, MSE descending."""
  rate_bits: np.ndarray  # (n,) bits per sample
  mse: np.ndarray  # (n,)
  labels: tuple  # (n,) str: the scheme behind each vertex


def lower_hull(rate_bits, mse, labels=None) -> Hull:
  """The lower-left convex hull of R-D points (time sharing), as a Hull.

  Points of equal shape (any), non-finite ones dropped; the hull runs from the
  lowest rate (its lowest MSE) to the lowest MSE, convex and decreasing.
  """
  r, d = np.ravel(rate_bits).astype(float), np.ravel(mse).astype(float)
  if r.shape != d.shape:
    raise ValueError(f"rate_bits has {r.size} points but mse has {d.size}")
  labels = np.asarray([""] * r.size if labels is None else labels,
                      object).ravel()
  ok = np.flatnonzero(np.isfinite(r) & np.isfinite(d))
  if ok.size == 0:
    raise ValueError("lower_hull needs at least one finite (rate, mse) point")
  stack = []  # Andrew's monotone chain, lower part.
  for i in ok[np.lexsort((d[ok], r[ok]))]:
    while len(stack) >= 2 and ((r[stack[-1]] - r[stack[-2]]) * (
        d[i] - d[stack[-2]]) - (d[stack[-1]] - d[stack[-2]]) * (
            r[i] - r[stack[-2]])) <= 0:
      stack.pop()
    stack.append(i)
  idx = np.array(stack)[:int(np.argmin(d[stack])) + 1]
  out = [np.array(v[idx]) for v in (r, d)]
  for v in out:
    v.setflags(write=False)
  return Hull(out[0], out[1], tuple(labels[idx]))


def _lookup(values, x, y, name, unit, open_above):
  v = np.asarray(values, float)
  lo, hi = x[0], x[-1]
  slack = 1e-12 * max(abs(lo), abs(hi))
  bad = ~np.isfinite(v) | (v < lo - slack) | ((v > hi + slack) & ~open_above)
  if np.any(bad):
    top = "inf" if open_above else f"{hi:.6g}"
    raise ValueError(f"{name}={v[bad] if v.ndim else float(v)!r} {unit} is "
                     f"outside the hull; allowed: [{lo:.6g}, {top}]")
  out = np.interp(v, x, y)
  return float(out) if out.ndim == 0 else out


def rate_at_distortion(hull: Hull, d):
  """R(d), bits/sample, linear on the hull (time sharing); d MSE, any shape.

  Allowed d: [min hull MSE, max hull MSE], or [min, inf) where the hull
  starts at rate 0 (then R = 0 above its MSE). ValueError names d otherwise.
  """
  return _lookup(d, hull.mse[::-1], hull.rate_bits[::-1], "d", "MSE",
                 hull.rate_bits[0] <= 0)


def distortion_at_rate(hull: Hull, r):
  """D(r), MSE, the inverse of `rate_at_distortion`; r bits in the hull's range."""
  return _lookup(r, hull.rate_bits, hull.mse, "r", "bits", False)


def nested_sq_points(src: nsq.Source, rate_model="marginal", quick=False):
  """(rates, mses, labels) of the nested SQ over steps × M (M=1..64 and ∞)."""
  s = nsq.conditional_std(src)
  steps = s * np.geomspace(0.03, 8.0, 20 if quick else 48)
  cosets = list(range(1, 17 if quick else 65)) + [None]
  dy = None if src.name == "signed_laplace" else s / 2
  table = nsq.nested_sq_sweep(src, steps, cosets, -0.5, dy)
  col = 0 if rate_model == "marginal" else 1
  labels = [f"nested_sq(M={'inf' if m is None else m},step={st:.4g})"
            for st in steps for m in cosets]
  return table[..., col].ravel(), table[..., 2].ravel(), labels


def lloyd_points(src: nsq.Source, lambdas, rate_model="marginal",
                 quick=False):
  """(rates, mses, labels) of the best Lloyd design at each λ in lambdas."""
  s = nsq.conditional_std(src)
  lap = src.name == "signed_laplace"
  grid = wz_lloyd.make_grid(src, dx=(s / (32 if lap else 10)) if quick
                            else None)
  designs = [wz_lloyd.design(grid, lam, rate_model, num_random=2 if quick
                             else 8) for lam in lambdas]
  return ([d.rate_bits for d in designs], [d.mse for d in designs],
          [f"lloyd(lmbda={lam:g},{d.init})" for lam, d in
           zip(lambdas, designs)])


@functools.lru_cache(maxsize=32)
def _best(src: nsq.Source, rate_model: str, quick: bool, lloyd: bool) -> Hull:
  parts = [nested_sq_points(src, rate_model, quick)]
  if src.name == "gaussian" and rate_model == "marginal" and not quick:
    dy = nsq.conditional_std(src) / 2
    best = [(m,) + nsq.nested_sq_best_step(src, m, -0.5, dy)
            for m in range(2, 17)]
    parts.append(([rd.rate_bits for _, _, rd in best],
                  [rd.mse for _, _, rd in best],
                  [f"nested_sq(M={m},step={st:.5g})" for m, st, _ in best]))
  if src.name == "signed_laplace":
    steps = src.laplace_scale * np.geomspace(0.01, 20.0, 100 if quick else 400)
    rd = nsq.abs_uniform_rd(steps, src.laplace_scale)
    parts.append((rd.rate_bits, rd.mse, [f"abs_uniform(step={st:.4g})"
                                         for st in steps]))
  if lloyd:
    lambdas = _LAMBDAS[src.name]
    parts.append(lloyd_points(src, lambdas[1::3] if quick else lambdas,
                              rate_model, quick))
  return lower_hull(*(np.concatenate([np.asarray(p[i], dtype=float if i < 2
                                                 else object) for p in parts])
                      for i in range(3)))


def best_baseline(source_name="gaussian", var_x=1.0, var_noise=0.01,
                  direction="y_is_x_plus_noise", laplace_scale=1.0,
                  rate_model="marginal", quick=False, lloyd=True) -> Hull:
  """The best classical one-shot R-D curve of a source, a Hull (cached).

  rate_model: "marginal" (H(U), a decoder-independent entropy code) or
  "conditional" (H(U|Y), an entropy code conditioned on y at both coder
  ends). quick: coarser sweeps and grids, fewer λ and restarts (for tests).
  lloyd: include the Lloyd designs (λ in _LAMBDAS). Arguments as in
  ndc_jax's source config; ValueError names an unknown source or bad value.
  """
  if rate_model not in ("marginal", "conditional"):
    raise ValueError(f"rate_model={rate_model!r} is unknown; allowed: "
                     "('marginal', 'conditional')")
  src = nsq.make_source(source_name, var_x, var_noise, direction,
                        laplace_scale)
  return _best(src, rate_model, bool(quick), bool(lloyd))
