"""Tests of the (X, Y) sources: shapes, moments, p(y|x), bad configs."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized

from experiments.configs import common
from ndc_jax.wyner_ziv import sources


def _cfg(**kw):
  c = common.arm().source
  c.update(kw)
  return c


class SourcesTest(chex.TestCase):

  @parameterized.parameters("y_is_x_plus_noise", "x_is_y_plus_noise")
  def test_gaussian_moments_and_side_info(self, direction):
    src = sources.make_source(_cfg(var_noise=0.1, direction=direction, dim=3))
    x, y = jax.jit(src.sample, static_argnums=1)(jax.random.key(0), 200_000)
    chex.assert_shape((x, y), (200_000, 3))
    np.testing.assert_allclose(jnp.var(x), 1.0, rtol=0.02)
    np.testing.assert_allclose(jnp.mean((x - y) ** 2), 0.1, rtol=0.02)
    # p(y|x) sampled by the source matches the joint: same E[xy] and Var[y].
    y2 = src.sample_side_info(jax.random.key(1), x, 2)
    chex.assert_shape(y2, (2, 200_000, 3))
    np.testing.assert_allclose(jnp.mean(x * y2[0]), jnp.mean(x * y), atol=0.01)
    np.testing.assert_allclose(jnp.var(y2[1]), jnp.var(y), rtol=0.02)
    # Y's marginal from NumPy's legacy stream: the variance of the y above.
    y3 = src.side_info_marginal(np.random.RandomState(0), 200_000)
    chex.assert_shape(y3, (200_000, 3))
    np.testing.assert_allclose(np.var(y3), jnp.var(y), rtol=0.02)

  def test_side_info_marginal_is_numpys_fixed_stream(self):
    # The codec's Slepian-Wolf labels are built from these draws at both
    # ends: they must not move with a JAX or NumPy release (format version 2).
    got = sources.make_source(_cfg()).side_info_marginal(
        np.random.RandomState(2), 3)
    np.testing.assert_allclose(
        got.ravel(), [-0.4188364530551059, -0.056547461521970974,
                      -2.1468505063792023], rtol=1e-12)
    signs = sources.make_source(_cfg(name="signed_laplace")).side_info_marginal(
        np.random.RandomState(2), 6)
    np.testing.assert_array_equal(signs.ravel(), [-1, -1, 1, -1, -1, -1])

  def test_signed_laplace(self):
    src = sources.make_source(_cfg(name="signed_laplace", laplace_scale=2.0))
    x, y = src.sample(jax.random.key(0), 100_000)
    np.testing.assert_array_equal(y, jnp.sign(x))
    np.testing.assert_allclose(jnp.mean(jnp.abs(x)), 2.0, rtol=0.02)
    np.testing.assert_array_equal(src.sample_side_info(None, x, 1)[0], y)
    y2 = src.side_info_marginal(np.random.RandomState(0), 100_000)
    self.assertEqual(set(np.unique(y2)), {-1.0, 1.0})
    np.testing.assert_allclose(np.mean(y2), 0.0, atol=0.01)
    # The bound is the Shannon lower bound of R_{X|Y} (log2(e·b) bits).
    d = 2.0 ** (2 * np.log2(np.e * 2.0)) / (2 * np.pi * np.e)
    np.testing.assert_allclose(src.bound_bits(d), 0.0, atol=1e-5)

  @parameterized.parameters(
      dict(name="gaussian", direction="y_is_x_plus_noise"),
      dict(name="gaussian", direction="x_is_y_plus_noise"),
      dict(name="signed_laplace", direction="y_is_x_plus_noise"))
  def test_stratified_sampling(self, name, direction):
    src = sources.make_source(_cfg(name=name, direction=direction,
                                   laplace_scale=0.5))
    sample = jax.jit(src.sample_stratified, static_argnums=1)
    x, y = sample(jax.random.key(0), 1000)
    chex.assert_shape((x, y), (1000, 1))
    # One draw in each of the 1000 equal-probability strata of X: the
    # empirical CDF of sample i is in [i, i + 1) / 1000.
    xi, yi = src.sample(jax.random.key(5), 400_000)
    cdf = np.searchsorted(np.sort(np.asarray(xi[:, 0])),
                          np.asarray(x[:, 0])) / 400_000
    np.testing.assert_array_less(np.abs(cdf - (np.arange(1000) + 0.5) / 1000),
                                 0.5 / 1000 + 0.003)
    # p(y|x) as in the i.i.d. sampler: the same E[xy] and E[y²].
    xs, ys = sample(jax.random.key(1), 200_000)
    np.testing.assert_allclose(jnp.mean(xs * ys),
                               jnp.mean(xi[:200_000] * yi[:200_000]),
                               rtol=0.02)
    np.testing.assert_allclose(jnp.mean(ys ** 2), jnp.mean(yi ** 2),
                               rtol=0.02)
    # Unbiased batch means of E[X²] and E[X]; the latter's spread far
    # below that of i.i.d. batches.
    keys = jax.random.split(jax.random.key(2), 200)
    strat = jax.vmap(lambda k: sample(k, 256)[0])(keys)
    iid = jax.vmap(lambda k: src.sample(k, 256)[0])(keys)
    np.testing.assert_allclose(jnp.mean(strat ** 2), jnp.mean(xi ** 2),
                               rtol=0.02)
    self.assertLess(float(jnp.std(jnp.mean(strat, (1, 2)))),
                    0.2 * float(jnp.std(jnp.mean(iid, (1, 2)))))

  @parameterized.parameters("y_is_x_plus_noise", "x_is_y_plus_noise")
  def test_stratified_side_info_is_a_latin_hypercube(self, direction):
    src = sources.make_source(_cfg(var_noise=0.1, direction=direction, dim=2))
    x, _ = src.sample(jax.random.key(0), 64)
    draw = jax.jit(src.sample_side_info_stratified, static_argnums=2)
    iid_draw = jax.jit(src.sample_side_info, static_argnums=2)
    y = draw(jax.random.key(1), x, 16)
    chex.assert_shape(y, (16, 64, 2))
    # Each component's 16 draws lie one in each of 16 equal-probability
    # strata of p(y_i|x_i) = N(c·x_i, v).
    c, v = (1.0, 0.1) if direction == "y_is_x_plus_noise" else (0.9, 0.09)
    z = (np.asarray(y) - c * np.asarray(x)) / v ** 0.5
    strata = np.floor(np.asarray(jax.scipy.stats.norm.cdf(z)) * 16)
    np.testing.assert_array_equal(np.sort(strata, axis=0),
                                  np.broadcast_to(np.arange(16)[:, None, None],
                                                  z.shape))
    # Independent orders across components (a hypercube, not a diagonal).
    rho = np.corrcoef(z[:, :, 0].ravel(), z[:, :, 1].ravel())[0, 1]
    self.assertLess(abs(rho), 0.1)
    # Unbiased, with a far smaller spread of the 16-draw mean of a smooth
    # function of y than i.i.d. draws give.
    f = lambda ys: jnp.mean(jnp.tanh(3 * ys), axis=0)  # [B, n]
    keys = jax.random.split(jax.random.key(3), 300)
    strat = jax.vmap(lambda k: f(draw(k, x, 16)))(keys)
    iid = jax.vmap(lambda k: f(iid_draw(k, x, 16)))(keys)
    truth = f(iid_draw(jax.random.key(2), x, 200_000))
    np.testing.assert_allclose(jnp.mean(strat, 0), truth, atol=0.01)
    self.assertLess(float(jnp.mean(jnp.std(strat, 0))),
                    0.3 * float(jnp.mean(jnp.std(iid, 0))))

  def test_local_grid_is_a_quadrature_of_the_side_information(self):
    src = sources.make_source(_cfg(var_noise=0.1, dim=2,
                                   direction="x_is_y_plus_noise"))
    x, _ = src.sample(jax.random.key(0), 32)
    grid = jax.jit(src.side_info_local_grid, static_argnums=(2, 3))
    y, w = grid(jax.random.key(1), x, 8, 4.0)
    chex.assert_shape((y, w), ((64, 32, 2), (64,)))
    np.testing.assert_allclose(jnp.sum(w), 1.0, rtol=1e-6)
    # p(y|x) = N(0.9·x, 0.09) per component: mean and variance exact to the
    # trapezoid rule's error at a spacing of one standard deviation.
    mean = jnp.einsum("m,mbi->bi", w, y)
    np.testing.assert_allclose(mean, 0.9 * x, atol=1e-4)
    var = jnp.einsum("m,mbi->bi", w, (y - 0.9 * x) ** 2)
    np.testing.assert_allclose(var, 0.09, rtol=0.01)
    # A smooth E_{y|x} f(y) against many i.i.d. draws.
    f = lambda ys, ws: jnp.einsum("m,mbi->bi", ws, jnp.tanh(3 * ys))
    many = src.sample_side_info(jax.random.key(2), x, 200_000)
    np.testing.assert_allclose(f(y, w), f(many, jnp.full(200_000, 5e-6)),
                               atol=0.01)
    # The grid moves with the key (a randomized quadrature).
    y2, _ = grid(jax.random.key(3), x, 8, 4.0)
    self.assertGreater(float(jnp.max(jnp.abs(y2 - y))), 1e-3)
    self.assertIsNone(sources.make_source(
        _cfg(name="signed_laplace")).side_info_local_grid)

  def test_stratified_sampling_is_scalar_only(self):
    self.assertIsNone(sources.make_source(_cfg(dim=2)).sample_stratified)

  def test_bounds_attached(self):
    src = sources.make_source(_cfg())
    var = 0.01 / 1.01
    np.testing.assert_allclose(src.bound_bits(var / 4), 1.0, rtol=1e-6)
    np.testing.assert_allclose(src.no_side_info_bits(1 / 16), 2.0, rtol=1e-6)

  @parameterized.parameters(
      (dict(name="cauchy"), "source.name='cauchy'"),
      (dict(var_x=0.0), "source.var_x=0.0"),
      (dict(var_noise=-1.0), "source.var_noise=-1.0"),
      (dict(laplace_scale=0.0, name="signed_laplace"),
       "source.laplace_scale=0.0"),
      (dict(dim=0), "source.dim=0"),
      (dict(direction="up"), "source.direction='up'"),
      (dict(direction="x_is_y_plus_noise", var_noise=2.0), "must be < source"),
  )
  def test_bad_config(self, override, message):
    with self.assertRaisesRegex(ValueError, message):
      sources.make_source(_cfg(**override))


if __name__ == "__main__":
  absltest.main()
