"""The distributed stereo codec as pure functions over parameter pytrees.

One network family, chosen by `model.entropy` and `model.fusion`:

| entropy | what is coded (Ballé 2017/2018, Whang 2021) |
| --- | --- |
| factorized | ŷ under a learned factorized density per channel (`core.entropy_model`) |
| hyperprior | ẑ factorized, then ŷ under N(0, σ(ẑ)²) bins (`gaussian`) |
| mean_scale | ẑ factorized, then ŷ − μ(ẑ) under N(0, σ(ẑ)²) bins (Minnen, Ballé, Toderici, NeurIPS 2018, the mean-scale hyperprior without context model) |
| vq | one codebook index per latent position under a learned q(k) (`vq`) |

| fusion | decoder (Mital et al. 2022, 2023) |
| --- | --- |
| none | the single-view codec: synthesis of ŷ alone |
| concat | NDIC: side features of view 2 concatenated at every scale |
| attention | NDIC-CAM: side features aligned by row cross-attention first |

The encoder (`encode`, `symbols`) takes view 1 only; view 2 enters in
`decode` alone, so the bitstream cannot depend on it.

Shapes: x [B, H, W, 3] in [0, 1] with H, W multiples of `multiple(m)`;
y [B, h, w, M] = [B, H/2^n, W/2^n, M]; z [B, ⌈h/4⌉, ⌈w/4⌉, F] (the hyper
transforms edge-pad y to multiples of 4 and crop μ, σ back to h × w, so an
image needs only the analysis' multiple 2^n); indices [B, h, w].
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
from flax import nnx

from ndc_jax.core import entropy_model as em
from ndc_jax.stereo import gaussian, transforms, vq

ENTROPY = ("factorized", "hyperprior", "mean_scale", "vq")
GAUSSIAN = ("hyperprior", "mean_scale")  # ŷ under Gaussian bins given ẑ


def multiple(m: ml_collections.ConfigDict) -> int:
  """The analysis' downsampling 2^n: image sides must be its multiples."""
  return 2 ** m.downsamples


class Net(nnx.Module):
  """The modules of one codec (attributes absent where the variant has
  none)."""

  def __init__(self, m: ml_collections.ConfigDict, *, rngs: nnx.Rngs):
    f, lat = m.filters, m.latent_channels
    self.analysis = transforms.Analysis(3, f, lat, m.kernel, m.downsamples,
                                        rngs=rngs)
    self.synthesis = transforms.Synthesis(lat, f, 3, m.synthesis_kernel,
                                          m.downsamples, m.fusion, m.key_dim,
                                          rngs=rngs)
    if m.fusion != "none":
      self.side = transforms.SideEncoder(3, f, m.kernel, m.downsamples,
                                         rngs=rngs)
    if m.entropy in GAUSSIAN:
      mean = m.entropy == "mean_scale"
      self.hyper_a = transforms.HyperAnalysis(lat, f, signed=mean, rngs=rngs)
      self.hyper_s = transforms.HyperSynthesis(lat, f, mean=mean, rngs=rngs)
    if m.entropy == "vq":
      self.codebook = nnx.Param(jax.random.uniform(
          rngs.params(), (m.codebook_size, lat), minval=-1.0, maxval=1.0))


class Codec(NamedTuple):
  """Pure functions of one codec variant (params from `init_params`)."""
  init_params: Callable  # key -> {"net", "entropy"}
  encode: Callable       # (params, x1) -> y (continuous) [B, h, w, M]
  hyper: Callable        # (params, y) -> z
  conditionals: Callable  # (params, ẑ, (h, w)) -> (μ, σ) [B, h, w, M] each
                          # (μ = 0 for the scale-only hyperprior)
  symbols: Callable      # (params, x1, λ) -> {"y", "z"} or {"k"} ints;
                         # Gaussian models code y's symbols round(y − μ)
  latents: Callable      # (params, symbols) -> ŷ (what synthesis decodes)
  bits: Callable         # (params, symbols) -> estimated bits [B]
  decode: Callable       # (params, ŷ, x2) -> x̂1 [B, H, W, 3]
  side_features: Callable  # (params, x2) -> side features (finest first)
  codebook: Callable     # params -> [K, M] (vq only)
  multiple: int


def make_codec(m: ml_collections.ConfigDict) -> Codec:
  """The codec of model config `m` (see `stereo_conv.arm` in the config)."""
  graph = nnx.split(nnx.eval_shape(lambda: Net(m, rngs=nnx.Rngs(0))))[0]
  net = lambda p: nnx.merge(graph, p["net"])

  def init_params(key):
    ent = {}
    if m.entropy == "factorized":
      ent["y"] = em.init_params(m.latent_channels, m.entropy_components)
    if m.entropy in GAUSSIAN:
      ent["z"] = em.init_params(m.filters, m.entropy_components)
    if m.entropy == "vq":
      ent["logits"] = jnp.zeros((m.codebook_size,))
    return {"net": nnx.split(Net(m, rngs=nnx.Rngs(key)))[1], "entropy": ent}

  def encode(params, x1):
    return net(params).analysis(x1)

  def hyper(params, y):
    """y [B, h, w, M] -> z [B, ⌈h/4⌉, ⌈w/4⌉, F]. y is edge-replicated up
    to multiples of 4, so that h_a sees latents of y's own statistics
    where the image ends (zeros there read as flat content, and h_s then
    predicts σ far below the spread of the last real latents)."""
    f = 2 ** transforms.HYPER_DOWNSAMPLES
    h, w = y.shape[1:3]
    pad = ((0, 0), (0, -h % f), (0, -w % f), (0, 0))
    return net(params).hyper_a(jnp.pad(y, pad, mode="edge"))

  def conditionals(params, z_hat, hw):
    mu, sigma = net(params).hyper_s(z_hat)
    return mu[:, :hw[0], :hw[1]], sigma[:, :hw[0], :hw[1]]

  def mean(params, z_hat, hw):
    """μ(ẑ), about which y is rounded: the mean-scale model's, else 0 (the
    hyper synthesis is not run)."""
    if m.entropy != "mean_scale":
      return 0.0
    return conditionals(params, z_hat, hw)[0]

  def codebook(params):
    return net(params).codebook[...]

  def symbols(params, x1, lmbda):
    y = encode(params, x1)
    if m.entropy == "vq":
      return {"k": vq.select(y, codebook(params), params["entropy"]["logits"],
                             lmbda * m.vq_weight)}
    if m.entropy not in GAUSSIAN:
      return {"y": jnp.round(y).astype(jnp.int32)}
    z = jnp.round(hyper(params, y))
    mu = mean(params, z, y.shape[1:3])
    return {"y": jnp.round(y - mu).astype(jnp.int32),
            "z": z.astype(jnp.int32)}

  def latents(params, sym):
    if m.entropy == "vq":
      return codebook(params)[sym["k"]]
    y = sym["y"].astype(jnp.float32)
    if m.entropy in GAUSSIAN:
      y = y + mean(params, sym["z"].astype(jnp.float32), y.shape[1:3])
    return y

  def bits(params, sym):
    ent = params["entropy"]
    if m.entropy == "vq":
      per = vq.index_bits(ent["logits"])[sym["k"]]
    elif m.entropy == "factorized":
      per = em.bits(ent["y"], sym["y"].astype(jnp.float32))
    else:
      z = sym["z"].astype(jnp.float32)
      _, sigma = conditionals(params, z, sym["y"].shape[1:3])
      return (jnp.sum(em.bits(ent["z"], z), (1, 2, 3)) +
              jnp.sum(gaussian.bits(sym["y"].astype(jnp.float32), sigma),
                      (1, 2, 3)))
    return jnp.sum(per.reshape(per.shape[0], -1), -1)

  def side_features(params, x2):
    if m.fusion == "none":
      return None
    return net(params).side(x2)

  def decode(params, y_hat, x2):
    n = net(params)
    side = n.side(x2) if m.fusion != "none" else None
    return n.synthesis(y_hat, side)

  return Codec(init_params, encode, hyper, conditionals, symbols, latents,
               bits, decode, side_features, codebook, multiple(m))
