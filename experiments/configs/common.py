"""Shared pieces of the experiment configs.

An experiment config holds `arms`: named single-sweep configs (one source,
one model, one λ × seed grid each). `train_and_evaluate` trains each arm's
whole grid as one compiled program and writes every arm's rows into one
results table.
"""

import ml_collections


def arm(source: str = "gaussian", rate_model: str = "conditional",
        lmbdas=(10.0, 100.0), encoder: str = "learned"
        ) -> ml_collections.ConfigDict:
  """One sweep: source, model, training, the λ × seed grid and evaluation."""
  c = ml_collections.ConfigDict()
  c.source = ml_collections.ConfigDict(dict(
      name=source, dim=1, var_x=1.0, var_noise=0.01,
      direction="y_is_x_plus_noise", laplace_scale=1.0))
  c.model = ml_collections.ConfigDict(dict(
      num_indices=64, encoder=encoder, rate_model=rate_model,
      encoder_hidden=(100, 100), prior_hidden=(100, 100),
      decoder_hidden=(100, 100), encoder_init_scale=0.1,
      encoder_head="mlp", codebook_range=3.2, codebook_sharpness=8.0,
      distortion="squared_error", side_info_samples=8,
      # decoder: "mlp" (models.Decoder) or "mixture" (models.MixtureDecoder:
      # decoder_centres learned centres per index, drawn on
      # ±decoder_centre_range·std(Y), gate width decoder_width).
      # "table" (models.TableDecoder): decoder_table_points nodes per axis
      # on ±decoder_table_range·std(Y), started from decoder_centres random
      # points per index.
      decoder="mlp", decoder_centres=16, decoder_centre_range=3.5,
      decoder_width=0.1, decoder_table_points=129, decoder_table_range=4.5,
      # side_info_grid > 0: the argmin encoder's E_{y|x} (and its training
      # distortion) exact on that many y points over
      # ±side_info_grid_range·std(Y); 0: side_info_samples draws of y|x,
      # side_info_sampling "iid" or "stratified" (a Latin hypercube,
      # `sources.Source.sample_side_info_stratified`); side_info_local_grid
      # > 0 (Gaussian, any dim): instead of draws, that many points per axis
      # on ±side_info_local_range std of y|x around E[y|x], weighted by
      # p(y|x) (`sources.Source.side_info_local_grid`).
      side_info_grid=0, side_info_grid_range=4.5, side_info_sampling="iid",
      side_info_local_grid=0, side_info_local_range=3.0))
  c.train = ml_collections.ConfigDict(dict(
      num_steps=3000, chunk_steps=250, batch_size=256, learning_rate=1e-3,
      prior_learning_rate=1e-2, temperature_start=0.5, temperature_end=0.05,
      temperature_decay_steps=2000.0, straight_through=False,
      rate_form="cross_entropy", warmup_steps=1500, lr_schedule="constant",
      lr_step_at=0.7,
      # annealed_argmin: train the argmin encoder by deterministic annealing
      # (a Gibbs assignment at temperature τ in bits, τ annealed as above;
      # with temperature_per_lambda, τ = λ × the schedule's value, so that
      # temperature_start and temperature_end are in bits per unit of λ).
      annealed_argmin=False, temperature_per_lambda=False,
      # rate_temperature_cap > 0 (bits): the annealing's rate term is
      # tempered by min(τ, cap) instead of τ (mass-constrained annealing).
      rate_temperature_cap=0.0,
      # decoder_warmup_steps > 0: the published notebook's decoder warm-up,
      # first that many steps on decoder_warmup_points draws of x, each given
      # decoder_warmup_indices random indices (see train.py).
      decoder_warmup_steps=0, decoder_warmup_points=32,
      decoder_warmup_indices=2,
      # x_sampling: "iid" draws of (X, Y) per step, or "stratified" (scalar
      # sources): one draw of X in each of batch_size equal-probability
      # strata (`sources.Source.sample_stratified`).
      x_sampling="iid"))
  # models_at_once: models a device trains at once (vmapped); -1 = auto
  # (all on an accelerator, max(1, sharding.CPU_ROWS // batch_size) on
  # CPU), 0 = all.
  c.sweep = ml_collections.ConfigDict(dict(lmbdas=tuple(lmbdas), seeds=(0,),
                                           models_at_once=-1))
  # baseline_quick: a coarser classical baseline hull (tests, quick runs).
  # select_seed: with several seeds, keep per λ the seed of least
  # rate + λ·distortion on validation_samples fresh draws (a validation set
  # apart from the test set); rd.csv marks it `selected`.
  c.eval = ml_collections.ConfigDict(dict(num_samples=1_000_000, seed=1234,
                                          baseline_quick=False,
                                          select_seed=False,
                                          validation_samples=100_000))
  return c


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """Parses 'a=1,b' style config arguments (big_vision's `parse_arg`).

  `--config=file.py:quick` sets quick=True; unknown names are an error.
  """
  out = ml_collections.ConfigDict(defaults)
  for item in filter(None, (arg or "").split(",")):
    name, _, value = item.partition("=")
    if name not in defaults:
      raise ValueError(f"config argument {name!r} is unknown; allowed: "
                       f"{sorted(defaults)}")
    kind = type(defaults[name])
    out[name] = (value.lower() in ("", "1", "true")) if kind is bool else (
        kind(value))
  return out
