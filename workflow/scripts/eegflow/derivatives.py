"""BIDS derivatives: a BIDS data set's per-recording outputs under BIDS names.

With config ``input.bids.derivatives: true`` each recording's preprocessed signal
(ICA-cleaned with config ``ica.enabled``: the signal its windows are read
from), window table and features appear in ``results/derivatives/eegflow`` at the place its
source has in the BIDS data set, named with the source's entities and a
``desc-`` label per stage (``sub-01/eeg/sub-01_task-rest_desc-preproc_eeg.vhdr``).

The data set passes the BIDS validator: BIDS allows EEG and iEEG only in EDF, BDF,
BrainVision or EEGLAB files, so the preprocessed signal is written as BrainVision
(float32, as lossless as the FIF it comes from; what mne-bids writes EEG from a FIF
as), and its ``_eeg.json`` sidecar (BIDS keys plus eegflow's record of what was done)
and ``_channels.tsv`` (types, units, filter cut-offs, bad channels with their reasons)
describe it. The FIF, window table and features, formats BIDS has no name for, are
relative symbolic links to the stage outputs (no second copy; ``cp -rL`` copies real
files) listed in ``.bidsignore``. ``mne_bids.read_raw_bids`` reads either file back
with its bad channels. The source's electrode and coordinate-system files come along
(iEEG data need them). The data set's ``dataset_description.json`` says it is a
derivative and what generated it.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

# pandas and pyarrow (through .windows) are imported by the functions that write with
# them: Snakemake's own process imports this module (derivatives.smk's input function
# spatial_files), where they cost 0.3 s and 75 MiB at every start
from . import __version__
from .fileio import atomic_output, read_record
from .remote import is_remote

BIDS_VERSION = "1.10.0"

# BIDS datatype -> the sidecar key of the recording's reference
REFERENCE_KEYS = {"eeg": "EEGReference", "ieeg": "iEEGReference"}

# the source's files on electrode positions, in the folder of its recordings
SPATIAL_PATTERNS = ("*_electrodes.tsv", "*_electrodes.json", "*_coordsystem.json")

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
        The source file's path inside the BIDS data set
        (``sub-01/ieeg/sub-01_task-rest_ieeg.edf``: its folder is the datatype).
    ica : dict or None
        Config ``ica`` when ICA removed components from the recording.

    Returns
    -------
    dict
        BIDS keys (``Description``, ``TaskName`` from the file name, ``SamplingFrequency``,
        channel counts, ``RecordingDuration``, ``EEGReference`` or, for iEEG,
        ``iEEGReference``, ``PowerLineFrequency`` (the source's, as mne-bids read
        it into ``info``, else config ``preprocess.notch.line_freq``, else
        ``"n/a"``), ``SoftwareFilters``, ``Sources``) and ``eegflow``: the
        record, its spectra before preprocessing left out, and ``ica`` with
        ICA's settings where it was applied.
    """
    entities = dict(
        part.split("-", 1) for part in Path(source).name.split("_") if "-" in part
    )
    sidecar = {
        "Description": "the source recording preprocessed by eegflow (its settings: "
        "SoftwareFilters and eegflow); the FIF of the same name holds the same signal",
        "TaskName": entities.get("task", "n/a"),
        "SamplingFrequency": info["sfreq"],
        "RecordingDuration": record["duration_s"],
    }
    for kind in info.get_channel_types():
        key = CHANNEL_TYPES.get(kind, CHANNEL_TYPES["misc"])[1]
        sidecar[key] = sidecar.get(key, 0) + 1
    reference = settings["reference"]
    reference_key = REFERENCE_KEYS.get(Path(source).parent.name, "EEGReference")
    sidecar[reference_key] = (
        "n/a (as recorded)"
        if reference is None
        else reference
        if isinstance(reference, str)
        else " ".join(reference)
    )
    line_freq = info["line_freq"] or settings["notch"]["line_freq"]
    sidecar["PowerLineFrequency"] = line_freq or "n/a"
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
    """The ``_channels.tsv`` of a preprocessed recording: name, type, units (µV
    for the channels in volts, as the BrainVision file holds them), the filter's
    ``low_cutoff`` and ``high_cutoff`` (Hz, as ``info`` tracks them; iEEG needs
    them), status (``bad`` or ``good``) and why a channel is bad."""
    import pandas as pd
    from mne.io.constants import FIFF

    bad = record["bad_channels"]
    rows = []
    for channel, kind in zip(info["chs"], info.get_channel_types()):
        name = channel["ch_name"]
        rows.append(
            {
                "name": name,
                "type": CHANNEL_TYPES.get(kind, CHANNEL_TYPES["misc"])[0],
                "units": "µV" if channel["unit"] == FIFF.FIFF_UNIT_V else "n/a",
                "low_cutoff": info["highpass"],
                "high_cutoff": info["lowpass"],
                "status": "bad" if name in bad else "good",
                "status_description": ", ".join(bad.get(name, [])) or "n/a",
            }
        )
    return pd.DataFrame(rows)


def write_brainvision(raw, vhdr):
    """Write ``raw`` as the BrainVision file ``vhdr`` (with its ``.vmrk`` and
    ``.eeg``; float32 in µV, annotations as markers). Each file appears whole:
    they are written in a temporary folder beside and moved in, the header last."""
    from mne.export import export_raw

    vhdr = Path(vhdr)
    vhdr.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=vhdr.parent, prefix=".tmp-") as tmp:
        export_raw(Path(tmp) / vhdr.name, raw, fmt="brainvision", verbose="error")
        for extension in (".eeg", ".vmrk", ".vhdr"):
            os.replace(
                Path(tmp) / vhdr.with_suffix(extension).name,
                vhdr.with_suffix(extension),
            )


def write_recording_derivatives(inputs, outputs, source):
    """Write one recording's BIDS derivatives: links to its outputs and sidecars.

    Parameters
    ----------
    inputs : dict
        Paths of the stage outputs: ``fif`` (the signal the windows are read
        from: preprocess's, or ica_apply's with ICA), ``record`` (preprocess),
        ``window_table`` (windows), ``features``.
    outputs : dict
        Paths of the derivatives: ``fif``, ``vhdr`` (the BrainVision copy of
        ``fif``, its ``.vmrk`` and ``.eeg`` beside), ``sidecar``, ``channels``,
        ``window_table``, ``features``.
    source : str
        The source file's path inside the BIDS data set (for ``Sources``).
    """
    import mne
    import pyarrow.parquet as pq

    from .windows import window_table_info

    for name in ("fif", "window_table", "features"):
        link(inputs[name], outputs[name])
    record = read_record(inputs["record"])
    raw = mne.io.read_raw_fif(inputs["fif"], verbose="error")
    write_brainvision(raw, outputs["vhdr"])
    info = raw.info
    settings = record["provenance"]["config"]["preprocess"]
    windows_info = window_table_info(pq.read_schema(inputs["window_table"]))
    ica = windows_info["provenance"]["config"].get("ica")
    sidecar = recording_sidecar(info, record, settings, source, ica)
    with atomic_output(outputs["sidecar"]) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    with atomic_output(outputs["channels"]) as tmp:
        channels_table(info, record).to_csv(tmp, sep="\t", index=False)


def spatial_files(bids_root, sources):
    """The source's electrode and coordinate-system files in the folders of
    recordings ``sources`` (paths inside the BIDS data set, as are those returned,
    sorted): the derivative's recordings keep their electrodes (iEEG must have
    them)."""
    folders = {(Path(bids_root) / source).parent for source in sources}
    return sorted(
        path.relative_to(bids_root).as_posix()
        for folder in folders
        for pattern in SPATIAL_PATTERNS
        for path in folder.glob(pattern)
    )


def write_dataset_files(inputs, outputs, bids_root, subjects, config, ignored):
    """Write the derivative data set's ``dataset_description.json``,
    ``participants.tsv`` and ``.bidsignore``, and copy the source's electrode
    files.

    Parameters
    ----------
    inputs : dict
        Paths: ``spatial``, the source's electrode and coordinate-system files
        (:func:`spatial_files`; none for a source on S3 or HTTP(S)); ``sources``,
        for a source on S3 or HTTP(S) (``bids_root`` a URL), the local copies of its
        ``dataset_description.json`` and ``participants.tsv`` (those it has).
    outputs : dict
        Paths: ``description``, ``participants``, ``bidsignore`` and ``spatial``
        (where ``inputs["spatial"]`` go).
    bids_root : str
        The source BIDS data set.
    subjects : list of str
        The subjects (without ``sub-``) whose recordings the derivative holds.
    config : dict
        The run's config, recorded under ``GeneratedBy``.
    ignored : list of str
        The ``.bidsignore`` patterns: the files in formats BIDS has no name for.
    """
    import pandas as pd

    from .provenance import git_commit

    if is_remote(bids_root):
        source_url = bids_root
        source_files = {Path(path).name: Path(path) for path in inputs["sources"]}
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
    with atomic_output(outputs["bidsignore"]) as tmp:
        tmp.write_text("".join(f"{pattern}\n" for pattern in ignored))
    for source, target in zip(inputs["spatial"], outputs["spatial"]):
        with atomic_output(target) as tmp:
            shutil.copyfile(source, tmp)
