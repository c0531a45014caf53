"""Reading training windows back: WindowsDataset against MNE, a memmap floor and braindecode.

    python benchmarks/windows_loading.py [--braindecode-python PATH]
        [--recordings 4] [--minutes 30] [--reads 4000]

Data: ``--recordings`` preprocessed recordings of ``--minutes`` x 19 channels at 250 Hz,
written as the workflow writes them (float32 FIF in big buffers,
``eegflow.fileio.save_fif``), cut into 4 s windows by the workflow's own functions up to
a combined table, so that ``eegflow.WindowsDataset`` opens a finished run. Every reader
reads the same windows in the same shuffled order, one process on one core: single
windows (``--reads`` of them) and batches of 64. Readers:

- ``eegflow``: ``WindowsDataset(results)[i]`` and ``.get_batch(indices)`` (float32);
- ``mne_get_data``: MNE's ``raw.get_data`` per window on the lazily opened FIFs (the
  old ``eegflow.windows.read_windows`` path, float64);
- ``memmap_floor``: a float32 ``(channels, samples)`` ``.npy`` per recording opened
  with ``np.load(mmap_mode="r")``, each window sliced and copied: the floor of any
  reader of files on disk (and 1x more disk);
- with ``--braindecode-python`` (braindecode 1.8.1 and torch in that Python, e.g.
  ``python3 -m venv .venv-braindecode && .venv-braindecode/bin/pip install
  "braindecode[hub]==1.8.1"``: ``[hub]`` brings its zarr format), in a process of its
  own: ``braindecode_lazy`` (its windows of the same FIFs opened with ``preload=False``)
  and ``braindecode_zarr_memmap`` (the windows saved in its zarr format, then read
  through its float64 memmap cache).

Printed: windows/s per reader and mode, the ratios of eegflow's to the others, the
growth of eegflow's anonymous memory (``RssAnon``: not counting the mapped files' pages,
which the kernel can drop) over the reads, and what opening a run of ``--large-run``
recordings x windows costs (time, the metadata's size, peak memory; its window tables
are written with one real table's metadata, so no corpus is written).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from measure import ROOT, print_table


N_CHANNELS, SFREQ, WINDOW_S, BATCH = 19, 250.0, 4.0, 64
SLOW_SHARE = 8  # readers through MNE's get_data read this share of the windows
ROUNDS = 5  # parts of the windows timed one after the other: the best is kept


def write_results(folder, n_recordings, minutes):
    """A finished run's results folder (preprocessed FIFs, window and feature tables,
    the combined table) and a float32 ``.npy`` copy of each recording; returns the
    ``.npy`` paths."""
    import mne

    from eegflow.combine import combine_feature_tables
    from eegflow.features import compute_features
    from eegflow.fileio import save_fif
    from eegflow.windows import make_windows

    names = [f"EEG{index:03d}" for index in range(N_CHANNELS)]
    config = default_config(
        windows={"window_s": WINDOW_S, "reject": {"ptp_uv": None, "flat_uv": None}},
        features={"compute": {"variance": {}}},
    )
    arrays, tables = [], []
    for index in range(n_recordings):
        rid = f"rec-{index:02d}"
        data = np.random.default_rng(index).normal(
            0, 20e-6, size=(N_CHANNELS, int(minutes * 60 * SFREQ))
        )
        raw = mne.io.RawArray(data, mne.create_info(names, SFREQ, "eeg"), verbose=0)
        fif = folder / "preprocessed" / f"{rid}_raw.fif"
        save_fif(raw, fif)
        arrays.append(folder / f"{rid}.npy")
        np.save(arrays[-1], raw.get_data().astype(np.float32))
        table = folder / "windows" / f"{rid}.parquet"
        make_windows(fif, table, config["windows"], rid, {"subject": f"{index:02d}"})
        tables.append(folder / "features" / f"{rid}.parquet")
        compute_features(fif, table, tables[-1], config["features"])
    combine_feature_tables(tables, folder / "features.parquet")
    return arrays


def default_config(**sections):
    """The workflow's config: ``sections`` over the schema's defaults."""
    from snakemake.utils import validate

    validate(
        sections,
        str(ROOT / "workflow" / "schemas" / "config.schema.yaml"),
        set_default=True,
    )
    return sections


def rates(read_one, read_batch, order):
    """Windows per second: one window at a time, then in batches of :data:`BATCH`.

    A first pass over ``order`` opens the files and makes any caches; then each of
    :data:`ROUNDS` parts of ``order`` is timed and the best rate kept (on a shared
    machine the other load only ever slows a part down).
    """
    for index in order:
        read_one(index)
    best_single = best_batch = 0.0
    for part in np.array_split(order, ROUNDS):
        start = time.perf_counter()
        for index in part:
            read_one(index)
        best_single = max(best_single, len(part) / (time.perf_counter() - start))
        start = time.perf_counter()
        for first in range(0, len(part), BATCH):
            read_batch(part[first : first + BATCH])
        best_batch = max(best_batch, len(part) / (time.perf_counter() - start))
    return best_single, best_batch


def memory_mib(field):
    """A field of this process's /proc/self/status in MiB: ``RssAnon`` (resident
    anonymous memory: its heap, not mapped files) or ``VmHWM`` (peak resident)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_here(results, arrays, order):
    """{reader: (single windows/s, batched windows/s)} and eegflow's memory growth."""
    import mne

    from eegflow import WindowsDataset

    measured = {}
    dataset = WindowsDataset(results)
    window = dataset.window_samples
    dataset.get_batch(order[:BATCH])  # the files opened, as after a first batch
    before = memory_mib("RssAnon")
    measured["eegflow"] = rates(dataset.__getitem__, dataset.get_batch, order)
    growth = memory_mib("RssAnon") - before

    codes, starts = dataset._codes, dataset._starts
    raws = [
        mne.io.read_raw_fif(entry["signal"], verbose="error")
        for entry in dataset.recordings
    ]

    def mne_one(index):
        start = int(starts[index])
        return raws[codes[index]].get_data(start=start, stop=start + window)

    measured["mne_get_data"] = rates(
        mne_one,
        lambda indices: np.stack([mne_one(index) for index in indices]),
        order[: len(order) // SLOW_SHARE],
    )
    maps = [np.load(path, mmap_mode="r") for path in arrays]

    def floor_one(index):
        start = int(starts[index])
        return np.array(maps[codes[index]][:, start : start + window])

    def floor_batch(indices):
        out = np.empty((len(indices), N_CHANNELS, window), np.float32)
        for row, index in enumerate(indices):
            start = int(starts[index])
            out[row] = maps[codes[index]][:, start : start + window]
        return out

    measured["memmap_floor"] = rates(floor_one, floor_batch, order)
    return measured, growth


def braindecode_measure(results, order_path, mode):
    """Inside braindecode's Python: (single, batched) windows/s of its ``mode``
    windows of the recordings, in the order of the ``.npy`` at ``order_path``
    (positions in the recordings' windows, concatenated in id order)."""
    import mne
    import torch
    from braindecode.datasets import BaseConcatDataset, RawDataset
    from braindecode.preprocessing import create_fixed_length_windows

    torch.set_num_threads(1)
    fifs = sorted(Path(results, "preprocessed").glob("*_raw.fif"))
    raws = [mne.io.read_raw_fif(fif, preload=False, verbose="error") for fif in fifs]
    dataset = BaseConcatDataset(
        [RawDataset(raw, description={"path": str(f)}) for raw, f in zip(raws, fifs)]
    )
    window = int(WINDOW_S * SFREQ)
    windows = create_fixed_length_windows(
        dataset,
        window_size_samples=window,
        window_stride_samples=window,
        drop_last_window=True,
        preload=False,
    )
    if mode == "zarr_memmap":
        windows = zarr_memmap_windows(windows, Path(results).parent / "zarr")
    order = np.load(order_path)
    if mode == "lazy":  # through MNE's get_data
        order = order[: len(order) // SLOW_SHARE]

    def batch(indices):
        return np.stack([windows[int(index)][0] for index in indices])

    return rates(lambda index: windows[int(index)], batch, order)


def zarr_memmap_windows(windows, folder):
    """braindecode's windows saved in its zarr format, loaded back lazily: read
    through its float64 memmap cache (braindecode.datasets.base: ``_zarr_to_memmap``)."""
    from braindecode.datautil.hub_formats import convert_to_zarr, load_from_zarr

    convert_to_zarr(windows, folder / "windows.zarr")
    return load_from_zarr(folder / "windows.zarr", preload=False)


def large_run(folder, template, n_recordings, n_windows):
    """A results folder of ``n_recordings`` x ``n_windows`` windows: window tables
    with the metadata (settings, channels) of the real run ``template``'s first one,
    all naming its FIF, and a combined table listing them; what opening a corpus's
    run costs, without writing the corpus."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    real = pq.read_schema(template / "windows" / "rec-00.parquet").metadata
    info = json.loads(real[b"eegflow"])
    info["signal"] = str((template / "preprocessed" / "rec-00_raw.fif").resolve())
    combined = json.loads(
        pq.read_schema(template / "features.parquet").metadata[b"eegflow"]
    )
    ids = [f"sub-{index:04d}_task-rest" for index in range(n_recordings)]
    combined["provenance"]["recordings"] = dict.fromkeys(ids)
    rng = np.random.default_rng(0)
    window = info["window_samples"]
    for rid in ids:
        rejected = rng.random(n_windows) < 0.05
        columns = {
            "recording": [rid] * n_windows,
            "window_index": np.arange(n_windows),
            "start_sample": np.arange(n_windows) * window,
            "start_s": np.arange(n_windows) * WINDOW_S,
            "fif_sample": np.arange(n_windows) % 400 * window,
            "rejected": rejected,
            "reject_reason": np.where(rejected, "amplitude above 150 µV: Fz, Cz", ""),
            "subject": [rid[4:8]] * n_windows,
            "task": ["rest"] * n_windows,
            "age": [int(rng.integers(20, 80))] * n_windows,
            "target": [int(rng.integers(0, 2))] * n_windows,
        }
        table = pa.table(columns).replace_schema_metadata({"eegflow": json.dumps(info)})
        (folder / "windows").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "windows" / f"{rid}.parquet")
    table = pa.table({"recording": np.repeat(ids, n_windows)})
    pq.write_table(
        table.replace_schema_metadata({"eegflow": json.dumps(combined)}),
        folder / "features.parquet",
    )


def open_run(results):
    """Inside a process of its own: open ``results`` as a WindowsDataset; its
    windows, the seconds taken, its metadata's MB and the process's peak memory
    (MiB) before and after."""
    from eegflow import WindowsDataset

    before = memory_mib("VmHWM")
    start = time.perf_counter()
    dataset = WindowsDataset(results)
    seconds = time.perf_counter() - start
    return {
        "windows": len(dataset),
        "seconds": seconds,
        "metadata_mb": dataset.metadata.memory_usage(deep=True).sum() / 1e6,
        "peak_mib_before": before,
        "peak_mib": memory_mib("VmHWM"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--braindecode-python", default=None)
    parser.add_argument("--recordings", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--reads", type=int, default=4000)
    parser.add_argument("--large-run", type=int, nargs=2, default=[1000, 1000])
    parser.add_argument("--braindecode-run", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--open-run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.braindecode_run:  # inside braindecode's Python, in a process of its own
        print(json.dumps(braindecode_measure(*args.braindecode_run)))
        return
    if args.open_run:  # in a process of its own
        print(json.dumps(open_run(args.open_run)))
        return
    with tempfile.TemporaryDirectory(prefix="eegflow-windows-") as workdir:
        results = Path(workdir) / "results"
        arrays = write_results(results, args.recordings, args.minutes)
        n_windows = args.recordings * int(args.minutes * 60 / WINDOW_S)
        order = np.random.default_rng(0).integers(0, n_windows, args.reads)
        order_path = Path(workdir) / "order.npy"
        np.save(order_path, order)
        measured, growth = measure_here(results, arrays, order)
        if args.braindecode_python:
            for mode in ("lazy", "zarr_memmap"):
                output = subprocess.run(
                    [args.braindecode_python, __file__, "--braindecode-run"]
                    + [str(results), str(order_path), mode],
                    check=True,
                    stdout=subprocess.PIPE,  # its errors show
                    text=True,
                ).stdout
                measured[f"braindecode_{mode}"] = json.loads(output.splitlines()[-1])
        large = Path(workdir) / "large" / "results"
        large_run(large, results, *args.large_run)
        output = subprocess.run(
            [sys.executable, __file__, "--open-run", str(large)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        opened = json.loads(output.splitlines()[-1])
    ours = measured["eegflow"]
    print(
        f"{args.recordings} recordings x {args.minutes:g} min x {N_CHANNELS} channels "
        f"at {SFREQ:g} Hz, {WINDOW_S:g} s windows, {args.reads} shuffled reads "
        f"(batches of {BATCH}), one process:"
    )
    print_table(
        [
            {
                "reader": name,
                "single_per_s": round(single),
                "batch_per_s": round(batched),
                "eegflow_x_single": ours[0] / single,
                "eegflow_x_batch": ours[1] / batched,
            }
            for name, (single, batched) in measured.items()
        ],
        [
            "reader",
            "single_per_s",
            "batch_per_s",
            "eegflow_x_single",
            "eegflow_x_batch",
        ],
    )
    print(
        f"eegflow's anonymous memory grew {growth:.1f} MiB over "
        f"{3 * args.reads} windows read"
    )
    print(
        f"opening a run of {args.large_run[0]} recordings x {args.large_run[1]} "
        f"windows: {opened['windows']} windows in {opened['seconds']:.1f} s, "
        f"metadata {opened['metadata_mb']:.0f} MB, the process's peak memory "
        f"{opened['peak_mib']:.0f} MiB ({opened['peak_mib_before']:.0f} MiB "
        "before opening)"
    )


if __name__ == "__main__":
    main()
