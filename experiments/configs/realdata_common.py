"""Shared pieces of the real-data configs (stereo, EEG, ECG).

A real-data config holds `data` (the loader's fields), `protocol` (``split``
80/10/10 or ``kfold`` with `folds`), `arms` (multi-source sweeps as in
`multisource_gaussian`, without a `source`: the data set is the source),
`eval` (latency repeats, figure examples, optional Fréchet feature function)
and `claim` (the target rate and metric, checked in summary.json). Rates are in bits per dimension, so λ is per unit squared
error of the normalised data (per-channel z-scores of the train split).
"""

import ml_collections

from experiments.configs import common, multisource_gaussian


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
  if a.quick:
    config.data.update(quick_data)
    shrink(config, tuple(quick_lmbdas))
  return config
