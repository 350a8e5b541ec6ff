"""Two-terminal and centralized Gaussian-pair bounds against hand values."""

import math

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.theory import bounds


def _berger_tung_bits(d1, d2, rho, grid=200_001):
  """min over Gaussian test channels U_i = X_i + N_i, N_i ~ N(0, 1/a_i), of
  I(X1X2; U1U2) = ½·log2((1 − ρ²)·det M), M = Σ⁻¹ + diag(a1, a2), subject to
  the MMSE constraints diag(M⁻¹) <= (d1, d2) (Berger-Tung; tight by WTV 2008).
  For each a1 on a grid the smallest feasible a2 is closed form."""
  p, q = 1 / (1 - rho ** 2), rho / (1 - rho ** 2)
  a1 = np.concatenate([[0.0], np.geomspace(1e-6, 1e6, grid)])
  a2 = np.maximum(0.0, 1 / d2 + q ** 2 / (p + a1) - p)
  det = (p + a1) * (p + a2) - q ** 2
  ok = (p + a2) / det <= d1 * (1 + 1e-12)
  return float(np.min(0.5 * np.log2((1 - rho ** 2) * det[ok])))


class TwoTerminalTest(parameterized.TestCase):

  def test_hand_value_symmetric(self):
    # ρ = 0.8, D = 0.1: β = 1 + sqrt(1 + 4·0.64·0.01/0.1296) = 2.094322,
    # R = ½·log2(0.36·2.094322/(2·0.01)) = ½·log2(37.6978) = 2.618202 bits.
    beta = 1 + math.sqrt(1 + 4 * 0.64 * 0.01 / 0.36 ** 2)
    hand = 0.5 * math.log2(0.36 * beta / 0.02)
    self.assertAlmostEqual(hand, 2.618202, places=5)
    self.assertAlmostEqual(float(bounds.two_terminal_sum_rate_bits(
        0.1, 0.1, 0.8)), hand, places=5)

  def test_no_correlation_is_separate_coding(self):
    np.testing.assert_allclose(
        bounds.two_terminal_sum_rate_bits([0.25, 0.1], [0.0625, 0.1], 0.0),
        [1.0 + 2.0, math.log2(10.0)], rtol=1e-6)

  def test_variance_scaling(self):
    self.assertAlmostEqual(
        float(bounds.two_terminal_sum_rate_bits(0.4, 0.2, 0.6, 4.0, 2.0)),
        float(bounds.two_terminal_sum_rate_bits(0.1, 0.1, 0.6)), places=6)

  @parameterized.parameters((0.1, 0.1, 0.8), (0.1, 0.3, 0.8),
                            (0.05, 0.6, 0.9), (0.3, 0.3, 0.5),
                            (0.5, 0.5, 0.9), (0.2, 0.2, -0.7))
  def test_matches_berger_tung_search(self, d1, d2, rho):
    got = float(bounds.two_terminal_sum_rate_bits(d1, d2, rho))
    self.assertAlmostEqual(got, _berger_tung_bits(d1, d2, rho), delta=1e-4)
    self.assertGreaterEqual(got + 1e-6, float(
        bounds.joint_gaussian_pair_rate_bits(d1, d2, rho)))

  def test_individual_constraint_active(self):
    # D2 = 0.6 is met by estimating X2 from X1's description: the sum rate
    # is that of X1 alone, ½·log2(1/0.05), above the sum-rate constraint.
    self.assertAlmostEqual(float(bounds.two_terminal_sum_rate_bits(
        0.05, 0.6, 0.9)), 0.5 * math.log2(20.0), places=5)
    self.assertLess(float(bounds.two_terminal_sum_constraint_bits(
        0.05, 0.6, 0.9)), 0.5 * math.log2(20.0) - 0.5)

  def test_joint_is_reverse_water_filling(self):
    # Eigenvalues 1.8, 0.2 (ρ = 0.8). D = 0.1: both components at 0.1;
    # D = 0.3: total 0.6 → θ = 0.4 on λ=1.8, the small one fully (0.2).
    np.testing.assert_allclose(
        bounds.joint_gaussian_pair_rate_bits([0.1, 0.3], [0.1, 0.3], 0.8),
        [0.5 * math.log2(1.8 * 0.2 / 0.01), 0.5 * math.log2(1.8 / 0.4)],
        rtol=1e-5)
    self.assertEqual(float(bounds.joint_gaussian_pair_rate_bits(
        1.0, 1.0, 0.8)), 0.0)

  def test_bad_inputs(self):
    with self.assertRaisesRegex(ValueError, "rho=1.0"):
      bounds.two_terminal_sum_rate_bits(0.1, 0.1, 1.0)
    with self.assertRaisesRegex(ValueError, "must be > 0"):
      bounds.joint_gaussian_pair_rate_bits(0.0, 0.1, 0.5)
    with self.assertRaisesRegex(ValueError, "var1"):
      bounds.two_terminal_sum_rate_bits(0.1, 0.1, 0.5, -1.0)


if __name__ == "__main__":
  absltest.main()
