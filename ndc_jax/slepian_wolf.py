"""Slepian-Wolf coding of index sequences: LDPC syndromes of their bit-planes.

The encoder, without y, sends for each bit-plane b_k of the indices u (most
significant first) the syndrome s_k = H_k b_k (mod 2) of an LDPC code. The
decoder, holding q(u|y), recovers the planes in order by syndrome belief
propagation (`ldpc.BpDecoder`, product-sum) with the soft side information
P(b_k = 1 | y, b_<k) computed from q(u|y); by the chain rule the rates of the
planes add up to H(U|Y) (Slepian & Wolf 1973; multilevel coding as in
Varodayan, Aaron, Girod, "Rate-adaptive codes for distributed source coding",
Signal Processing 2006). A CRC-32 of the block's indices makes every decoding
failure an error, never silent.

Rate adaptation is the encoder's: for plane k it estimates the plane's rate
from q(u|y') for side information y' it draws from the source model p(y|x)
(a few draws, never the decoder's y), adds a margin, and checks by decoding
with every y'; on failure it sends more syndrome bits (×RETRY_STEP), after
the first pass it adds SAFETY (a real y is a fresh draw, and the first pass
sits at the code's threshold), and a plane that would need nearly N bits is
sent raw.

Codes: random irregular LDPC matrices (column degrees DEGREES), built from a
seed derived from (N, m, plane) with numpy's frozen legacy `RandomState`, so
both ends build the same matrix.
"""

import struct
import zlib
from typing import NamedTuple

import ldpc
import numpy as np
import scipy.sparse as sp

DEGREES = ((2, 0.45), (3, 0.35), (6, 0.10), (12, 0.10))  # column degree: share
MARGIN = 1.04            # syndrome bits per estimated bit of the plane
SPREAD = 3.0             # + SPREAD · sqrt(N · estimated rate) bits
MIN_CHECKS = 16          # at least this many syndrome bits per coded plane
RETRY_STEP = 1.08        # more syndrome bits after a simulated failure
SAFETY = 1.08            # more syndrome bits after the first simulated pass
RAW_FRACTION = 0.9       # a plane needing >= this share of N is sent raw
MAX_ITER = 200           # belief-propagation iterations
_EPS = 1e-9              # soft information is clipped to [_EPS, 1 − _EPS]


class DecodingError(RuntimeError):
  """Slepian-Wolf decoding failed (detected: no syndrome match or bad CRC)."""


class Plane(NamedTuple):
  num_checks: int      # m; == block length means the plane is sent raw
  syndrome: np.ndarray  # [m] uint8 bits


def num_planes(num_indices: int) -> int:
  return max(1, int(num_indices - 1).bit_length())


def parity_check_matrix(n: int, m: int, plane: int) -> sp.csr_matrix:
  """An m × n irregular LDPC matrix, the same for the same (n, m, plane)."""
  rs = np.random.RandomState((n * 1_000_003 + m * 7919 + plane) % 2**32)
  degrees, shares = zip(*DEGREES)
  dv = np.minimum(rs.choice(degrees, size=n, p=shares), m)
  cols = np.repeat(np.arange(n), dv)
  rows = rs.permutation(np.arange(cols.size) % m)
  h = sp.csr_matrix((np.ones(cols.size, np.uint8), (rows, cols)),
                    shape=(m, n))
  h.data[:] = 1  # a repeated (row, column) pair is one edge
  return h


def plane_bits(u: np.ndarray, plane: int, planes: int) -> np.ndarray:
  """Bit-plane `plane` (0 = most significant of `planes`) of u [N] -> [N]."""
  return ((u >> (planes - 1 - plane)) & 1).astype(np.uint8)


def plane_probs(probs: np.ndarray, prefix: np.ndarray, plane: int,
                planes: int) -> np.ndarray:
  """P(b_plane = 1 | y, higher bits) [N] from q(u|y) probs [N, K] and the
  indices' higher planes `prefix` [N] (an index whose lower bits are 0)."""
  idx = np.arange(probs.shape[1])
  shift = planes - plane
  same = (idx[None] >> shift) == (prefix[:, None] >> shift)  # [N, K]
  mass = np.where(same, probs, 0.0)
  one = mass[:, plane_bits(idx, plane, planes) == 1].sum(axis=1)
  return np.clip(one / np.maximum(mass.sum(axis=1), 1e-300), _EPS, 1 - _EPS)


def _bp_decode(h, syndrome, p_one) -> np.ndarray | None:
  """Bits b with h b = syndrome (mod 2), most probable under P(b=1) = p_one,
  by syndrome BP on the deviation from the hard guess; None on failure."""
  guess = (p_one > 0.5).astype(np.uint8)
  flip = np.minimum(p_one, 1 - p_one)
  target = (syndrome ^ (h @ guess.astype(np.int64) % 2)).astype(np.uint8)
  dec = ldpc.BpDecoder(h, error_channel=flip, max_iter=MAX_ITER,
                       bp_method="product_sum", input_vector_type="syndrome")
  err = np.asarray(dec.decode(target), np.uint8)
  if not np.array_equal(h @ err.astype(np.int64) % 2, target):
    return None
  return guess ^ err


def _rate_bits(bits, p_one) -> float:
  """−Σ log2 P(b) of the bits under p_one: the plane's estimated rate."""
  return float(-np.log2(np.where(bits == 1, p_one, 1 - p_one)).sum())


def encode_block(u: np.ndarray, sim_probs: list[np.ndarray],
                 num_indices: int) -> tuple[list[Plane], int]:
  """Syndromes of the planes of u [N]; rates chosen with q(u|y') [N, K] for
  each simulated side information y' in `sim_probs`.

  A plane's rate is the largest estimate over the draws plus the margin; it
  must decode with every draw. Returns (planes, retries): `retries` counts
  the simulated failures that made the encoder send more syndrome bits.
  """
  n, planes = u.size, num_planes(num_indices)
  out, retries, prefix = [], 0, np.zeros_like(u)
  for k in range(planes):
    bits = plane_bits(u, k, planes)
    p_ones = [plane_probs(p, prefix, k, planes) for p in sim_probs]
    est = max(_rate_bits(bits, p) for p in p_ones)
    m = int(np.ceil(MARGIN * est + SPREAD * np.sqrt(est) + MIN_CHECKS))
    passed = False  # the last m decoded with every draw
    while m < RAW_FRACTION * n:
      h = parity_check_matrix(n, m, k)
      syndrome = (h @ bits.astype(np.int64) % 2).astype(np.uint8)
      ok = all(np.array_equal(_bp_decode(h, syndrome, p), bits)
               for p in p_ones)
      if ok and passed:
        out.append(Plane(m, syndrome))
        break
      retries += not ok
      passed = ok  # after a pass: a SAFETY margin, checked once more
      m = int(np.ceil(m * (SAFETY if ok else RETRY_STEP)))
    else:
      out.append(Plane(n, bits))
    prefix = prefix | (bits.astype(u.dtype) << (planes - 1 - k))
  return out, retries


def decode_block(planes_in: list[Plane], probs: np.ndarray, num_indices: int
                 ) -> np.ndarray:
  """Indices u [N] from the planes' syndromes and q(u|y) probs [N, K].

  Raises DecodingError if a plane's BP finds no bits with its syndrome.
  """
  n, planes = probs.shape[0], num_planes(num_indices)
  u = np.zeros(n, np.int64)
  for k, plane in enumerate(planes_in):
    if plane.num_checks == n:
      bits = plane.syndrome
    else:
      h = parity_check_matrix(n, plane.num_checks, k)
      bits = _bp_decode(h, plane.syndrome, plane_probs(probs, u, k, planes))
      if bits is None:
        raise DecodingError(
            f"Slepian-Wolf decoding failed at bit-plane {k} ({plane.num_checks}"
            f" syndrome bits for {n} indices): the side information is too "
            "weak for this rate")
    u |= bits.astype(np.int64) << (planes - 1 - k)
  return u


def index_crc(u: np.ndarray) -> int:
  return zlib.crc32(np.asarray(u, "<u2").tobytes())


def pack_block(planes_in: list[Plane], crc: int) -> bytes:
  """CRC of the indices, then per plane: m (u32) and its packed bits."""
  out = [struct.pack("<I", crc)]
  for plane in planes_in:
    out.append(struct.pack("<I", plane.num_checks))
    out.append(np.packbits(plane.syndrome).tobytes())
  return b"".join(out)


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
  (crc,) = struct.unpack("<I", take(4))
  out = []
  for k in range(num_planes(num_indices)):
    (m,) = struct.unpack("<I", take(4))
    if not 1 <= m <= n:
      raise ValueError(f"bit-plane {k} announces {m} syndrome bits; allowed: "
                       f"1 to {n}")
    bits = np.unpackbits(np.frombuffer(take((m + 7) // 8), np.uint8))[:m]
    out.append(Plane(m, bits))
  return out, crc, offset
