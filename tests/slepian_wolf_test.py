"""Tests of the LDPC Slepian-Wolf coder on synthetic side information."""

import hashlib

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.codec import slepian_wolf as sw

K = 16


def _source(n, seed, spread=1.5):
  """Indices u [n], q(u|y) [n, K] and y [n]: a discretized Gaussian around a
  noisy guess y of u (what the decoder knows), and u drawn from it."""
  rng = np.random.default_rng(seed)
  centre = rng.uniform(0, K - 1, n)
  probs = np.exp(-0.5 * ((np.arange(K)[None] - centre[:, None]) / spread)**2)
  probs /= probs.sum(axis=1, keepdims=True)
  u = (probs.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
  return np.minimum(u, K - 1), probs, centre


def _scrambled(n, seed):
  """_source with the indices renamed by a random permutation: index perm[i]
  is the i-th cell along y. Also returns perm."""
  u, probs, y = _source(n, seed)
  perm = np.random.default_rng(seed + 100).permutation(K)
  scrambled = np.empty_like(probs)
  scrambled[:, perm] = probs
  return perm[u], scrambled, y, perm


def _first_rate(family: sw.CodeFamily, e: float) -> int:
  """A family's first rate for a plane of known rate e (σ = 0), by hand."""
  return int(np.ceil((1 + family.gap) * e + family.spread * np.sqrt(e)
                     + sw.MIN_CHECKS))


class SlepianWolfTest(parameterized.TestCase):

  def test_matrix_is_deterministic_and_covers_every_column(self):
    h = sw.parity_check_matrix(1000, 300, 2)
    self.assertEqual(h.shape, (300, 1000))
    # a second build, not the cached matrix
    self.assertEqual((h != sw.parity_check_matrix.__wrapped__(1000, 300, 2)
                      ).nnz, 0)
    self.assertIs(sw.parity_check_matrix(1000, 300, 2), h)  # cached
    self.assertGreater((h != sw.parity_check_matrix(1000, 300, 1)).nnz, 0)
    self.assertTrue((np.asarray(h.sum(axis=0)) >= 1).all())
    self.assertTrue(set(np.unique(h.data)) <= {1})

  @parameterized.parameters((1000, 300, 2, "aff881c61fd1d1e2"),
                            (2000, 150, 0, "e6c77b43d14f7460"),
                            (1000, 900, 1, "05517471c63c2bd4"),
                            (10000, 1150, 0, "e0b746d7b7b4d073"),
                            (20000, 2500, 0, "61e7f9c931850694"))
  def test_matrices_are_part_of_the_file_format(self, n, m, plane, digest):
    # Both ends rebuild each code from (n, m, plane): a change to
    # parity_check_matrix makes the .ndc files written before it undecodable,
    # so it must come with a new container.VERSION and new digests here.
    h = sw.parity_check_matrix(n, m, plane)
    r, c = h.nonzero()
    order = np.lexsort((c, r))
    self.assertEqual(hashlib.sha256(np.stack([r[order], c[order]]).astype(
        "<i8").tobytes()).hexdigest()[:16], digest)

  @parameterized.parameters((800.0, sw.LOW_RATE_CODES),
                            (2500.0, sw.VERY_LOW_RATE_CODES),
                            (5000.0, sw.LOW_RATE_CODES), (12000.0, sw.CODES))
  def test_first_rate_uses_the_fit_of_its_own_family(self, e, family):
    n = 20_000
    m = sw.num_checks(n, e)
    self.assertIs(sw.code_family(n, m), family)
    self.assertEqual(m, _first_rate(family, e))

  def test_first_rate_is_never_below_the_fit_of_the_code_it_gets(self):
    for n in (10_000, 20_000, 100_000):
      for e in np.geomspace(1.0, 0.9 * n, 4000):  # hits the max(m) cases
        m = sw.num_checks(n, e)
        self.assertGreaterEqual(m, _first_rate(sw.code_family(n, m), e),
                                (n, e))

  @parameterized.parameters((1000, 300), (1000, 900), (2000, 150),
                            (20000, 2500))
  def test_matrix_structure(self, n, m):
    h = sw.parity_check_matrix(n, m, 0)
    col_deg = np.asarray(h.sum(axis=0)).ravel()
    row_deg = np.asarray(h.sum(axis=1)).ravel()
    # m − 1 staircase columns of degree 2, the others of the rate's degrees
    family = sw.code_family(n, m)
    self.assertIs(family, sw.VERY_LOW_RATE_CODES if 2000 <= m < 0.15 * n
                  else sw.LOW_RATE_CODES if m < n / 3 else sw.CODES)
    degrees = family.degrees
    self.assertEqual((col_deg == 2).sum(), m - 1)
    self.assertEqual(set(col_deg[col_deg != 2]), {d for d, _ in degrees})
    self.assertLessEqual(row_deg.max() - row_deg.min(), 2)  # check-concentrated
    # the degree-2 columns form a path: no cycle, so no codeword among them
    two = h[:, col_deg == 2].tocsc()
    self.assertEqual(np.unique(two.indices.reshape(-1, 2), axis=0).shape[0],
                     m - 1)
    self.assertTrue((np.asarray(two.sum(axis=1)).ravel() <= 2).all())

  def test_labels_order_cells_along_y(self):
    u, probs, y, perm = _scrambled(4000, 0)
    labels = sw.index_labels(probs, y[:, None])
    np.testing.assert_array_equal(np.sort(labels), np.arange(K))
    np.testing.assert_array_equal(labels[perm], np.arange(K))  # cell order
    flipped = sw.index_labels(probs, -y[:, None])  # orientation: by y's axis
    np.testing.assert_array_equal(flipped[perm], np.arange(K)[::-1])

  def test_unused_indices_are_labelled_last(self):
    _, probs, y = _source(2000, 1)
    unused = [1, 7, 12, 18]
    used = np.setdiff1d(np.arange(K + 4), unused)  # used[i]: the i-th cell
    wide = np.full((probs.shape[0], K + 4), 1e-12)
    wide[:, used] = probs
    labels = sw.index_labels(wide, y)
    np.testing.assert_array_equal(labels[used], np.arange(K))
    np.testing.assert_array_equal(labels[unused], np.arange(K, K + 4))

  def test_plane_probabilities_follow_the_chain_rule(self):
    u, probs, _ = _source(200, 0)
    prefix, log_total = np.zeros_like(u), 0.0
    views = sw.plane_side_info(u, probs, K)
    self.assertLen(views, sw.num_planes(K))
    for k, (bits, p) in enumerate(views):
      np.testing.assert_array_equal(p, sw.plane_probs(probs, prefix, k))
      log_total -= sw.plane_costs(bits, p)
      prefix |= bits.astype(u.dtype) << k
    np.testing.assert_array_equal(prefix, u)
    np.testing.assert_allclose(log_total, np.log2(probs[np.arange(200), u]),
                               atol=1e-6)

  def test_plane_side_info_follows_the_labels(self):
    u, probs, y, _ = _scrambled(300, 4)
    labels = sw.index_labels(probs, y[:, None])
    for k, (bits, p) in enumerate(sw.plane_side_info(u, probs, K, labels)):
      np.testing.assert_array_equal(bits, sw.plane_bits(labels[u], k))
      self.assertTrue(((p > 0) & (p < 1)).all())

  def test_decoding_threshold_brackets_the_bp_threshold(self):
    u, probs, _ = _source(4000, 5)
    bits, p = sw.plane_side_info(u, probs, K)[1]
    e = sw.plane_costs(bits, p).sum()
    thr = sw.decoding_threshold(bits, p, 1, tol=0.01)
    h = sw.parity_check_matrix(u.size, thr, 1)
    np.testing.assert_array_equal(sw._bp_decode(h, sw.syndrome_of(h, bits), p),
                                  bits)
    # no code recovers the plane from much less than its information; the
    # encoder's first rate (the family's gap, spread) models this code's gap
    self.assertBetween(thr, 0.95 * e, 1.1 * sw.num_checks(u.size, e))
    certain = (p > 0.5).astype(np.uint8)
    self.assertEqual(sw.decoding_threshold(certain, p, 1), 0)

  def test_round_trip_below_raw_rate_near_the_entropy(self):
    u, probs, _ = _source(10_000, 1)
    planes, retries = sw.encode_block(u, [probs], K)  # the decoder's own probs
    decoded = sw.decode_block(planes, probs, K)
    np.testing.assert_array_equal(decoded, u)
    bits = sum(p.num_checks for p in planes)
    entropy = -np.log2(probs[np.arange(u.size), u]).sum()
    self.assertLess(bits, 1.15 * entropy + 200, (bits, entropy, retries))
    self.assertLess(bits, sw.num_planes(K) * u.size)

  def test_labels_round_trip_and_save_bits(self):
    u, probs, y, _ = _scrambled(4000, 2)
    labels = sw.index_labels(probs, y[:, None])
    planes, _ = sw.encode_block(u, [probs], K, labels)
    np.testing.assert_array_equal(sw.decode_block(planes, probs, K, labels), u)
    plain, _ = sw.encode_block(u, [probs], K)
    labelled_bits = sum(p.num_checks for p in planes)
    self.assertLess(labelled_bits, 0.97 * sum(p.num_checks for p in plain))

  def test_certain_planes_cost_no_syndrome(self):
    u, probs, _ = _source(2000, 3, spread=0.3)  # a few cells are ever likely
    planes, _ = sw.encode_block(u, [probs], K)
    self.assertIn(0, [p.num_checks for p in planes])
    np.testing.assert_array_equal(sw.decode_block(planes, probs, K), u)

  def test_pack_unpack(self):
    u, probs, _ = _source(500, 2)
    planes, _ = sw.encode_block(u, [probs], K)
    planes[-1] = sw.Plane(0, np.zeros(0, np.uint8))
    data = b"xx" + sw.pack_block(planes, sw.index_crc(u))
    out, crc, end = sw.unpack_block(data, 2, 500, K)
    self.assertEqual((crc, end), (sw.index_crc(u), len(data)))
    for a, b in zip(planes, out):
      self.assertEqual(a.num_checks, b.num_checks)
      np.testing.assert_array_equal(a.syndrome, b.syndrome)
    with self.assertRaisesRegex(ValueError, "truncated"):
      sw.unpack_block(data[:-1], 2, 500, K)
    with self.assertRaisesRegex(ValueError, "allowed: 0 to 500"):
      sw.unpack_block(b"\0" * 4 + b"\xf5\x03" + b"\0" * 100, 0, 500, K)

  def test_misleading_side_information_fails_loudly(self):
    u, probs, _ = _source(5000, 3)
    planes, _ = sw.encode_block(u, [probs], K)
    wrong = np.roll(probs, 5, axis=1)  # confident and wrong
    try:
      decoded = sw.decode_block(planes, wrong, K)
    except sw.DecodingError:
      return
    self.assertNotEqual(sw.index_crc(decoded), sw.index_crc(u))


if __name__ == "__main__":
  absltest.main()
