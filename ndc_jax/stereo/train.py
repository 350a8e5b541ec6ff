"""Training of one stereo-codec arm on random crops: λ, β_MI and the seed
traced, so `jit(vmap(train_chunk))` trains the arm's grid as one program.

The loss per crop is the operational rate-distortion Lagrangian of Ballé et
al. (ICLR 2017, Eq. 2; ICLR 2018, Eq. 10), in bits per pixel (bpp) with the
MSE of [0, 1] images scaled to 8-bit units as CompressAI does:

    L = bits(ỹ[, z̃]) / N_pix + λ·255²·MSE(x1, x̂1(ŷ, x2))
        [+ λ·w_vq·Σ_pos (‖sg(e) − c‖² + β_c‖e − sg(c)‖²) / N_pix]   (vq)
        [− β_MI·Î(ŷ; s_n) / N_pix]                                  (MI)

N_pix counts the pixels whose distortion counts: with `train.edge_pad` each
crop's last p_h rows and p_w columns (p ~ U{0, …, multiple − 1}) are edge
replicated as `data.pad_to` pads a test image whose sides are not multiples
of the transforms' downsampling, and measured nowhere, while every latent
is coded (`data.edge_pad_crops`): the training rate is then the test's,
bits per image pixel with the padding's latents counted.

Rates use the noisy proxy ỹ = y + U(−½, ½) (the mean-scale model: of the
residual y − μ(z̃), decoded as μ + residual); the synthesis decodes
`train.decoder_input`: 'round' (straight-through rounding, what it decodes
at test; Minnen & Singh, ICIP 2020, Sec. 2) or 'noise' (ỹ). Î is the
InfoNCE or MINE estimate (`core.mi.estimate_terms`, nats → bits)
between the coded latents and the side encoder's coarsest features s_n
(view 2), its critic trained on stop-gradient inputs; β_MI of either sign.
VQ (Whang et al. 2021; van den Oord et al. 2017, Eq. 3): straight-through
codewords, the entropy-constrained choice of `vq.select`.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax import nnx

from ndc_jax.core import entropy_model as em
from ndc_jax.core import loops, mi, registry, runner
from ndc_jax.stereo import data as stereo_data
from ndc_jax.stereo import gaussian, model, transforms, vq

METRICS = ("loss", "bpp", "mse", "psnr_db", "mi_bits")
ESTIMATORS = ("none",) + tuple(mi.ESTIMATORS)
DECODER_INPUTS = ("round", "noise")
MSE_SCALE = 255.0 ** 2


class StereoTrainer(NamedTuple):
  codec: model.Codec
  init: Callable         # key -> loops.CriticTrainState (params: {"net",
                         # "entropy", "critic"})
  train_chunk: Callable  # (state, lmbda, beta) -> (state, metrics)
  train: Callable        # (lmbda, beta, key) -> (state, metrics [chunks])
  init_params: Callable  # key -> params (structure for loading)
  loss: Callable  # (params, x1, x2, valid, λ, β, ma, key) ->
                  # (loss, (metrics, ma)); valid [B, h, w, 1]: 1 where the
                  # distortion counts (`data.edge_pad_crops`)
  metric_names: tuple = METRICS


def validate(cfg: ml_collections.ConfigDict, image_shape) -> None:
  """Raises ValueError naming a bad `model`, `train` or `sweep` field."""
  m, t, s = cfg.model, cfg.train, cfg.sweep
  registry.lookup({k: k for k in model.ENTROPY}, m.entropy, "model.entropy")
  registry.lookup({k: k for k in transforms.FUSIONS}, m.fusion,
                  "model.fusion")
  registry.lookup({k: k for k in DECODER_INPUTS}, t.decoder_input,
                  "train.decoder_input")
  runner.check_counts(cfg, (
      "model.filters", "model.latent_channels", "model.kernel",
      "model.synthesis_kernel", "model.downsamples",
      "model.entropy_components", "model.codebook_size", "model.key_dim"))
  runner.check_schedule(cfg)
  stereo_data.check_crop(t.crop, image_shape, model.multiple(m))
  if m.mi_estimator not in ESTIMATORS:
    raise ValueError(f"model.mi_estimator={m.mi_estimator!r} is unknown; "
                     f"allowed: {ESTIMATORS}")
  if m.mi_estimator != "none":
    if m.fusion == "none":
      raise ValueError("model.mi_estimator needs side features "
                       "(model.fusion='concat' or 'attention')")
    if not 1 <= m.num_negatives < t.batch_size:
      raise ValueError(f"model.num_negatives={m.num_negatives!r} must lie in "
                       f"[1, train.batch_size − 1 = {t.batch_size - 1}]")
  elif any(b != 0 for b in s.betas):
    raise ValueError(f"sweep.betas={tuple(s.betas)!r}: β_MI ≠ 0 needs "
                     "model.mi_estimator='infonce' or 'mine'")
  if not s.lmbdas or any(not l > 0 for l in s.lmbdas):
    raise ValueError(f"sweep.lmbdas={tuple(s.lmbdas)!r} must be a non-empty "
                     "list of values > 0")
  if not s.seeds:
    raise ValueError("sweep.seeds is empty; give at least one integer seed")


def make_train(cfg: ml_collections.ConfigDict, train_pairs) -> StereoTrainer:
  """Pure training functions of arm `cfg` on `train_pairs` = (view 1,
  view 2), float in [0, 1]: one training region [H, W, 3] (Motorcycle's
  band) or a stack of P pairs [P, H, W, 3] (a benchmark's training split);
  every step crops a random pair per batch element (`data.sample_crops`)."""
  x1_all, x2_all = (np.asarray(v) for v in train_pairs)
  stereo_data.check_pair(x1_all, x2_all, "training pair")
  if x1_all.ndim == 3:
    x1_all, x2_all = x1_all[None], x2_all[None]  # [1, H, W, 3]
  validate(cfg, x1_all.shape[1:])
  m, t = cfg.model, cfg.train
  codec = model.make_codec(m)
  pairs = jnp.asarray(np.stack([stereo_data.to_uint8(x1_all),
                                stereo_data.to_uint8(x2_all)], 1))
  ch, cw = t.crop
  down = 2 ** m.downsamples
  flat = (ch // down) * (cw // down) * m.latent_channels
  side_flat = (ch // down) * (cw // down) * m.filters
  use_mi = m.mi_estimator != "none"
  terms = [((0,), 1)] if use_mi else []

  def init_params(key):
    k_net, k_crit = jax.random.split(key)
    params = codec.init_params(k_net)
    params["critic"] = [nnx.split(critic(k_crit))[1]] if use_mi else []
    return params

  critic = lambda key: mi.make_critic(m.critic, flat, side_flat,
                                      m.critic_hidden, m.critic_embed, key)
  crit_graph = (nnx.split(nnx.eval_shape(lambda: critic(jax.random.key(0))))[0]
                if use_mi else None)

  def mi_terms(critic_params, latents, side, key, ma):
    critics = [nnx.merge(crit_graph, p) for p in critic_params]
    flat_in = [latents.reshape(latents.shape[0], -1),
               side.reshape(side.shape[0], -1)]
    return mi.estimate_terms(m.mi_estimator, terms, critics, flat_in,
                             m.num_negatives, key, ma, t.mine_ema_rate)

  def loss_fn(params, x1, x2, valid, lmbda, beta, ma, key):
    k_y, k_z, k_mi = jax.random.split(key, 3)
    sg = jax.lax.stop_gradient
    ent = params["entropy"]
    y = codec.encode(params, x1)
    gauss = m.entropy in model.GAUSSIAN
    if gauss:
      z_noisy = em.noisy(k_z, codec.hyper(params, y))
      mu, sigma = codec.conditionals(params, z_noisy, y.shape[1:3])
    else:
      mu = jnp.zeros(())
    # The residual y − μ is what is rounded and coded (μ = 0 but for the
    # mean-scale model); the synthesis decodes μ + its rounding or noise.
    r = y - mu
    r_noisy = em.noisy(k_y, r)
    r_round = r + sg(jnp.round(r) - r)
    y_dec = mu + (r_round if t.decoder_input == "round" else r_noisy)
    extra = jnp.zeros(())
    if m.entropy == "factorized":
      bits = jnp.sum(em.bits(ent["y"], r_noisy))
    elif gauss:
      bits = (jnp.sum(em.bits(ent["z"], z_noisy)) +
              jnp.sum(gaussian.bits(r_noisy, sigma)))
    else:
      cb = codec.codebook(params)
      k = vq.select(sg(y), sg(cb), sg(ent["logits"]), lmbda * m.vq_weight)
      c = cb[k]
      bits = jnp.sum(vq.index_bits(ent["logits"])[k])
      y_dec = y + sg(c - y)
      extra = lmbda * m.vq_weight * jnp.sum(
          jnp.sum(jnp.square(sg(y) - c), -1)
          + m.commitment * jnp.sum(jnp.square(y - sg(c)), -1))
    x_hat = codec.decode(params, y_dec, x2)
    n_pix = jnp.sum(valid)
    mse = jnp.sum(valid * jnp.square(x1 - x_hat)) / (n_pix * x1.shape[-1])
    side = sg(codec.side_features(params, x2)[-1]) if use_mi else None
    mi_obj, crit_obj, mi_est, new_ma = mi.critic_game(
        lambda cp, lat, k, a: mi_terms(cp, lat, side, k, a),
        params["critic"], y_dec, k_mi, ma, use_mi)
    per_image = n_pix / x1.shape[0]
    # The rate-distortion Lagrangian (bpp + λ·255²·MSE), with the VQ terms
    # and −β_MI·Î per pixel; the critic's own objective reaches only it.
    loss = ((bits + extra) / n_pix + lmbda * MSE_SCALE * mse
            - beta * mi_obj / per_image - crit_obj)
    metrics = {"bpp": bits / n_pix, "mse": mse,
               "psnr_db": -10.0 * jnp.log10(mse), "mi_bits": mi_est}
    return loss, (metrics, new_ma)

  steps = t.num_steps
  decay = lambda lr: optax.cosine_decay_schedule(lr, steps,
                                                 t.final_lr_fraction)
  tx = optax.multi_transform(
      {"net": optax.chain(optax.clip_by_global_norm(t.clip_norm),
                          optax.adam(decay(t.learning_rate))),
       "entropy": optax.adam(decay(t.entropy_learning_rate)),
       "critic": optax.adam(t.critic_learning_rate)},
      lambda p: {k: jax.tree.map(lambda _: k, v) for k, v in p.items()})

  def sample(key):
    k_crop, k_pad = jax.random.split(key)
    x1, x2 = stereo_data.sample_crops(pairs, k_crop, t.batch_size, t.crop)
    if t.edge_pad:
      return stereo_data.edge_pad_crops(x1, x2, k_pad, codec.multiple)
    return x1, x2, jnp.ones(x1.shape[:3] + (1,), jnp.float32)

  init, step = loops.lagrangian_steps(init_params, tx, len(terms), sample,
                                      loss_fn)
  train_chunk, train = loops.scan_loops(step, init, t.chunk_steps,
                                        t.num_steps // t.chunk_steps)
  return StereoTrainer(codec, init, train_chunk, train, init_params, loss_fn)


def arm(entropy: str = "factorized", fusion: str = "concat",
        lmbdas=(0.0035, 0.013), num_steps: int = 2000, filters: int = 48,
        latent_channels: int = 64, downsamples: int = 4, crop=(64, 128),
        batch_size: int = 8) -> ml_collections.ConfigDict:
  """An arm's config: model, train, sweep (see `make_train`). λ multiplies
  255²·MSE (CompressAI's convention: 0.0018 … 0.0483)."""
  c = ml_collections.ConfigDict()
  c.model = ml_collections.ConfigDict(dict(
      entropy=entropy, fusion=fusion, filters=filters,
      latent_channels=latent_channels, kernel=5, synthesis_kernel=3,
      downsamples=downsamples,
      key_dim=16, entropy_components=3,
      # vq: codebook of `codebook_size` vectors; the choice weighs latent
      # distortion by λ·vq_weight against −log2 q(k); β_c = commitment.
      codebook_size=64, vq_weight=10.0, commitment=0.25,
      # The MI regularizer: 'infonce' or 'mine' with sweep.betas ≠ 0.
      mi_estimator="none", critic="separable", critic_hidden=(64,),
      critic_embed=16, num_negatives=batch_size - 1))
  c.train = ml_collections.ConfigDict(dict(
      num_steps=num_steps, chunk_steps=num_steps // 4, batch_size=batch_size,
      crop=tuple(crop), decoder_input="round", learning_rate=1e-3,
      entropy_learning_rate=1e-2, critic_learning_rate=1e-3,
      final_lr_fraction=0.05, clip_norm=1.0, mine_ema_rate=0.01,
      edge_pad=True))
  c.sweep = ml_collections.ConfigDict(dict(lmbdas=tuple(lmbdas), betas=(0.0,),
                                           seeds=(0,), models_at_once=-1))
  return c
