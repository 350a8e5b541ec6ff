"""Tests of the exact nested (coset) scalar quantizer and the |X| quantizer."""

import numpy as np
from absl.testing import absltest, parameterized
from scipy import special

from ndc_jax.baselines import nested_sq

GAUSS = nested_sq.make_source()  # X ~ N(0, 1), Y = X + N, σ²_N = 0.01


def _sample(src, num, seed=0):
  """(x, y) draws of a source, NumPy only."""
  rs = np.random.default_rng(seed)
  if src.name == "signed_laplace":
    x = rs.laplace(0.0, src.laplace_scale, num)
    return x, np.sign(x)
  n = np.sqrt(src.var_noise) * rs.standard_normal(num)
  if src.direction == "y_is_x_plus_noise":
    x = np.sqrt(src.var_x) * rs.standard_normal(num)
    return x, x + n
  y = np.sqrt(src.var_x - src.var_noise) * rs.standard_normal(num)
  return y + n, y


class NestedSqTest(parameterized.TestCase):

  @parameterized.parameters((3, 0.00369), (4, 0.00242), (6, 0.00127),
                            (8, 0.00079), (16, 0.000237))
  def test_best_step_reproduces_the_reference_table(self, cosets, mse):
    _, rd = nested_sq.nested_sq_best_step(GAUSS, cosets)
    np.testing.assert_allclose(rd.rate_bits, np.log2(cosets), atol=1e-3)
    np.testing.assert_allclose(rd.mse, mse, rtol=0.01)

  def test_high_rate_distortion_is_step_squared_over_12(self):
    step = nested_sq.conditional_std(GAUSS) / 20  # M·Δ = 20·σ_X|Y
    rd = nested_sq.nested_sq_rd(GAUSS, step, 400)
    np.testing.assert_allclose(rd.mse, step ** 2 / 12, rtol=2e-3)
    # No binning errors: the conditional rate is h(X|Y) − log2 Δ.
    h = 0.5 * np.log2(2 * np.pi * np.e * nested_sq.conditional_std(GAUSS) ** 2)
    np.testing.assert_allclose(rd.conditional_rate_bits, h - np.log2(step),
                               atol=2e-3)

  @parameterized.parameters("y_is_x_plus_noise", "x_is_y_plus_noise")
  def test_large_m_equals_side_information_at_both_ends(self, direction):
    src = nested_sq.make_source(direction=direction)
    step = nested_sq.conditional_std(src) / 2
    big = nested_sq.nested_sq_rd(src, step, 64, 0.3 * step)  # M·Δ = 32·σ
    both = nested_sq.nested_sq_rd(src, step, None, 0.3 * step)
    np.testing.assert_allclose(big.mse, both.mse, rtol=1e-9)
    np.testing.assert_allclose(big.conditional_rate_bits,
                               both.conditional_rate_bits, atol=1e-9)
    self.assertLessEqual(big.rate_bits, 6.0 + 1e-9)  # H(U) <= log2 M

  def test_zero_rate_point_is_the_conditional_variance(self):
    rd = nested_sq.nested_sq_rd(GAUSS, 0.1, 1)
    np.testing.assert_allclose([rd.rate_bits, rd.conditional_rate_bits],
                               0.0, atol=1e-12)
    np.testing.assert_allclose(rd.mse, 0.01 / 1.01, rtol=1e-9)

  @parameterized.parameters(
      ("gaussian", "y_is_x_plus_noise", 0.1, 4),
      ("gaussian", "x_is_y_plus_noise", 0.15, 3),
      ("signed_laplace", "y_is_x_plus_noise", 0.5, 3))
  def test_decoder_and_rd_match_monte_carlo(self, name, direction, step, m):
    src = nested_sq.make_source(name, direction=direction)
    x, y = _sample(src, 200_000)
    u = np.mod(np.floor(x / step), m).astype(int)
    y_at, inv = np.unique(y, return_inverse=True) if name != "gaussian" else (
        y, np.arange(y.size))
    g = nested_sq.nested_sq_decoder(src, step, m, y_at)[inv, u]
    # E[X | u, y] on y bins: the mean of x equals the mean of g(u, y).
    edges = np.quantile(y, np.linspace(0, 1, 6)) if name == "gaussian" else (
        np.array([-2.0, 0.0, 2.0]))
    bins = np.digitize(y, edges[1:-1])
    for b in range(len(edges) - 1):
      for k in range(m):
        sel = (bins == b) & (u == k)
        if sel.sum() < 1000:
          continue
        err = x[sel] - g[sel]
        self.assertLess(abs(err.mean()), 5 * err.std() / np.sqrt(sel.sum()))
    rd = nested_sq.nested_sq_rd(src, step, m)
    mc_mse = np.mean((x - g) ** 2)
    np.testing.assert_allclose(rd.mse, mc_mse, rtol=0.03)
    q = np.bincount(u, minlength=m) / u.size
    np.testing.assert_allclose(rd.rate_bits, -np.sum(q * np.log2(q)),
                               atol=0.01)

  def test_interval_masses_partition_and_tails_are_exact(self):
    edges = np.r_[-np.inf, np.linspace(-2.0, 12.0, 141), np.inf]
    y = np.array([-1.0, 0.3, 1.0])
    for src in (GAUSS, nested_sq.make_source("signed_laplace")):
      p, m1 = nested_sq.interval_mass_moment(src, edges[:-1, None],
                                             edges[1:, None], y)
      np.testing.assert_allclose(p.sum(0), 1.0, rtol=1e-12)
      mean = y * (1 / 1.01) if src.name == "gaussian" else np.sign(y)
      np.testing.assert_allclose(m1.sum(0), mean, atol=1e-12)
    # Far in the upper tail each mass keeps its relative precision.
    p, _ = nested_sq.interval_mass_moment(GAUSS, 3.0, 3.1, 0.0)
    s = nested_sq.conditional_std(GAUSS)
    np.testing.assert_allclose(
        p, special.ndtr(-3.0 / s) - special.ndtr(-3.1 / s), rtol=1e-10)


class AbsUniformTest(parameterized.TestCase):

  def test_high_rate_rate_and_distortion(self):
    for b in (0.5, 1.0, 2.0):
      step = 0.01 * b
      rd = nested_sq.abs_uniform_rd(step, b)
      np.testing.assert_allclose(rd.mse, step ** 2 / 12, rtol=1e-3)
      # h(|X|) = log2(e·b) bits, |X| ~ Exp(mean b).
      np.testing.assert_allclose(rd.rate_bits,
                                 np.log2(np.e * b) - np.log2(step), atol=1e-4)

  def test_closed_form_equals_the_interval_integration(self):
    src = nested_sq.make_source("signed_laplace", laplace_scale=1.5)
    for step in (0.2, 1.0, 3.0):
      closed = nested_sq.abs_uniform_rd(step, 1.5)
      # Cells [nΔ, (n+1)Δ) on both sides, labels n: the decoder knows y.
      numeric = nested_sq.nested_sq_rd(src, step, None)
      np.testing.assert_allclose(numeric.conditional_rate_bits,
                                 closed.rate_bits, rtol=1e-9)
      np.testing.assert_allclose(numeric.mse, closed.mse, rtol=1e-9)
      np.testing.assert_allclose(numeric.rate_bits, closed.rate_bits + 1,
                                 rtol=1e-9)

  def test_rate_falls_and_distortion_rises_with_the_step(self):
    rd = nested_sq.abs_uniform_rd(np.geomspace(0.01, 20, 50))
    self.assertTrue(np.all(np.diff(rd.rate_bits) < 0))
    self.assertTrue(np.all(np.diff(rd.mse) > 0))
    self.assertLess(rd.mse[-1], 1.0)  # b² at rate 0


class BadInputTest(parameterized.TestCase):

  @parameterized.parameters((0.0, 4, "step"), (-1.0, 4, "step"),
                            (np.nan, 4, "step"), (0.1, 0, "cosets"),
                            (0.1, 2.5, "cosets"))
  def test_bad_quantizer_raises(self, step, cosets, word):
    with self.assertRaisesRegex(ValueError, word):
      nested_sq.nested_sq_rd(GAUSS, step, cosets)

  def test_bad_sources_raise(self):
    with self.assertRaisesRegex(ValueError, "'cauchy'.*allowed"):
      nested_sq.make_source("cauchy")
    with self.assertRaisesRegex(ValueError, "'y_is_x'.*allowed"):
      nested_sq.make_source(direction="y_is_x")
    with self.assertRaisesRegex(ValueError, "var_noise=1.0 must be < var_x"):
      nested_sq.make_source(var_noise=1.0, direction="x_is_y_plus_noise")
    with self.assertRaisesRegex(ValueError, "laplace_scale=-1"):
      nested_sq.make_source("signed_laplace", laplace_scale=-1)
    with self.assertRaisesRegex(ValueError, "dy=0.1 is too coarse.*2 points"):
      nested_sq.side_info_nodes(GAUSS, dy=0.1)
    with self.assertRaisesRegex(ValueError, "step=-0.5"):
      nested_sq.abs_uniform_rd(-0.5)


if __name__ == "__main__":
  absltest.main()
