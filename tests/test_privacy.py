"""Privacy by default: a subject's identity in a header leaves no trace in any output."""

import datetime
import struct

import edfio
import mne
import numpy as np

from conftest import run_snakemake, write_config

NAME, HOSPITAL_ID, TECHNICIAN = ("Jane", "Doe"), "MRN4711", "DrWho"
BIRTHDAY, RECORDED = (
    datetime.date(1971, 3, 14),
    datetime.datetime(2024, 5, 6, 13, 45, 12),
)


def write_identified_edf(path):
    """An EDF+ whose header holds a name, a hospital id, a birthday and a start date."""
    rng = np.random.default_rng(0)
    signals = [
        edfio.EdfSignal(
            rng.normal(0, 10, 128 * 20),
            sampling_frequency=128,
            label=name,
            physical_dimension="uV",
            physical_range=(-500, 500),
        )
        for name in ("Fz", "Cz", "Pz")
    ]
    edf = edfio.Edf(
        signals,
        patient=edfio.Patient(
            code=HOSPITAL_ID, sex="F", birthdate=BIRTHDAY, name="_".join(NAME)
        ),
        recording=edfio.Recording(
            startdate=RECORDED.date(), investigator_technician_code=TECHNICIAN
        ),
        starttime=RECORDED.time(),
    )
    edf.write(path)


def identifying_bytes():
    """The identity as text, and the dates as FIF stores them (big-endian int32)."""
    texts = [*NAME, HOSPITAL_ID, TECHNICIAN, "1971-03-14", "2024-05-06", "14.03.71"]
    seconds = int(RECORDED.replace(tzinfo=datetime.timezone.utc).timestamp())
    julian_birthday = BIRTHDAY.toordinal() + 1721425  # FIF's birthday: a Julian day
    return [t.encode() for t in texts] + [
        struct.pack(">i", v) for v in (seconds, julian_birthday)
    ]


def traces(folder):
    """{file: identifying byte strings found in it} under ``folder``."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            hits = [token for token in identifying_bytes() if token in content]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def test_identity_leaves_no_trace_in_outputs_or_logs(tmp_path):
    (tmp_path / "data").mkdir()
    write_identified_edf(tmp_path / "data" / "night.edf")
    source = mne.io.read_raw_edf(tmp_path / "data" / "night.edf", verbose="error")
    assert source.info["subject_info"]["last_name"] == "Doe"  # MNE reads the identity

    write_config(tmp_path, {"input": {"source": "files", "files": ["data/*.edf"]}})
    result = run_snakemake(tmp_path)
    assert traces(tmp_path / "results") == {}
    assert traces(tmp_path / ".snakemake") == {}
    output = (result.stdout + result.stderr).encode()
    assert not [token for token in identifying_bytes() if token in output]
    info = mne.io.read_info(
        tmp_path / "results" / "preprocessed" / "night_raw.fif", verbose="error"
    )
    assert info["meas_date"] == datetime.datetime(
        2000, 1, 1, tzinfo=datetime.timezone.utc
    )
    # MNE shifts the birthday with the date: the age at recording is kept
    age = (RECORDED.date() - BIRTHDAY).days
    assert (datetime.date(2000, 1, 1) - info["subject_info"]["birthday"]).days == age

    # the check can see a trace: with anonymize off, names, id and both dates are there
    write_config(
        tmp_path,
        {
            "input": {"source": "files", "files": ["data/*.edf"]},
            "preprocess": {"anonymize": False},
        },
    )
    run_snakemake(tmp_path)
    found = traces(tmp_path / "results")["preprocessed/night_raw.fif"]
    tokens = identifying_bytes()
    assert found == [tokens[0], tokens[1], tokens[2], tokens[-2], tokens[-1]]
