"""Tests of the R-D hulls, their lookups and the best classical baseline."""

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.baselines import wz_quantizers as wzq


def _random_points(seed=0, num=200):
  rng = np.random.default_rng(seed)
  r = rng.uniform(0.0, 4.0, num)
  return r, 2.0 ** (-2 * r) * rng.uniform(1.0, 3.0, num)


class HullTest(parameterized.TestCase):

  @parameterized.parameters(0, 1, 2)
  def test_hull_is_convex_monotone_and_below_every_point(self, seed):
    r, d = _random_points(seed)
    hull = wzq.lower_hull(r, d)
    self.assertTrue(np.all(np.diff(hull.rate_bits) > 0))
    self.assertTrue(np.all(np.diff(hull.mse) < 0))
    slopes = np.diff(hull.mse) / np.diff(hull.rate_bits)
    self.assertTrue(np.all(np.diff(slopes) > 0))  # convex D(R)
    self.assertEqual(hull.rate_bits[0], r.min())
    self.assertEqual(hull.mse[-1], d.min())
    inside = d <= hull.mse[0]
    self.assertTrue(np.all(wzq.rate_at_distortion(hull, d[inside])
                           <= r[inside] + 1e-12))

  def test_rate_at_distortion_interpolates_the_hull(self):
    hull = wzq.lower_hull([0.0, 1.0, 2.0, 3.0, 1.5], [1.0, 0.4, 0.2, 0.15, 0.9],
                          list("abcde"))
    np.testing.assert_array_equal(hull.rate_bits, [0.0, 1.0, 2.0, 3.0])
    self.assertEqual(hull.labels, ("a", "b", "c", "d"))
    np.testing.assert_allclose(wzq.rate_at_distortion(hull, hull.mse),
                               hull.rate_bits)
    np.testing.assert_allclose(wzq.rate_at_distortion(hull, 0.3), 1.5)
    self.assertEqual(wzq.rate_at_distortion(hull, 5.0), 0.0)  # rate 0 above
    np.testing.assert_allclose(wzq.distortion_at_rate(hull, 2.5), 0.175)
    d = np.linspace(0.15, 1.0, 17)
    np.testing.assert_allclose(
        wzq.distortion_at_rate(hull, wzq.rate_at_distortion(hull, d)), d)

  def test_lookups_outside_the_hull_raise_naming_the_range(self):
    hull = wzq.lower_hull([0.5, 1.0, 2.0], [0.5, 0.4, 0.2])
    with self.assertRaisesRegex(ValueError, r"d=0.1 MSE .*\[0.2, 0.5\]"):
      wzq.rate_at_distortion(hull, 0.1)
    with self.assertRaisesRegex(ValueError, r"d=0.9 MSE .*\[0.2, 0.5\]"):
      wzq.rate_at_distortion(hull, 0.9)  # no rate-0 point: no extension
    with self.assertRaisesRegex(ValueError, r"r=3.0 bits .*\[0.5, 2\]"):
      wzq.distortion_at_rate(hull, 3.0)
    with self.assertRaisesRegex(ValueError, "at least one finite"):
      wzq.lower_hull([np.nan], [1.0])


class BestBaselineTest(parameterized.TestCase):

  @parameterized.parameters("marginal", "conditional")
  def test_gaussian_baseline_lies_above_r_wz(self, rate_model):
    hull = wzq.best_baseline(rate_model=rate_model, quick=True)
    self.assertIs(hull, wzq.best_baseline(rate_model=rate_model, quick=True))
    var_xy = 0.01 / 1.01
    self.assertEqual(hull.rate_bits[0], 0.0)
    np.testing.assert_allclose(hull.mse[0], var_xy, rtol=1e-9)
    d = np.geomspace(hull.mse[-1], 0.9 * var_xy, 50)
    gap = wzq.rate_at_distortion(hull, d) - 0.5 * np.log2(var_xy / d)
    self.assertGreater(gap.min(), 0.0)
    if rate_model == "marginal":  # M = 4 near its best step (quick: 20 steps)
      self.assertLess(wzq.rate_at_distortion(hull, 0.00242), 2.02)
    else:  # conditional coding: within 0.4 bits of R_WZ at high rate
      self.assertLess(gap[:10].max(), 0.4)

  def test_signed_laplace_baseline_lies_above_the_shannon_lower_bound(self):
    hull = wzq.best_baseline("signed_laplace", laplace_scale=2.0, quick=True)
    d = np.geomspace(hull.mse[-1], 0.9 * hull.mse[0], 50)
    # h(X|Y) = h(|X|) = log2(e·b) bits.
    slb = np.log2(np.e * 2.0) - 0.5 * np.log2(2 * np.pi * np.e * d)
    gap = wzq.rate_at_distortion(hull, d) - np.maximum(slb, 0.0)
    self.assertGreaterEqual(gap.min(), 0.0)
    self.assertLess(gap[:10].max(), 0.26)  # 1.53 dB ≈ 0.254 bits at high rate

  def test_bad_inputs_raise(self):
    with self.assertRaisesRegex(ValueError, "'uniform'.*allowed"):
      wzq.best_baseline("uniform")
    with self.assertRaisesRegex(ValueError, "'x_plus_y'.*allowed"):
      wzq.best_baseline(direction="x_plus_y")
    with self.assertRaisesRegex(ValueError, "rate_model='joint'"):
      wzq.best_baseline(rate_model="joint")
    with self.assertRaisesRegex(ValueError, "var_noise=0.0"):
      wzq.best_baseline(var_noise=0.0)


if __name__ == "__main__":
  absltest.main()
