"""Every notebook in colab/ runs top to bottom and is committed clean.

Each notebook is executed with nbclient in a fresh kernel whose working folder
is a temporary directory, with the small-config parameters injected after its
`parameters`-tagged cell (papermill style: a new cell tagged
`injected-parameters`). The kernel imports `ndc_jax` from this checkout.
"""

import glob
import os
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import nbclient
import nbformat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(os.path.basename(p) for p in
                   glob.glob(os.path.join(REPO, "colab", "*.ipynb")))
CASES = [(os.path.splitext(n)[0], n) for n in NOTEBOOKS]  # (test name, file)
CELL_TIMEOUT_S = 600
BADGE_URL = "https://colab.research.google.com/github/ndc-jax/ndc_jax/blob/main/colab/"

# Per notebook: the parameters the test injects, and the files its WORKDIR
# must hold afterwards. Every notebook in colab/ needs an entry.
SMALL_RUNS = {
    "wyner_ziv_binning.ipynb": (
        {"QUICK": True},
        ("config.json", "metrics.jsonl", "rd.csv", "rd.png", "binning.png",
         "binning_same_lmbda.png", "params/gaussian_marginal.npz",
         "params/gaussian_conditional.npz",
         "gaussian_marginal.marginal.ndc",
         "gaussian_conditional.conditional.ndc",
         "gaussian_conditional.slepian_wolf.ndc")),
    "multisource.ipynb": (
        {"QUICK": True},
        ("config.json", "metrics.jsonl", "rd.csv", "beta_effect.csv",
         "rd.png", "beta_effect.png", "params/infonce_alternating.npz")),
}


def _read(name: str) -> nbformat.NotebookNode:
  return nbformat.read(os.path.join(REPO, "colab", name), as_version=4)


def _parameters_index(nb) -> int:
  tagged = [i for i, c in enumerate(nb.cells)
            if "parameters" in c.metadata.get("tags", ())]
  if len(tagged) != 1:
    raise AssertionError(f"{len(tagged)} cells tagged 'parameters'; want 1")
  return tagged[0]


def _inject(nb, params: dict) -> None:
  """Inserts a cell assigning `params` right after the parameters cell."""
  source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
  cell = nbformat.v4.new_code_cell(source)
  cell.metadata["tags"] = ["injected-parameters"]
  nb.cells.insert(_parameters_index(nb) + 1, cell)


class NotebooksTest(parameterized.TestCase):

  def test_every_notebook_has_a_small_run(self):
    self.assertIn("wyner_ziv_binning.ipynb", NOTEBOOKS)
    self.assertCountEqual(NOTEBOOKS, SMALL_RUNS)

  @parameterized.named_parameters(CASES)
  def test_committed_clean_with_badge(self, name):
    nb = _read(name)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
      if cell.cell_type == "code":
        self.assertEqual(cell.outputs, [], f"cell {i} of {name} has outputs")
        self.assertIsNone(cell.execution_count, f"cell {i} of {name}")
    self.assertEqual(nb.cells[0].cell_type, "markdown")
    self.assertIn(f"({BADGE_URL}{name})", nb.cells[0].source)
    self.assertIn("Runtime", nb.cells[0].source)
    params = nb.cells[_parameters_index(nb)].source
    for key in SMALL_RUNS[name][0]:
      self.assertRegex(params, rf"(?m)^{key} = ")

  @parameterized.named_parameters(CASES)
  def test_runs_top_to_bottom(self, name):
    params, expected_files = SMALL_RUNS[name]
    nb = _read(name)
    with tempfile.TemporaryDirectory() as tmp:
      workdir = os.path.join(tmp, "workdir")
      _inject(nb, {**params, "WORKDIR": workdir})
      path = os.pathsep.join(filter(None, [REPO,
                                           os.environ.get("PYTHONPATH")]))
      with mock.patch.dict(os.environ, {"PYTHONPATH": path}):
        nbclient.NotebookClient(
            nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
            resources={"metadata": {"path": tmp}}).execute()
      for f in expected_files:
        self.assertTrue(os.path.isfile(os.path.join(workdir, f)), f)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    self.assertEmpty([o for o in outputs if o.output_type == "error"])
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    self.assertGreaterEqual(len(images), 3, "rd, binning and comparison plots")


if __name__ == "__main__":
  absltest.main()
