"""Slepian-Wolf coding of index sequences: LDPC syndromes of their bit-planes.

The encoder, without y, sends for each bit-plane b_k of the indices' labels
v = labels[u] (least significant first) the syndrome s_k = H_k b_k (mod 2) of
an LDPC code. The decoder, holding q(u|y), recovers the planes in that order
by syndrome belief propagation (`ldpc.BpDecoder`, product-sum) with the soft
side information P(b_k = 1 | y, b_<k) computed from q(u|y); by the chain rule
the rates of the planes add up to H(U|Y) (Slepian & Wolf 1973; multilevel
coding as in Varodayan, Aaron, Girod, "Rate-adaptive codes for distributed
source coding", Signal Processing 2006). A CRC-32 of the block's indices makes
every decoding failure an error, never silent.

Labels (set partitioning, as in Ungerboeck's multilevel codes): `index_labels`
numbers the indices the model uses 0, 1, 2, ... in the order of their cells
along y (the q(u|y)-weighted mean of y's first principal coordinate), the
unused ones after them. Neighbouring cells, the ones q(u|y) confuses, then
differ in the least significant bit, which is decoded first and is nearly
uniform (sent raw); each further plane separates cells
twice as far apart, so the entropy concentrates in one raw plane and one or
two coded planes, and the last planes need few or no syndrome bits (only
the tails of q(u|y) leave them uncertain). Both ends compute the labels from
the model (see `api._sw_labels`).

Rate selection is the encoder's, against a limit on a block's failure
probability with the decoder's y (`encode_block_to_failure`, default
MAX_FAILURE = 10^-3): for plane k it draws side informations y' from the
source model p(y|x) (never the decoder's y) and estimates the plane's rate
given y, e = −Σ log2 P(b_k) (bits), by its mean over the draws, and the
rate's standard deviation σ from the indices' variances across the draws
(the y_i are independent given x). BP's threshold for the decoder's y is
modelled as normal about the code family's fit (1 + gap)·e + spread·√e +
MIN_CHECKS, its spread that of the rate over y, of the mean's estimate and
the family's scatter of thresholds from one matrix to the next
(`plane_failure`); the plane gets the fewest syndrome bits at which that
model fails within the plane's share of the limit (`checks_for_failure`).
A plane whose wrong hard decisions (a Markov bound, 2·Σ E[P(b ≠ b_i)])
stay within limit / planes gets 0 syndrome bits; one that would need ≥
RAW_FRACTION·N is sent raw. The block's failure probability, the sum of
its planes' (a union bound), is stated to the caller. No BP runs in the
encoder (`encode_block`, the earlier rule, decodes with every draw instead
and adds rate ×RETRY_STEP on a simulated failure, with no failure target).

Codes: the m − 1 first columns (of a random column order) have degree 2 in a
staircase (column j on checks j and j + 1 of a random check order, an
accumulator as in IRA codes: no cycles, hence no low-weight codewords, among
degree-2 columns); the others have the degrees of `code_family(n, m)`,
spread evenly over the checks without repeated edges. Three families by the
share of syndrome bits: CODES, LOW_RATE_CODES (m < LOW_RATE·n: a share of
high-degree columns) and VERY_LOW_RATE_CODES (degrees 3/11/30, for
VERY_LOW_RATE_MIN_CHECKS <= m < 0.15·n); each family's finite-length gap and
spread are fitted to its measured BP thresholds (`experiments/benchmarks/
sw_threshold.py`; the figures are in docs/codec.md). Built from a seed
derived from (N, m, plane) with numpy's frozen legacy `RandomState`, so both
ends build the same matrix. Shapes: indices u [N] int; syndromes of m bits
per plane; rates in bits.
"""

import functools
import struct
import zlib
from typing import NamedTuple

import ldpc
import numpy as np
import scipy.sparse as sp
import scipy.special


class CodeFamily(NamedTuple):
  """LDPC codes of one column-degree mixture and their fitted gap."""
  degrees: tuple[tuple[int, float], ...]  # (column degree, share) of the
  gap: float                              #   non-staircase columns; first
  spread: float                           #   rate (1 + gap)·e + spread·√e
  scatter: float = 0.0  # relative std. dev. of a code's BP threshold about
  #                       that fit (one matrix to the next)


# Scatter: the thresholds of docs/codec.md lie 0.93-1.04 × the fit (low-rate
# families, 15 planes) and 0.98-1.01 × (CODES, 12 planes).
CODES = CodeFamily(((3, 0.7), (10, 0.3)), 0.01, 5.0, 0.015)
LOW_RATE_CODES = CodeFamily(((3, 0.82), (18, 0.18)), 0.03, 3.0, 0.03)
VERY_LOW_RATE_CODES = CodeFamily(((3, 0.83), (11, 0.09), (30, 0.08)), 0.05,
                                 2.2, 0.03)
LOW_RATE = 1 / 3         # m < LOW_RATE·n: LOW_RATE_CODES, but
VERY_LOW_RATE = 0.15     # VERY_LOW_RATE_MIN_CHECKS <= m < VERY_LOW_RATE·n:
VERY_LOW_RATE_MIN_CHECKS = 2000  # VERY_LOW_RATE_CODES
FAMILIES = (VERY_LOW_RATE_CODES, LOW_RATE_CODES, CODES)  # lowest rates first
DEVIATIONS = 3.0
MAX_FAILURE = 1e-3       # default limit on a block's failure probability
MIN_CHECKS = 8
RETRY_STEP = 1.03        # more syndrome bits after a simulated failure
RAW_FRACTION = 0.99      # a plane needing >= this share of N is sent raw
ZERO_FLIPS = 1e-3        # expected wrong hard decisions allowing 0 checks
USED_SHARE = 3e-5        # an index with a smaller share of q's mass is unused
MAX_ITER = 200           # belief-propagation iterations
_PRIMARY = {"bp_method": "product_sum", "max_iter": MAX_ITER}
FALLBACKS = ({"bp_method": "product_sum", "schedule": "serial",
              "max_iter": 1000},
             {"bp_method": "minimum_sum", "ms_scaling_factor": 0.9,
              "max_iter": 1000})
MATRIX_CACHE = 32        # parity-check matrices kept for reuse
REUSE_BITS = 6           # `_reused_size`: syndrome lengths on a 1/64 grid
_EPS = 1e-9              # soft information is clipped to [_EPS, 1 − _EPS]
_REPAIR_ROUNDS = 20      # swap rounds that remove repeated edges
_TABLE_KEYS = 2**22      # `_repeats` finds repeats by a table up to this


class DecodingError(RuntimeError):
  """Slepian-Wolf decoding failed (detected: no syndrome match or bad CRC)."""


class Plane(NamedTuple):
  num_checks: int      # m; 0: hard decisions; == block length: sent raw
  syndrome: np.ndarray  # [m] uint8 bits


def num_planes(num_indices: int) -> int:
  return max(1, int(num_indices - 1).bit_length())


def code_family(n: int, m: int) -> CodeFamily:
  """The family of an m × n code."""
  if VERY_LOW_RATE_MIN_CHECKS <= m < VERY_LOW_RATE * n:
    return VERY_LOW_RATE_CODES
  return LOW_RATE_CODES if m < LOW_RATE * n else CODES


def _repeats(key: np.ndarray, size: int) -> np.ndarray:
  """Positions [D] of the entries of key [E] (integers in [0, size)) equal
  to an earlier entry, in position order: by a table of each key's first
  position when `size` is small, else by a stable sort."""
  if size <= _TABLE_KEYS:
    first = np.full(size, key.size, np.int64)
    positions = np.arange(key.size)
    np.minimum.at(first, key, positions)
    return np.flatnonzero(first[key] != positions)
  order = np.argsort(key, kind="stable")
  return order[1:][key[order[1:]] == key[order[:-1]]]  # any order


@functools.lru_cache(maxsize=MATRIX_CACHE)
def parity_check_matrix(n: int, m: int, plane: int) -> sp.csr_matrix:
  """An m × n LDPC matrix (1 <= m), the same for the same (n, m, plane).

  min(n, m − 1) columns form a degree-2 staircase; the rest have
  `code_family(n, m).degrees` (capped at m), their edges dealt to the checks
  least loaded first so the check degrees differ by at most about 2.

  The last MATRIX_CACHE matrices are kept (shared: do not modify one; `ldpc`
  only calls its no-op `eliminate_zeros`): the nearly certain
  planes of a file's blocks get the same few short syndromes (m ≈
  MIN_CHECKS), whose matrices are the slowest to build (their capped
  columns keep repeated edges through every repair round), and
  the encoder's simulated decoding builds the matrices that the decoder uses.
  A matrix takes ~0.25 MiB at n = 10^4 and up to ~2.6 MiB at n = 10^5.
  """
  rs = np.random.RandomState((n * 1_000_003 + m * 7919 + plane) % 2**32)
  col_order, row_order = rs.permutation(n), rs.permutation(m)
  n2 = min(n, m - 1)
  stair = col_order[:n2]
  rest = col_order[n2:]
  degrees, shares = zip(*code_family(n, m).degrees)
  dv = np.minimum(rs.choice(degrees, size=rest.size, p=shares), m)
  load = np.bincount(row_order[:n2], minlength=m) + np.bincount(
      row_order[1:n2 + 1], minlength=m)
  rows = rs.permutation(np.argsort(load, kind="stable")[
      np.arange(dv.sum()) % m])
  cols = np.repeat(rest, dv)
  # Column j's edges are the j-th run of `cols`: sorting by (run, row) finds
  # the repeated pairs in near-linear time (the runs come in order), and
  # `dup` is put in (column, row, position) order, as sorting by column
  # would give it, so the swaps, hence the matrix, stay the same.
  run_key = np.repeat(np.arange(rest.size, dtype=np.int64) * m, dv)
  for _ in range(_REPAIR_ROUNDS):  # a repeated (row, column) pair: swap rows
    dup = _repeats(run_key + rows, rest.size * m)
    if dup.size == 0:
      break
    dup = dup[np.lexsort((dup, cols[dup].astype(np.int64) * m + rows[dup]))]
    free = np.ones(rows.size, bool)
    free[dup] = False
    free = np.flatnonzero(free)
    if free.size < dup.size:
      break
    other = free[rs.permutation(free.size)[:dup.size]]
    rows[dup], rows[other] = rows[other], rows[dup]
  rows = np.concatenate([row_order[:n2], row_order[1:n2 + 1], rows])
  cols = np.concatenate([stair, stair, cols])
  h = sp.csr_matrix((np.ones(cols.size, np.uint8), (rows, cols)),
                    shape=(m, n))
  h.data[:] = 1  # a repeated pair left after the repair rounds is one edge
  return h


def index_labels(pmf: np.ndarray, y: np.ndarray,
                 used_share: float = USED_SHARE) -> np.ndarray:
  """Label [K] int64 of each index, from q(u|y) pmf [N, K] (any non-negative
  weights, e.g. `integer_prior` tables) at side informations y [N, n].

  Indices whose share of the total mass is >= used_share are labelled 0, 1,
  ... in the order of their q-weighted mean position along y's first
  principal axis (ties: by index); the others follow in index order. A
  permutation of range(K).
  """
  pmf = np.asarray(pmf, np.float64)
  y = np.asarray(y, np.float64).reshape(pmf.shape[0], -1)
  mass = pmf.sum(axis=0)
  used = mass >= used_share * mass.sum()
  centred = y - y.mean(axis=0)
  _, vecs = np.linalg.eigh(centred.T @ centred)
  axis = vecs[:, -1] * np.sign(vecs[np.argmax(np.abs(vecs[:, -1])), -1])
  centre = pmf.T @ (centred @ axis) / np.maximum(mass, 1e-300)
  idx = np.arange(pmf.shape[1])
  order = np.concatenate([
      idx[used][np.lexsort((idx[used], centre[used]))], idx[~used]])
  labels = np.empty(idx.size, np.int64)
  labels[order] = idx
  return labels


def plane_bits(v: np.ndarray, plane: int) -> np.ndarray:
  """Bit `plane` (0 = least significant) of labels v [N] -> [N] uint8."""
  return ((np.asarray(v) >> plane) & 1).astype(np.uint8)


def plane_probs(probs: np.ndarray, prefix: np.ndarray, plane: int
                ) -> np.ndarray:
  """P(bit `plane` = 1 | y, lower bits) [N] from q(v|y) probs [N, K] over
  labels and the labels' lower planes `prefix` [N] (bits >= plane ignored)."""
  n, k = probs.shape
  size = 1 << max(plane + 1, (k - 1).bit_length())
  padded = np.zeros((n, size))
  padded[:, :k] = probs
  # [N, high bits, bit `plane`, low bits] summed over the high bits
  groups = padded.reshape(n, -1, 2, 1 << plane).sum(axis=1)
  low = np.asarray(prefix) & ((1 << plane) - 1)
  zero, one = groups[np.arange(n), 0, low], groups[np.arange(n), 1, low]
  return np.clip(one / np.maximum(zero + one, 1e-300), _EPS, 1 - _EPS)


def _by_label(probs, labels) -> np.ndarray:
  """q(u|y) probs [N, K] over indices -> [N, K] over labels."""
  return probs[:, np.argsort(labels)]


def plane_side_info(u: np.ndarray, probs: np.ndarray, num_indices: int,
                    labels: np.ndarray | None = None
                    ) -> list[tuple[np.ndarray, np.ndarray]]:
  """Per bit-plane of labels[u] (u [N]; labels [K], default the identity),
  least significant first: (bits [N] uint8, P(bit = 1 | y, lower planes)
  [N]) from q(u|y) probs [N, K] over indices, i.e. what the decoder sees
  once it has the lower planes right."""
  labels = np.arange(num_indices) if labels is None else np.asarray(labels)
  v, by_label = labels[u], _by_label(probs, labels)
  return [(plane_bits(v, k), plane_probs(by_label, v, k))
          for k in range(num_planes(num_indices))]


def _encoder_views(u: np.ndarray, probs: np.ndarray, num_indices: int,
                   labels: np.ndarray | None) -> list[tuple[np.ndarray,
                                                           np.ndarray]]:
  """`plane_side_info` for the encoder's rate estimates, in O(N·K) instead
  of O(N·K·planes): q(v|y) is laid out [2^planes, N] with the labels in
  bit-reversed order, so the labels that agree with v = labels[u] on the
  planes below k are a contiguous block whose halves hold bit k = 0 and 1;
  each plane keeps the half of its bit. Equal to `plane_side_info` up to
  float rounding (another summation order), which moves no syndrome bit:
  the decoder computes its own probabilities."""
  labels = np.arange(num_indices) if labels is None else np.asarray(labels)
  v, planes = labels[u], num_planes(num_indices)
  size = 1 << planes
  reversed_label = np.zeros(size, np.int64)  # position -> label
  for k in range(planes):
    reversed_label |= ((np.arange(size) >> (planes - 1 - k)) & 1) << k
  index_of = np.full(size, num_indices)      # label -> index (K: no index)
  index_of[labels] = np.arange(num_indices)
  padded = np.concatenate([probs, np.zeros((probs.shape[0], 1))], axis=1)
  mass = np.ascontiguousarray(padded[:, index_of[reversed_label]].T)
  out = []
  for k in range(planes):
    bit = plane_bits(v, k)
    half = mass.shape[0] // 2
    zero, one = mass[:half].sum(axis=0), mass[half:].sum(axis=0)
    out.append((bit, np.clip(one / np.maximum(zero + one, 1e-300), _EPS,
                             1 - _EPS)))
    mass = np.where(bit[None] == 1, mass[half:], mass[:half])
  return out


def syndrome_of(h: sp.csr_matrix, bits: np.ndarray) -> np.ndarray:
  """h b (mod 2) [m] uint8 of bits b [N] (any integer dtype)."""
  return (h @ bits.astype(np.int64) % 2).astype(np.uint8)


def _hard_bits(p_one: np.ndarray) -> np.ndarray:
  """Hard decisions [N] uint8: 1 where P(b=1) = p_one > 0.5."""
  return (p_one > 0.5).astype(np.uint8)


def _hard_right(bits: np.ndarray, p_one: np.ndarray) -> bool:
  """Whether the hard decisions give the bits [N]."""
  return np.array_equal(_hard_bits(p_one), bits)


def _bp_decode(h, syndrome, p_one, fallback: bool = False
               ) -> np.ndarray | None:
  """Bits b with h b = syndrome (mod 2), most probable under P(b=1) = p_one,
  by syndrome BP on the deviation from the hard guess; None on failure.

  With `fallback` (the decoder), a BP run that finds no solution is followed
  by the FALLBACKS in turn (serial schedule, more iterations, scaled
  min-sum): each decoded some of the blocks where the flooding product-sum
  BP stalled well above its threshold (docs/codec.md). They run only on a
  failure; the block's CRC still checks whatever they return."""
  guess = _hard_bits(p_one)
  flip = np.minimum(p_one, 1 - p_one)
  target = syndrome ^ syndrome_of(h, guess)
  for settings in (_PRIMARY,) + (FALLBACKS if fallback else ()):
    dec = ldpc.BpDecoder(h, error_channel=flip, input_vector_type="syndrome",
                         **settings)
    err = np.asarray(dec.decode(target), np.uint8)
    if np.array_equal(syndrome_of(h, err), target):
      return guess ^ err
  return None


def num_checks(n: int, est_bits: float, std_bits: float = 0.0) -> int:
  """Syndrome bits sent first for a plane of n bits whose rate (given the
  decoder's y) has mean est_bits and standard deviation std_bits: the code
  family's gap·e + spread·√e above the rate, DEVIATIONS standard deviations
  of the rate, and MIN_CHECKS; the fit of the first of FAMILIES whose m
  gets its own codes (`code_family`), the largest m if none does."""
  ms = [int(np.ceil((1 + family.gap) * est_bits
                    + family.spread * np.sqrt(est_bits)
                    + DEVIATIONS * std_bits + MIN_CHECKS))
        for family in FAMILIES]
  return next((m for m, family in zip(ms, FAMILIES)
               if code_family(n, m) is family), max(ms))


def plane_costs(bits: np.ndarray, p_one: np.ndarray) -> np.ndarray:
  """Information −log2 P(b) [N] (bits) of plane bits [N] under P(b=1) =
  p_one [N]; its sum e is the plane's rate given that side information."""
  return -np.log2(np.where(bits == 1, p_one, 1 - p_one))


def decoding_threshold(bits: np.ndarray, p_one: np.ndarray, plane: int,
                       tol: float = 0.005) -> int:
  """Smallest syndrome length m at which syndrome BP with P(b=1) = p_one [N]
  recovers the plane bits [N] with `parity_check_matrix(N, m, plane)`, found
  by bisection to within max(1, tol·e) checks (e: `plane_costs` summed); 0 if
  the hard decisions are already right, N if BP needs the plane raw.

  What the code families' gap and spread model: the code's finite-length
  gap is m/e − 1. Each m has its own random matrix, so success is not
  strictly monotone in m; the bisection keeps a failing m below and a
  decoding m above.
  """
  n = bits.size
  if _hard_right(bits, p_one):
    return 0

  def decodes(m):
    h = parity_check_matrix(n, m, plane)
    return np.array_equal(_bp_decode(h, syndrome_of(h, bits), p_one), bits)

  lo, hi, step = 0, n, max(1.0, tol * plane_costs(bits, p_one).sum())
  while hi - lo > step:
    mid = (lo + hi) // 2
    lo, hi = (lo, mid) if decodes(mid) else (mid, hi)
  return hi


def _fit(family: CodeFamily, est_bits: float, scale: float = 1.0) -> float:
  """The family's fitted BP threshold (1 + gap)·e + spread·√e + MIN_CHECKS
  (syndrome bits), times a model's measured `scale` (`calibrate`)."""
  return scale * ((1 + family.gap) * est_bits
                  + family.spread * np.sqrt(est_bits) + MIN_CHECKS)


def _threshold_model(n: int, m: int, est_bits: float, std_bits: float,
                     draws: int, scale: float = 1.0) -> tuple[float, float]:
  """(mean, standard deviation) in syndrome bits of the BP threshold that the
  decoder's y will need for a plane of n bits whose rate given y the encoder
  estimated as est_bits ± std_bits from `draws` simulated y': the family fit
  (1 + gap)·e + spread·√e + MIN_CHECKS of the code at m; its spread is the
  rate's over y, that of the estimate's own mean (1/draws of it), and the
  family's scatter of thresholds about the fit. `scale` (>= 1, from
  `calibrate`) multiplies the fit where this model's planes need more."""
  family = code_family(n, m)
  mean = _fit(family, est_bits, scale)
  var = ((1 + family.gap) * std_bits) ** 2 * (1 + 1 / max(draws, 1)) + (
      family.scatter * est_bits) ** 2
  return mean, float(scale * np.sqrt(var))


def normal_tail(z: float) -> float:
  """Q(z) = P(Z > z) of a standard normal Z."""
  return float(0.5 * scipy.special.erfc(z / np.sqrt(2)))


def plane_failure(n: int, m: int, est_bits: float, std_bits: float,
                  draws: int, scale: float = 1.0) -> float:
  """The model's probability that BP fails on a plane of n bits with m
  syndrome bits (`_threshold_model`: the threshold is normal about the
  fit). 0 for a raw plane (m = n)."""
  if m >= n:
    return 0.0
  mean, sd = _threshold_model(n, m, est_bits, std_bits, draws, scale)
  if sd == 0:
    return float(m < mean)
  return normal_tail((m - mean) / sd)


def checks_for_failure(n: int, est_bits: float, std_bits: float, draws: int,
                       failure: float, scale: float = 1.0) -> int:
  """The fewest syndrome bits m (at most n: raw) at which `plane_failure`
  is at most `failure`: the fitted threshold plus z = Q⁻¹(failure) standard
  deviations of `_threshold_model`, of the family whose m gets its own
  codes (`code_family`), the largest if none does."""
  z = float(-scipy.special.ndtri(failure))
  ms = []
  for family in FAMILIES:
    mean = _fit(family, est_bits, scale)
    sd = scale * np.sqrt(((1 + family.gap) * std_bits) ** 2
                         * (1 + 1 / max(draws, 1))
                         + (family.scatter * est_bits) ** 2)
    ms.append(int(np.ceil(mean + z * sd)))
  m = next((m for m, family in zip(ms, FAMILIES)
            if code_family(n, m) is family), max(ms))
  while m < n and plane_failure(n, m, est_bits, std_bits, draws,
                                scale) > failure:
    m = int(np.ceil(m * RETRY_STEP))  # the fallback family is a worse fit
  return min(m, n)


def _reused_size(n: int, m: int) -> int:
  """m rounded up to a multiple of max(4, 2^(floor(log2 m) − REUSE_BITS))
  (at most 3 or 1/2^REUSE_BITS more checks) below LOW_RATE·n, whose
  matrices are slow to build (~0.1 s at m ≈ 10, n = 10^4): block after
  block the encoder and the decoder then meet the same few syndrome
  lengths in `parity_check_matrix`'s cache. More checks only lower a
  plane's failure."""
  if m >= LOW_RATE * n:
    return m
  step = max(4, 1 << max(0, m.bit_length() - 1 - REUSE_BITS))
  return min(-(-m // step) * step, n)


class BlockCode(NamedTuple):
  planes: list[Plane]
  retries: int         # simulated decoding failures that added checks
  failure: float       # the model's failure probability of the block


class Calibration(NamedTuple):
  scales: list[float]   # each plane's scale of its family fit, >= 1
  off_fit: list[bool]   # planes whose threshold lies beyond the fit by more
  #                       than CALIBRATION_SLACK family scatters


def calibrate(u: np.ndarray, probs: np.ndarray, num_indices: int,
              labels: np.ndarray | None = None,
              est_probs: np.ndarray | None = None) -> Calibration:
  """This model's BP thresholds against the code families' fits.

  For each plane of labels[u], BP's threshold (`decoding_threshold`) given
  the decoder's q(u|y') probs [N, K] at one simulated y', over the fit of
  its family at the plane's rate given y' as the encoder estimates it (from
  `est_probs` [N, K] at the same y', default `probs`: the encoder may use a
  table of q). A plane's scale is that ratio where it exceeds 1, else 1
  (also where the plane needs no checks or goes raw): the threshold model
  is then centred on the threshold measured, never below it. A plane is
  `off_fit` where the ratio exceeds 1 + CALIBRATION_SLACK family scatters:
  the fits, their scatter included, do not describe its soft information,
  and the encoder sends it raw (`encode_block_to_failure`'s `raw`).

  Why: the fits come from the default run's models. A 60-step model's
  plane of e ≈ 2300 bits in blocks of 4000 needed 1.12-1.30 × its fit, and
  above the measured threshold BP still failed at 2 of 36 syndrome lengths
  up to 1.3 × it with the true y (an error floor no threshold model
  holds); scaled fits and decoding with simulated y' both left 2 of 30
  blocks undecodable. A low-rate plane 1.04 × its fit (1.5 scatters), were
  the fit kept, fails ~7% of blocks.
  """
  n = u.size
  labels = np.arange(num_indices) if labels is None else np.asarray(labels)
  scales, off_fit = [], []
  views = _encoder_views(u, probs if est_probs is None else est_probs,
                         num_indices, labels)
  for k, (bits, p_one) in enumerate(plane_side_info(u, probs, num_indices,
                                                    labels)):
    est = float(plane_costs(bits, views[k][1]).sum())
    thr = decoding_threshold(bits, p_one, k)
    if thr == 0 or thr >= RAW_FRACTION * n or est <= 0:
      scales.append(1.0)
      off_fit.append(False)
      continue
    family = code_family(n, thr)
    ratio = float(thr / _fit(family, est))
    scales.append(max(ratio, 1.0))
    off_fit.append(ratio > 1 + CALIBRATION_SLACK * family.scatter)
  return Calibration(scales, off_fit)


CALIBRATION_SLACK = 2.0  # family scatters above the fit: off it


def _failure_shares(n: int, stats: list, draws: int,
                    max_failure: float, scales) -> list[float]:
  """Each coded plane's share of max_failure: what the zero-check planes
  leave, split evenly; then what the nearly certain planes do not use at
  their share (their threshold model fails far less) goes to the planes
  that use theirs up, evenly."""
  left = max_failure - sum(s[4] for s in stats if s[5])
  coded = [k for k, s in enumerate(stats) if not s[5]]
  shares = [0.0] * len(stats)
  if not coded:
    return shares
  even = left / len(coded)
  used = {k: plane_failure(n, checks_for_failure(
      n, stats[k][2], stats[k][3], draws, even, scales[k]), stats[k][2],
                           stats[k][3], draws, scales[k]) for k in coded}
  tight = [k for k in coded if used[k] > even / 2]
  spare = left - sum(used.values())
  for k in coded:
    shares[k] = (used[k] + spare / len(tight) if k in tight
                 else max(used[k], 1e-300))
  return shares


def encode_block(u: np.ndarray, sim_probs: list[np.ndarray],
                 num_indices: int, labels: np.ndarray | None = None
                 ) -> tuple[list[Plane], int]:
  """Syndromes of the planes of labels[u] (u [N] indices; labels [K], default
  the identity); rates chosen with q(u|y') [N, K] for each simulated side
  information y' in `sim_probs`.

  A plane's first rate is `num_checks` of its rate's mean and standard
  deviation estimated from the draws (σ = 0 for a single draw); it must
  decode with every draw. Returns (planes, retries): `retries` counts
  the simulated failures that made the encoder send more syndrome bits.
  No failure target: `encode_block_to_failure` is the codec's rule.
  """
  code = encode_block_to_failure(u, sim_probs, num_indices, labels, None,
                                 verify=True)
  return code.planes, code.retries


def encode_block_to_failure(u: np.ndarray, sim_probs: list[np.ndarray],
                            num_indices: int,
                            labels: np.ndarray | None = None,
                            max_failure: float | None = MAX_FAILURE,
                            verify: bool = False,
                            scales=None, raw=None) -> BlockCode:
  """`encode_block` whose planes keep the block's failure probability with
  the decoder's y within max_failure.

  A plane is left without syndrome bits if 2·Σ_i E[P(b ≠ b_i)] (a Markov
  bound on its wrong hard decisions, the expectation over the draws) is
  within max_failure / planes; the coded planes share what those leave,
  each coded with `checks_for_failure` bits (the threshold model
  `plane_failure`), or raw. The block's failure is the sum
  of its planes' (a union bound). With `verify` the encoder also decodes
  with every draw and adds checks (×RETRY_STEP) until each decodes (slow:
  one BP run per draw and plane); without it no BP runs. max_failure None:
  the rule of `encode_block` (the fit plus DEVIATIONS·σ, zero checks when
  the draws' expected flips stay under ZERO_FLIPS), its failure still
  stated by the model. `scales` [planes] (`calibrate`, default 1) scale
  each plane's fitted threshold for this model; `raw` [planes] bools
  (`calibrate`'s off_fit, default none): those planes, unless nearly
  certain (0 checks), are sent raw, which never fails.
  """
  n, out, retries, failure = u.size, [], 0, 0.0
  draws = len(sim_probs)
  planes = num_planes(num_indices)
  scales = [1.0] * planes if scales is None else list(scales)
  raw = [False] * planes if raw is None else list(raw)
  views = [_encoder_views(u, p, num_indices, labels) for p in sim_probs]
  stats = []
  for k in range(planes):
    bits, p_ones = views[0][k][0], [view[k][1] for view in views]
    # [draws, N] bits of each index under each y'; the rate's variance given
    # x is the sum over indices of their variances (the y_i are independent)
    cost = np.stack([plane_costs(bits, p) for p in p_ones])
    est = float(cost.sum(axis=1).mean())
    std = float(np.sqrt(cost.var(axis=0, ddof=1).sum())) if draws > 1 else 0.0
    wrong = 2 * float(np.mean([np.where(bits == 1, 1 - p, p).sum()
                               for p in p_ones]))
    if max_failure is None:
      zero = (max(float(np.minimum(p, 1 - p).sum()) for p in p_ones)
              < ZERO_FLIPS and all(_hard_right(bits, p) for p in p_ones))
    else:
      zero = (wrong <= max_failure / planes
              and all(_hard_right(bits, p) for p in p_ones))
    stats.append((bits, p_ones, est, std, wrong, zero))
  if max_failure is not None:
    shares = _failure_shares(n, stats, draws, max_failure, scales)
  for k, (bits, p_ones, est, std, wrong, zero) in enumerate(stats):
    if not zero:
      m = (num_checks(n, est, std) if max_failure is None else
           _reused_size(n, checks_for_failure(n, est, std, draws, shares[k],
                                              scales[k])))
    if zero:
      out.append(Plane(0, np.zeros(0, np.uint8)))
      failure += min(wrong, 1.0)
      continue
    while m < RAW_FRACTION * n and not raw[k]:
      h = parity_check_matrix(n, m, k)
      syndrome = syndrome_of(h, bits)
      if not verify or all(np.array_equal(_bp_decode(h, syndrome, p), bits)
                           for p in p_ones):
        out.append(Plane(m, syndrome))
        failure += plane_failure(n, m, est, std, draws, scales[k])
        break
      retries += 1
      m = int(np.ceil(m * RETRY_STEP))
    else:
      out.append(Plane(n, bits))
  return BlockCode(out, retries, min(failure, 1.0))


def decode_block(planes_in: list[Plane], probs: np.ndarray, num_indices: int,
                 labels: np.ndarray | None = None) -> np.ndarray:
  """Indices u [N] from the planes' syndromes, q(u|y) probs [N, K] and the
  encoder's labels [K] (default the identity).

  Raises DecodingError if a plane's BP finds no bits with its syndrome.
  """
  labels = np.arange(num_indices) if labels is None else np.asarray(labels)
  n, by_label = probs.shape[0], _by_label(probs, labels)
  v = np.zeros(n, np.int64)
  for k, plane in enumerate(planes_in):
    if plane.num_checks == n:
      bits = plane.syndrome
    elif plane.num_checks == 0:
      bits = _hard_bits(plane_probs(by_label, v, k))
    else:
      h = parity_check_matrix(n, plane.num_checks, k)
      bits = _bp_decode(h, plane.syndrome, plane_probs(by_label, v, k),
                        fallback=True)
      if bits is None:
        raise DecodingError(
            f"Slepian-Wolf decoding failed at bit-plane {k} ({plane.num_checks}"
            f" syndrome bits for {n} indices): the side information is too "
            "weak for this rate")
    v |= bits.astype(np.int64) << k
  return np.argsort(labels)[v]


def index_crc(u: np.ndarray) -> int:
  return zlib.crc32(np.asarray(u, "<u2").tobytes())


def _varint(value: int) -> bytes:
  """Unsigned LEB128: 7 bits a byte, least significant first."""
  out = bytearray()
  while True:
    out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
    value >>= 7
    if not value:
      return bytes(out)


def pack_block(planes_in: list[Plane], crc: int) -> bytes:
  """CRC of the indices (u32), each plane's m (LEB128 varint), then all
  planes' syndrome bits, concatenated and packed into bytes."""
  return b"".join(
      [struct.pack("<I", crc)] + [_varint(p.num_checks) for p in planes_in]
      + [np.packbits(np.concatenate(
          [np.zeros(0, np.uint8)] + [p.syndrome for p in planes_in])
                     ).tobytes()])


def unpack_block(data: bytes, offset: int, n: int, num_indices: int
                 ) -> tuple[list[Plane], int, int]:
  """Parses one block at `offset`: (planes, crc, next offset).

  Raises ValueError naming the inconsistency on malformed data.
  """
  def take(size):
    nonlocal offset
    if offset + size > len(data):
      raise ValueError(f"Slepian-Wolf payload is truncated at byte {offset}")
    chunk = data[offset:offset + size]
    offset += size
    return chunk

  def take_varint(k):
    value = 0
    for i in range(5):
      (byte,) = take(1)
      value |= (byte & 0x7F) << (7 * i)
      if not byte & 0x80:
        return value
    raise ValueError(f"bit-plane {k}'s syndrome length is longer than 5 bytes")

  (crc,) = struct.unpack("<I", take(4))
  sizes = []
  for k in range(num_planes(num_indices)):
    sizes.append(take_varint(k))
    if not 0 <= sizes[-1] <= n:
      raise ValueError(f"bit-plane {k} announces {sizes[-1]} syndrome bits; "
                       f"allowed: 0 to {n}")
  bits = np.unpackbits(np.frombuffer(take((sum(sizes) + 7) // 8), np.uint8))
  ends = np.cumsum(sizes)
  return ([Plane(m, bits[end - m:end]) for m, end in zip(sizes, ends)], crc,
          offset)
