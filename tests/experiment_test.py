"""End-to-end tests of train_and_evaluate and the absl launcher."""

import json
import os
import subprocess
import sys
import tempfile
from unittest import mock

import jax
import ml_collections
import numpy as np
from absl.testing import absltest

from experiments.configs import common, wyner_ziv
from ndc_jax import jobs
from ndc_jax.baselines import wz_quantizers
from ndc_jax.core import results, runner
from ndc_jax.wyner_ziv import job as experiment
from ndc_jax.wyner_ziv import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config(**train_kw):
  arm = common.arm("gaussian", "conditional", (300.0, 3000.0))
  arm.train.update(num_steps=40, chunk_steps=20, batch_size=32,
                   warmup_steps=20, **train_kw)
  arm.model.update(num_indices=8, encoder_hidden=(16,), decoder_hidden=(16,),
                   prior_hidden=(16,))
  arm.eval.num_samples = 2048
  return ml_collections.ConfigDict({"job": "wyner_ziv", "arms": {"g": arm}})


class ExperimentTest(absltest.TestCase):

  def test_launcher_writes_every_file(self):
    workdir = tempfile.mkdtemp()
    out = subprocess.run(
        [sys.executable, "-m", "experiments.main",
         "--config=experiments/configs/wyner_ziv.py:quick",
         f"--workdir={workdir}", "--cpu_devices=2"], cwd=ROOT,
        # The device split below is the CPU backend's, also on a GPU host.
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, check=True)
    self.assertIn("gap_bits", out.stdout)  # the printed R-D table
    self.assertIn("step 60/60", out.stderr)  # progress
    # Batch 64 <= CPU_SPLIT_BATCH: each arm's 3 models split over 2 devices.
    self.assertIn("gaussian_conditional: 3 models on 2 device(s) (sweep "
                  "axis, padded to 4)", out.stderr)
    for name in ("config.json", "metrics.jsonl", "rd.csv", "rd.png",
                 "binning.png", "params/gaussian_conditional.npz",
                 "params/laplace_marginal.npz"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    rows = results.read_csv(os.path.join(workdir, "rd.csv"))
    config = wyner_ziv.get_config("quick")
    self.assertLen(rows, sum(len(a.sweep.lmbdas) * len(a.sweep.seeds)
                             for a in config.arms.values()))
    self.assertEqual(set(rows[0]), set(experiment.RD_COLUMNS))
    for r in rows:  # each row beside its arm's classical baseline hull
      hull = experiment.baseline(config.arms[r["arm"]])
      ref = float(wz_quantizers.rate_at_distortion(hull, float(r["distortion"])))
      # rd.csv holds 6 significant digits
      self.assertAlmostEqual(float(r["baseline_bits"]), ref, delta=1e-5)
      self.assertAlmostEqual(float(r["gap_to_baseline_bits"]),
                             float(r["rate_bits"]) - ref, delta=2e-5)
      self.assertGreater(float(r["rate_se_bits"]), 0.0)
    self.assertIn("gap_to_baseline_bits", out.stdout)
    arm = jobs.load_arm(workdir, "laplace_marginal")
    self.assertEqual(arm.source.name, "signed_laplace")
    sweep = config.arms.laplace_marginal.sweep
    self.assertLen(arm.lmbdas, len(sweep.lmbdas) * len(sweep.seeds))
    with np.load(os.path.join(workdir, "params/laplace_marginal.npz")) as f:
      np.testing.assert_array_equal(jax.tree.leaves(arm.params)[0],
                                    f["leaf_00000"])

  def test_launcher_states_a_refused_config_in_one_line(self):
    # A ValueError of validation exits 2 with its message and no
    # traceback, and leaves the workdir empty.
    workdir = tempfile.mkdtemp()
    out = subprocess.run(
        [sys.executable, "-m", "experiments.main",
         "--config=experiments/configs/wyner_ziv.py:quick",
         "--config.arms.gaussian_conditional.sweep.lmbdas=(-1.0,)",
         f"--workdir={workdir}"], cwd=ROOT,
        env={**os.environ, "JAX_PLATFORMS": "cpu"}, capture_output=True,
        text=True)
    self.assertEqual(out.returncode, 2, out.stderr)
    self.assertEqual(out.stderr.strip().splitlines()[-1],
                     "error: config.arms.gaussian_conditional: sweep.lmbdas="
                     "(-1.0,) is invalid: entry -1.0 is not allowed; "
                     "allowed: a list of finite numbers in (0, 3.403e+38] "
                     "(float32)")
    self.assertNotIn("Traceback", out.stderr)
    self.assertEqual(out.stdout, "")
    self.assertEmpty(os.listdir(workdir))

  def test_job_registry_names_the_allowed_jobs(self):
    self.assertIs(jobs.get(tiny_config()), experiment)
    with self.assertRaisesRegex(ValueError, r"config.job=None is unknown; "
                                r"allowed: \('multisource', 'realdata', "
                                r"'stereo', 'wyner_ziv'\)"):
      jobs.get(ml_collections.ConfigDict({"arms": {}}))

  def test_console_script_dispatches_to_each_command(self):
    def ndc(*args):
      return subprocess.run([sys.executable, "-m", "experiments.cli", *args],
                            cwd=ROOT, capture_output=True, text=True)
    out = ndc("fit")
    self.assertNotEqual(out.returncode, 0)
    self.assertIn("the ndc command='fit' is unknown; allowed: ('bench', "
                  "'compress', 'decompress', 'thresholds', 'train')", out.stderr)
    tmp = tempfile.mkdtemp()
    missing, x = os.path.join(tmp, "none"), os.path.join(tmp, "x.npy")
    np.save(x, np.zeros(4, np.float32))
    out = ndc("compress", f"--workdir={missing}", "--arm=a", "--lmbda_index=0",
              "--mode=marginal", f"--input={x}",
              f"--output={os.path.join(tmp, 'x.ndc')}")
    self.assertNotEqual(out.returncode, 0)
    self.assertIn(f"{missing}/config.json does not exist", out.stderr)
    out = ndc("train", "--config=experiments/configs/wyner_ziv.py",
              "--workdir=")
    self.assertNotEqual(out.returncode, 0)
    self.assertIn("--workdir='' is empty", out.stderr)

  def test_resume_after_interruption_gives_the_same_numbers(self):
    straight, interrupted = tempfile.mkdtemp(), tempfile.mkdtemp()
    rows = experiment.train_and_evaluate(tiny_config(), straight)
    real_save, calls = results.save_tree, []

    def save_then_die(*args, **kw):
      real_save(*args, **kw)
      calls.append(1)
      raise KeyboardInterrupt  # stop after the first checkpoint

    with mock.patch.object(results, "save_tree", save_then_die):
      with self.assertRaises(KeyboardInterrupt):
        experiment.train_and_evaluate(tiny_config(), interrupted)
    self.assertLen(calls, 1)
    self.assertFalse(os.path.exists(os.path.join(interrupted, "rd.csv")))
    resumed = experiment.train_and_evaluate(tiny_config(), interrupted)
    self.assertEqual(resumed, rows)  # bit-identical: same config and seed
    self.assertEqual(
        results.read_jsonl(os.path.join(straight, "metrics.jsonl")),
        results.read_jsonl(os.path.join(interrupted, "metrics.jsonl")))

  def test_non_finite_loss_stops_with_lambda_and_step(self):
    workdir = tempfile.mkdtemp()
    with self.assertRaisesRegex(FloatingPointError,
                                r"arm g: non-finite loss at λ=300 .* step \d+"):
      experiment.train_and_evaluate(tiny_config(learning_rate=1e30), workdir)
    with open(os.path.join(workdir, "config.json")) as f:
      json.load(f)  # what was written stays valid

  def test_workdir_of_another_config_is_refused(self):
    workdir = tempfile.mkdtemp()
    results.write_json(os.path.join(workdir, "config.json"),
                       {"config": {"arms": {}}})
    with self.assertRaisesRegex(ValueError, "another config"):
      experiment.train_and_evaluate(tiny_config(), workdir)

  def test_parameters_of_another_grid_are_refused(self):
    # config.json deleted, λ changed: the saved models are of the old λ.
    workdir = tempfile.mkdtemp()
    experiment.train_and_evaluate(tiny_config(), workdir)
    os.remove(os.path.join(workdir, "config.json"))
    config = tiny_config()
    config.arms.g.sweep.lmbdas = (30.0, 3000.0)
    with self.assertRaisesRegex(ValueError, r"g\.npz holds a model trained on "
                                r"lmbda=\[300\.0, 3000\.0\].*\[30\.0, 3000\.0\]"):
      experiment.train_and_evaluate(config, workdir)

  def test_checkpoint_of_another_grid_is_refused(self):
    workdir = tempfile.mkdtemp()
    real_save = results.save_tree

    def save_then_die(*args, **kw):
      real_save(*args, **kw)
      raise KeyboardInterrupt  # stop after the first checkpoint

    with mock.patch.object(results, "save_tree", save_then_die):
      with self.assertRaises(KeyboardInterrupt):
        experiment.train_and_evaluate(tiny_config(), workdir)
    os.remove(os.path.join(workdir, "config.json"))
    config = tiny_config()
    config.arms.g.sweep.seeds = (5,)
    with self.assertRaisesRegex(ValueError, r"checkpoints/g\.npz holds a model "
                                r"trained on seeds=\[0, 0\]"):
      experiment.train_and_evaluate(config, workdir)

  def test_bad_arm_is_named(self):
    config = tiny_config()
    config.arms.g.model.num_indices = 1
    with self.assertRaisesRegex(ValueError, "config.arms.g: model.num_indices"):
      experiment.train_and_evaluate(config, tempfile.mkdtemp())

  def test_every_arm_is_checked_before_config_json(self):
    # A bad value in the last arm fails before the first arm trains and
    # before config.json is written, so the corrected re-run is not refused.
    cases = [
        ("sweep.lmbdas", (1e400,), r"sweep.lmbdas=\(inf,\).*entry inf"),
        ("sweep.lmbdas", (1e39,), r"entry 1e\+39 .*\(0, 3\.403e\+38\]"),
        ("sweep.lmbdas", ("(nan,)",), r"entry '\(nan,\)'.*nan and inf"),
        ("sweep.lmbdas", (True,), r"entry True"),
        ("sweep.seeds", (2**32,), r"sweep.seeds=\(4294967296,\).*"
         r"\[0, 2147483647\]"),
        ("sweep.seeds", (1.5,), r"entry 1.5"),
        ("eval.seed", 2**32, r"eval.seed=4294967296 .*\[0, 2147483647\]"),
        ("eval.num_samples", 0, r"eval.num_samples=0"),
        ("eval.num_samples", -5, r"eval.num_samples=-5"),
        ("model.encoder_hidden", (0,), r"model.encoder_hidden=\(0,\).*"
         r"entry 0.*integers >= 1"),
        ("train.learning_rate", float("inf"), r"train.learning_rate=inf"),
        ("train.batch_size", 0, r"train.batch_size=0"),
    ]
    for field, value, message in cases:
      with self.subTest(field=field, value=value):
        config = tiny_config()
        config.arms.h = tiny_config().arms.g
        part, name = field.split(".")
        config.arms.h[part][name] = value
        workdir = tempfile.mkdtemp()
        with mock.patch.object(runner, "train_grid") as train_grid:
          with self.assertRaisesRegex(ValueError,
                                      rf"config.arms.h: {field}=") as e:
            experiment.train_and_evaluate(config, workdir)
        self.assertRegex(str(e.exception), message)
        train_grid.assert_not_called()
        self.assertEmpty(os.listdir(workdir))
        with self.assertRaisesRegex(ValueError,
                                    rf"config.arms.h: {field}=") as e:
          runner.check_workdir(config, workdir)  # jobs that build later
        self.assertRegex(str(e.exception), message)
        self.assertEmpty(os.listdir(workdir))
    with self.assertRaisesRegex(ValueError, "workdir='' is empty"):
      runner.check_workdir(tiny_config(), "")

  def test_grid_is_named_before_the_shapes(self):
    # A grid of another size: the refusal names both grids, not a shape.
    workdir = tempfile.mkdtemp()
    experiment.train_and_evaluate(tiny_config(), workdir)
    os.remove(os.path.join(workdir, "config.json"))
    config = tiny_config()
    config.arms.g.sweep.lmbdas = (30.0,)
    with self.assertRaisesRegex(ValueError, r"trained on lmbda=\[300\.0, "
                                r"3000\.0\], but the config asks for "
                                r"\[30\.0\]"):
      experiment.train_and_evaluate(config, workdir)

  def test_config_arguments(self):
    paper = wyner_ziv.get_config("paper")
    self.assertEqual(list(paper.arms), [
        "gaussian_marginal", "gaussian_x_is_y_plus_noise_marginal",
        "laplace_marginal"])
    for name, arm in paper.arms.items():  # the published schedule
      self.assertEqual((arm.model.num_indices, arm.model.side_info_samples,
                        arm.train.num_steps, arm.train.decoder_warmup_steps,
                        arm.train.batch_size, arm.train.lr_schedule),
                       (32, 16, 200_000, 30_000, 512, "step"))
      self.assertEqual(arm.train.decoder_warmup_indices,
                       1 if name == "laplace_marginal" else 2)
    runner.build(paper, train.make_train)  # valid: builds every trainer
    with self.assertRaisesRegex(ValueError, "quick and paper exclude"):
      wyner_ziv.get_config("quick,paper")
    with self.assertRaisesRegex(ValueError, "paper and block exclude"):
      wyner_ziv.get_config("paper,block")
    with self.assertRaisesRegex(ValueError, "'fast' is unknown; allowed: "
                                r"\['block', 'paper', 'quick'\]"):
      wyner_ziv.get_config("fast")


if __name__ == "__main__":
  absltest.main()
