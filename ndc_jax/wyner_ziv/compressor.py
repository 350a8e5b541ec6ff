"""The one-shot Wyner-Ziv compressor as pure functions over a parameter pytree.

Two encoders share one decoder and entropy model (Ozyilkan, Ballé, Erkip,
ISIT 2023 and JSAIT 2024):

* ``learned``: p_θ(u|x) is an MLP; at test time u = argmax_u p_θ(u|x).
* ``argmin``: the entropy-constrained encoder of the published JSAIT notebook,
  u = argmin_k [−log2 q(k) / n + λ·E_{y|x} d(x, g(k, y))], with the expectation
  over `side_info_samples` draws of y|x from the source model. With the
  conditional model the rate term is E_{y|x}[−log2 q(k|y)] / n.

Shapes: x, y [B, n]; logits [B, K]; indices u [B] int32; x̂ [B, n]. Rates are
bits per scalar sample (per block / n), distortions per scalar sample.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
from flax import nnx

from ndc_jax.core.units import LN2
from ndc_jax.wyner_ziv import distortion
from ndc_jax.wyner_ziv import models
from ndc_jax.wyner_ziv.sources import Source

ENCODERS = ("learned", "argmin")
ENCODER_HEADS = ("mlp", "codebook")


class Compressor(NamedTuple):
  """Pure functions of one model; params = {'encoder','prior','decoder'}."""
  num_indices: int
  dim: int
  rate_model: str
  encoder_kind: str
  init: Callable        # key -> params
  encoder_logits: Callable  # (params, x) -> [B, K]
  prior_logits: Callable    # (params, y) -> [B, K]
  decode: Callable          # (params, u_vec [B, K], y) -> x̂ [B, n]
  decode_indices: Callable  # (params, u [B] int, y) -> x̂ [B, n]
  all_distortions: Callable  # (params, x, y) -> [B, K] d(x, g(k, y))
  index_costs: Callable     # (params, x, key) -> (bits [B, K], dist [B, K])
  encode: Callable          # (params, x, lmbda, key) -> u [B]
  distortion: Callable      # (x, x̂) -> [B] per scalar sample


def validate(cfg: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming a bad `model` config field."""
  if not (isinstance(cfg.num_indices, int) and cfg.num_indices >= 2):
    raise ValueError(f"model.num_indices={cfg.num_indices!r} is invalid; it "
                     "must be an integer >= 2")
  if cfg.rate_model not in models.PRIORS:
    raise ValueError(f"model.rate_model={cfg.rate_model!r} is unknown; "
                     f"allowed: {tuple(models.PRIORS)}")
  if cfg.encoder not in ENCODERS:
    raise ValueError(f"model.encoder={cfg.encoder!r} is unknown; allowed: "
                     f"{ENCODERS}")
  if cfg.encoder_head not in ENCODER_HEADS:
    raise ValueError(f"model.encoder_head={cfg.encoder_head!r} is unknown; "
                     f"allowed: {ENCODER_HEADS}")
  for field in ("codebook_range", "codebook_sharpness"):
    if not cfg[field] > 0:
      raise ValueError(f"model.{field}={cfg[field]!r} is invalid; it must be "
                       "> 0")
  if not cfg.side_info_samples >= 1:
    raise ValueError(f"model.side_info_samples={cfg.side_info_samples!r} "
                     "must be >= 1")
  distortion.get(cfg.distortion)


def initial_codebook(source: Source, num_indices: int, spread: float,
                     key: jax.Array) -> jax.Array:
  """Centres [K, n] of the codebook head at initialization.

  Scalar sources: K evenly spaced points on ±`spread`·std(X) (the uniform
  quantizer, best at high rate with side information at the decoder).
  Blocks (n > 1): K draws of X (the usual VQ start from data points).
  """
  if source.dim == 1:
    return (jnp.linspace(-spread, spread, num_indices) * source.x_std)[:, None]
  return source.sample(key, num_indices)[0]


def make_compressor(cfg: ml_collections.ConfigDict, source: Source
                    ) -> Compressor:
  """Builds the pure functions of the model described by a `model` config."""
  validate(cfg)
  k, n = cfg.num_indices, source.dim
  dist_fn = distortion.get(cfg.distortion)
  prior_cls = models.PRIORS[cfg.rate_model]

  def build(key):
    k_enc, k_pri, k_dec, k_code = jax.random.split(key, 4)
    r_enc, r_pri, r_dec = map(nnx.Rngs, (k_enc, k_pri, k_dec))
    codebook = (initial_codebook(source, k, cfg.codebook_range, k_code)
                if cfg.encoder_head == "codebook" else None)
    return {
        "encoder": models.Encoder(n, k, cfg.encoder_hidden, rngs=r_enc,
                                  out_scale=cfg.encoder_init_scale,
                                  codebook=codebook,
                                  sharpness=cfg.codebook_sharpness),
        "prior": prior_cls(n, k, cfg.prior_hidden, rngs=r_pri),
        "decoder": models.Decoder(n, k, cfg.decoder_hidden, rngs=r_dec),
    }

  # The modules' structure, traced abstractly (nothing is computed).
  graphdefs = {name: nnx.split(m)[0] for name, m in
               nnx.eval_shape(lambda: build(jax.random.key(0))).items()}

  def init(key):
    return {name: nnx.split(m)[1] for name, m in build(key).items()}

  def apply(name, params, *args, method="__call__"):
    return getattr(nnx.merge(graphdefs[name], params[name]), method)(*args)

  def encoder_logits(params, x):
    return apply("encoder", params, x)

  def prior_logits(params, y):
    return apply("prior", params, y)

  def decode(params, u_vec, y):
    return apply("decoder", params, u_vec, y)

  def decode_indices(params, u, y):
    """The decoder at hard indices (evaluation, codec, argmin encoder)."""
    return apply("decoder", params, u, y, method="at_indices")

  def all_distortions(params, x, y):
    """d(x, g(k, y)) for every index k: x [..., n], y [..., n] -> [..., K]."""
    u_all = jnp.broadcast_to(jnp.arange(k), y.shape[:-1] + (k,))
    y_rep = jnp.broadcast_to(y[..., None, :], y.shape[:-1] + (k, n))
    return dist_fn(x[..., None, :], decode_indices(params, u_all, y_rep))

  def index_costs(params, x, key):
    """Expected bits/sample and distortion of every index, [B, K] each."""
    ys = source.sample_side_info(key, x, cfg.side_info_samples)  # [M, B, n]
    dist = all_distortions(params, x[None], ys).mean(axis=0)  # [B, K]
    log_q = jax.nn.log_softmax(prior_logits(params, ys), axis=-1)  # [M, B, K]
    bits = -log_q.mean(axis=0) / (LN2 * n)
    return bits, dist

  def encode(params, x, lmbda, key):
    if cfg.encoder == "learned":
      return jnp.argmax(encoder_logits(params, x), axis=-1)
    bits, dist = index_costs(params, x, key)
    return jnp.argmin(bits + lmbda * dist, axis=-1)

  return Compressor(k, n, cfg.rate_model, cfg.encoder, init, encoder_logits,
                    prior_logits, decode, decode_indices, all_distortions,
                    index_costs, encode, dist_fn)
