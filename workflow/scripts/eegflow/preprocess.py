"""Preprocess one recording with MNE: attach annotations, rename and type channels,
crop, pick, apply projectors, re-reference, resample, filter, anonymise.

Besides the FIF file, each recording gets a small JSON record of what was done
to it that later stages and people read (see :func:`preprocess_recording`).
"""

import logging
import re

import numpy as np

from . import UserError
from .cleaning import (
    EEG_FAMILY,
    amplitude_statistics_uv,
    check_units,
    detect_bad_channels,
    interpolate_bad_channels,
    interpolation_refusal,
    line_noise_db,
    line_noise_frequencies,
    mark_bad_channels,
    mean_spectra,
    noisy_channels,
    untreated_line_noise,
)
from .fileio import (
    check_fif_keeps_annotations,
    decode_fif_annotations,
    load_data,
    note,
    noted_warnings,
    read_raw_lazily,
    save_fif,
    write_record,
)
from .fifread import write_layout
from .filtering import (
    NOTCH_HALF_TRANSITION_HZ,
    NOTCH_HALF_WIDTH_PER_HZ,
    OnePassFilters,
    cached_filter_designs,
)
from .provenance import file_fingerprints, with_stage
from .recordings import recording_files
from .remote import named_by_url

log = logging.getLogger(__name__)


def check_filter_below_nyquist(filter_settings, sfreq, source):
    """Raise :class:`UserError` if a filter edge is not below Nyquist.

    ``source`` names where ``sfreq`` comes from (a file or a config key).
    """
    nyquist = sfreq / 2
    for key in ("l_freq", "h_freq"):
        value = filter_settings[key]
        if value is not None and value >= nyquist:
            raise UserError(
                f"config preprocess.filter.{key}={value} Hz is not below the "
                f"Nyquist frequency {nyquist:g} Hz of {source} (sfreq {sfreq:g} Hz); "
                f"lower {key}, or set preprocess.resample_sfreq above {2 * value:g}"
            )


def _pick(raw, picks, reference, path):
    """Pick channels by name or type, plus named reference channels.

    ``picks`` None keeps the :data:`eegflow.cleaning.EEG_FAMILY` channels (an MEG+EEG file gives
    its EEG; MEG only when asked for by type or name) and logs what it leaves
    out. Unknown names are a UserError. Returns the picked channel names.
    """
    references = [] if reference in (None, "average") else list(reference)
    channel_types = set(raw.get_channel_types())
    if picks is None and not channel_types & set(EEG_FAMILY):
        raise UserError(
            f"{path}: config preprocess.picks is null, which keeps EEG channels "
            f"({', '.join(EEG_FAMILY)}), and this recording has none (its channel "
            f"types: {sorted(channel_types)}); name the channels or types to keep "
            "in preprocess.picks, e.g. [meg]"
        )
    if picks is None:
        wanted = [kind for kind in EEG_FAMILY if kind in channel_types]
    else:
        wanted = list(picks)
    if channel_types & {"mag", "grad"}:
        channel_types.add("meg")  # MNE's name for both MEG types
    for key, names, allowed in (
        ("picks", [] if picks is None else picks, set(raw.ch_names) | channel_types),
        ("reference", references, set(raw.ch_names)),  # names only, not types
    ):
        missing = [name for name in names if name not in allowed]
        if missing:
            raise UserError(
                f"{path}: config preprocess.{key} asks for {missing}, which this "
                f"recording lacks (it has {raw.ch_names}); fix the names or remove them"
            )
    picked = raw.copy().pick(wanted).ch_names  # no data loaded yet: cheap
    left_out = [name for name in raw.ch_names if name not in picked + references]
    if left_out:
        kinds = raw.copy().pick(left_out).get_channel_types()
        counts = {kind: kinds.count(kind) for kind in sorted(set(kinds))}
        log.info(
            "%s: preprocess.picks left out %d channels %s", path, len(left_out), counts
        )
    raw.pick(picked + [name for name in references if name not in picked])
    return picked


def _check_channel_names_ascii(names, path):
    """Raise :class:`UserError` for channel names beyond ASCII: a FIF file stores
    channel names as ASCII (MNE's writer fails on others)."""
    beyond = [name for name in names if not name.isascii()]
    if beyond:
        example = {name: name.encode("ascii", "replace").decode() for name in beyond}
        raise UserError(
            f"{path}: channel names {beyond} hold characters beyond ASCII, which the "
            "preprocessed FIF file cannot store; rename them with config "
            f"preprocess.rename, e.g. {example}"
        )


def _apply_projectors(raw, path):
    """Apply the SSP projectors left after picking (e.g. a FIF's average reference).

    MNE keeps projectors unapplied until asked; the features would otherwise
    see data the recording's author meant to be projected. Returns their names.
    """
    names = [projector["desc"] for projector in raw.info["projs"]]
    if names:
        raw.apply_proj(verbose="warning")
        log.info("%s: applied %d SSP projectors %s", path, len(names), names)
    return names


def _attach_annotations(raw, annotations_path, path):
    """Replace the recording's annotations by those of ``annotations_path``."""
    import mne

    try:
        annotations = decode_fif_annotations(
            mne.read_annotations(annotations_path), annotations_path
        )
    except Exception as error:  # readers raise many types
        raise UserError(
            f"{annotations_path}: MNE could not read annotations from this file, "
            f"paired with {path} by config input.annotations ({error})"
        ) from error
    if not len(annotations):
        raise UserError(
            f"{annotations_path}: no annotations found in this file, paired with {path} "
            "by config input.annotations; check the file (an EDF+ annotations file, "
            ".csv, .txt or .fif of mne.Annotations)"
        )
    raw.set_annotations(annotations, emit_warning=False)  # outside the data: dropped
    log.info("%s: %d annotations from %s", path, len(raw.annotations), annotations_path)


def _rename_and_type(raw, settings, path):
    """Apply config preprocess.rename and preprocess.channel_types.

    Names a recording lacks are skipped (one map serves recordings that name
    channels differently); config preprocess.picks catches a channel missing
    in the end.
    """
    rename = {
        old: new for old, new in settings["rename"].items() if old in raw.ch_names
    }
    raw.rename_channels(rename)
    types = {
        name: kind
        for name, kind in settings["channel_types"].items()
        if name in raw.ch_names
    }
    log.info("%s: renamed %s, typed %s", path, rename or "none", types or "none")
    try:
        raw.set_channel_types(types, on_unit_change="ignore")
    except (
        ValueError,
        RuntimeError,
    ) as error:  # RuntimeError: a channel in a projector
        raise UserError(f"{path}: config preprocess.channel_types: {error}") from None


def _rereference(raw, reference, picked, path):
    """Re-reference EEG channels (config preprocess.reference); drop reference
    channels that were only kept for it."""
    if reference is None:
        return
    try:
        raw.set_eeg_reference(reference, projection=False, verbose="warning")
    except (ValueError, RuntimeError) as error:
        raise UserError(
            f"{path}: config preprocess.reference={reference}: {error}"
        ) from None
    if reference != "average":
        extra = [name for name in reference if name not in picked]
        raw.drop_channels(extra)


def _anonymize(raw, path):
    """Remove the subject's identity and dates (MNE's ``anonymize``).

    Names, hospital id, sex, hand, weight, height, experimenter, description,
    device serial and site are replaced; the measurement date becomes
    2000-01-01 00:00 UTC and the birthday moves by the same shift (the age at
    recording is kept); annotations keep their place relative to the data.
    """
    raw.anonymize(daysback=None, keep_his=False, verbose="warning")
    log.info("%s: anonymised (subject info and dates)", path)


# At most this many frequencies per channel in the record's before-spectrum (a QC plot's
# width in pixels): 50 channels at 2 kHz have 2,001 bins each, 1.1 of a 1.5 MB record
RECORD_SPECTRUM_BINS = 512


def rounded_spectra(freqs, spectra, max_bins=RECORD_SPECTRUM_BINS):
    """Spectra for the record, to 4 significant digits (enough for a plot in dB), with
    runs of adjacent bins averaged where there are more than ``max_bins`` (the mean
    power over each run, at the run's mean frequency: the total power is kept)."""
    freqs = np.asarray(freqs)
    step = max(1, int(np.ceil(len(freqs) / max_bins)))

    def binned(values):
        values = np.asarray(values)
        whole = len(values) // step * step
        runs = [values[:whole].reshape(-1, step).mean(axis=1)]
        if whole < len(values):
            runs.append(values[whole:].mean(keepdims=True))
        return np.concatenate(runs)

    return {
        "freqs": [float(f"{f:.4g}") for f in binned(freqs)],
        "power": {
            name: [float(f"{v:.4g}") for v in binned(power)]
            for name, power in spectra.items()
        },
    }


def _set_montage(raw, montage, path):
    """Give channels positions from a standard montage (config preprocess.montage)."""
    try:
        raw.set_montage(montage, on_missing="ignore", verbose="warning")
    except ValueError as error:
        raise UserError(
            f"{path}: config preprocess.montage={montage!r}: {error}"
        ) from None


def notch_reaches_nyquist(freqs, sfreq):
    """The frequencies of ``freqs`` whose notch band (MNE's defaults) reaches the
    Nyquist frequency of ``sfreq``, where MNE cannot notch them (its design fails)."""
    return [
        f
        for f in freqs
        if f * (1 + NOTCH_HALF_WIDTH_PER_HZ) + NOTCH_HALF_TRANSITION_HZ >= sfreq / 2
    ]


def _notch(raw, settings, filters, path, notes):
    """Remove line noise at config preprocess.notch's frequencies (MNE notch_filter,
    applied with the band-pass by ``filters``: :class:`eegflow.filtering.OnePassFilters`).

    Harmonics of ``line_freq`` whose notch band reaches Nyquist are left out, and a
    ``line_freq`` with no harmonic left gives no notch: each is a :func:`note`.
    Explicit ``freqs`` there are an error. Returns the frequencies notched.
    """
    sfreq = raw.info["sfreq"]
    freqs = line_noise_frequencies(settings, sfreq)
    too_high = notch_reaches_nyquist(freqs, sfreq)
    nyquist = f"the Nyquist frequency {sfreq / 2:g} Hz (sfreq {sfreq:g} Hz)"
    if too_high and not settings["line_freq"]:
        raise UserError(
            f"{path}: config preprocess.notch.freqs {too_high} Hz are not below "
            f"{nyquist} by their notch band (MNE's f/400 + 0.5 Hz each side); "
            "remove them"
        )
    if too_high:
        note(
            path,
            f"config preprocess.notch.line_freq={settings['line_freq']:g} Hz: "
            f"harmonics {too_high} Hz left out, their notch band (MNE's f/400 + 0.5 Hz "
            f"each side) reaches {nyquist}",
            notes,
        )
    elif settings["line_freq"] and not freqs:
        note(
            path,
            f"config preprocess.notch.line_freq={settings['line_freq']:g} Hz is not "
            f"below {nyquist}: no notch",
            notes,
        )
    freqs = [f for f in freqs if f not in too_high]
    if freqs:
        filters.notch(freqs)
        log.info("%s: notch filter at %s Hz", path, freqs)
    return freqs


def _interpolation_allowed(raw, bad, settings, path, untreated):
    """The bad-channel action: "interpolate" when
    :func:`eegflow.cleaning.interpolation_refusal` finds nothing against it; else a
    :class:`UserError` naming ``path`` (config ``preprocess.bad_channels.over_limit:
    fail``), or "mark" with the reason appended to ``untreated``."""
    refusal = interpolation_refusal(raw, bad, settings["bad_channels"], path)
    if not refusal:
        return "interpolate"
    if settings["bad_channels"]["over_limit"] == "fail":
        raise UserError(
            f"{path}: config preprocess.bad_channels.action=interpolate would "
            f"extrapolate bad channels {list(bad)} from distant ones: {refusal}. Set "
            "preprocess.bad_channels.over_limit: mark to keep them marked (their "
            "features NaN), or leave the recording out with input.exclude"
        )
    untreated.append(
        f"bad channels {list(bad)} are kept marked, not interpolated (their features "
        f"are NaN): {refusal} (config preprocess.bad_channels.over_limit: mark)"
    )
    return "mark"


def _noisy_channel_messages(amplitudes, raw, bad, settings):
    """One message per noisy channel (:func:`eegflow.cleaning.noisy_channels`) among
    the good channels of config ``preprocess.bad_channels.channel_types``, naming
    the criteria that would find it."""
    compared = {
        name: amplitudes[name]
        for name, kind in zip(raw.ch_names, raw.get_channel_types())
        if name not in bad and kind in settings["channel_types"]
    }
    return [
        f"channel {name} is noisy (a robust spread of {spread:.3g} µV, "
        f"{spread / median:.1f} times the channels' median {median:.3g} µV) and "
        "left in: add deviation (and correlation, hf_noise) to config "
        "preprocess.bad_channels.detect, or list it in a bad_channels column of "
        "the recordings table"
        for name, (spread, median) in noisy_channels(compared).items()
    ]


# Raw methods that return the recording but are no step: a copy leaves the recording as it
# was, and the data are loaded already
_NOT_STEPS = ("copy", "load_data")


def _changes_the_recording(function):
    """Whether the :class:`mne.io.Raw` method ``function`` returns the recording, as
    methods that change it do, by its documented return value (numpydoc "Returns"):
    not data (``compute_psd``, ``get_data``), a figure, a list or nothing."""
    import inspect

    returns = re.search(r"^Returns\n-+\n(.+)$", inspect.getdoc(function) or "", re.M)
    return returns is not None and bool(
        re.search(r"\bRaw\b|same type as the input data", returns.group(1))
    )


def check_steps(steps):
    """Raise :class:`UserError` for a bad config ``preprocess.steps``.

    Each step is ``{method: {keyword: value}}``: a public :class:`mne.io.Raw`
    method that changes the recording, called with those keywords
    (braindecode's ``Preprocessor(method, **kwargs)``). Checked against the
    method's signature, so a misspelt method or keyword stops the workflow
    before any job.
    """
    if not steps:
        return
    import inspect

    import mne

    for position, step in enumerate(steps):
        key = f"config preprocess.steps[{position}]"
        if not isinstance(step, dict) or len(step) != 1:
            raise UserError(
                f"{key}={step!r}: expected one method and its keywords, e.g. "
                "{notch_filter: {freqs: [60]}}"
            )
        ((method, keywords),) = step.items()
        function = getattr(mne.io.BaseRaw, str(method), None)
        if method == "apply_function":
            raise UserError(
                f"{key}: raw.apply_function needs a Python function, which a YAML "
                "config cannot hold (a name such as 'print' is a string); use a method "
                "that changes the recording (e.g. filter, savgol_filter, apply_hilbert)"
            )
        if (
            function is None
            or str(method).startswith("_")
            or not callable(function)
            or str(method) in _NOT_STEPS
            or not _changes_the_recording(function)
        ):
            raise UserError(
                f"{key}: {method!r} is not a method of mne.io.Raw that changes the "
                "recording and returns it (e.g. filter, notch_filter, resample, "
                "set_eeg_reference, crop, pick, drop_channels); methods that write "
                "files, draw or hand out data are no step"
            )
        signature = inspect.signature(function)
        accepted = [name for name in signature.parameters if name != "self"]
        open_ended = any(
            parameter.kind is inspect.Parameter.VAR_KEYWORD
            for parameter in signature.parameters.values()
        )
        unknown = sorted(set(keywords or {}) - set(accepted))
        if unknown and not open_ended:
            raise UserError(
                f"{key}: raw.{method} has no keyword {unknown}; it takes {accepted}"
            )
        try:
            signature.bind(None, **(keywords or {}))
        except TypeError as error:
            raise UserError(
                f"{key}: raw.{method}({', '.join(keywords or {})}): {error}; see "
                f"mne.io.Raw.{method} for its keywords"
            ) from None


def _run_steps(raw, steps, path):
    """Call config ``preprocess.steps`` on the recording, in order."""
    for position, step in enumerate(steps):
        ((method, keywords),) = step.items()
        try:
            getattr(raw, method)(**(keywords or {}))
        except Exception as error:  # MNE raises many types for a bad argument
            raise UserError(
                f"{path}: config preprocess.steps[{position}] raw.{method}"
                f"({keywords or ''}) failed: {type(error).__name__}: {error}"
            ) from error
        log.info("%s: step %d: raw.%s(%s)", path, position, method, keywords or "")


def preprocess_recording(
    raw_path,
    out_path,
    settings,
    n_jobs=1,
    annotations_path=None,
    bids_root=None,
    record_path=None,
    bad_channels=(),
    units_scale=None,
    source=None,
):
    """Preprocess ``raw_path`` and save it as FIF to ``out_path``.

    In order: attach the annotations of ``annotations_path`` (if given), rename
    and type channels, set the montage, crop, pick, load, scale, find bad
    channels (and fail if none is good), check the units on the good ones,
    apply SSP projectors, re-reference (bad channels left out of an average),
    resample, notch, filter, the configured MNE steps, interpolate bad
    channels (if asked, and where they are few and surrounded by good ones),
    anonymise, and note the dirt the settings leave in.

    Parameters
    ----------
    raw_path : path-like
        Any recording :func:`mne.io.read_raw` opens. Read lazily: only the
        cropped, picked part is loaded, so peak memory is about one recording.
    out_path : path-like
        Output FIF file (name ending in ``_raw.fif``), written atomically.
    settings : dict
        Config ``preprocess``: ``rename`` and ``channel_types`` (maps by channel
        name), ``crop`` (tmin, tmax in s), ``picks`` (channel names/types, or
        None for the EEG family, :data:`eegflow.cleaning.EEG_FAMILY`), ``reference`` (None,
        "average" or channel names), ``resample_sfreq`` (Hz or None),
        ``filter`` (l_freq, h_freq in Hz or None, method), ``notch``
        (``line_freq`` or ``freqs``), ``montage``, ``units`` (``scale``,
        ``min_uv``, ``max_uv``), ``bad_channels`` (``detect``, ``flat_s``,
        ``action``, ``channel_types``, ``max_interpolated_fraction``,
        ``over_limit``; see :mod:`eegflow.cleaning`), ``steps`` (see
        :func:`check_steps`) and ``anonymize``.
    n_jobs : int
        Cores for MNE's resampling and filtering (the job's ``threads``).
    annotations_path : path-like or None
        A file :func:`mne.read_annotations` reads (e.g. a Sleep-EDF hypnogram).
    bids_root : path-like or None
        For a BIDS recording: read with mne-bids (sidecars applied).
    record_path : path-like or None
        Where to write the JSON record of what was done: ``start_offset_s``
        (time of the output's first sample from the file's first sample, which
        MNE's ``first_samp`` does not give for FIF files that start late),
        ``sfreq_original``, ``sfreq``, ``duration_s_original``, ``duration_s``
        (kept), ``channels``, ``bad_channels`` ({name: reasons}),
        ``bad_channel_action`` (what was done: "mark" where interpolation
        was refused, see :func:`eegflow.cleaning.interpolation_refusal`),
        ``bad_channel_criteria_skipped`` (PREP criteria
        that needed more good channels than there were),
        ``bad_channel_criteria_channels`` (the channels they judged), ``line_noise_db`` and
        ``psd_before`` (before the notch and filter, see
        :func:`eegflow.cleaning.line_noise_db`),
        ``notch_hz``, ``units_scale``,
        ``projectors_applied``, ``anonymized``, ``amplitude_uv`` (per channel
        median and robust spread of the output), ``untreated`` (dirt the
        settings leave in: mains neither notched nor low-passed, see
        :func:`eegflow.cleaning.untreated_line_noise`; a noisy channel no
        criterion judged, see :func:`eegflow.cleaning.noisy_channels`; bad
        channels not interpolated; each names the setting, and is also a
        warning), ``warnings`` (what MNE said
        reading the file or applying a setting, what a setting could not do:
        each also a warning in the log), and
        ``provenance`` (:mod:`eegflow.provenance`: the source files' paths,
        sizes and SHA-256, the config, the software versions).
    bad_channels : iterable of str
        Channels known to be bad beforehand (a recordings table's
        ``bad_channels`` column, names after renaming); channels the file marks bad (BIDS
        ``channels.tsv``, a FIF's ``bads``) are added, each with its source.
    units_scale : float or None
        This recording's scale (a recordings table's ``units_scale``),
        replacing config ``preprocess.units.scale``.
    source : str or None
        The recording's URL when ``raw_path`` is the local copy of a remote file
        (:mod:`eegflow.remote`): the provenance names the URLs.
    """
    notes = []  # what a setting could not do or MNE said of it: the record's warnings
    raw = read_raw_lazily(raw_path, bids_root, notes)
    file_start_s = raw.first_samp / raw.info["sfreq"]
    original = {
        "sfreq_original": raw.info["sfreq"],
        "duration_s_original": raw.duration,
    }
    if annotations_path is not None:
        _attach_annotations(raw, annotations_path, raw_path)
    _rename_and_type(raw, settings, raw_path)  # MNE renames info["bads"] too
    marked_where = "BIDS channels.tsv" if bids_root else "the file"
    given = {name: f"marked bad in {marked_where}" for name in raw.info["bads"]}
    given.update({name: "listed in the recordings table" for name in bad_channels})
    unknown = sorted(set(bad_channels) - set(raw.ch_names))
    if unknown:
        note(
            raw_path,
            f"bad channels {unknown} listed in the recordings table are not in this "
            "recording (names after preprocess.rename); ignored",
            notes,
        )
    raw.info["bads"] = []  # picks by type must not drop them: they are judged below
    if settings["montage"]:
        with noted_warnings(raw_path, "config preprocess.montage", notes):
            _set_montage(raw, settings["montage"], raw_path)
    duration = raw.duration
    tmin, tmax = settings["crop"]["tmin"], settings["crop"]["tmax"]
    if tmin >= duration:
        raise UserError(
            f"{raw_path}: config preprocess.crop.tmin={tmin} s is beyond the end of "
            f"this recording ({duration:.3f} s long); lower tmin"
        )
    if tmax is not None and tmax > raw.times[-1]:
        note(
            raw_path,
            f"config preprocess.crop.tmax={tmax} s is past the end ({duration:.3f} s); "
            "kept to the end",
            notes,
        )
        tmax = None
    target_sfreq = settings["resample_sfreq"] or raw.info["sfreq"]
    check_filter_below_nyquist(settings["filter"], target_sfreq, raw_path)

    if tmax is None and tmin > 0:
        raw.crop(tmin=tmin)  # to the last sample
    elif tmax is not None:
        raw.crop(tmin=tmin, tmax=tmax, include_tmax=False)
    picked = _pick(raw, settings["picks"], settings["reference"], raw_path)
    _check_channel_names_ascii(picked, raw_path)
    check_fif_keeps_annotations(raw, raw_path)
    with noted_warnings(raw_path, "reading its samples", notes):
        load_data(raw, raw_path)
    scale = settings["units"]["scale"] if units_scale is None else units_scale
    if scale != 1:
        raw.apply_function(lambda x: x * scale, picks="all")
    bad, skipped, judged = detect_bad_channels(
        raw, settings["bad_channels"], given, raw_path
    )
    mark_bad_channels(raw, bad)
    check_units(raw, settings["units"], set(raw.ch_names) - set(bad), raw_path)
    untreated = []  # dirt measured that the settings leave in: record, QC, log
    action = settings["bad_channels"]["action"]
    if action == "interpolate":
        action = _interpolation_allowed(raw, bad, settings, raw_path, untreated)
    freqs, spectra = mean_spectra(raw)  # before notch and filter
    mains = line_noise_db(freqs, {n: p for n, p in spectra.items() if n not in bad})
    with noted_warnings(raw_path, "applying its SSP projectors", notes):
        projectors = _apply_projectors(raw, raw_path)
    with noted_warnings(raw_path, "config preprocess.reference", notes):
        _rereference(raw, settings["reference"], picked, raw_path)
    # where the kept data start in the file; resampling rounds MNE's first_samp to the
    # new rate (moving it by up to half a sample) while the data stay where they were
    start_offset_s = raw.first_samp / raw.info["sfreq"] - file_start_s
    if settings["resample_sfreq"] and settings["resample_sfreq"] != raw.info["sfreq"]:
        if settings["resample_sfreq"] > raw.info["sfreq"]:
            note(
                raw_path,
                f"config preprocess.resample_sfreq={settings['resample_sfreq']:g} Hz "
                f"is above the recording's {raw.info['sfreq']:g} Hz: upsampled, so it "
                f"holds nothing above {raw.info['sfreq'] / 2:g} Hz",
                notes,
            )
        with noted_warnings(raw_path, "config preprocess.resample_sfreq", notes):
            raw.resample(settings["resample_sfreq"], n_jobs=n_jobs, verbose="warning")
    resampled_start_s = raw.first_samp / raw.info["sfreq"]
    filt = settings["filter"]
    filters = OnePassFilters(raw, n_jobs)
    with cached_filter_designs():
        with noted_warnings(raw_path, "config preprocess.notch", notes):
            notch = _notch(raw, settings["notch"], filters, raw_path, notes)
        with noted_warnings(raw_path, "config preprocess.filter", notes):
            if filt["l_freq"] is not None or filt["h_freq"] is not None:
                filters.band(filt["l_freq"], filt["h_freq"], filt["method"])
            filters.apply()
    with noted_warnings(raw_path, "config preprocess.steps", notes):
        _run_steps(raw, settings["steps"], raw_path)
    if action == "interpolate":
        with noted_warnings(raw_path, "config preprocess.bad_channels.action", notes):
            interpolate_bad_channels(raw, bad, raw_path)
    if settings["anonymize"]:
        with noted_warnings(raw_path, "config preprocess.anonymize", notes):
            _anonymize(raw, raw_path)
    log.info(
        "%s: %d channels, %d samples at %g Hz after preprocessing",
        raw_path,
        len(raw.ch_names),
        raw.n_times,
        raw.info["sfreq"],
    )
    amplitudes = amplitude_statistics_uv(raw)
    untreated += untreated_line_noise(
        mains, settings, original["sfreq_original"], notch
    )
    if "deviation" not in settings["bad_channels"]["detect"]:
        untreated += _noisy_channel_messages(
            amplitudes, raw, bad, settings["bad_channels"]
        )
    for message in untreated:
        note(raw_path, message, notes)
    record = {
        # moved on only by a step (a crop)
        "start_offset_s": start_offset_s
        + (raw.first_samp / raw.info["sfreq"] - resampled_start_s),
        **original,
        "duration_s": raw.duration,
        "sfreq": raw.info["sfreq"],
        "channels": raw.ch_names,
        "bad_channels": bad,
        "bad_channel_action": action,
        "bad_channel_criteria_skipped": skipped,
        "bad_channel_criteria_channels": judged,
        "line_noise_db": mains,
        "psd_before": rounded_spectra(freqs, spectra),
        "notch_hz": notch,
        "units_scale": scale,
        "projectors_applied": projectors,
        "anonymized": settings["anonymize"],
        "amplitude_uv": amplitudes,
        "untreated": untreated,
        "warnings": notes,
        "provenance": with_stage(
            {
                "source_files": named_by_url(
                    file_fingerprints(recording_files(str(raw_path))),
                    raw_path,
                    source or str(raw_path),
                )
            },
            preprocess=settings,
            recording={"bad_channels": list(bad_channels), "units_scale": units_scale},
        ),
    }
    save_fif(raw, out_path)
    write_layout(out_path)  # for the windows and features jobs: no MNE there
    if record_path is not None:
        write_record(record_path, record)
