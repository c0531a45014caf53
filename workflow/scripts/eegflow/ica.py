"""Artefact removal by ICA with automatic component labels (ICLabel).

Two steps, two jobs: :func:`fit_ica` fits MNE's ICA on a 1 Hz high-passed
copy of a preprocessed recording's good EEG channels and labels every
component with ICLabel (mne-icalabel; its ONNX network runs in onnxruntime,
nothing is downloaded); :func:`apply_ica` removes the components whose label
probability reaches the thresholds of config ``ica.exclude`` and writes the
cleaned recording, a table of every component and its topographies. Editing
the thresholds reruns the apply step only, never the fit.

ICLabel was trained on extended-infomax decompositions (Picard's solver for that
model is the default here: the same model, much faster) of average-referenced
EEG filtered 1-100 Hz (mne-icalabel's documentation: other data can be
labelled, less reliably). So the fit copy is filtered 1-100 Hz where the data
reach 100 Hz, the workflow asks for ``preprocess.reference: average``, and a
recording low-passed below 100 Hz is labelled with a warning in its log.
"""

import logging

import numpy as np
import pandas as pd

from . import UserError
from .cleaning import require_positions
from .fifread import write_layout
from .fileio import atomic_output, note, noted_warnings, save_fif

log = logging.getLogger(__name__)

ICLABEL_LABELS = (
    "brain",
    "muscle artifact",
    "eye blink",
    "heart beat",
    "line noise",
    "channel noise",
    "other",
)
# config ica.method -> (MNE's method, its fit_params)
# (picard: extended infomax's model solved by Picard, ortho=False, extended=True, which
# mne-icalabel accepts as ICLabel's decomposition; measured 25x faster than MNE's infomax
# on 5 min of 19 channels, the same labels: benchmarks/ica.py)
METHODS = {
    "picard": ("picard", {"ortho": False, "extended": True}),
    "extended-infomax": ("infomax", {"extended": True}),
    "infomax": ("infomax", {"extended": False}),
    "fastica": ("fastica", None),
}
# samples per squared component a decomposition needs (rule of thumb: 20-30 k²)
SAMPLES_PER_COMPONENT_SQUARED = 20
# singular values below this fraction of the largest count as 0 (float32 intermediates)
RANK_TOLERANCE = 1e-4
ICLABEL_H_FREQ = 100.0  # ICLabel was trained on data filtered 1-100 Hz


def _good_eeg_picks(raw):
    import mne

    return mne.pick_types(raw.info, eeg=True, exclude="bads")


def components_for(raw, picks, settings, source):
    """The number of components to fit: config ``ica.n_components``, or the rank of
    the good EEG channels; a :class:`UserError` if the recording cannot give them."""
    import mne

    # good channels; a relative tolerance well above float32 storage's 1e-7, so an
    # average reference or an interpolated channel counts as the dependence it is
    rank = mne.compute_rank(
        raw, rank=None, tol=RANK_TOLERANCE, tol_kind="relative", verbose="error"
    )["eeg"]
    n_components = settings["n_components"] or rank
    if n_components > rank:
        raise UserError(
            f"{source}: config ica.n_components={n_components}, but its {len(picks)} "
            f"good EEG channels have rank {rank} (an average reference and "
            "interpolated channels each remove one); lower ica.n_components or set "
            "it to null (the rank)"
        )
    needed = SAMPLES_PER_COMPONENT_SQUARED * n_components**2
    if raw.n_times < needed:
        fitting = int(np.sqrt(raw.n_times / SAMPLES_PER_COMPONENT_SQUARED))
        lower = (
            f"set config ica.n_components to {fitting} or fewer (for every "
            "recording), use a longer recording, "
            if fitting >= 2
            else "it is too short for ICA: "
        )
        raise UserError(
            f"{source}: {raw.n_times} samples ({raw.times[-1]:.0f} s) are too few for "
            f"{n_components} ICA components (at least {SAMPLES_PER_COMPONENT_SQUARED} "
            f"x n_components² = {needed} samples); {lower}or leave the recording out "
            "of the run with config input.exclude (no features for it: ICA cannot be "
            "switched off for one recording)"
        )
    return n_components


def iclabel_copy(raw, settings, source, notes):
    """The copy ICA is fitted on and ICLabel labels: filtered fit_l_freq-100 Hz
    (the low-pass only where the data reach past 100 Hz). What limits ICLabel, and
    MNE's warnings filtering, are noted in ``notes`` (:func:`eegflow.fileio.note`)."""
    l_freq, h_freq = settings["fit_l_freq"], ICLABEL_H_FREQ
    if raw.info["lowpass"] < h_freq:
        note(
            source,
            f"the data are low-passed at {raw.info['lowpass']:g} Hz; ICLabel was "
            "trained on 1-100 Hz data, so its labels may be less reliable "
            "(preprocess.filter.h_freq: 100 or higher keeps that band)",
            notes,
        )
    if raw.info["lowpass"] <= h_freq:
        h_freq = None  # nothing above it to remove
    with noted_warnings(source, "config ica.fit_l_freq", notes):
        return raw.copy().filter(l_freq, h_freq, verbose="warning")


def fit_ica(preprocessed_path, ica_path, labels_path, settings, source):
    """Fit ICA on one preprocessed recording and label its components with ICLabel.

    Parameters
    ----------
    preprocessed_path : path-like
        The preprocessed FIF.
    ica_path : path-like
        Output: the fitted solution (``*-ica.fif``, :func:`mne.preprocessing.read_ica`).
    labels_path : path-like
        Output: TSV, one row per component: ``component``, ``label`` (ICLabel's
        most probable), ``probability``, the probability of each label, and
        ``fit_warnings`` (the fit's notes, the same on every row: a solver that
        did not converge, ICLabel's checks; empty when none).
    settings : dict
        Config ``ica``: ``method``, ``n_components`` (None = the rank of the good
        EEG channels), ``random_state``, ``fit_l_freq``.
    source : str
        The recording's source file, named in messages.
    """
    import mne
    from mne_icalabel.iclabel import iclabel_label_components

    raw = mne.io.read_raw_fif(preprocessed_path, preload=True, verbose="error")
    picks = _good_eeg_picks(raw)
    require_positions(
        raw.info, [raw.ch_names[pick] for pick in picks], source, "ICA with ICLabel"
    )
    notes = []  # the labels table's fit_warnings
    fit_raw = iclabel_copy(raw, settings, source, notes)
    n_components = components_for(fit_raw, picks, settings, source)
    method, fit_params = METHODS[settings["method"]]
    ica = mne.preprocessing.ICA(
        n_components=n_components,
        method=method,
        fit_params=fit_params,
        rng=settings["random_state"],
        max_iter="auto",
    )
    with noted_warnings(source, f"config ica.method={settings['method']}", notes):
        ica.fit(fit_raw, picks=picks, verbose="warning")  # e.g. did not converge
    with noted_warnings(source, "ICLabel", notes):  # its checks of its assumptions
        probabilities = iclabel_label_components(fit_raw, ica, inplace=False)
    table = pd.DataFrame(
        probabilities, columns=[f"p_{label}" for label in ICLABEL_LABELS]
    )
    best = probabilities.argmax(axis=1)
    table.insert(0, "component", np.arange(len(table)))
    table.insert(1, "label", [ICLABEL_LABELS[index] for index in best])
    table.insert(2, "probability", probabilities.max(axis=1))
    table["fit_warnings"] = "; ".join(notes)
    with atomic_output(ica_path) as tmp:
        ica.save(tmp, verbose="error")
    with atomic_output(labels_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    log.info(
        "%s: ICA (%s) of %d good EEG channels, %d components: %s",
        source,
        settings["method"],
        len(picks),
        n_components,
        ", ".join(
            f"{label} {count}" for label, count in table["label"].value_counts().items()
        ),
    )


def components_to_remove(labels, exclude):
    """Components whose probability of a label in ``exclude`` reaches its threshold.

    Parameters
    ----------
    labels : pandas.DataFrame
        :func:`fit_ica`'s labels table.
    exclude : dict
        Config ``ica.exclude``: ``{ICLabel label: probability threshold}``.

    Returns
    -------
    dict
        ``{component: reason}``, e.g. ``{0: "eye blink 0.98"}``.
    """
    removed = {}
    for row in labels.to_dict("records"):
        reasons = [
            f"{label} {row[f'p_{label}']:.2f}"
            for label, threshold in exclude.items()
            if row[f"p_{label}"] >= threshold
        ]
        if reasons:
            removed[int(row["component"])] = "; ".join(reasons)
    return removed


def apply_ica(preprocessed_path, ica_path, labels_path, exclude, outputs, source):
    """Remove the excluded components from one preprocessed recording.

    Parameters
    ----------
    preprocessed_path, ica_path, labels_path : path-like
        The preprocessed FIF and :func:`fit_ica`'s outputs.
    exclude : dict
        Config ``ica.exclude``: ``{ICLabel label: probability threshold}``.
    outputs : dict
        Paths: ``fif`` (the cleaned recording), ``ica`` (the fitted ICA with
        the removed components as its ``exclude``: its ``apply`` on the
        preprocessed recording gives ``fif``), ``components`` (TSV: the
        labels table with ``removed`` and ``reason`` columns) and ``figure``
        (the components' topographies, labelled, removed ones in red).
    source : str
        The recording's source file, named in messages.
    """
    import mne

    raw = mne.io.read_raw_fif(preprocessed_path, preload=True, verbose="error")
    ica = mne.preprocessing.read_ica(ica_path, verbose="error")
    labels = pd.read_csv(labels_path, sep="\t")
    removed = components_to_remove(labels, exclude)
    ica.exclude = sorted(removed)
    ica.apply(raw, verbose="error")
    labels["removed"] = labels["component"].isin(removed)
    labels["reason"] = labels["component"].map(removed).fillna("")
    save_fif(raw, outputs["fif"])
    write_layout(outputs["fif"])  # for the windows and features jobs: no MNE there
    with atomic_output(outputs["ica"]) as tmp:
        ica.save(tmp, verbose="error")
    with atomic_output(outputs["components"]) as tmp:
        labels.to_csv(tmp, sep="\t", index=False, float_format="%.4f")
    plot_components(ica, labels, outputs["figure"], source)
    log.info(
        "%s: removed %d of %d ICA components: %s",
        source,
        len(removed),
        len(labels),
        "; ".join(f"{c} ({why})" for c, why in removed.items()) or "none",
    )


def plot_components(ica, labels, out_path, title):
    """Topographies of the components with their ICLabel label and probability;
    removed components titled in red. About 100 KB for 20 components."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(labels)
    columns = min(n, 6)
    rows = int(np.ceil(n / columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.4 * columns, 1.55 * rows + 0.3), squeeze=False
    )
    ica.plot_components(
        picks=range(n),
        axes=list(axes.flat[:n]),
        show=False,
        title="",
        res=32,
        contours=0,
    )
    for ax, row in zip(axes.flat, labels.to_dict("records")):
        ax.set_title(
            f"{row['component']}: {row['label']}\n{row['probability']:.2f}",
            fontsize=8,
            color="tab:red" if row["removed"] else "k",
        )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    figure.suptitle(f"{title}: ICA components (removed in red)", fontsize=9)
    with atomic_output(out_path) as tmp:
        figure.savefig(tmp, format="png", dpi=72)
    plt.close(figure)
