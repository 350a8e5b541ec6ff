"""The learned conv transform codec (`models.conv`): each transform's
shapes and maths, encoders that see only their own source, a real ANS
round trip whose length the entropy model predicts, and a short training
run that lowers the loss."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized
from flax import nnx

from ndc_jax.core import entropy_model as em
from ndc_jax.models import conv
from ndc_jax.models import evaluate as multisource_eval
from ndc_jax.models import sources as ms
from ndc_jax.models import train as multisource

C, W = 3, 16  # channels per source, window


def toy_source():
  """Two 3-channel sources sharing a smooth common signal."""
  def sample(key, batch):
    k1, k2, k3 = jax.random.split(key, 3)
    common = jnp.cumsum(jax.random.normal(k1, (batch, 1, W)), -1) / 4
    xs = [common + 0.3 * jax.random.normal(k, (batch, C, W))
          for k in (k2, k3)]
    return tuple(x.reshape(batch, C * W) for x in xs)
  return ms.MultiSource("toy", (C * W, C * W), sample)


def small_arm(num_steps=60, chunk=20):
  cfg = conv.arm(channels=(C, C), filters=8, latent_channels=4,
                 downsamples=2, lmbdas=(4.0,), num_steps=num_steps)
  cfg.train.chunk_steps, cfg.train.batch_size = chunk, 16
  return cfg


class TransformTest(parameterized.TestCase):

  @parameterized.parameters((1, 1), (5, 1), (5, 2), (4, 2))
  def test_conv1d_equals_lax_conv(self, kernel, stride):
    # Centred zero padding: (k − 1) // 2 before, the rest after.
    layer = conv.Conv1D(3, 4, kernel, stride, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(1), (2, 16, 3))
    lo = (kernel - 1) // 2
    want = jax.lax.conv_general_dilated(
        x, layer.w[...].reshape(kernel, 3, 4), (stride,),
        [(lo, kernel - 1 - lo)],
        dimension_numbers=("NWC", "WIO", "NWC")) + layer.b[...]
    chex.assert_shape(want, (2, 16 // stride, 4))
    chex.assert_trees_all_close(jax.jit(layer)(x), want, atol=1e-5)

  def test_analysis_and_synthesis_shapes(self):
    enc = conv.Analysis(C, 8, 4, 5, 2, rngs=nnx.Rngs(0))
    y = enc(jnp.ones((2, W, C)))
    chex.assert_shape(y, (2, W // 4, 4))
    dec = conv.Synthesis(8, 8, [C, 5], 5, 2, rngs=nnx.Rngs(1))
    outs = dec(jnp.ones((2, W // 4, 8)))
    chex.assert_shape(outs, [(2, W, C), (2, W, 5)])

  def test_subpixel_upsampling_interleaves_in_time(self):
    # [L, 2F] -> [2L, F]: position 2l takes channels :F, 2l+1 takes F:.
    h = np.arange(3 * 4.0).reshape(1, 3, 4)  # L=3, 2F=4
    up = h.reshape(1, -1, 2)  # the reshape Synthesis applies
    np.testing.assert_array_equal(up[0, 0], [0, 1])
    np.testing.assert_array_equal(up[0, 1], [2, 3])
    np.testing.assert_array_equal(up[0, 2], [4, 5])
    np.testing.assert_array_equal(up[0, 5], [10, 11])

  def test_each_encoder_sees_only_its_source(self):
    trainer = conv.make_train(small_arm(), toy_source())
    params = trainer.init(jax.random.key(0)).params
    xs = toy_source().sample(jax.random.key(1), 4)
    jac = jax.jacobian(lambda x2: trainer.encode(params, (xs[0], x2))[0][0])(
        xs[1])
    self.assertEqual(float(jnp.abs(jac).max()), 0.0)
    chex.assert_shape(trainer.encode(params, xs)[0][0], (4, (W // 4) * 4))
    self.assertEqual(trainer.latent_shape, (W // 4, 4))

  def test_separate_decoders_see_only_their_own_latents(self):
    cfg = small_arm()
    cfg.model.decoder, cfg.model.solo_decoders = "separate", False
    trainer = conv.make_train(cfg, toy_source())
    params = trainer.init(jax.random.key(0)).params
    ys = [y for y, _ in trainer.encode(params, toy_source().sample(
        jax.random.key(1), 4))]
    jac = jax.jacobian(lambda y2: trainer.decode(params, [ys[0], y2])[0])(
        ys[1])
    self.assertEqual(float(jnp.abs(jac).max()), 0.0)
    self.assertIsNone(trainer.decode_alone)
    cfg.model.solo_decoders = True  # they would duplicate its decoders
    with self.assertRaisesRegex(ValueError, "solo_decoders"):
      conv.make_train(cfg, toy_source())

  def test_slope_one_makes_the_analysis_linear(self):
    enc = conv.Analysis(C, 8, 4, 5, 2, slope=1.0, rngs=nnx.Rngs(0))
    a, b = jax.random.normal(jax.random.key(2), (2, 2, W, C))
    f = lambda x: enc(x) - enc(jnp.zeros_like(x))  # minus the biases' part
    chex.assert_trees_all_close(f(a + 2 * b), f(a) + 2 * f(b), atol=1e-4)
    leaky = conv.Analysis(C, 8, 4, 5, 2, rngs=nnx.Rngs(0))
    g = lambda x: leaky(x) - leaky(jnp.zeros_like(x))
    self.assertGreater(float(jnp.abs(g(a + 2 * b) - g(a) - 2 * g(b)).max()),
                       1e-2)

  def test_bad_window_is_refused(self):
    cfg = small_arm()
    cfg.model.downsamples = 5  # 16 samples cannot halve 5 times
    with self.assertRaisesRegex(ValueError, "downsamples"):
      conv.make_train(cfg, toy_source())
    cfg = small_arm()
    cfg.sweep.betas = (0.5,)
    with self.assertRaisesRegex(ValueError, "MI estimator"):
      conv.make_train(cfg, toy_source())


class CodecTest(absltest.TestCase):

  def test_streams_round_trip_and_match_the_entropy_model(self):
    trainer = conv.make_train(small_arm(), toy_source())
    params = trainer.init(jax.random.key(0)).params
    # A logistic density of scale 2 around 0 per element, and latents drawn
    # from it: the stream should cost what the model says.
    for ent in params["enc"]["entropy"]:
      ent["means"] = jnp.zeros_like(ent["means"])
      ent["log_scales"] = jnp.full_like(ent["log_scales"], np.log(2.0))
    flat = trainer.encode(params, toy_source().sample(
        jax.random.key(2), 256))[0][0].shape[-1]
    ys = [jnp.round(2.0 * jax.random.logistic(k, (256, flat)))
          for k in jax.random.split(jax.random.key(3), 2)]
    est = [float(b) * 256 for b in multisource.latent_bits(params, ys)]
    batched = jax.tree.map(lambda a: a[None], params)
    symbols = np.stack([np.asarray(y, np.int32) for y in ys])[None]
    bpd = multisource_eval.measured_bpd(trainer, batched, symbols)  # decodes
    for i, dim in enumerate(trainer.source.dims):
      measured = bpd[0, i] * 256 * dim
      self.assertGreater(est[i], 1000)
      # ANS: within 32 bits of padding, the symbol range and 0.5 %.
      self.assertLess(abs(measured - est[i]),
                      em.RANGE_BITS + 32 + 0.005 * est[i])
    x_hat = multisource.decode_latents(trainer, params, ys)
    chex.assert_shape(x_hat, [(256, C * W)] * 2)
    chex.assert_shape(trainer.decode_alone(params, ys), [(256, C * W)] * 2)


class TrainTest(absltest.TestCase):

  def test_short_training_lowers_the_loss_and_stays_finite(self):
    trainer = conv.make_train(small_arm(), toy_source())
    state, m = jax.jit(trainer.train)(4.0, 0.0, jax.random.key(0))
    chex.assert_tree_all_finite(state.params)
    self.assertLess(float(m["loss"][-1]), 0.9 * float(m["loss"][0]))
    self.assertLess(float(m["mse_alone"][-1]), float(m["mse_alone"][0]))
    self.assertEqual(int(state.step), 60)

  def test_mi_variant_trains(self):
    cfg = small_arm(num_steps=20, chunk=20)
    cfg.model.mi_estimator, cfg.model.num_negatives = "infonce", 7
    cfg.model.critic_hidden, cfg.model.critic_embed = (8,), 4
    cfg.sweep.betas = (0.1,)
    trainer = conv.make_train(cfg, toy_source())
    state, m = jax.jit(trainer.train)(4.0, 0.1, jax.random.key(0))
    chex.assert_tree_all_finite(state.params)
    self.assertTrue(np.isfinite(float(m["mi_bits"][-1])))
    self.assertLen(trainer.terms, 1)


if __name__ == "__main__":
  absltest.main()
