"""Entropy models as integer probability tables that every machine computes alike.

An arithmetic coder needs the encoder and the decoder to use bit-identical
probabilities; float networks evaluated by different programs (jit or not,
another batch size, another CPU) differ in the last bits. Following Ballé,
Johnston, Minnen, "Integer Networks for Data Compression with Latent-Variable
Models" (ICLR 2019), the entropy model is evaluated exactly:

* `mlp_logits`: the conditional prior's MLP in fixed point. Activations and
  weights are integers (2^-FRAC_BITS units) held in float64, and every partial
  sum stays below 2^53, so the BLAS matrix product is exact in any summation
  order; rescaling is a floor of a division by a power of two, and the leaky
  ReLU uses one correctly rounded IEEE multiply. The result is an integer,
  identical everywhere.
* `pmf`: integer logits (2^-FRAC_BITS nats) -> integer probabilities summing to
  2^PRECISION with every symbol >= 1: softmax by two exact lookup tables of
  e^-t (computed once in decimal arithmetic), then floor scaling, with the
  rounding remainder given to the most probable symbol.

Shapes: y [B, n]; logits [B, K] (integer-valued float64); pmf [B, K] int64.
"""

import decimal

import numpy as np

from ndc_jax.core.nets import LEAKY_SLOPE

FRAC_BITS = 16          # fixed-point fraction bits of activations and weights
PRECISION = 24          # pmf rows sum to 2^PRECISION
_EXACT = 2.0 ** 52      # bound on |partial sums| (float64 integers are exact)
_MIN_ACTIVATION = 2.0 ** (FRAC_BITS + 8)  # activations up to 256 must fit
_LO_BITS = 8            # softmax table resolution: 2^-8 nats
_HI_MAX = 64            # e^-64 is far below 2^-PRECISION
_ONE = 1 << 31          # table scale


def _exp_table(ts) -> np.ndarray:
  """round(2^31 · e^-t) for each t, correctly rounded (decimal arithmetic)."""
  ctx = decimal.Context(prec=50, rounding=decimal.ROUND_HALF_EVEN)
  return np.array([int((ctx.exp(-t) * _ONE).to_integral_value(
      rounding=decimal.ROUND_HALF_EVEN)) for t in ts], np.int64)


_E_LO = _exp_table([decimal.Decimal(r) / (1 << _LO_BITS)
                    for r in range(1 << _LO_BITS)])
_E_HI = _exp_table([decimal.Decimal(h) for h in range(_HI_MAX)])
# The weight of a logit d below the maximum (2^-_LO_BITS nats), d < _HI_MAX
# nats: round(2^31 e^-hi) · round(2^31 e^-lo) >> 31; the last entry, 0, for
# every d >= _HI_MAX nats.
_WEIGHTS = np.append((_E_HI[:, None] * _E_LO[None]).ravel() >> 31, 0)
_ROWS = 2048            # rows per pass: the working set stays in cache


def quantize_logits(logits) -> np.ndarray:
  """Float logits (nats) [..., K] -> integer-valued float64, 2^-FRAC_BITS nats.

  Exact for float32 inputs (a power-of-two scale, then round-half-even).
  """
  return np.rint(np.asarray(logits, np.float64) * 2.0 ** FRAC_BITS)


def pmf(int_logits: np.ndarray) -> np.ndarray:
  """Integer softmax: [B, K] integer logits -> [B, K] int64 pmf.

  Every row sums to 2^PRECISION and every entry is >= 1, so no symbol is
  uncodable. Uses only integer arithmetic after the (exact) conversion.
  """
  z = np.asarray(int_logits)
  if z.ndim != 2 or z.shape[1] < 2:
    raise ValueError(f"logits must have shape [B, K>=2], got {z.shape}")
  return np.concatenate([_pmf_rows(z[i:i + _ROWS])
                         for i in range(0, z.shape[0], _ROWS)])


def _pmf_rows(z: np.ndarray) -> np.ndarray:
  z = z.astype(np.int64)
  k = z.shape[1]
  d = z.max(axis=1, keepdims=True) - z                     # >= 0
  d += 1 << (FRAC_BITS - _LO_BITS - 1)
  d >>= FRAC_BITS - _LO_BITS
  np.minimum(d, _WEIGHTS.size - 1, out=d)
  w = _WEIGHTS[d]                                          # [B, K] < 2^31
  total = w.sum(axis=1, keepdims=True)                     # >= 2^31
  f = w * ((1 << PRECISION) - k)
  f //= total
  f += 1
  rows = np.arange(z.shape[0])
  f[rows, np.argmax(w, axis=1)] += (1 << PRECISION) - f.sum(axis=1)
  return f


def marginal_pmf(logits) -> np.ndarray:
  """q(u) as one integer pmf row [K] from its float32 logits [K]."""
  return pmf(quantize_logits(np.asarray(logits)[None]))[0]


class FixedPointMLP:
  """The prior MLP (Dense, leaky ReLU, ..., Dense) evaluated exactly.

  Built from float32 kernels [in, out] and biases [out] (see core.nets.MLP).
  Raises ValueError if the weights are too large for exact evaluation.
  """

  def __init__(self, kernels, biases):
    self.kernels, self.biases, self.clips = [], [], []
    scale = 2.0 ** FRAC_BITS
    for i, (w, b) in enumerate(zip(kernels, biases)):
      wq = np.rint(np.asarray(w, np.float64) * scale)
      bq = np.rint(np.asarray(b, np.float64) * scale * scale)
      worst = np.abs(wq).sum(axis=0).max()                 # exact integer
      room = (_EXACT - np.abs(bq).max()) / max(worst, 1.0)
      if not room >= _MIN_ACTIVATION:
        raise ValueError(
            f"prior layer {i}: weights (max column L1 norm {worst / scale:g}) "
            "are too large for exact fixed-point evaluation; allowed: at most "
            f"{(_EXACT / _MIN_ACTIVATION) / scale:g}")
      self.kernels.append(wq)
      self.biases.append(bq)
      self.clips.append(2.0 ** np.floor(np.log2(room)))  # power of two

  def logits(self, y) -> np.ndarray:
    """y [B, n] float -> integer logits [B, K] (float64, 2^-FRAC_BITS nats)."""
    return self._by_rows(y, lambda logits: logits)

  def pmf(self, y) -> np.ndarray:
    """y [B, n] float -> `pmf(self.logits(y))` [B, K] int64, in one pass."""
    return self._by_rows(y, _pmf_rows)

  def _by_rows(self, y, then) -> np.ndarray:
    q = quantize_logits(y)
    return np.concatenate([then(self._rows(q[i:i + _ROWS]))
                           for i in range(0, q.shape[0], _ROWS)])

  def _rows(self, a: np.ndarray) -> np.ndarray:
    last = len(self.kernels) - 1
    for i, (w, b, clip) in enumerate(zip(self.kernels, self.biases,
                                         self.clips)):
      a = np.maximum(np.minimum(a, clip), -clip)
      # Exact either way (|sums| < 2^52); one input: a broadcast product.
      a = a * w[0] if w.shape[0] == 1 else a @ w
      a += b
      a *= 2.0 ** -FRAC_BITS                       # exact power-of-two scale
      np.floor(a, out=a)
      if i < last:                                 # leaky ReLU, exactly
        neg = np.minimum(a, 0.0)
        neg *= LEAKY_SLOPE                         # one rounded multiply
        np.floor(neg, out=neg)
        np.maximum(a, 0.0, out=a)
        a += neg
    return a
