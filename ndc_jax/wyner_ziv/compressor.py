"""The one-shot Wyner-Ziv compressor as pure functions over a parameter pytree.

Two encoders share one decoder and entropy model (Ozyilkan, Ballé, Erkip,
ISIT 2023 and JSAIT 2024):

* ``learned``: p_θ(u|x) is an MLP; at test time u = argmax_u p_θ(u|x).
* ``argmin``: the entropy-constrained encoder of the published JSAIT notebook,
  u = argmin_k [−log2 q(k) / n + λ·E_{y|x} d(x, g(k, y))], with the expectation
  over `side_info_samples` draws of y|x from the source model (i.i.d., or a
  Latin hypercube with `side_info_sampling='stratified'`), or on a
  randomly shifted product grid of `side_info_local_grid` points per axis
  around E[y|x] (any block length; the Gaussian), or for a
  scalar source a quadrature on a grid of `side_info_grid` values of y (the
  Gaussian; shifted at random, exact as the spacing shrinks against
  σ_{Y|X}) or exact on the support of a discrete y (the signed Laplacian's
  {−1, 1}); the
  K × G decoder table then makes the expectation two small matrix products.
  With the conditional model the rate term is E_{y|x}[−log2 q(k|y)] / n.

Decoders: ``mlp`` (`models.Decoder`), ``mixture`` (`models.MixtureDecoder`,
J learned centres in y per index) or ``table`` (`models.TableDecoder`, a
learned multilinear table in y per index, for blocks).

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
SIDE_INFO_SAMPLING = ("iid", "stratified")


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
  # (params, x, u, key) -> [B] E_{y|x} d(x, g(u, y)) on the y-grid of
  # `model.side_info_grid`; None without a grid.
  expected_distortion: Callable | None = None


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
  local = cfg.side_info_local_grid
  if not (isinstance(local, int) and (local == 0 or local >= 2)):
    raise ValueError(f"model.side_info_local_grid={local!r} is invalid; "
                     "allowed: 0 (draws of y|x) or an integer >= 2 (points "
                     "per axis)")
  if local and cfg.side_info_grid:
    raise ValueError(f"model.side_info_local_grid={local} and "
                     f"model.side_info_grid={cfg.side_info_grid} exclude "
                     "each other; set one of them to 0")
  if cfg.side_info_sampling not in SIDE_INFO_SAMPLING:
    raise ValueError(f"model.side_info_sampling={cfg.side_info_sampling!r} "
                     f"is unknown; allowed: {SIDE_INFO_SAMPLING}")
  if cfg.decoder not in models.DECODERS:
    raise ValueError(f"model.decoder={cfg.decoder!r} is unknown; allowed: "
                     f"{models.DECODERS}")
  if not (isinstance(cfg.decoder_centres, int) and cfg.decoder_centres >= 1):
    raise ValueError(f"model.decoder_centres={cfg.decoder_centres!r} is "
                     "invalid; it must be an integer >= 1")
  points = cfg.decoder_table_points
  if not (isinstance(points, int) and points >= 2):
    raise ValueError(f"model.decoder_table_points={points!r} is invalid; it "
                     "must be an integer >= 2 (table nodes per axis)")
  for field in ("decoder_centre_range", "decoder_width",
                "decoder_table_range", "side_info_grid_range",
                "side_info_local_range"):
    if not cfg[field] > 0:
      raise ValueError(f"model.{field}={cfg[field]!r} is invalid; it must be "
                       "> 0")
  grid = cfg.side_info_grid
  if not (isinstance(grid, int) and (grid == 0 or grid >= 16)):
    raise ValueError(f"model.side_info_grid={grid!r} is invalid; allowed: 0 "
                     "(sampled y) or an integer >= 16 (grid points)")
  if grid and cfg.distortion != "squared_error":
    raise ValueError(f"model.side_info_grid={grid} needs model.distortion="
                     f"'squared_error', not {cfg.distortion!r}")
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


def make_decoder(cfg: ml_collections.ConfigDict, source: Source,
                 rngs: nnx.Rngs) -> nnx.Module:
  """The `model.decoder` network g(u, y) (ranges in units of std(Y))."""
  k, n = cfg.num_indices, source.dim
  if cfg.decoder == "mlp":
    return models.Decoder(n, k, cfg.decoder_hidden, rngs=rngs)
  centre_range = cfg.decoder_centre_range * source.y_std
  if cfg.decoder == "mixture":
    return models.MixtureDecoder(n, k, cfg.decoder_centres, centre_range,
                                 cfg.decoder_width, rngs=rngs)
  return models.TableDecoder(n, k, cfg.decoder_centres, centre_range,
                             cfg.decoder_table_points,
                             cfg.decoder_table_range * source.y_std,
                             rngs=rngs)


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
        "decoder": make_decoder(cfg, source, r_dec),
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

  def decode_all(params, y):
    """g(k, y) for every index k: y [..., n] -> [..., K, n]."""
    if cfg.decoder == "table":  # the table's nodes found once per y
      return apply("decoder", params, y, method="at_all_indices")
    u_all = jnp.broadcast_to(jnp.arange(k), y.shape[:-1] + (k,))
    y_rep = jnp.broadcast_to(y[..., None, :], y.shape[:-1] + (k, n))
    return decode_indices(params, u_all, y_rep)

  def all_distortions(params, x, y):
    """d(x, g(k, y)) for every index k: x [..., n], y [..., n] -> [..., K]."""
    return dist_fn(x[..., None, :], decode_all(params, y))

  draw_side_info = (source.sample_side_info_stratified
                    if cfg.side_info_sampling == "stratified"
                    else source.sample_side_info)
  local = cfg.side_info_local_grid
  if local and source.side_info_local_grid is None:
    raise ValueError(f"model.side_info_local_grid={local} needs a source "
                     f"with a continuous y|x (gaussian), not {source.name!r};"
                     " allowed there: 0")
  grid = cfg.side_info_grid
  if grid and source.side_info_points is None:
    raise ValueError(f"model.side_info_grid={grid} needs a scalar source "
                     "(source.dim=1); allowed for blocks: 0 (sampled y)")

  def grid_terms(params, x, key):
    """E_{y|x} on the source's points y_j (`side_info_points`:
    G = side_info_grid points over ±side_info_grid_range·std(Y), shifted
    together at random so that training sees every y; or the support of a
    discrete Y): the points ys [G], weights w [B, G] = p(y_j|x) normalized,
    x − y_j [B, G] and the decoder table g(k, y_j) − y_j [G, K]."""
    ys = source.side_info_points(grid, cfg.side_info_grid_range, key)  # [G]
    table = decode_all(params, ys[:, None])[..., 0] - ys[:, None]
    w = jax.nn.softmax(source.side_info_log_density(x, ys), axis=-1)
    return ys, w, x - ys, table

  def expected_distortion(params, x, u, key):
    """E_{y|x} (x − g(u, y))² on the y-grid: x [B, 1], u [B] -> [B]."""
    _, w, dx, table = grid_terms(params, x, key)
    return jnp.sum(w * (dx - table[:, u].T) ** 2, axis=-1)

  def index_costs(params, x, key):
    """Expected bits/sample and distortion of every index, [B, K] each."""
    if grid:  # Σ_j w_j (dx_j − t_jk)² expanded: two [B, G] × [G, K] products
      ys, w, dx, table = grid_terms(params, x, key)
      dist = (jnp.sum(w * dx * dx, -1, keepdims=True) - 2 * (w * dx) @ table
              + w @ (table * table))
      # E_{y|x} −log q(k|y) on the same grid (q(k) itself when marginal)
      log_q = w @ jax.nn.log_softmax(prior_logits(params, ys[:, None]),
                                     axis=-1)
      return -log_q / (LN2 * n), dist
    if local:  # weights w [M] of the points ys [M, B, n]
      ys, w = source.side_info_local_grid(key, x, local,
                                          cfg.side_info_local_range)
      mean = lambda a: jnp.einsum("m,mbk->bk", w, a)
    else:
      ys = draw_side_info(key, x, cfg.side_info_samples)  # [M, B, n]
      mean = lambda a: a.mean(axis=0)
    dist = mean(all_distortions(params, x[None], ys))  # [B, K]
    log_q = jax.nn.log_softmax(prior_logits(params, ys), axis=-1)  # [M, B, K]
    bits = -mean(log_q) / (LN2 * n)
    return bits, dist

  def encode(params, x, lmbda, key):
    if cfg.encoder == "learned":
      return jnp.argmax(encoder_logits(params, x), axis=-1)
    bits, dist = index_costs(params, x, key)
    return jnp.argmin(bits + lmbda * dist, axis=-1)

  return Compressor(k, n, cfg.rate_model, cfg.encoder, init, encoder_logits,
                    prior_logits, decode, decode_indices, all_distortions,
                    index_costs, encode, dist_fn,
                    expected_distortion if grid else None)
