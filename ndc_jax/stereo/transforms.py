"""Analysis, synthesis and hyper transforms of the stereo codec (NHWC).

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a
scale hyperprior", ICLR 2018, Fig. 4 (strided 5×5 convs with GDN; the
synthesis mirrors it with IGDN), with the decoder-side fusion of NDIC
(Mital, Özyılkan, Garjani, Gündüz, "Neural distributed image compression
using common information", DCC 2022, Fig. 2: features of the side
information, computed at the decoder only, concatenated into the synthesis
transform at every scale) and the cross-attention alignment of NDIC-CAM
(WACV 2023; `layers.RowCrossAttention`):

    Analysis     x1 [B, H, W, 3] -> conv5/2, GDN, ×(n − 1), conv5/2 -> y
                 [B, H/2^n, W/2^n, M]
    SideEncoder  x2 [B, H, W, 3] -> s_j [B, H/2^j, W/2^j, F], j = 1..n
    Synthesis    ŷ -> per scale j = n..1: [concat(h, s_j) or
                 concat(h, attend(h, s_j))], conv k_s to 4 F, ×2 sub-pixel,
                 IGDN (k_s = 3 at the low resolution covers a 6×6 output
                 footprint, like Ballé's 5×5 transposed conv, at 36/25 of
                 its multiplies; a 5×5 here costs 4× the transposed conv)
                 -> x̂1 [B, H, W, 3]
    HyperAnalysis  |y| (mean-scale: y) -> conv3, LReLU, conv5/2, LReLU,
                 conv5/2 -> z [B, H/2^(n+2), W/2^(n+2), F]
    HyperSynthesis ẑ -> conv5 ×2↑, LReLU, conv5 ×2↑, LReLU, conv3 -> σ > 0
                 (mean-scale: and μ; Minnen, Ballé, Toderici, NeurIPS 2018)
                 [B, H/2^n, W/2^n, M]
"""

import jax
import jax.numpy as jnp
from flax import nnx

from ndc_jax.stereo import layers

FUSIONS = ("none", "concat", "attention")
HYPER_DOWNSAMPLES = 2
# The hyper transforms' leaky ReLU slope, as in CompressAI's mean-scale
# models (Ballé 2018 has ReLU: once every unit of h_a is dead, ẑ is constant
# and no gradient revives it, leaving the hyperprior a fixed Gaussian).
HYPER_SLOPE = 0.01


def _leaky(x):
  return jax.nn.leaky_relu(x, HYPER_SLOPE)


class Analysis(nnx.Module):
  """x [B, H, W, C] in [0, 1] -> y [B, H / 2^n, W / 2^n, latent] (of
  x − ½)."""

  def __init__(self, c_in, filters, latent, kernel, downsamples, *,
               rngs: nnx.Rngs):
    chans = [c_in] + [filters] * (downsamples - 1) + [latent]
    self.convs = nnx.List([layers.Conv2D(a, b, kernel, 2, rngs=rngs)
                           for a, b in zip(chans[:-1], chans[1:])])
    self.gdns = nnx.List([layers.GDN(filters)
                          for _ in range(downsamples - 1)])

  def __call__(self, x):
    h = x - 0.5
    for j, conv in enumerate(self.convs):
      h = conv(h)
      if j < len(self.gdns):
        h = self.gdns[j](h)
    return h


class SideEncoder(nnx.Module):
  """x2 [B, H, W, C] in [0, 1] -> [s_1, ..., s_n], s_j [B, H / 2^j,
  W / 2^j, F] (of x2 − ½)."""

  def __init__(self, c_in, filters, kernel, downsamples, *, rngs: nnx.Rngs):
    chans = [c_in] + [filters] * downsamples
    self.convs = nnx.List([layers.Conv2D(a, b, kernel, 2, rngs=rngs)
                           for a, b in zip(chans[:-1], chans[1:])])
    self.gdns = nnx.List([layers.GDN(filters) for _ in range(downsamples)])

  def __call__(self, x):
    feats, h = [], x - 0.5
    for conv, gdn in zip(self.convs, self.gdns):
      h = gdn(conv(h))
      feats.append(h)
    return feats


class Synthesis(nnx.Module):
  """ŷ [B, h, w, latent] (and side features) -> x̂ [B, 2^n h, 2^n w, C]
  (the last layer's output + ½: images in [0, 1], centred as the encoders'
  inputs)."""

  def __init__(self, latent, filters, c_out, kernel, upsamples, fusion,
               key_dim, *, rngs: nnx.Rngs):
    self.fusion = fusion
    side = 0 if fusion == "none" else filters
    c_in = [latent] + [filters] * (upsamples - 1)
    c_up = [filters] * (upsamples - 1) + [c_out]
    self.convs = nnx.List([layers.Conv2D(a + side, 4 * b, kernel, rngs=rngs)
                           for a, b in zip(c_in, c_up)])
    self.igdns = nnx.List([layers.GDN(filters, inverse=True)
                           for _ in range(upsamples - 1)])
    # Queries from the decoder's features at each scale (latent channels at
    # the coarsest), keys and values from the side features there.
    self.attend = nnx.List([
        layers.RowCrossAttention(a, filters, key_dim, rngs=rngs)
        for a in c_in]) if fusion == "attention" else nnx.List([])

  def __call__(self, y_hat, side=None):
    """side: the SideEncoder's features (finest first), or None."""
    h = y_hat
    for j, conv in enumerate(self.convs):
      if self.fusion != "none":
        s = side[len(self.convs) - 1 - j]  # at h's resolution
        if self.fusion == "attention":
          s = self.attend[j](h, s)
        h = jnp.concatenate([h, s], -1)
      h = layers.upsample(conv(h))
      if j < len(self.igdns):
        h = self.igdns[j](h)
    return h + 0.5


class HyperAnalysis(nnx.Module):
  """y [B, h, w, latent] -> z [B, h / 4, w / 4, filters] (of |y|, or of y
  itself when `signed`: the mean-scale model's z must locate y, not only
  size it)."""

  def __init__(self, latent, filters, *, signed: bool = False,
               rngs: nnx.Rngs):
    self.signed = signed
    self.c1 = layers.Conv2D(latent, filters, 3, rngs=rngs)
    self.c2 = layers.Conv2D(filters, filters, 5, 2, rngs=rngs)
    self.c3 = layers.Conv2D(filters, filters, 5, 2, rngs=rngs)

  def __call__(self, y):
    h = _leaky(self.c1(y if self.signed else jnp.abs(y)))
    return self.c3(_leaky(self.c2(h)))


class HyperSynthesis(nnx.Module):
  """ẑ [B, h / 4, w / 4, filters] -> (μ, σ), each [B, h, w, latent]: σ > 0
  (softplus); μ learned when `mean` (Minnen et al. 2018), else zeros."""

  def __init__(self, latent, filters, *, mean: bool = False,
               rngs: nnx.Rngs):
    self.mean = mean
    self.c1 = layers.Conv2D(filters, 4 * filters, 5, rngs=rngs)
    self.c2 = layers.Conv2D(filters, 4 * filters, 5, rngs=rngs)
    self.c3 = layers.Conv2D(filters, (2 if mean else 1) * latent, 3,
                            rngs=rngs)

  def __call__(self, z_hat):
    h = _leaky(layers.upsample(self.c1(z_hat)))
    h = self.c3(_leaky(layers.upsample(self.c2(h))))
    if self.mean:
      mu, s = jnp.split(h, 2, -1)
      return mu, jax.nn.softplus(s)
    return jnp.zeros_like(h), jax.nn.softplus(h)
