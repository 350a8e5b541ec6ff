"""Tests of the λ-vmapped trainer: sweep = loop, one compile, it learns."""

import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized

from experiments.configs import common
from ndc_jax.wyner_ziv import evaluate
from ndc_jax.wyner_ziv import train


def tiny(rate_model="conditional", encoder="learned", steps=40, **train_kw):
  c = common.arm("gaussian", rate_model, (300.0, 3000.0), encoder)
  c.train.update(num_steps=steps, chunk_steps=20, batch_size=32,
                 warmup_steps=steps // 2)
  c.train.update(**train_kw)
  c.model.update(num_indices=8, encoder_hidden=(16,), decoder_hidden=(16,),
                 prior_hidden=(16,), side_info_samples=2)
  c.sweep.seeds = (0, 1)
  return c


class TrainTest(chex.TestCase):

  def test_vmapped_sweep_equals_loop_of_single_runs(self):
    trainer = train.make_train(tiny())
    lmbdas, seeds = train.sweep_grid(tiny())
    keys = jax.vmap(jax.random.key)(seeds)
    chex.assert_shape(lmbdas, (4,))
    state, metrics = jax.jit(jax.vmap(trainer.train))(lmbdas, keys)
    chex.assert_shape(metrics["loss"], (4, 2))
    single = jax.jit(trainer.train)
    for i in range(4):
      s_i, m_i = single(lmbdas[i], keys[i])
      chex.assert_trees_all_close(jax.tree.map(lambda a: a[i], state.params),
                                  s_i.params, rtol=2e-3, atol=2e-4)
      chex.assert_trees_all_close(metrics["rate_bits"][i], m_i["rate_bits"],
                                  rtol=2e-3, atol=2e-4)
    chex.assert_tree_all_finite(state.params)

  def test_whole_sweep_compiles_once(self):
    trainer = train.make_train(tiny())
    lmbdas, seeds = train.sweep_grid(tiny())
    counted = chex.assert_max_traces(trainer.train_chunk, n=1)
    chunk = jax.jit(jax.vmap(counted))
    state = jax.jit(jax.vmap(trainer.init))(jax.vmap(jax.random.key)(seeds))
    state, _ = chunk(state, lmbdas)
    state, _ = chunk(state, lmbdas * 2.0)  # new λ values: no new trace
    self.assertEqual(int(state.step[0]), 40)

  def test_conditional_model_uses_side_information(self):
    # Weak side information (σ²_{X|Y} = 0.2) so that a tiny model shows it.
    cfg = tiny(steps=400, batch_size=128,
               temperature_decay_steps=300.0)
    cfg.source.var_noise = 0.25
    cfg.sweep.update(lmbdas=(10.0,), seeds=(0,))
    ev = self._train_and_evaluate(cfg)
    # The index is used (distortion well below what y alone gives), the rate
    # is far below R(D) without side information, and within 0.5 bit of
    # R_WZ(D).
    self.assertLess(ev["distortion"][0], 0.8 * 0.2, ev)
    self.assertLess(ev["rate_bits"][0] + 0.5, ev["no_side_info_bits"][0], ev)
    self.assertLess(ev["gap_bits"][0], 0.5, ev)

  def test_codebook_encoder_learns_with_side_information(self):
    # 16 even cells on ±2.5 at init, λ = 100 (fine cells pay); a tiny
    # decoder needs far more than 400 steps to reach the bound (the default
    # config trains 6000 at batch 1024), so this checks that it learns at all.
    cfg = tiny(steps=400, batch_size=128, temperature_decay_steps=300.0)
    cfg.model.update(encoder_head="codebook", num_indices=16,
                     codebook_range=2.5)
    cfg.source.var_noise = 0.25
    cfg.sweep.update(lmbdas=(100.0,), seeds=(0,))
    ev = self._train_and_evaluate(cfg)
    self.assertLess(ev["distortion"][0], 0.25 * 0.2, ev)
    self.assertLess(ev["rate_bits"][0], ev["no_side_info_bits"][0], ev)
    self.assertLess(ev["gap_bits"][0], 1.0, ev)

  def _train_and_evaluate(self, cfg):
    trainer = train.make_train(cfg)
    lmbdas, seeds = train.sweep_grid(cfg)
    state, _ = jax.jit(jax.vmap(trainer.train))(
        lmbdas, jax.vmap(jax.random.key)(seeds))
    return evaluate.evaluate(trainer, state.params, lmbdas,
                             jax.random.key(9), 8192)

  def _adam_step_sizes(self, train_cfg, steps):
    """|update| of the first decoder and prior entries over `steps` steps of
    constant unit gradients (Adam's step is then the step size itself)."""
    tx = train._optimizer(train_cfg)
    params = {"decoder": jnp.zeros(3), "prior": jnp.zeros(3)}
    grads = jax.tree.map(jnp.ones_like, params)
    state, sizes = tx.init(params), []
    for _ in range(steps):
      updates, state = tx.update(grads, state, params)
      sizes.append(jax.tree.map(lambda u: float(jnp.abs(u[0])), updates))
    return sizes

  @parameterized.parameters(("constant", 1.0), ("cosine", 0.01), ("step", 0.1))
  def test_learning_rate_schedule(self, schedule, last_share):
    cfg = tiny(steps=100, lr_schedule=schedule)
    sizes = self._adam_step_sizes(cfg.train, cfg.train.num_steps + 1)
    np.testing.assert_allclose(sizes[0]["decoder"], cfg.train.learning_rate,
                               rtol=1e-4)
    np.testing.assert_allclose(sizes[0]["prior"],
                               cfg.train.prior_learning_rate, rtol=1e-4)
    np.testing.assert_allclose(sizes[-1]["decoder"],
                               last_share * cfg.train.learning_rate, rtol=1e-3)

  def test_step_schedule_drops_at_lr_step_at(self):
    cfg = tiny(steps=100, lr_schedule="step")
    cfg.train.lr_step_at = 0.85
    sizes = self._adam_step_sizes(cfg.train, cfg.train.num_steps)
    lr = cfg.train.learning_rate
    np.testing.assert_allclose(sizes[84]["decoder"], lr, rtol=1e-4)
    np.testing.assert_allclose(sizes[85]["decoder"], 0.1 * lr, rtol=1e-4)

  @parameterized.parameters("iid", "stratified", "local_grid")
  def test_argmin_encoder_minimizes_rate_plus_lambda_distortion(self,
                                                                sampling):
    cfg = tiny(encoder="argmin", rate_model="marginal")
    if sampling == "local_grid":
      cfg.model.side_info_local_grid = 3
    else:
      cfg.model.side_info_sampling = sampling
    trainer = train.make_train(cfg)
    comp = trainer.compressor
    state, _ = jax.jit(trainer.train)(1000.0, jax.random.key(0))
    x, _ = trainer.source.sample(jax.random.key(1), 64)
    key = jax.random.key(2)
    u = comp.encode(state.params, x, 1000.0, key)
    # By hand: decode every index at the same points y|x, average with the
    # quadrature's weights (1/M for draws).
    if sampling == "local_grid":
      ys, w = trainer.source.side_info_local_grid(
          key, x, 3, cfg.model.side_info_local_range)  # [3, 64, 1], [3]
    else:
      draw = (trainer.source.sample_side_info_stratified
              if sampling == "stratified" else trainer.source.sample_side_info)
      ys, w = draw(key, x, 2), jnp.full(2, 0.5)  # [2, 64, 1]
    dist = sum(w[m] * jnp.stack([
        comp.distortion(x, comp.decode(
            state.params, jax.nn.one_hot(jnp.full(64, k), 8), ys[m]))
        for k in range(8)], -1) for m in range(len(w)))
    bits = -jax.nn.log_softmax(state.params["prior"]["logits"].value) / jnp.log(
        2.0)
    np.testing.assert_array_equal(u, jnp.argmin(bits + 1000.0 * dist, -1))
    chex.assert_tree_all_finite(state.params)

  @parameterized.parameters(
      ("sweep", "lmbdas", (1.0, 0.0), "sweep.lmbdas"),
      ("sweep", "lmbdas", (), "sweep.lmbdas"),
      ("model", "num_indices", 1, "model.num_indices=1"),
      ("model", "rate_model", "joint", "model.rate_model='joint'"),
      ("model", "encoder", "lookup", "model.encoder='lookup'"),
      ("model", "encoder_head", "vq", "model.encoder_head='vq'"),
      ("model", "codebook_sharpness", 0.0, "model.codebook_sharpness=0.0"),
      ("model", "codebook_range", -1.0, "model.codebook_range=-1.0"),
      ("model", "side_info_local_grid", 1, "model.side_info_local_grid=1 "
       r"is invalid; allowed: 0 \(draws of y\|x\) or an integer >= 2"),
      ("model", "side_info_local_range", 0.0,
       "model.side_info_local_range=0.0"),
      ("model", "side_info_sampling", "sobol",
       "model.side_info_sampling='sobol' is unknown; allowed: "
       r"\('iid', 'stratified'\)"),
      ("train", "lr_schedule", "linear", "train.lr_schedule='linear'"),
      ("train", "lr_step_at", 1.0, r"train.lr_step_at=1.0 is invalid; "
       r"allowed: a float in \(0, 1\)"),
      ("train", "rate_temperature_cap", -1.0,
       "train.rate_temperature_cap=-1.0 is invalid; allowed: a float >= 0"),
      ("train", "rate_temperature_cap", 1.0,
       "it needs train.annealed_argmin=True"),
      ("train", "decoder_warmup_steps", 3000,
       "train.decoder_warmup_steps=3000"),
      ("train", "decoder_warmup_points", 0, "train.decoder_warmup_points=0"),
      ("train", "temperature_start", 0.0, "train.temperature_start=0.0"),
      ("train", "temperature_end", -1.0, "train.temperature_end=-1.0"),
      ("train", "rate_form", "mse", "train.rate_form='mse'"),
      ("train", "warmup_steps", 10_000, "train.warmup_steps=10000"),
      ("train", "chunk_steps", 7, "multiple of train.chunk_steps=7"),
      ("train", "x_sampling", "sobol", "train.x_sampling='sobol'"),
      ("source", "name", "uniform", "source.name='uniform'"),
      ("source", "var_noise", 0.0, "source.var_noise=0.0"),
  )
  def test_bad_config_fails_before_training(self, section, field, value,
                                            message):
    cfg = tiny()
    cfg[section][field] = value
    with self.assertRaisesRegex(ValueError, message):
      train.make_train(cfg)

  def test_local_grid_needs_a_gaussian_and_no_global_grid(self):
    cfg = tiny()
    cfg.model.side_info_local_grid, cfg.model.side_info_grid = 8, 128
    with self.assertRaisesRegex(ValueError, "model.side_info_local_grid=8 "
                                "and model.side_info_grid=128 exclude"):
      train.make_train(cfg)
    cfg.model.side_info_grid, cfg.source.name = 0, "signed_laplace"
    with self.assertRaisesRegex(ValueError, re.escape(
        "needs a source with a continuous y|x (gaussian), not "
        "'signed_laplace'")):
      train.make_train(cfg)

  def test_stratified_sampling_needs_a_scalar_source(self):
    cfg = tiny()
    cfg.train.x_sampling, cfg.source.dim = "stratified", 2
    with self.assertRaisesRegex(ValueError, "needs a scalar source; "
                                "source.dim is 2"):
      train.make_train(cfg)


if __name__ == "__main__":
  absltest.main()
