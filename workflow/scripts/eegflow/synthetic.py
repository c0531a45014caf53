"""The embedded default data set: Gaussian noise EEG, alpha in every second one."""

import mne
import numpy as np

from .fileio import save_fif


def synthetic_raw(index, synthetic):
    """Build recording ``index`` of the synthetic data set as an MNE Raw.

    Parameters
    ----------
    index : int
        Position of the recording in the data set; odd indices get a sinusoid
        at ``alpha_hz`` with a random phase per channel on top of the noise.
    synthetic : dict
        Config ``input.synthetic`` (channels, sfreq, duration_s, noise_uv,
        alpha_hz, alpha_uv, seed). The data depend only on it and ``index``.
    """
    rng = np.random.default_rng([synthetic["seed"], index])
    n_channels = len(synthetic["channels"])
    n_samples = int(round(synthetic["duration_s"] * synthetic["sfreq"]))
    data = rng.normal(0.0, synthetic["noise_uv"], size=(n_channels, n_samples))
    if index % 2 == 1:
        times = np.arange(n_samples) / synthetic["sfreq"]
        phases = rng.uniform(0, 2 * np.pi, size=(n_channels, 1))
        data += synthetic["alpha_uv"] * np.sin(
            2 * np.pi * synthetic["alpha_hz"] * times + phases
        )
    info = mne.create_info(
        list(synthetic["channels"]), synthetic["sfreq"], ch_types="eeg"
    )
    return mne.io.RawArray(data * 1e-6, info, verbose="error")  # µV -> V


def write_synthetic_recording(index, synthetic, out_path):
    """Write recording ``index`` of the synthetic data set to a FIF file."""
    raw = synthetic_raw(index, synthetic)
    save_fif(raw, out_path, fmt="double")
