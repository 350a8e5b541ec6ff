"""Real bitstreams: a trained Wyner-Ziv model as a codec with three modes.

* ``marginal`` (a one-shot distributed code): indices coded with q(u) by ANS
  (`constriction`); the encoder never needs y.
* ``conditional`` (side information at both ends): indices coded with q(u|y).
  The encoder needs the same q(u|y), so this is the conditional-coding
  operating point, not a distributed code.
* ``slepian_wolf`` (the distributed code of the conditional model): LDPC
  syndromes of the indices' bit-planes, decoded by BP with q(u|y) as soft
  side information (see `slepian_wolf.py`).

Every mode checks what it decoded against the CRC-32 of the encoder's
indices in the header (`container`), so side information other than the
encoder's, a forged header or payload is an error (DecodingError or
FormatError), never output; counts are checked against the payload before
anything is allocated from them (`_ans_decode`, `_sw_decode`).

Probabilities for ANS are integer tables computed exactly (`integer_prior`),
so compress and decompress agree bit for bit on any machine, jit or not.
A scalar learned encoder codes from its threshold table (`encoder_table`):
the network's argmax, found once per model to the float32 ulp. A scalar
conditional prior codes from a table of its pmfs on a grid of PRIOR_GRID
values of y (`prior_table`): q(u | nearest grid point) instead of q(u|y).
A scalar MLP decoder reconstructs from its pieces (`decoder_table`): g(u, y)
is piecewise linear in y, tabulated once per model in float64 (within 5e-7 of
the network's float32 evaluation on the default run's models); the mixture
decoder (`models.MixtureDecoder`) is evaluated directly, jitted in float32.
Shapes: x, y [N, n] (or [N] when n = 1); indices u [N]; x̂ [N, n]. Rates are
bits per scalar sample: 8 · len(file) / (N · n).

The argmin encoder samples y|x with the fixed key ENCODE_KEY (its choice is
the encoder's; the decoder never needs it); Slepian-Wolf rate selection draws
y' ~ p(y|x) with keys folded from SW_KEY.
"""

import struct
import time
from typing import Any, NamedTuple

import constriction
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from ndc_jax import jobs
from ndc_jax.codec import container, integer_prior, slepian_wolf
from ndc_jax.codec.tables import decoder as decoder_table
from ndc_jax.codec.tables import encoder as encoder_table
from ndc_jax.codec.tables import prior as prior_table
from ndc_jax.codec.container import FormatError
from ndc_jax.codec.slepian_wolf import DecodingError

MODES = container.MODES
MODES_OF = {"marginal": ("marginal",),
            "conditional": ("conditional", "slepian_wolf")}
CHUNK = 8192            # model evaluation batch (fixed shapes: one compile)
SW_BLOCK = 10_000       # default Slepian-Wolf block length (indices)
SW_MIN_BLOCK = 256      # the shortest block the Slepian-Wolf encoder serves
SW_MAX_FAILURE = slepian_wolf.MAX_FAILURE  # default limit per block
ENCODE_KEY = 0          # seed of the argmin encoder's y|x draws
SW_KEY = 1              # seed of the Slepian-Wolf encoder's simulated y'
SW_DRAWS = 4            # simulated side informations per block
SW_CALIBRATION_KEY = 3  # seed of the y' of the first block's BP thresholds
SW_CALIBRATION_DRAWS = 2  # y' whose thresholds scale the fits (the largest)
SW_VERIFY = False       # True: the encoder also decodes with each draw (~20× slower)
SW_LABEL_SEED = 2       # RandomState seed of the y that order the labels
SW_LABEL_SAMPLES = 16384  # y samples that order the indices' labels
_PROBE = 1024           # samples that check the fixed-point prior
TABLE_SPREAD = 8.0      # the tables cover ±TABLE_SPREAD · std(X), std(Y)
PRIOR_GRID = 2**14      # grid points of the conditional prior's table
ANS_ROWS = 2**13        # rows per conditional ANS pass (they stay in cache)
# Coded first, decoded last: the end of every ANS stream ("NDCJ" as two
# uniform 16-bit symbols). It lifts the coder's state above 2^32 before the
# first index, which `_ans_max_bits` needs, and its decoding checks the end.
ANS_TERMINATOR = np.array([0x4E44, 0x434A], np.int32)
_ANS_TERMINATOR_MODEL = constriction.stream.model.Uniform(2**16)


class Model(NamedTuple):
  """One trained model (one λ of a sweep), ready to code."""
  compressor: Any                             # wyner_ziv.compressor.Compressor
  source: Any                                 # wyner_ziv.sources.Source
  params: Any
  lmbda: float
  num_indices: int
  dim: int
  rate_model: str
  model_hash: bytes
  marginal_pmf: np.ndarray | None             # [K] int64 (marginal model)
  prior_mlp: integer_prior.FixedPointMLP | None  # conditional model
  fns: dict                                   # jitted encode/decode/log_q
  encoder_table: encoder_table.Table | None   # scalar learned encoders
  prior_table: prior_table.Table | None       # scalar conditional priors
  decoder_table: decoder_table.Table | None   # scalar MLP decoders
  sw_labels: np.ndarray | None                # [K] (conditional model)


def _chunked(fn):
  """fn(params, *arrays [c, ...]) -> [c, ...], run jitted over CHUNK rows."""
  run = jax.jit(lambda p, *a: jax.lax.map(lambda b: fn(p, *b), a))

  def call(params, *arrays):
    n = arrays[0].shape[0]
    pad = -n % CHUNK
    padded = [np.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape(
        -1, CHUNK, *a.shape[1:]) for a in arrays]
    out = np.asarray(run(params, *padded))
    return out.reshape(-1, *out.shape[2:])[:n]
  return call


def _mlp_layers(net: dict) -> tuple[list, list]:
  """(kernels, biases) of a `core.nets.MLP`'s pure dict, first layer first."""
  layers = net["layers"]
  return ([layers[i]["kernel"] for i in sorted(layers)],
          [layers[i]["bias"] for i in sorted(layers)])


def make_model(comp, source, params, lmbda: float) -> Model:
  """A codec Model from a compressor, its source and one grid point's
  parameters."""
  if comp.num_indices > 2**16:
    raise ValueError(f"num_indices={comp.num_indices} is too large; allowed: "
                     "at most 65536")
  marginal = mlp = labels = None
  if comp.rate_model == "marginal":
    logits = comp.prior_logits(params, jnp.zeros((1, comp.dim)))[0]
    marginal = integer_prior.marginal_pmf(logits)
  else:
    mlp = integer_prior.FixedPointMLP(
        *_mlp_layers(nnx.to_pure_dict(params["prior"])["net"]))
    _, y = source.sample(jax.random.key(0), _PROBE)
    gap = np.abs(mlp.logits(np.asarray(y)) * 2.0 ** -integer_prior.FRAC_BITS
                 - np.asarray(comp.prior_logits(params, y))).max()
    if not gap < 1e-2:
      raise ValueError(f"the fixed-point prior differs from the model's "
                       f"q(u|y) by {gap:g} nats (allowed: < 0.01): the prior "
                       "is not the Dense/leaky-ReLU MLP this codec evaluates")
    labels = _sw_labels(source, mlp)
  fns = _functions(comp, float(lmbda))
  table = priors = pieces = None
  y_spread = TABLE_SPREAD * source.y_std
  dec = nnx.to_pure_dict(params["decoder"])
  if comp.dim == 1 and "net" in dec:  # the MLP decoder (models.Decoder)
    pieces = decoder_table.build(*_mlp_layers(dec["net"]),
                                 float(dec["skip"][0]), -y_spread, y_spread)
  if comp.dim == 1 and comp.encoder_kind == "learned":
    spread = TABLE_SPREAD * source.x_std
    table = encoder_table.build(lambda x: fns["encode"](params, x[:, None]),
                                -spread, spread)
  if comp.dim == 1 and mlp is not None:
    priors = prior_table.build(lambda y: _coder_scale(mlp.pmf(y)), -y_spread,
                               y_spread, PRIOR_GRID)
  return Model(comp, source, params, float(lmbda), comp.num_indices, comp.dim,
               comp.rate_model, container.model_hash(params), marginal, mlp,
               fns, table, priors, pieces, labels)


def check_grid_points(arm: str, lmbdas, indices) -> None:
  """Raises ValueError naming the grid points in `indices` (ints) that `arm`,
  whose grid has the λ values `lmbdas` [M], lacks."""
  bad = [i for i in indices if not 0 <= i < len(lmbdas)]
  if bad:
    raise ValueError(f"grid points {bad} are not in arm {arm!r}; allowed: 0 "
                     f"to {len(lmbdas) - 1} (λ = {np.asarray(lmbdas).tolist()})")


def load(workdir: str, arm: str, lmbda_index: int) -> Model:
  """The model of grid point `lmbda_index` of `arm` trained in `workdir`."""
  a = jobs.load_arm(workdir, arm)
  check_grid_points(arm, a.lmbdas, [lmbda_index])
  return make_model(a.compressor, a.source,
                    jax.tree.map(lambda p: p[lmbda_index], a.params),
                    a.lmbdas[lmbda_index])


def _functions(comp, lmbda: float) -> dict:
  key = jax.random.key(ENCODE_KEY)
  return {
      "encode": _chunked(lambda p, x: comp.encode(p, x, lmbda, key)),
      "decode": _chunked(comp.decode_indices),
      "log_q": _chunked(lambda p, y: jax.nn.log_softmax(
          comp.prior_logits(p, y), axis=-1)),
  }


def _samples(name: str, a, dim: int) -> np.ndarray:
  """Validates x or y: a finite, non-empty [N, dim] (or [N] if dim = 1)."""
  a = np.asarray(a)
  if a.ndim == 1 and dim == 1:
    a = a[:, None]
  if a.ndim != 2 or a.shape[1] != dim:
    raise ValueError(f"{name} has shape {a.shape}; allowed: [N, {dim}]"
                     + (" or [N]" if dim == 1 else ""))
  if a.shape[0] == 0:
    raise ValueError(f"{name} is empty; give at least one sample")
  if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
    raise ValueError(f"{name} has dtype {a.dtype}; allowed: real numbers")
  bad = ~np.isfinite(a)
  if bad.any():
    raise ValueError(f"{name} holds {int(bad.sum())} non-finite values (NaN "
                     f"or Inf), the first at row {int(np.argwhere(bad)[0, 0])}")
  big = np.abs(a) > np.finfo(np.float32).max
  if big.any():
    raise ValueError(f"{name} holds {int(big.sum())} values beyond float32's "
                     f"range (|v| <= {np.finfo(np.float32).max:.4g}), the first "
                     f"at row {int(np.argwhere(big)[0, 0])}")
  return a.astype(np.float32)


def encode_indices(model: Model, x) -> np.ndarray:
  """The encoder: x [N, n] -> indices u [N] int64.

  A scalar learned encoder answers from its threshold table
  (`encoder_table`) and evaluates the network only outside the table's range.
  """
  x = _samples("x", x, model.dim)
  if model.encoder_table is None:
    return model.fns["encode"](model.params, x).astype(np.int64)
  u = encoder_table.lookup(model.encoder_table, x[:, 0])
  outside = u < 0
  if outside.any():
    u[outside] = model.fns["encode"](model.params, x[outside])
  return u


def reconstruct(model: Model, u: np.ndarray, y) -> np.ndarray:
  """The decoder g(u, y): u [N], y [N, n] -> x̂ [N, n] float32.

  A scalar decoder answers from its table (`decoder_table`) and evaluates
  the network only where y lies outside the table's range.
  """
  y = _samples("y", y, model.dim)
  u = np.asarray(u)
  if (u.shape != y.shape[:1] or not np.issubdtype(u.dtype, np.integer)
      or u.min() < 0 or u.max() >= model.num_indices):
    raise ValueError(f"indices u (shape {u.shape}, dtype {u.dtype}) must be "
                     f"integers in [0, {model.num_indices}), one per row of y "
                     f"[{y.shape[0]}]")
  return _reconstruct(model, u, y)


def _reconstruct(model: Model, u: np.ndarray, y: np.ndarray) -> np.ndarray:
  """`reconstruct` of checked input: u [N] integers in [0, K), y [N, n] as
  `_samples` returns it."""
  u = u.astype(np.int32)
  if model.decoder_table is None:
    return model.fns["decode"](model.params, u, y)
  x_hat = decoder_table.evaluate(model.decoder_table, u, y[:, 0])[:, None]
  outside = np.flatnonzero(np.isnan(x_hat[:, 0]))
  if outside.size:
    x_hat[outside] = model.fns["decode"](model.params, u[outside], y[outside])
  return x_hat


def information_bits(model: Model, u: np.ndarray, y) -> np.ndarray:
  """−log2 q(u_i[|y_i]) / n [N] of the float model: each index's cost in bits
  per scalar sample (its mean is `estimate_bits`, its spread what a
  finite-length Slepian-Wolf code pays, see `bounds`)."""
  log_q = _log_q(model, y)
  return -log_q[np.arange(u.size), u].astype(np.float64) / np.log(2) / (
      model.dim)


def estimate_bits(model: Model, u: np.ndarray, y) -> float:
  """Cross-entropy estimate −mean log2 q(u[|y]) / n of the float model, in
  bits per scalar sample (what `evaluate` reports)."""
  return float(information_bits(model, u, y).mean())


def _log_q(model, y) -> np.ndarray:
  y = _samples("y", y, model.dim)
  return model.fns["log_q"](model.params, y)


def side_info_probs(model: Model, y) -> np.ndarray:
  """q(u|y) [N, K] float64 of the conditional model at y [N, n]: the
  Slepian-Wolf decoder's soft side information (and the encoder's at its
  simulated y')."""
  return np.exp(_log_q(model, y).astype(np.float64))


def _coder_scale(pmf: np.ndarray) -> np.ndarray:
  """Integer pmf [..., K] -> float64 probabilities as the ANS coder takes
  them: pmf · 2^-PRECISION (exact)."""
  return pmf * 2.0 ** -integer_prior.PRECISION


def _coder_probs(model: Model, y: np.ndarray) -> np.ndarray:
  """q(u|y) [N, K] float64 as the ANS coder takes it (`_coder_scale`), from
  the prior table (scalar y inside its range) or the fixed-point MLP."""
  if model.prior_table is None:
    return _coder_scale(model.prior_mlp.pmf(y))
  rows = prior_table.lookup(model.prior_table, y[:, 0])
  probs = np.take(model.prior_table.rows, rows, axis=0)
  outside = np.flatnonzero(rows < 0)
  if outside.size:
    probs[outside] = _coder_scale(model.prior_mlp.pmf(y[outside]))
  return probs


def _ans_min_bits(pmf_max) -> np.ndarray:
  """The least an index can add to an ANS stream, in bits, when the most
  probable index of its pmf has pmf_max [...] (of 2^PRECISION).

  rANS codes an index of frequency f from state x >= 2^8·f (constriction's
  64-bit state, 32-bit words, 24-bit precision, once the state is above
  2^32) to x' = floor(x/f)·2^24 + x mod f + c >= x·(1 + (1/p − 1)(1 −
  2^-8)), p = f/2^24: at least log2 of that whatever the index. The pmf's
  largest entry is taken K above its value, for the coder's own rounding."""
  p = np.minimum(np.asarray(pmf_max, np.float64) * 2.0**-integer_prior.
                 PRECISION, 1.0)
  return np.log2(1 + (1 / p - 1) * (1 - 2.0**-8))


def _ans_encode(u, model, y) -> bytes:
  coder = constriction.stream.stack.AnsCoder()
  coder.encode_reverse(ANS_TERMINATOR, _ANS_TERMINATOR_MODEL)
  u = u.astype(np.int32)
  if model.rate_model == "marginal":
    coder.encode_reverse(u, constriction.stream.model.Categorical(
        _coder_scale(model.marginal_pmf), perfect=False))
  else:  # a stack: the last pass first, so that decoding runs forwards
    family = constriction.stream.model.Categorical(perfect=False)
    for start in reversed(range(0, u.size, ANS_ROWS)):
      rows = slice(start, start + ANS_ROWS)
      coder.encode_reverse(u[rows], family, _coder_probs(model, y[rows]))
  return coder.get_compressed().astype("<u4").tobytes()


def _ans_decode(payload: bytes, n: int, model, y) -> np.ndarray:
  """The n indices of an ANS payload. The count is checked against the
  payload before any index is decoded (marginal) or pass by pass
  (conditional, whose y backs the count): an index adds at least
  `_ans_min_bits` to the stream, so P words hold at most (32·P − 32) bits
  of them (the terminator lifts the state to 2^32). The stream must end in
  the terminator, used up."""
  if len(payload) % 4 or len(payload) < 8:
    raise FormatError(f"ANS payload has {len(payload)} bytes; allowed: a "
                      "multiple of 4, at least 8 (the stream's end)")
  budget_bits = 8 * len(payload) - 32
  coder = constriction.stream.stack.AnsCoder(
      np.frombuffer(payload, "<u4").astype(np.uint32))
  if model.rate_model == "marginal":
    pmf = model.marginal_pmf
    least = float(_ans_min_bits(pmf.max() + pmf.size))
    most = int(budget_bits / least) if least > 0 else 2**32
    if n > most:
      raise FormatError(
          f"the header announces {n} samples, but an ANS payload of "
          f"{len(payload)} bytes holds at most {most} indices of this model "
          f"(each adds at least {least:.3g} bits): the file is forged or "
          "corrupt")
    u = coder.decode(constriction.stream.model.Categorical(
        _coder_scale(pmf), perfect=False), n)
    blame = "the payload is corrupt (marginal decoding does not use y)"
  else:
    family = constriction.stream.model.Categorical(perfect=False)
    parts, used_bits = [], 0.0
    for start in range(0, n, ANS_ROWS):
      probs = _coder_probs(model, y[start:start + ANS_ROWS])
      used_bits += float(_ans_min_bits(
          probs.max(axis=1) * 2.0**integer_prior.PRECISION
          + probs.shape[1]).sum())
      if used_bits > budget_bits:
        raise FormatError(
            f"the header announces {n} samples, but an ANS payload of "
            f"{len(payload)} bytes holds fewer than {start + probs.shape[0]} "
            "indices with this side information: the file is forged or "
            "corrupt")
      parts.append(coder.decode(family, probs))
    u = np.concatenate(parts)
    blame = ("the side information y is not the encoder's, or the payload "
             "is corrupt")
  if coder.is_empty() or not np.array_equal(
      coder.decode(_ANS_TERMINATOR_MODEL, ANS_TERMINATOR.size),
      ANS_TERMINATOR) or not coder.is_empty():
    raise DecodingError(f"the ANS stream does not end after the {n} indices "
                        f"the header announces: {blame}")
  return np.asarray(u, np.int64)


def _sw_labels(source, mlp: integer_prior.FixedPointMLP) -> np.ndarray:
  """Bit-plane labels [K] of the indices (`slepian_wolf.index_labels`), from
  the exact integer q(u|y) at SW_LABEL_SAMPLES float32 side informations
  drawn by `source.side_info_marginal` from NumPy's legacy
  RandomState(SW_LABEL_SEED): the same at both ends, also across JAX and
  NumPy versions (built once per model). Drawn with JAX's generator (format
  version 1) they moved with its stream: for the default run's λ = 30 model,
  4 of 10 other samples gave other labels."""
  y = source.side_info_marginal(np.random.RandomState(SW_LABEL_SEED),
                                SW_LABEL_SAMPLES).astype(np.float32)
  return slepian_wolf.index_labels(mlp.pmf(y), y)


def sw_blocks(n: int, block: int) -> list[tuple[int, int]]:
  """(start, stop) of the Slepian-Wolf blocks of n indices: max(1, n //
  block) blocks of `block` indices, the last one taking the remainder (so
  no block is shorter than min(n, block))."""
  count = max(1, n // block)
  return [(i * block, n if i == count - 1 else (i + 1) * block)
          for i in range(count)]


def _encoder_probs(model: Model, y: np.ndarray) -> np.ndarray:
  """q(u|y) [N, K] for the Slepian-Wolf encoder's rate estimates: the prior
  table's exact pmfs where there is one (within 3·10^-5 bits of the float
  model the decoder uses, and ~10× faster), else `side_info_probs`."""
  y = _samples("y", y, model.dim)
  return (_coder_probs(model, y) if model.prior_table is not None
          else side_info_probs(model, y))


def _sw_calibration(model, ub, xb) -> slepian_wolf.Calibration:
  """The fits' scales for this model from one block: the largest over
  SW_CALIBRATION_DRAWS simulated y' of `slepian_wolf.calibrate`; a plane
  is off the fits if it is at any draw."""
  y_cal = np.asarray(model.source.sample_side_info(
      jax.random.key(SW_CALIBRATION_KEY), xb, SW_CALIBRATION_DRAWS))
  cals = [slepian_wolf.calibrate(
      ub, side_info_probs(model, yc), model.compressor.num_indices,
      model.sw_labels, _encoder_probs(model, yc)) for yc in y_cal]
  return slepian_wolf.Calibration(
      list(np.max([c.scales for c in cals], axis=0)),
      list(np.any([c.off_fit for c in cals], axis=0)))


def _sw_encode(u, x, model, block, max_failure, verify):
  """Slepian-Wolf payload of u; the fits' scales, and the planes that lie
  off the fits (sent raw in every block), come from the first block's BP
  thresholds (`slepian_wolf.calibrate`)."""
  comp, source = model.compressor, model.source
  out, retries, labels = [struct.pack("<I", block)], 0, model.sw_labels
  failures, cal = [], None
  for b, (start, stop) in enumerate(sw_blocks(u.size, block)):
    ub, xb = u[start:stop], x[start:stop]
    if cal is None:
      cal = _sw_calibration(model, ub, xb)
    y_sim = np.asarray(source.sample_side_info(
        jax.random.fold_in(jax.random.key(SW_KEY), b), xb, SW_DRAWS))
    probs = [_encoder_probs(model, ys) for ys in y_sim]
    code = slepian_wolf.encode_block_to_failure(
        ub, probs, comp.num_indices, labels, max_failure, verify=verify,
        scales=cal.scales, raw=cal.off_fit)
    if not code.failure <= max_failure:  # each plane keeps to its share
      raise ValueError(f"Slepian-Wolf block {b}: failure probability "
                       f"{code.failure:.3g} exceeds the limit {max_failure:g}")
    retries += code.retries
    failures.append(code.failure)
    out.append(slepian_wolf.pack_block(code.planes,
                                       slepian_wolf.index_crc(ub)))
  return b"".join(out), {"sw_retries": retries,
                         "sw_block_failures": np.asarray(failures),
                         "sw_fit_scales": np.asarray(cal.scales),
                         "sw_raw_planes": np.asarray(cal.off_fit)}


def _sw_decode(payload, n, model, y):
  if len(payload) < 4:
    raise FormatError("Slepian-Wolf payload is truncated")
  (block,) = struct.unpack_from("<I", payload)
  if block < 1:
    raise FormatError("Slepian-Wolf block length 0 is invalid")
  blocks = max(1, n // block)  # as `sw_blocks` cuts them
  least = 4 + blocks * (4 + slepian_wolf.num_planes(model.num_indices))
  if len(payload) < least:
    raise FormatError(
        f"Slepian-Wolf payload of {len(payload)} bytes cannot hold the "
        f"{blocks} blocks of {block} indices that {n} samples need (each "
        f"block takes at least "
        f"{4 + slepian_wolf.num_planes(model.num_indices)} bytes): the file is "
        "forged or truncated")
  u, offset, labels = [], 4, model.sw_labels
  for start, stop in sw_blocks(n, block):
    size = stop - start
    try:
      planes, crc, offset = slepian_wolf.unpack_block(
          payload, offset, size, model.num_indices)
    except ValueError as e:
      raise FormatError(str(e)) from None
    ub = slepian_wolf.decode_block(
        planes, side_info_probs(model, y[start:start + size]),
        model.num_indices, labels)
    if slepian_wolf.index_crc(ub) != crc:
      raise DecodingError(f"Slepian-Wolf block at sample {start}: the decoded "
                          "indices fail their CRC-32 (BP converged to a wrong "
                          "solution)")
    u.append(ub)
  if offset != len(payload):
    raise FormatError(f"Slepian-Wolf payload has {len(payload) - offset} "
                      "trailing bytes")
  return np.concatenate(u)


def compress_with_info(model: Model, x, mode: str | None = None, y=None,
                       sw_block: int = SW_BLOCK,
                       sw_max_failure: float = SW_MAX_FAILURE,
                       sw_verify: bool | None = None) -> tuple[bytes, dict]:
  """x [N, n] -> (.ndc bytes, info). `y` only for mode 'conditional'.

  Slepian-Wolf codes blocks of `sw_block` indices (`sw_blocks`; at least
  SW_MIN_BLOCK, and x needs as many samples) and gives each block the
  syndrome bits at which its failure probability with the decoder's y, as
  the encoder's model states it (`slepian_wolf.encode_block_to_failure`),
  is at most `sw_max_failure`. `sw_verify` (default SW_VERIFY): the encoder
  also decodes every coded plane with each simulated y' and adds checks
  where one fails (it catches matrices that stall BP, ~20× slower).

  info: the indices `u`, `encoder_seconds` (time in the encoder network)
  and, for Slepian-Wolf, `sw_block_failures` [blocks] (each block's failure
  probability at the rate chosen), `sw_retries` (simulated failures that
  made the encoder add syndrome bits; 0 unless it verifies by decoding),
  `sw_fit_scales` [planes] (the calibrated scales of the fitted BP
  thresholds, `slepian_wolf.calibrate`) and `sw_raw_planes` [planes] bool
  (planes off the fits, sent raw unless nearly certain).
  """
  mode = mode or MODES_OF[model.rate_model][0]
  if mode not in MODES_OF[model.rate_model]:
    raise ValueError(f"mode {mode!r} is not available for a model with the "
                     f"{model.rate_model} rate model; allowed: "
                     f"{MODES_OF[model.rate_model]}")
  if not (isinstance(sw_block, (int, np.integer))
          and not isinstance(sw_block, bool)
          and SW_MIN_BLOCK <= sw_block < 2**32):
    raise ValueError(
        f"sw_block={sw_block!r} is invalid; allowed: an integer from "
        f"{SW_MIN_BLOCK} (the shortest Slepian-Wolf block this encoder "
        f"serves: shorter ones pay more than their raw bits for the block's "
        f"CRC and plane lengths, and its failure model needs the length) "
        f"to {2**32 - 1}")
  if not (isinstance(sw_max_failure, (int, float))
          and 0 < sw_max_failure < 1):
    raise ValueError(f"sw_max_failure={sw_max_failure!r} is invalid; "
                     "allowed: a probability strictly between 0 and 1")
  if y is not None and mode != "conditional":
    raise ValueError(f"mode {mode!r} is a distributed code: its encoder does "
                     "not take y; only mode 'conditional' does")
  x = _samples("x", x, model.dim)
  t0 = time.perf_counter()
  u = encode_indices(model, x)
  info = {"u": u, "encoder_seconds": time.perf_counter() - t0}
  if mode == "conditional":
    if y is None:
      raise ValueError("mode 'conditional' codes with q(u|y): the encoder "
                       "needs y (use 'slepian_wolf' for a distributed code)")
    y = _samples("y", y, model.dim)
    if y.shape[0] != x.shape[0]:
      raise ValueError(f"y has {y.shape[0]} samples, x has {x.shape[0]}")
    payload = _ans_encode(u, model, y)
  elif mode == "marginal":
    payload = _ans_encode(u, model, None)
  else:
    if x.shape[0] < SW_MIN_BLOCK:
      raise ValueError(f"x has {x.shape[0]} samples; mode 'slepian_wolf' "
                       f"codes at least {SW_MIN_BLOCK} (SW_MIN_BLOCK) in a "
                       "block: use mode 'marginal' or 'conditional', or "
                       "more samples")
    payload, extra = _sw_encode(
        u, x, model, int(sw_block), float(sw_max_failure),
        SW_VERIFY if sw_verify is None else bool(sw_verify))
    info.update(extra)
  header = container.Header(mode, model.rate_model, model.model_hash,
                            x.shape[0], model.dim, model.num_indices,
                            container.index_crc(u))
  return container.pack(header, payload), info


def compress(model: Model, x, mode: str | None = None, y=None,
             sw_block: int = SW_BLOCK,
             sw_max_failure: float = SW_MAX_FAILURE) -> bytes:
  """x [N, n] -> the bytes of an .ndc file (see `compress_with_info`)."""
  return compress_with_info(model, x, mode, y, sw_block, sw_max_failure)[0]


def decompress_indices(model: Model, data: bytes, y=None) -> np.ndarray:
  """.ndc bytes (+ y [N, n] for conditional modes) -> indices u [N]."""
  header, payload = _unpack(model, data)
  if header.mode != "marginal":
    if y is None:
      raise ValueError(f"mode {header.mode!r} decodes with side information; "
                       "give y")
    y = _side_info(header, y, model.dim)
  return _indices(model, header, payload, y)


def decompress(model: Model, data: bytes, y) -> np.ndarray:
  """.ndc bytes and side information y [N, n] -> x̂ [N, n] = g(u, y).

  y is checked once, and the decoded indices only by `_indices`."""
  header, payload = _unpack(model, data)
  y = _side_info(header, y, model.dim)
  return _reconstruct(model, _indices(model, header, payload, y), y)


def _unpack(model: Model, data: bytes) -> tuple[container.Header, bytes]:
  """The header and payload of an .ndc file, which `model` must have written."""
  header, payload = container.unpack(data)
  if header.model_hash != model.model_hash:
    raise FormatError(f"the file was written by another model (hash "
                      f"{header.model_hash.hex()}, these parameters have "
                      f"{model.model_hash.hex()}): pick the same workdir, arm "
                      "and λ")
  expected = (model.rate_model, model.dim, model.num_indices)
  if (header.rate_model, header.block_size, header.num_indices) != expected:
    raise FormatError(f"the file's model ({header.rate_model}, block "
                      f"{header.block_size}, {header.num_indices} indices) is "
                      f"not this one {expected}")
  return header, payload


def _side_info(header: container.Header, y, dim: int) -> np.ndarray:
  """y checked by `_samples`, one row per sample of the file."""
  y = _samples("y", y, dim)
  if y.shape[0] != header.num_samples:
    raise ValueError(f"y has {y.shape[0]} samples; the file holds "
                     f"{header.num_samples}")
  return y


def _indices(model: Model, header: container.Header, payload: bytes,
             y: np.ndarray | None) -> np.ndarray:
  """The payload's indices u [N] int64 in [0, K); y checked (None: the
  marginal mode may go without)."""
  n = header.num_samples
  if header.mode == "slepian_wolf":
    u = _sw_decode(payload, n, model, y)
  else:
    u = _ans_decode(payload, n, model, y)
  blame = ("the payload is corrupt (marginal decoding does not use y)"
           if header.mode == "marginal" else "the side information y is not "
           "the encoder's, or the payload is corrupt")
  if u.shape != (n,) or u.min() < 0 or u.max() >= model.num_indices:
    raise DecodingError(f"decoded indices are out of range: {blame}")
  if container.index_crc(u) != header.index_crc:
    raise DecodingError(f"the decoded indices fail the file's CRC-32 of the "
                        f"encoder's indices: {blame}")
  return u

