"""Tests of the Wyner-Ziv and rate-distortion bounds against closed forms."""

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.theory import bounds


class BoundsTest(parameterized.TestCase):

  def test_conditional_variance(self):
    self.assertAlmostEqual(bounds.gaussian_conditional_variance(
        1.0, 0.01, "y_is_x_plus_noise"), 0.01 / 1.01)
    self.assertAlmostEqual(bounds.gaussian_conditional_variance(
        1.0, 0.01, "x_is_y_plus_noise"), 0.01)
    with self.assertRaisesRegex(ValueError, "'sideways'"):
      bounds.gaussian_conditional_variance(1.0, 0.1, "sideways")

  @parameterized.parameters("y_is_x_plus_noise", "x_is_y_plus_noise")
  def test_wyner_ziv_hand_values(self, direction):
    var = bounds.gaussian_conditional_variance(1.0, 0.01, direction)
    # D = σ²/4 needs exactly 1 bit; D = σ²/64 needs 3 bits.
    np.testing.assert_allclose(
        bounds.wyner_ziv_rate_bits([var / 4, var / 64, 2 * var], 1.0, 0.01,
                                   direction), [1.0, 3.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(
        bounds.wyner_ziv_distortion_mse([0.0, 1.0, 3.0], 1.0, 0.01, direction),
        [var, var / 4, var / 64], rtol=1e-6)

  def test_no_side_information(self):
    np.testing.assert_allclose(bounds.gaussian_rd_bits(1.0, 1 / 16), 2.0)
    np.testing.assert_allclose(bounds.gaussian_dr_mse(1.0, 2.0), 1 / 16)

  def test_shannon_lower_bound(self):
    # For a Gaussian, h = ½log2(2πe σ²) and the SLB is exact.
    h = 0.5 * np.log2(2 * np.pi * np.e * 0.3)
    np.testing.assert_allclose(bounds.shannon_lower_bound_bits(h, 0.3 / 4),
                               1.0, rtol=1e-6)
    np.testing.assert_allclose(bounds.shannon_lower_bound_mse(h, 1.0),
                               0.3 / 4, rtol=1e-6)

  def test_gap_db(self):
    np.testing.assert_allclose(bounds.gap_db(0.02, 0.01), 10 * np.log10(2))

  def test_slepian_wolf_normal_approximation_hand_values(self):
    na = bounds.slepian_wolf_normal_approximation_bits
    # Q(2) = 0.0227501...: H + √(0.16 / 10^4)·2 = 0.1 + 0.008.
    self.assertAlmostEqual(na(0.1, 0.16, 10_000, 0.022750131948179), 0.108,
                           places=6)
    self.assertAlmostEqual(na(0.1, 0.16, 10_000, 0.5), 0.1, places=7)
    self.assertAlmostEqual(na(0.7, 0.0, 5, 1e-6), 0.7, places=7)
    # ε > ½ asks for less than H; a longer block pays less above H.
    self.assertLess(na(0.1, 0.16, 100, 0.9), 0.1)
    self.assertLess(na(0.1, 0.16, 10**5, 1e-3), na(0.1, 0.16, 10**4, 1e-3))

  @parameterized.parameters(((0.1, 0.1, 0, 0.01), "block=0"),
                            ((0.1, 0.1, 10.5, 0.01), "block=10.5"),
                            ((0.1, 0.1, 10, 0.0), "eps=0.0"),
                            ((0.1, 0.1, 10, 1.0), "eps=1.0"),
                            ((0.1, -1.0, 10, 0.01), "var_bits=-1.0"))
  def test_slepian_wolf_normal_approximation_bad_input(self, args, message):
    with self.assertRaisesRegex(ValueError, message):
      bounds.slepian_wolf_normal_approximation_bits(*args)


if __name__ == "__main__":
  absltest.main()
