"""Metrics against hand-computed and closed-form values."""

from absl.testing import absltest
from absl.testing import parameterized
import chex
import jax
import numpy as np
from skimage import metrics as skmetrics

from ndc_jax.core import metrics

W = metrics.MS_SSIM_WEIGHTS


class PointwiseTest(parameterized.TestCase):

  def test_psnr_of_known_mse(self):
    x = np.zeros((2, 16), np.float32)
    # MSE 0.01 at range 1 -> 20 dB; error 1 at range 255 -> 20 log10 255.
    np.testing.assert_allclose(metrics.psnr(x, x + 0.1), [20.0, 20.0],
                               rtol=1e-5)
    np.testing.assert_allclose(metrics.psnr(x, x + 1.0, data_range=255.0),
                               20 * np.log10(255.0), rtol=1e-5)
    self.assertEqual(float(metrics.psnr(x, x, axis=None)), np.inf)

  def test_rmse_and_mse(self):
    np.testing.assert_allclose(metrics.rmse([3.0, 4.0], [0.0, 0.0]),
                               np.sqrt(12.5), rtol=1e-6)
    np.testing.assert_allclose(metrics.mse([[1.0, 3.0]], [[0.0, 0.0]]), [5.0])

  def test_prd_and_prdn(self):
    x, x_hat = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    # Σ(x − x̂)² = 1, Σx² = 14, Σ(x − 2)² = 2.
    np.testing.assert_allclose(metrics.prd(x, x_hat), 100 / np.sqrt(14),
                               rtol=1e-6)
    np.testing.assert_allclose(metrics.prdn(x, x_hat), 100 / np.sqrt(2),
                               rtol=1e-6)
    np.testing.assert_allclose(metrics.prd([3.0, 4.0], [0.0, 0.0]), 100.0)
    # PRDN ignores a baseline offset added to both signals; PRD does not.
    np.testing.assert_allclose(metrics.prdn(x + 10, x_hat + 10),
                               metrics.prdn(x, x_hat), rtol=1e-6)

  def test_jit_per_example(self):
    x = np.random.default_rng(0).uniform(size=(5, 8)).astype(np.float32)
    out = jax.jit(metrics.prd)(x, 0.9 * x)
    chex.assert_shape(out, (5,))
    np.testing.assert_allclose(out, 10.0, rtol=1e-5)


class SsimTest(parameterized.TestCase):

  @parameterized.parameters(1, 2, 5)
  def test_identical_images_score_one(self, scales):
    x = np.random.default_rng(1).uniform(size=(2, 180, 180, 1))
    np.testing.assert_allclose(metrics.ms_ssim(x, x, scales=scales), 1.0,
                               rtol=1e-5)

  def test_constant_images_closed_form(self):
    # Constant images: σ = 0 so cs = C2 / C2 = 1 at every scale, and
    # l = (2ab + C1) / (a² + b² + C1); MS-SSIM = l^{w_5}.
    a, b, c1 = 0.2, 0.6, 0.01**2
    lum = (2 * a * b + c1) / (a * a + b * b + c1)
    x, y = np.full((176, 176, 3), a), np.full((176, 176, 3), b)
    np.testing.assert_allclose(metrics.ssim(x, y), lum, rtol=1e-4)
    np.testing.assert_allclose(metrics.ms_ssim(x, y), lum**W[4], rtol=1e-4)
    np.testing.assert_allclose(metrics.ms_ssim(x, y, scales=2),
                               lum**(W[1] / (W[0] + W[1])), rtol=1e-4)

  def test_ssim_matches_skimage(self):
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(40, 48, 3))
    y = np.clip(x + 0.1 * rng.normal(size=x.shape), 0, 1)
    expected = skmetrics.structural_similarity(
        x, y, data_range=1.0, channel_axis=-1, gaussian_weights=True,
        sigma=1.5, use_sample_covariance=False)
    np.testing.assert_allclose(metrics.ssim(x, y), expected, rtol=1e-4)
    np.testing.assert_allclose(metrics.ms_ssim(x, y, scales=1), expected,
                               rtol=1e-4)

  def test_ms_ssim_batched_jit_and_monotone(self):
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(1, 32, 32, 1)).astype(np.float32)
    noisy = [np.clip(x + s * rng.normal(size=x.shape), 0, 1)
             for s in (0.05, 0.2)]
    fn = jax.jit(metrics.ms_ssim, static_argnames="scales")
    values = fn(np.concatenate([x, x]), np.concatenate(noisy), scales=2)
    chex.assert_shape(values, (2,))
    self.assertTrue(1.0 > values[0] > values[1] > 0.0)

  def test_too_small_or_bad_scales_raise(self):
    x = np.zeros((32, 32, 1))
    with self.assertRaisesRegex(ValueError, r"too small.*>= 44"):
      metrics.ms_ssim(x, x, scales=3)
    with self.assertRaisesRegex(ValueError, r"scales=6.*\[1, 5\]"):
      metrics.ms_ssim(x, x, scales=6)
    with self.assertRaisesRegex(ValueError, r"equal shapes"):
      metrics.ssim(x, x[:16])


class FrechetTest(absltest.TestCase):

  def test_gaussians_closed_form(self):
    # Diagonal covariances: d² = |Δμ|² + Σ_i (sqrt(s1_i) − sqrt(s2_i))².
    d = metrics.gaussian_frechet_distance(
        np.zeros(2), np.eye(2), np.array([1.0, 2.0]), 4 * np.eye(2))
    self.assertAlmostEqual(d, 5.0 + 2.0, places=10)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    self.assertAlmostEqual(metrics.gaussian_frechet_distance(
        np.ones(2), cov, np.ones(2), cov), 0.0, places=10)

  def test_from_samples(self):
    # a: mean 0, np.cov (ddof 1) = (2/3) I; b = 2a + 1: mean (1, 1), (8/3) I.
    # d² = 2 + 2 (sqrt(2/3) − sqrt(8/3))² = 2 + 4/3.
    a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    self.assertAlmostEqual(metrics.frechet_distance(a, 2 * a + 1), 10 / 3,
                           places=10)
    # A pluggable feature map: doubling features quadruples the distance.
    self.assertAlmostEqual(
        metrics.frechet_distance(a, 2 * a + 1, feature_fn=lambda z: 2 * z),
        40 / 3, places=10)

  def test_bad_inputs_raise(self):
    with self.assertRaisesRegex(ValueError, "at least 2"):
      metrics.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with self.assertRaisesRegex(ValueError, "feature sizes differ"):
      metrics.frechet_distance(np.zeros((4, 3)), np.zeros((4, 2)))


if __name__ == "__main__":
  absltest.main()
