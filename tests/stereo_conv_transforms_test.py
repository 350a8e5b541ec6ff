"""The stereo codec's layers and transforms (`ndc_jax.stereo.layers`,
`transforms`): convolution against XLA's, the sub-pixel layout, GDN at its
identity point, row attention that stays in its row, and every transform's
shapes."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized
from flax import nnx

from ndc_jax.stereo import layers, transforms


class LayersTest(parameterized.TestCase):

  @parameterized.parameters((5, 1), (5, 2), (3, 1), (3, 2))
  def test_conv2d_equals_lax_conv(self, kernel, stride):
    layer = layers.Conv2D(3, 4, kernel, stride, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(1), (2, 8, 12, 3))
    lo = (kernel - 1) // 2
    want = jax.lax.conv_general_dilated(
        x, layer.w[...].reshape(kernel, kernel, 3, 4), (stride, stride),
        [(lo, kernel - 1 - lo)] * 2,
        dimension_numbers=("NHWC", "HWIO", "NHWC")) + layer.b[...]
    chex.assert_shape(want, (2, 8 // stride, 12 // stride, 4))
    chex.assert_trees_all_close(jax.jit(layer)(x), want, atol=1e-5)

  def test_upsample_puts_channel_blocks_on_the_2x2_grid(self):
    h = np.arange(2 * 3 * 8.0).reshape(1, 2, 3, 8)  # F = 2
    up = np.asarray(layers.upsample(jnp.asarray(h)))
    chex.assert_shape(up, (1, 4, 6, 2))
    for a in (0, 1):
      for b in (0, 1):
        np.testing.assert_array_equal(up[0, 2 + a, 4 + b],
                                      h[0, 1, 2, 4 * a + 2 * b:][:2])

  def test_gdn_is_identity_without_coupling_and_unit_beta(self):
    gdn = layers.GDN(3)
    gdn.gamma_raw[...] = jnp.zeros((3, 3))
    gdn.beta_raw[...] = jnp.sqrt(1.0 - layers.BETA_MIN) * jnp.ones(3)
    x = jax.random.normal(jax.random.key(0), (4, 3))
    chex.assert_trees_all_close(gdn(x), x, atol=1e-6)
    igdn = layers.GDN(3, inverse=True)
    y = igdn(x)  # default γ = 0.1·I: x·sqrt(1 + 0.1·x²) (+ the pedestal)
    chex.assert_trees_all_close(y, x * jnp.sqrt(1 + 1e-6 + 0.1 * x * x),
                                atol=1e-5)

  def test_row_attention_reads_only_its_own_row(self):
    att = layers.RowCrossAttention(4, 6, 3, rngs=nnx.Rngs(0))
    q = jax.random.normal(jax.random.key(1), (1, 3, 5, 4))
    s = jax.random.normal(jax.random.key(2), (1, 3, 5, 6))
    # Output row 1 [5, 6] against s [1, 3, 5, 6]: jac [5, 6, 1, 3, 5, 6].
    jac = jax.jacobian(lambda s: att(q, s)[0, 1])(s)
    self.assertEqual(float(jnp.abs(jac[:, :, 0, 0]).max()), 0.0)
    self.assertEqual(float(jnp.abs(jac[:, :, 0, 2]).max()), 0.0)
    self.assertGreater(float(jnp.abs(jac[:, :, 0, 1]).max()), 0.0)


class TransformsTest(parameterized.TestCase):

  def test_analysis_side_encoder_and_hyper_shapes(self):
    x = jax.ShapeDtypeStruct((2, 32, 48, 3), jnp.float32)
    shape = lambda module, v: jax.eval_shape(lambda v: module(v), v)
    y = shape(transforms.Analysis(3, 8, 6, 5, 3, rngs=nnx.Rngs(0)), x)
    chex.assert_shape(y, (2, 4, 6, 6))
    side = shape(transforms.SideEncoder(3, 8, 5, 3, rngs=nnx.Rngs(1)), x)
    chex.assert_shape(side, [(2, 16, 24, 8), (2, 8, 12, 8), (2, 4, 6, 8)])
    z = shape(transforms.HyperAnalysis(6, 8, rngs=nnx.Rngs(2)),
              jax.ShapeDtypeStruct((2, 8, 12, 6), jnp.float32))
    chex.assert_shape(z, (2, 2, 3, 8))
    for mean in (False, True):
      hyper_s = transforms.HyperSynthesis(6, 8, mean=mean, rngs=nnx.Rngs(3))
      mu, sigma = nnx.jit(lambda m, v: m(v))(hyper_s,
                                             -5.0 * jnp.ones((2, 2, 3, 8)))
      chex.assert_shape([mu, sigma], (2, 8, 12, 6))
      self.assertGreater(float(sigma.min()), 0.0)
      self.assertEqual(float(jnp.abs(mu).max()) > 0.0, mean)

  def test_hyper_analysis_keeps_a_gradient_when_every_unit_is_negative(self):
    # All pre-activations of c1 negative (a bias of −100): with ReLU ẑ would
    # be constant in y and in c1's weights; the leaky units still pass both.
    ha = transforms.HyperAnalysis(6, 8, rngs=nnx.Rngs(0))
    ha.c1.b[...] = -100.0 * jnp.ones((8,))
    y = jax.random.normal(jax.random.key(1), (1, 8, 8, 6))
    graph, state = nnx.split(ha)
    z_sum = lambda st, v: jnp.sum(jnp.square(nnx.merge(graph, st)(v)))
    g_w, g_y = jax.grad(z_sum, argnums=(0, 1))(state, y)
    self.assertGreater(float(jnp.abs(g_w["c1"]["w"][...]).max()), 0.0)
    self.assertGreater(float(jnp.abs(g_y).max()), 0.0)

  @parameterized.parameters(*transforms.FUSIONS)
  def test_synthesis_shape_and_its_use_of_side_features(self, fusion):
    syn = transforms.Synthesis(6, 8, 3, 3, 3, fusion, 4, rngs=nnx.Rngs(0))
    enc = transforms.SideEncoder(3, 8, 5, 3, rngs=nnx.Rngs(1))
    y = jax.random.normal(jax.random.key(2), (1, 2, 3, 6))
    x2 = jax.random.uniform(jax.random.key(3), (1, 16, 24, 3))
    run = nnx.jit(lambda syn, enc, y, x2: syn(y, enc(x2)))
    out = run(syn, enc, y, x2)
    chex.assert_shape(out, (1, 16, 24, 3))
    moved = run(syn, enc, y, 1.0 - x2)
    changed = float(jnp.abs(out - moved).max())
    if fusion == "none":
      self.assertEqual(changed, 0.0)
    else:
      self.assertGreater(changed, 0.0)


if __name__ == "__main__":
  absltest.main()
