"""Shared pieces of the real-data configs (stereo, EEG, ECG).

A real-data config holds `data` (the loader's fields), `protocol` (``split``
80/10/10 or ``kfold`` with `folds`), `arms` (multi-source sweeps as in
`multisource_gaussian`, without a `source`: the data set is the source),
`eval` (latency repeats, figure examples, optional Fréchet feature function),
`baselines` (the classical codecs run on the same test region,
`ndc_jax.realdata.classical`; image codecs for stereo, transform codecs and
a lossless reference for signals) and `claim` (the target rate and metric, checked in summary.json). Rates are in bits per dimension, so λ is per unit squared
error of the normalised data (per-channel z-scores of the train split).
"""

import ml_collections

from experiments.configs import common, multisource_gaussian
from ndc_jax.baselines import image_codecs

# Quantizer steps of the signal baselines, in units of the source's train std.
SIGNAL_STEPS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8)


def arms(latent_dim: int, hidden: tuple, lmbdas: tuple, betas=(-0.5, 0.0, 0.5),
         num_steps: int = 600, estimators=("infonce", "mine")
         ) -> ml_collections.ConfigDict:
  """One alternating-update arm per MI estimator (InfoNCE vs MINE ablation)."""
  out = ml_collections.ConfigDict()
  for est in estimators:
    c = multisource_gaussian.arm(est, "alternating",
                                 "separable" if est == "infonce" else "mlp")
    del c["source"]  # the data set is the source
    c.model.latent_dim = latent_dim
    c.model.encoder_hidden = c.model.decoder_hidden = tuple(hidden)
    c.train.num_steps, c.train.chunk_steps = num_steps, num_steps // 3
    c.train.batch_size = 64
    # 2e-3 (the Gaussian configs' rate) diverged on 256-dim stereo patches:
    # KL > 100 BPD and NaN (MINE, β_MI = -1) within 400 steps.
    c.train.learning_rate = 3e-4
    c.sweep.lmbdas, c.sweep.betas = tuple(lmbdas), tuple(betas)
    c.eval.num_samples = 2000
    out[est] = c
  return out


def shrink(config: ml_collections.ConfigDict, lmbdas: tuple) -> None:
  """The `:quick` variant: one tiny InfoNCE arm, 1 λ × 2 β_MI, 40 steps."""
  config.arms = arms(4, (16,), lmbdas, (-0.5, 0.5), 40,
                     ("infonce",))
  c = config.arms.infonce
  c.train.chunk_steps, c.train.batch_size = 20, 32
  c.model.critic_hidden, c.model.critic_embed = (8,), 4
  c.model.num_negatives = 7
  c.eval.num_samples = 1000
  config.eval.latency_repeats = 2
  config.eval.num_figure_examples = 3


def baselines(data_name: str, quick: bool = False
              ) -> ml_collections.ConfigDict:
  """Classical codecs of a data set: image codecs with their quality sweeps
  (stereo) or DWT / DCT / KLT+DWT over SIGNAL_STEPS plus the lossless
  reference (EEG, ECG); `quick` keeps three settings each."""
  image = data_name == "stereo_middlebury"
  thin = (lambda t: tuple(t)[::3]) if quick else tuple
  return ml_collections.ConfigDict(dict(
      image_codecs=image_codecs.CODECS if image else (),
      image_qualities={k: thin(v) for k, v in
                       image_codecs.DEFAULT_QUALITIES.items()},
      signal_codecs=() if image else ("dwt", "dct", "klt_dwt"),
      signal_steps=thin(SIGNAL_STEPS), wavelet="sym8", levels=6,
      dct_block=32, lossless=not image))


def base(arg: str | None, data: dict, claim: dict, latent_dim: int,
         hidden: tuple, lmbdas: tuple, quick_data: dict,
         quick_lmbdas=(30.0,)) -> ml_collections.ConfigDict:
  """A full real-data config; `arg` "quick" shrinks it, "kfold" selects 5-fold
  cross-validation (e.g. `--config=...py:quick,kfold`)."""
  a = common.parse_arg(arg, quick=False, kfold=False, folds=5)
  config = ml_collections.ConfigDict()
  config.job = "realdata"
  config.data = ml_collections.ConfigDict(dict(fractions=(0.8, 0.1, 0.1),
                                               **data))
  config.protocol = ml_collections.ConfigDict(dict(
      name="kfold" if a.kfold else "split", folds=a.folds))
  config.arms = arms(latent_dim, hidden, lmbdas)
  config.eval = ml_collections.ConfigDict(dict(
      latency_repeats=10, num_figure_examples=4, feature_fn=""))
  config.claim = ml_collections.ConfigDict(claim)
  config.baselines = baselines(data["name"], a.quick)
  if a.quick:
    config.data.update(quick_data)
    shrink(config, tuple(quick_lmbdas))
  return config
