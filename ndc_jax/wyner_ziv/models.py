"""Flax NNX networks of the one-shot Wyner-Ziv compressor (Ozyilkan et al. 2023).

Shapes: x, y [B, n]; logits [B, K]; u as (soft or one-hot) vectors [B, K];
x̂ [B, n]. Training code splits these modules into (graphdef, state) pytrees
and jits pure functions over the state (see `train.py`).
"""

from typing import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from ndc_jax.core.nets import MLP

class CodebookHead(nnx.Module):
  """Entropy-constrained quantizer logits −‖x − c_k‖² / (2s²) + b_k (nats).

  The encoder rule of entropy-constrained VQ (Chou, Lookabaugh, Gray 1989):
  its argmax is the nearest centre c_k after a per-index offset b_k (the
  rate's share of the Lagrangian). Centres c [K, n], scale s and offsets b
  are learned; ‖x‖² is dropped (the same for every k). x [B, n] -> [B, K].
  """

  def __init__(self, codebook: jax.Array, sharpness: float):
    k = codebook.shape[0]
    dist = jnp.linalg.norm(codebook[:, None] - codebook[None], axis=-1)
    spacing = jnp.median(jnp.min(dist + jnp.diag(jnp.full(k, jnp.inf)), 1))
    self.centers = nnx.Param(codebook)
    # Half a spacing from a boundary, the logit gap is `sharpness` nats.
    self.log_scale = nnx.Param(jnp.log(spacing / (2 * sharpness) ** 0.5))
    self.offsets = nnx.Param(jnp.zeros((k,)))

  def __call__(self, x):
    c = self.centers.value
    inv_var = jnp.exp(-2 * self.log_scale.value)
    return (x @ c.T - 0.5 * jnp.sum(c * c, -1)) * inv_var + self.offsets.value


class Encoder(nnx.Module):
  """p_θ(u|x): x [B, n] -> logits [B, K] (nats).

  An MLP (Ozyilkan et al. 2023); with `codebook` [K, n], a `CodebookHead`
  is added to the MLP's logits, so training starts from a quantizer whose K
  cells are all in use (a scalar MLP starts from a few wide cells and rarely
  splits them) and the MLP can still reshape the cells, e.g. bin them.
  """

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs, out_scale: float,
               codebook: jax.Array | None = None, sharpness: float = 1.0):
    self.net = MLP([dim, *hidden, num_indices], rngs=rngs, out_scale=out_scale)
    self.head = None if codebook is None else CodebookHead(codebook, sharpness)

  def __call__(self, x):
    logits = self.net(x)
    return logits if self.head is None else logits + self.head(x)


class MarginalPrior(nnx.Module):
  """q_ξ(u): a learned categorical; returns logits [B, K] for any y [B, n]."""

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs):
    del dim, hidden, rngs
    self.logits = nnx.Param(jnp.zeros((num_indices,)))

  def __call__(self, y):
    return jnp.broadcast_to(self.logits[...], y.shape[:-1] +
                            self.logits[...].shape)


class ConditionalPrior(nnx.Module):
  """q_ζ(u|y): y [B, n] -> logits [B, K] (nats)."""

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs):
    self.net = MLP([dim, *hidden, num_indices], rngs=rngs)

  def __call__(self, y):
    return self.net(y)


class Decoder(nnx.Module):
  """g_φ(u, y) = a ⊙ y + MLP([u, y]): u [B, K], y [B, n] -> x̂ [B, n].

  The direct path a ⊙ y (a initialized to 1) lets the decoder start from the
  side information and learn only the correction carried by the index.
  """

  def __init__(self, dim: int, num_indices: int, hidden: Sequence[int], *,
               rngs: nnx.Rngs):
    self.skip = nnx.Param(jnp.ones((dim,)))
    self.net = MLP([num_indices + dim, *hidden, dim], rngs=rngs)

  def __call__(self, u, y):
    return self.skip.value * y + self.net(jnp.concatenate([u, y], axis=-1))

  def at_indices(self, u, y):
    """g(u, y) for integer indices u [...] and y [..., n]: the first layer's
    product with one-hot u as a row gather, W[u] + y W_y + b (the same
    values up to float rounding, without the K-wide product)."""
    first = self.net.layers[0]
    kernel = first.kernel[...]
    k = kernel.shape[0] - y.shape[-1]
    h = kernel[u] + y @ kernel[k:] + first.bias[...]
    return self.skip.value * y + self.net.after_first(h)


class MixtureDecoder(nnx.Module):
  """g(k, y) = Σ_j π_kj(y) (a_kj + γ_kj (y − m_kj)) with gates
  π_k(y) = softmax_j(−‖y − m_kj‖² / (2 s_kj²) + b_kj): index k owns J learned
  centres m_kj in y. This is the form of E[X | u = k, y] when index k serves
  J cells of x: the side information selects the cell, the local linear term
  refines within it.

  Centres are drawn uniformly at random on ±`centre_range` (a random
  many-to-one assignment of small cells to indices, nothing periodic); values
  a = m, slopes γ = 0, widths s = `width`; all are learned.
  u [B, K] (soft or one-hot), y [B, n] -> x̂ [B, n].
  """

  def __init__(self, dim: int, num_indices: int, num_centres: int,
               centre_range: float, width: float, *, rngs: nnx.Rngs):
    m = jax.random.uniform(rngs.params(), (num_indices, num_centres, dim),
                           minval=-centre_range, maxval=centre_range)
    self.centres = nnx.Param(m)
    self.values = nnx.Param(m)
    self.slopes = nnx.Param(jnp.zeros((num_indices, num_centres)))
    self.log_widths = nnx.Param(jnp.full((num_indices, num_centres),
                                         jnp.log(width)))
    self.gate_bias = nnx.Param(jnp.zeros((num_indices, num_centres)))

  @staticmethod
  def _mix(y, centres, log_widths, gate_bias, values, slopes):
    """Σ_j π_j (a_j + γ_j (y − m_j)) for y [..., n] and per-centre
    parameters [..., J, n] or [..., J] (broadcast against y)."""
    dy = y[..., None, :] - centres                          # [..., J, n]
    logits = (-0.5 * jnp.sum(dy * dy, -1) * jnp.exp(-2 * log_widths)
              + gate_bias)
    pi = jax.nn.softmax(logits, axis=-1)
    return jnp.sum(pi[..., None] * (values + slopes[..., None] * dy), axis=-2)

  def _params(self):
    return (self.centres[...], self.log_widths[...], self.gate_bias[...],
            self.values[...], self.slopes[...])

  def at_indices(self, u, y):
    """g(u, y) for integer indices u [...] and y [..., n]."""
    return self._mix(y, *(p[u] for p in self._params()))

  def __call__(self, u, y):
    k = u.shape[-1]
    u_all = jnp.broadcast_to(jnp.arange(k), u.shape)
    y_all = jnp.broadcast_to(y[..., None, :], u.shape + y.shape[-1:])
    return jnp.einsum("...k,...kn->...n", u, self.at_indices(u_all, y_all))


class TableDecoder(nnx.Module):
  """g(k, y): a learned table of x̂ per index on a regular grid in y,
  multilinear between its nodes (a nonparametric regression of E[X | u, y];
  no shape is assumed, so it suits blocks n > 1, where the scalar
  y-quadrature does not extend). G nodes per axis on ±`table_range`
  (y clamped to the table's box); 2^n nodes are read per (k, y), so the
  decoder costs the same at any K and any table size.

  The table starts from a random many-to-one assignment: index k owns J
  points m_kj drawn uniformly on ±`centre_range`, and its value at node y is
  the point of index k nearest y (the zero-width limit of
  `MixtureDecoder`'s start); nothing periodic.
  u [B, K] (soft or one-hot), y [B, n] -> x̂ [B, n]; values [K, G^n, n].
  """

  def __init__(self, dim: int, num_indices: int, num_centres: int,
               centre_range: float, table_points: int, table_range: float,
               *, rngs: nnx.Rngs):
    axis = jnp.linspace(-table_range, table_range, table_points)
    nodes = jnp.stack(jnp.meshgrid(*[axis] * dim, indexing="ij"),
                      -1).reshape(-1, dim)                       # [G^n, n]
    m = jax.random.uniform(rngs.params(), (num_indices, num_centres, dim),
                           minval=-centre_range, maxval=centre_range)
    nearest = lambda mk: mk[jnp.argmin(jnp.sum(jnp.square(
        nodes[:, None] - mk[None]), -1), -1)]                    # [G^n, n]
    self.values = nnx.Param(jax.lax.map(nearest, m))
    self.points, self.range = table_points, table_range

  def _corners(self, y):
    """The 2^n table nodes around y [..., n]: flat indices [...] and
    multilinear weights [...] per corner."""
    g, n = self.points, y.shape[-1]
    pos = jnp.clip((y + self.range) * ((g - 1) / (2 * self.range)),
                   0.0, g - 1.0)
    low = jnp.minimum(jnp.floor(pos), g - 2.0)
    frac, low = pos - low, low.astype(jnp.int32)
    for corner in range(2 ** n):
      flat, weight = 0, 1.0
      for i in range(n):
        b = (corner >> (n - 1 - i)) & 1
        flat = flat * g + low[..., i] + b
        weight = weight * (frac[..., i] if b else 1.0 - frac[..., i])
      yield flat, weight[..., None]

  def at_indices(self, u, y):
    """g(u, y) for integer indices u [...] and y [..., n]."""
    values = self.values[...]
    return sum(w * values[u, flat] for flat, w in self._corners(y))

  def at_all_indices(self, y):
    """g(k, y) for every k: y [..., n] -> [..., K, n] (the nodes and weights
    found once per y)."""
    values = self.values[...]
    return sum(w[..., None, :] * jnp.moveaxis(values[:, flat], 0, -2)
               for flat, w in self._corners(y))

  def __call__(self, u, y):
    return jnp.einsum("...k,...kn->...n", u, self.at_all_indices(y))


DECODERS = ("mlp", "mixture", "table")

PRIORS = {"marginal": MarginalPrior, "conditional": ConditionalPrior}
