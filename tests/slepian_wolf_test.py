"""Tests of the LDPC Slepian-Wolf coder on synthetic side information."""

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax import slepian_wolf as sw

K = 16


def _source(n, seed, spread=1.5):
  """Indices u [n] and q(u|y) [n, K]: a discretized Gaussian around a noisy
  guess of u (what the decoder knows), and u drawn from it."""
  rng = np.random.default_rng(seed)
  centre = rng.uniform(0, K - 1, n)
  probs = np.exp(-0.5 * ((np.arange(K)[None] - centre[:, None]) / spread)**2)
  probs /= probs.sum(axis=1, keepdims=True)
  u = (probs.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
  return np.minimum(u, K - 1), probs


class SlepianWolfTest(parameterized.TestCase):

  def test_matrix_is_deterministic_and_covers_every_column(self):
    h = sw.parity_check_matrix(1000, 300, 2)
    self.assertEqual(h.shape, (300, 1000))
    self.assertEqual((h != sw.parity_check_matrix(1000, 300, 2)).nnz, 0)
    self.assertGreater((h != sw.parity_check_matrix(1000, 300, 1)).nnz, 0)
    self.assertTrue((np.asarray(h.sum(axis=0)) >= 1).all())
    self.assertTrue(set(np.unique(h.data)) <= {1})

  def test_plane_probabilities_follow_the_chain_rule(self):
    u, probs = _source(200, 0)
    planes, prefix, log_total = sw.num_planes(K), np.zeros_like(u), 0.0
    for k in range(planes):
      bits = sw.plane_bits(u, k, planes)
      p = sw.plane_probs(probs, prefix, k, planes)
      log_total += np.log2(np.where(bits == 1, p, 1 - p))
      prefix |= bits.astype(u.dtype) << (planes - 1 - k)
    np.testing.assert_array_equal(prefix, u)
    np.testing.assert_allclose(log_total, np.log2(probs[np.arange(200), u]),
                               atol=1e-6)

  def test_round_trip_below_raw_rate_near_the_entropy(self):
    u, probs = _source(10_000, 1)
    planes, retries = sw.encode_block(u, [probs], K)  # the decoder's own probs
    decoded = sw.decode_block(planes, probs, K)
    np.testing.assert_array_equal(decoded, u)
    bits = sum(p.num_checks for p in planes)
    entropy = -np.log2(probs[np.arange(u.size), u]).sum()
    self.assertLess(bits, 1.25 * entropy + 200, (bits, entropy, retries))
    self.assertLess(bits, sw.num_planes(K) * u.size)

  def test_pack_unpack(self):
    u, probs = _source(500, 2)
    planes, _ = sw.encode_block(u, [probs], K)
    data = b"xx" + sw.pack_block(planes, sw.index_crc(u))
    out, crc, end = sw.unpack_block(data, 2, 500, K)
    self.assertEqual((crc, end), (sw.index_crc(u), len(data)))
    for a, b in zip(planes, out):
      self.assertEqual(a.num_checks, b.num_checks)
      np.testing.assert_array_equal(a.syndrome, b.syndrome)
    with self.assertRaisesRegex(ValueError, "truncated"):
      sw.unpack_block(data[:-1], 2, 500, K)

  def test_misleading_side_information_fails_loudly(self):
    u, probs = _source(5000, 3)
    planes, _ = sw.encode_block(u, [probs], K)
    wrong = np.roll(probs, 5, axis=1)  # confident and wrong
    try:
      decoded = sw.decode_block(planes, wrong, K)
    except sw.DecodingError:
      return
    self.assertNotEqual(sw.index_crc(decoded), sw.index_crc(u))


if __name__ == "__main__":
  absltest.main()
