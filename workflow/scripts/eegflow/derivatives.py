"""BIDS derivatives: a BIDS data set's per-recording outputs under BIDS names.

With config ``input.bids.derivatives: true`` each recording's preprocessed FIF
(ICA-cleaned with config ``ica.enabled``: the signal its windows are read
from), window table and features appear in ``results/derivatives/eegflow`` at the place its
source has in the BIDS data set, named with the source's entities and a
``desc-`` label per stage (``sub-01/eeg/sub-01_task-rest_desc-preproc_eeg.fif``).
They are relative symbolic links to the stage outputs (no second copy; ``cp -rL``
copies real files), beside real sidecar files: the preprocessed recording's
``_eeg.json`` (BIDS keys plus eegflow's record of what was done) and
``_channels.tsv`` (types, units, bad channels with their reasons), so
``mne_bids.read_raw_bids`` reads it back with its bad channels. The data set's
``dataset_description.json`` says it is a derivative and what generated it.
"""

import json
import os
from pathlib import Path

import pandas as pd

from . import __version__
from .fileio import atomic_output, read_record
from .remote import is_remote
from .windows import window_table_info

BIDS_VERSION = "1.10.0"

# MNE channel type -> (BIDS channels.tsv type, sidecar key counting such channels)
CHANNEL_TYPES = {
    "eeg": ("EEG", "EEGChannelCount"),
    "eog": ("EOG", "EOGChannelCount"),
    "ecg": ("ECG", "ECGChannelCount"),
    "emg": ("EMG", "EMGChannelCount"),
    "seeg": ("SEEG", "SEEGChannelCount"),
    "ecog": ("ECOG", "ECOGChannelCount"),
    "dbs": ("DBS", "DBSChannelCount"),
    "stim": ("TRIG", "TriggerChannelCount"),
    "misc": ("MISC", "MiscChannelCount"),
}


def link(target, link_path):
    """Make ``link_path`` a relative symbolic link to ``target`` (replacing it)."""
    link_path = Path(link_path)
    link_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = link_path.with_name(f".tmp-{os.getpid()}-{link_path.name}")
    os.symlink(os.path.relpath(target, link_path.parent), tmp)
    os.replace(tmp, link_path)


def recording_sidecar(info, record, settings, source, ica=None):
    """The ``_eeg.json`` sidecar of a preprocessed recording.

    Parameters
    ----------
    info : mne.Info
        The preprocessed recording's measurement info.
    record : dict
        Its preprocessing record (:func:`eegflow.preprocess.preprocess_recording`).
    settings : dict
        Config ``preprocess`` as the record's provenance has it.
    source : str
        The source file's path inside the BIDS data set.
    ica : dict or None
        Config ``ica`` when ICA removed components from the recording.

    Returns
    -------
    dict
        BIDS keys (``TaskName`` from the file name, ``SamplingFrequency``,
        channel counts, ``RecordingDuration``, ``EEGReference``,
        ``PowerLineFrequency``, ``SoftwareFilters``, ``Sources``) and
        ``eegflow``: the record, its spectra before preprocessing left out, and
        ``ica`` with ICA's settings where it was applied.
    """
    entities = dict(
        part.split("-", 1) for part in Path(source).name.split("_") if "-" in part
    )
    sidecar = {
        "TaskName": entities.get("task", "n/a"),
        "SamplingFrequency": info["sfreq"],
        "RecordingDuration": record["duration_s"],
    }
    for kind in info.get_channel_types():
        key = CHANNEL_TYPES.get(kind, CHANNEL_TYPES["misc"])[1]
        sidecar[key] = sidecar.get(key, 0) + 1
    reference = settings["reference"]
    sidecar["EEGReference"] = (
        "n/a (as recorded)"
        if reference is None
        else reference
        if isinstance(reference, str)
        else " ".join(reference)
    )
    line_freq = settings["notch"]["line_freq"]
    sidecar["PowerLineFrequency"] = line_freq if line_freq else "n/a"
    sidecar["SoftwareFilters"] = {
        "eegflow": {
            "l_freq": settings["filter"]["l_freq"],
            "h_freq": settings["filter"]["h_freq"],
            "method": settings["filter"]["method"],
            "notch_hz": record["notch_hz"],
        }
    }
    sidecar["Sources"] = [f"bids::{source}"]
    sidecar["eegflow"] = {
        key: value for key, value in record.items() if key != "psd_before"
    }
    if ica:
        sidecar["eegflow"]["ica"] = ica
    return sidecar


def channels_table(info, record):
    """The ``_channels.tsv`` of a preprocessed recording: name, type, units (FIF data
    are in volts), status (``bad`` or ``good``) and why a channel is bad."""
    bad = record["bad_channels"]
    rows = []
    for name, kind in zip(info["ch_names"], info.get_channel_types()):
        rows.append(
            {
                "name": name,
                "type": CHANNEL_TYPES.get(kind, CHANNEL_TYPES["misc"])[0],
                "units": "V"
                if kind in CHANNEL_TYPES and kind not in ("stim", "misc")
                else "n/a",
                "status": "bad" if name in bad else "good",
                "status_description": ", ".join(bad.get(name, [])) or "n/a",
            }
        )
    return pd.DataFrame(rows)


def write_recording_derivatives(inputs, outputs, source):
    """Write one recording's BIDS derivatives: links to its outputs and sidecars.

    Parameters
    ----------
    inputs : dict
        Paths of the stage outputs: ``fif`` (the signal the windows are read
        from: preprocess's, or ica_apply's with ICA), ``record`` (preprocess),
        ``window_table`` (windows), ``features``.
    outputs : dict
        Paths of the derivatives: ``fif``, ``sidecar``, ``channels``,
        ``window_table``, ``features``.
    source : str
        The source file's path inside the BIDS data set (for ``Sources``).
    """
    import mne
    import pyarrow.parquet as pq

    for name in ("fif", "window_table", "features"):
        link(inputs[name], outputs[name])
    record = read_record(inputs["record"])
    info = mne.io.read_info(inputs["fif"], verbose="error")
    settings = record["provenance"]["config"]["preprocess"]
    windows_info = window_table_info(pq.read_schema(inputs["window_table"]))
    ica = windows_info["provenance"]["config"].get("ica")
    sidecar = recording_sidecar(info, record, settings, source, ica)
    with atomic_output(outputs["sidecar"]) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    with atomic_output(outputs["channels"]) as tmp:
        channels_table(info, record).to_csv(tmp, sep="\t", index=False)


def write_dataset_files(outputs, bids_root, subjects, config, local_copies=()):
    """Write the derivative data set's ``dataset_description.json`` and
    ``participants.tsv``.

    Parameters
    ----------
    outputs : dict
        Paths: ``description`` and ``participants``.
    bids_root : str
        The source BIDS data set.
    subjects : list of str
        The subjects (without ``sub-``) whose recordings the derivative holds.
    config : dict
        The run's config, recorded under ``GeneratedBy``.
    local_copies : list of str
        For a source on S3 or HTTP(S) (``bids_root`` a URL): the local copies of
        its ``dataset_description.json`` and ``participants.tsv`` (those it has).
    """
    from .provenance import git_commit

    if is_remote(bids_root):
        source_url = bids_root
        source_files = {Path(path).name: Path(path) for path in local_copies}
    else:
        source_url = Path(bids_root).resolve().as_uri()
        source_files = {
            name: Path(bids_root) / name
            for name in ("dataset_description.json", "participants.tsv")
        }
    source_description = source_files.get("dataset_description.json", Path())
    name = "eegflow"
    if source_description.is_file():
        name = f"{json.loads(source_description.read_text())['Name']}: eegflow"
    description = {
        "Name": name,
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": [
            {
                "Name": "eegflow",
                "Version": __version__,
                "Description": "preprocessed recordings (desc-preproc), windows "
                "(desc-windows) and per-window features (desc-features)",
                "CodeCommit": git_commit(),
                "Config": config,
            }
        ],
        "SourceDatasets": [{"URL": source_url}],
    }
    with atomic_output(outputs["description"]) as tmp:
        tmp.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    participants_file = source_files.get("participants.tsv", Path())
    ids = [f"sub-{subject}" for subject in sorted(set(subjects))]
    if participants_file.is_file():
        table = pd.read_csv(
            participants_file, sep="\t", dtype=str, keep_default_na=False
        )
        table = table[table["participant_id"].isin(ids)]
    else:
        table = pd.DataFrame({"participant_id": ids})
    with atomic_output(outputs["participants"]) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
