"""Mutual-information estimators between latents, with their critics.

* InfoNCE (van den Oord et al. 2018; Poole et al., "On Variational Bounds of
  Mutual Information", ICML 2019, Eq. 12): with the positive pair and K
  negatives from the batch,
    I(A; B) >= E[ f(a_i, b_i) − log((1/(K+1)) Σ_{j=0..K} e^{f(a_i, b_j)}) ],
  which never exceeds log(K+1) nats (K+1 candidates, the positive included).
* MINE (Belghazi et al., ICML 2018, Eq. 7 and Sec. 3.2): the Donsker-Varadhan
  bound I >= E_P[T] − log E_Q[e^T], Q = product of the marginals (shuffled
  pairs). Its minibatch gradient is biased; MINE replaces the denominator
  E_Q[e^T] of the gradient by a moving average `ma`. `mine_surrogate` has
  exactly that gradient: E_P[T] − E_Q[e^T] / sg(ma).

Critics (Poole et al. 2019, Sec. 2): ``separable`` f(a, b) = g(a)·h(b) (two
MLP embeddings, dot product) or ``mlp`` f(a, b) = MLP([a, b]).

Multi-way terms for N latents: ``pairwise`` Σ_{i<j} I(Z_i; Z_j) (default) or
``total_correlation`` TC = Σ_{k>=1} I(Z_0..Z_{k−1}; Z_k) (the chain rule; both
equal I(Z_0; Z_1) for N = 2). All estimates are in nats; shapes a [B, da],
b [B, db].
"""

import math

import jax
import jax.numpy as jnp
from flax import nnx

from ndc_jax.core import registry
from ndc_jax.core.nets import MLP
from ndc_jax.core.units import LN2

CRITICS = ("separable", "mlp")
MULTIWAY = ("pairwise", "total_correlation")


def infonce_nats(scores: jax.Array) -> jax.Array:
  """InfoNCE from critic scores [B, K+1] whose column 0 is the positive pair.

  Returns the scalar lower bound on I in nats, at most log(K+1).
  """
  k1 = scores.shape[-1]
  return jnp.mean(scores[:, 0] - jax.nn.logsumexp(scores, axis=-1)
                  ) + math.log(k1)


def dv_nats(t_joint: jax.Array, t_marginal: jax.Array) -> jax.Array:
  """Donsker-Varadhan bound E_P[T] − log E_Q[e^T] in nats; inputs [B], [B']."""
  return jnp.mean(t_joint) - (jax.nn.logsumexp(t_marginal) -
                              math.log(t_marginal.shape[0]))


def mine_surrogate(t_joint, t_marginal, ma):
  """E_P[T] − E_Q[e^T]/sg(ma): its gradient is MINE's bias-corrected one.

  Its value is not an MI estimate; report `dv_nats` beside it.
  """
  return jnp.mean(t_joint) - jnp.mean(jnp.exp(t_marginal)) / (
      jax.lax.stop_gradient(ma))


def ema_update(ma, t_marginal, rate):
  """Moving average of E_Q[e^T]: (1 − rate)·ma + rate·mean(e^T), no gradient."""
  return (1.0 - rate) * ma + rate * jax.lax.stop_gradient(
      jnp.mean(jnp.exp(t_marginal)))


def multiway_terms(kind: str, num: int) -> list[tuple[tuple[int, ...], int]]:
  """The (left latents, right latent) MI terms whose sum is the multi-way MI."""
  if kind not in MULTIWAY:
    raise ValueError(f"mi multiway={kind!r} is unknown; allowed: {MULTIWAY}")
  if kind == "pairwise":
    return [((i,), j) for i in range(num) for j in range(i + 1, num)]
  return [(tuple(range(k)), k) for k in range(1, num)]


class SeparableCritic(nnx.Module):
  """f(a, b) = g(a)·h(b) / sqrt(embed): scores for every (a_i, b_j) pair."""

  def __init__(self, da, db, hidden, embed, *, rngs: nnx.Rngs):
    self.g = MLP([da, *hidden, embed], rngs=rngs)
    self.h = MLP([db, *hidden, embed], rngs=rngs)
    self.scale = 1.0 / math.sqrt(embed)

  def __call__(self, a, b):
    """a [B, da], b [C, B, db] candidate sets -> scores [C, B]."""
    return self.scale * jnp.einsum("be,cbe->cb", self.g(a), self.h(b))


class MLPCritic(nnx.Module):
  """f(a, b) = MLP([a, b])."""

  def __init__(self, da, db, hidden, embed, *, rngs: nnx.Rngs):
    del embed
    self.net = MLP([da + db, *hidden, 1], rngs=rngs)

  def __call__(self, a, b):
    """a [B, da], b [C, B, db] -> scores [C, B]."""
    a = jnp.broadcast_to(a, b.shape[:2] + a.shape[-1:])
    return self.net(jnp.concatenate([a, b], axis=-1))[..., 0]


def make_critic(kind: str, da: int, db: int, hidden, embed: int,
                key: jax.Array) -> nnx.Module:
  if kind not in CRITICS:
    raise ValueError(f"mi critic={kind!r} is unknown; allowed: {CRITICS}")
  cls = SeparableCritic if kind == "separable" else MLPCritic
  return cls(da, db, hidden, embed, rngs=nnx.Rngs(key))


def candidates(b: jax.Array, num_negatives: int) -> jax.Array:
  """[K+1, B, db]: row 0 the positives b, row j the batch rolled by j."""
  if not 1 <= num_negatives < b.shape[0]:
    raise ValueError(f"num_negatives={num_negatives} must lie in [1, batch "
                     f"size − 1 = {b.shape[0] - 1}]")
  return jnp.stack([jnp.roll(b, j, axis=0) for j in range(num_negatives + 1)])


def _infonce_term(critic, a, b, num_negatives, key, ma, ema_rate):
  del key, ema_rate
  value = infonce_nats(critic(a, candidates(b, num_negatives)).T)
  return value, value, ma


def _mine_term(critic, a, b, num_negatives, key, ma, ema_rate):
  del num_negatives
  shuffled = b[jax.random.permutation(key, b.shape[0])]
  t = critic(a, jnp.stack([b, shuffled]))  # [2, B]: joint, marginal
  new_ma = ema_update(ma, t[1], ema_rate)
  return dv_nats(t[0], t[1]), mine_surrogate(t[0], t[1], new_ma), new_ma


ESTIMATORS = {"infonce": _infonce_term, "mine": _mine_term}


def estimate(estimator: str, critic, a, b, num_negatives: int, key, ma=None,
             ema_rate: float = 0.01):
  """One MI term: (estimate_nats, objective_nats, new_ma).

  `objective` is what the critic maximizes (and what the encoders' −β·I term
  differentiates): InfoNCE itself, or MINE's surrogate. `ma` is MINE's moving
  average (ignored and returned unchanged for InfoNCE).
  """
  term = registry.lookup(ESTIMATORS, estimator, "model.mi_estimator")
  return term(critic, a, b, num_negatives, key, ma, ema_rate)


def estimate_terms(estimator: str, terms, critics, latents, num_negatives: int,
                   key, mas, ema_rate: float = 0.01) -> list:
  """`estimate` for each term (left, right): the latents [B, d_i] of the
  sources in `left`, concatenated, against those of source `right`, each with
  its critic and moving average (`mas`); one key per term split from `key`.
  Returns the list of `estimate`'s triples, in the order of `terms`."""
  keys = jax.random.split(key, max(len(terms), 1))
  return [estimate(estimator, critic,
                   jnp.concatenate([latents[i] for i in left], -1),
                   latents[right], num_negatives, k, ma, ema_rate)
          for (left, right), critic, k, ma in zip(terms, critics, keys, mas)]



def critic_game(estimate, critic_params, latents, key, ma,
                enabled: bool = True) -> tuple:
  """The MI regularizer's two players in one loss (Belghazi et al. 2018,
  Sec. 3): the encoders see the critics frozen, the critics see the latents
  frozen, so one gradient step moves each player on its own objective.

  Args:
    estimate: (critic_params, latents, key, ma) -> `estimate_terms`' list of
      (estimate, objective, new ma), nats.
    critic_params, latents: pytrees (what `estimate` takes).
    ma: the MINE moving averages [num_terms]; enabled=False (no regularizer)
      returns zeros and `ma` unchanged.
  Returns:
    (encoders' objective in bits, critics' objective in nats, the estimate in
    bits, the new moving averages [num_terms]).
  """
  if not enabled:
    zero = jnp.zeros(())
    return zero, zero, zero, ma
  sg = jax.lax.stop_gradient
  enc_terms = estimate(sg(critic_params), latents, key, ma)
  crit_terms = estimate(critic_params, sg(latents), key, ma)
  return (sum(o for _, o, _ in enc_terms) / LN2,
          sum(o for _, o, _ in crit_terms),
          sum(e for e, _, _ in enc_terms) / LN2,
          jnp.stack([a for _, _, a in crit_terms]))
