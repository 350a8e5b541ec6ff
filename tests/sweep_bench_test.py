"""Smoke test of the sweep benchmark's timing loop (one tiny size: each size
compiles nine programs, ~2 s each on CI's CPU)."""

from unittest import mock

import numpy as np
from absl import flags
from absl.testing import absltest

from experiments.benchmarks import sweep_bench
from experiments.configs import wyner_ziv
from ndc_jax import sharding


class SweepBenchTest(absltest.TestCase):

  def test_rows_and_targets(self):
    if not flags.FLAGS.is_parsed():
      flags.FLAGS.mark_as_parsed()
    mesh = sharding.make_mesh("")
    quick = wyner_ziv.get_config("quick")  # the default arm, small nets
    with mock.patch.object(wyner_ziv, "get_config", return_value=quick):
      rows = sweep_bench.bench_batch(8, [2], steps=2, repeats=2, mesh=mesh,
                                     min_seconds=0.05)
    self.assertEqual([r["models"] for r in rows], [2])
    for r in rows:
      for key in ("step_model_steps_s", "seq_model_steps_s",
                  "vmap_model_steps_s", "sweep_model_steps_s", "speedup",
                  "speedup_step", "xla_mib"):
        self.assertTrue(np.isfinite(r[key]) and r[key] > 0, (key, r[key]))
      self.assertIn(f"| 8 | {r['models']} |", sweep_bench._format_row(r))
    lines = sweep_bench._targets(rows)
    self.assertLen(lines, 2)  # no row of the (batch, λ) targets: only "never slower"
    self.assertTrue(all("never slower" in l for l in lines))


if __name__ == "__main__":
  absltest.main()
