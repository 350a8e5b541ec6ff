"""Classical signal codecs: orthonormal transforms (KLT, DCT, DWT), real ANS
streams that decode back, rate = the stream's bits, and the lossless
reference on integer codes."""

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.baselines import signal_codecs


def _signals(channels=4, length=1024, seed=0):
  """Correlated AR(1) channels on an integer grid of 0.5 units."""
  r = np.random.default_rng(seed)
  common = np.zeros(length)
  for t in range(1, length):
    common[t] = 0.95 * common[t - 1] + r.standard_normal()
  x = common[None] * (1 + np.arange(channels))[:, None] + r.standard_normal(
      (channels, length))
  return (np.round(10 * x) / 2).astype(np.float32)


class SignalCodecsTest(parameterized.TestCase):

  def test_klt_is_orthonormal_and_decorrelates(self):
    x = _signals()
    klt = signal_codecs.fit_klt(x)
    np.testing.assert_allclose(klt @ klt.T, np.eye(4), atol=1e-12)
    cov = np.cov(klt @ x)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0,
                               atol=1e-6 * cov.max())
    self.assertTrue(np.all(np.diff(np.diag(cov)) <= 0))  # by variance

  def test_dct_matrix_is_orthonormal(self):
    m = signal_codecs.dct_matrix(32)
    np.testing.assert_allclose(m @ m.T, np.eye(32), atol=1e-12)

  @parameterized.parameters("dwt", "dct", "klt_dwt")
  def test_transform_inverts(self, transform):
    x = _signals()
    codec = signal_codecs.fit(transform, x)
    for length in (1000, 997):  # DCT pads; periodized DWT of odd length
      bands = signal_codecs.analyze(codec, x[:, :length])
      np.testing.assert_allclose(
          signal_codecs.synthesize(codec, bands, length), x[:, :length],
          atol=1e-4)
    # Orthonormal: coefficient energy = signal energy (mean removed).
    z = x[:, :1024] - codec.mean[:, None]
    bands = signal_codecs.analyze(codec, x[:, :1024])
    if transform != "dct":
      self.assertAlmostEqual(sum(float(np.sum(b ** 2)) for b in bands) /
                             float(np.sum(z ** 2)), 1.0, places=6)

  @parameterized.parameters("dwt", "dct", "klt_dwt")
  def test_round_trip_rate_and_error(self, transform):
    train, test = _signals(seed=0), _signals(length=512, seed=1)
    codec = signal_codecs.fit(transform, train)
    errs, rates = [], []
    for step in (0.5, 4.0):
      coded = signal_codecs.code_signal(codec, test, step)
      self.assertEqual(coded.decoded.shape, test.shape)
      self.assertEqual(coded.decoded.dtype, np.float32)
      self.assertEqual(coded.words.dtype, np.uint32)
      self.assertEqual(coded.bits, 32 * len(coded.words) +
                       signal_codecs.SIDE_BITS)
      # ANS costs at most a few words over the model's information content.
      self.assertLess(abs(coded.bits - coded.estimated_bits), 32 * 3 +
                      signal_codecs.SIDE_BITS)
      rates.append(coded.bits)
      errs.append(float(np.mean((coded.decoded - test) ** 2)))
      # The uniform quantizer's error: at most Δ²/4 per coefficient.
      self.assertLessEqual(errs[-1], step ** 2 / 4 + 1e-6)
    self.assertGreater(rates[0], rates[1])
    self.assertLess(errs[0], errs[1])

  def test_klt_beats_per_channel_dwt_on_correlated_channels(self):
    train, test = _signals(seed=0), _signals(length=512, seed=1)
    bits = {t: signal_codecs.code_signal(signal_codecs.fit(t, train), test,
                                         1.0).bits
            for t in ("dwt", "klt_dwt")}
    self.assertLess(bits["klt_dwt"], bits["dwt"])

  def test_lossless_reference(self):
    x = _signals()
    codes = signal_codecs.integer_codes(x)
    np.testing.assert_allclose(codes * 0.5 + x.min(1, keepdims=True), x)
    bits, samples = signal_codecs.lossless_bits(x)
    self.assertEqual(samples, x.size)
    self.assertLess(bits / samples, 16)
    self.assertGreater(bits / samples, 1)
    # A constant-slope integer ramp: order-2 residuals are all 0, so 1 bit a
    # sample (Rice k = 0) plus the block header and warm-up.
    ramp = np.arange(4096, dtype=np.float64)[None] * 3.0
    bits, _ = signal_codecs.lossless_bits(ramp)
    self.assertEqual(bits, 4094 + 8 + 2 * 16)
    # The header's resolution sets the grid: 0.25 units per code doubles
    # every code of the 0.5-unit signal (one more bit a sample at most).
    fine = signal_codecs.integer_codes(x, [0.25] * 4)
    np.testing.assert_array_equal(fine, np.round(4 * x).astype(np.int64))
    self.assertIsNone(signal_codecs.integer_codes(x, [0.3] * 4))
    self.assertTrue(np.isnan(signal_codecs.lossless_bits(
        np.asarray([[0.0, 0.2, 0.5]]))[0]))

  def test_unknown_transform(self):
    with self.assertRaisesRegex(ValueError, "unknown"):
      signal_codecs.fit("wht", _signals())


if __name__ == "__main__":
  absltest.main()
