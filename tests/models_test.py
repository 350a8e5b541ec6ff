"""Tests of the Flax networks: the codebook head's quantizer at init."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized
from flax import nnx

from experiments.configs import common
from ndc_jax.wyner_ziv import compressor
from ndc_jax.wyner_ziv import models
from ndc_jax.wyner_ziv import sources


class CodebookHeadTest(chex.TestCase):

  @parameterized.parameters(1, 3)
  def test_argmax_is_the_nearest_centre(self, dim):
    codebook = jax.random.normal(jax.random.key(0), (12, dim))
    head = models.CodebookHead(codebook, sharpness=2.0)
    x = 2.0 * jax.random.normal(jax.random.key(1), (500, dim))
    logits = jax.jit(lambda h, x: h(x))(head, x)
    chex.assert_shape(logits, (500, 12))
    dist = jnp.sum((x[:, None] - codebook[None]) ** 2, -1)
    np.testing.assert_array_equal(jnp.argmax(logits, -1),
                                  jnp.argmin(dist, -1))

  def test_logit_gap_half_a_spacing_from_the_boundary_is_the_sharpness(self):
    codebook = jnp.linspace(-1.0, 1.0, 5)[:, None]  # spacing 0.5
    head = models.CodebookHead(codebook, sharpness=3.0)
    logits = head(jnp.array([[0.0]]))[0]  # on centre 2; boundary at ±0.25
    np.testing.assert_allclose(logits[2] - logits[1], 3.0, rtol=1e-5)
    np.testing.assert_allclose(logits[2] - logits[3], 3.0, rtol=1e-5)

  def test_offsets_move_the_boundaries(self):
    head = models.CodebookHead(jnp.array([[0.0], [1.0]]), sharpness=1.0)
    x = jnp.array([[0.45], [0.55]])
    np.testing.assert_array_equal(jnp.argmax(head(x), -1), [0, 1])
    head.offsets[...] = jnp.array([1.0, 0.0])  # index 0 made cheaper
    np.testing.assert_array_equal(jnp.argmax(head(x), -1), [0, 0])


class DecoderTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(1, 3)
  def test_at_indices_equals_the_one_hot_decoder(self, dim):
    dec = models.Decoder(dim, 10, (16, 16), rngs=nnx.Rngs(0))
    u = jax.random.randint(jax.random.key(1), (7, 5), 0, 10)  # any batch
    y = jax.random.normal(jax.random.key(2), (7, 5, dim))
    got = self.variant(lambda d, u, y: d.at_indices(u, y))(dec, u, y)
    chex.assert_shape(got, (7, 5, dim))
    np.testing.assert_allclose(got, dec(jax.nn.one_hot(u, 10), y),
                               rtol=1e-5, atol=1e-6)


class InitialCodebookTest(chex.TestCase):

  def test_scalar_source_gets_an_even_grid_over_the_range(self):
    cfg = common.arm("signed_laplace").source
    src = sources.make_source(cfg)
    c = compressor.initial_codebook(src, 9, 2.0, jax.random.key(0))
    chex.assert_shape(c, (9, 1))
    np.testing.assert_allclose(c[:, 0], np.linspace(-2, 2, 9) * src.x_std,
                               rtol=1e-6)

  def test_blocks_start_from_source_draws(self):
    cfg = common.arm("gaussian").source
    cfg.dim = 4
    src = sources.make_source(cfg)
    c = compressor.initial_codebook(src, 16, 3.2, jax.random.key(3))
    chex.assert_shape(c, (16, 4))
    x, _ = src.sample(jax.random.key(3), 16)
    np.testing.assert_array_equal(c, x)

  def test_codebook_encoder_uses_every_index_at_init(self):
    cfg = common.arm("gaussian", "conditional")
    cfg.model.encoder_head = "codebook"
    comp = compressor.make_compressor(cfg.model,
                                      sources.make_source(cfg.source))
    params = comp.init(jax.random.key(0))
    x = jnp.linspace(-3.3, 3.3, 20_001)[:, None]
    u = jnp.argmax(comp.encoder_logits(params, x), -1)
    self.assertEqual(len(np.unique(u)), cfg.model.num_indices)
    # Cells in order along x: one interval per index (no binning at init).
    self.assertEqual(int(jnp.sum(jnp.diff(u) != 0)), cfg.model.num_indices - 1)

  def test_mlp_encoder_has_no_head(self):
    enc = models.Encoder(1, 8, (16,), rngs=nnx.Rngs(0), out_scale=0.1)
    self.assertIsNone(enc.head)


if __name__ == "__main__":
  absltest.main()
