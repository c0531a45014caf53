"""Recordings on S3 or HTTP(S), read through Snakemake's storage plugins.

At planning, each remote folder is listed once (S3: one paginated
``list_objects_v2`` of its prefix, through the S3 plugin's own client, so its
endpoint, region and credentials apply); the recordings, their companion files
and the BIDS layout come from that listing, and only small files the planning
needs (``participants.tsv``) are fetched. Each job then names its recording's
objects as ``storage(url)`` inputs: Snakemake fetches them together before the
job, under ``.snakemake/storage/<provider>/<bucket or host>/<key>`` (the
remote key layout, so a BIDS root stays a BIDS root), removes them after use
unless ``--keep-storage-local-copies``, and reruns a recording whose objects
changed (their modification time in the storage): an object it cannot fetch fails
that recording's jobs alone, naming its URL (Snakemake itself would stop the
run).

HTTP has no listing API: a folder is listed from the server's index pages
(Apache's, nginx's and python's http.server folder listings), one request per
folder, and Snakemake asks for each object's modification time itself. A URL
named alone (``input.files`` without wildcards, a recordings table) is not
listed: its companions (BrainVision ``.eeg`` and ``.vmrk``, EEGLAB ``.fdt``) are
asked for by name.
"""

import fnmatch
import hashlib
import json
import os
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import UserError

REMOTE_SCHEMES = ("s3://", "http://", "https://")
# why an object could not be fetched before a job, one file per local copy
# (see RemoteStorage._serve_jobs and require_fetched)
FETCH_ERRORS = Path(".snakemake/eegflow/fetch-errors")
_GLOB_CHARACTERS = re.compile(r"[*?[]")
# companions of a main file over HTTP, where nothing can be listed: asked for by name
_HTTP_COMPANION_EXTENSIONS = {
    ".vhdr": (".eeg", ".vmrk"),
    ".ahdr": (".eeg", ".vmrk"),
    ".set": (".fdt",),
}


def is_remote(path):
    """True for an ``s3://``, ``http://`` or ``https://`` URL."""
    return str(path).startswith(REMOTE_SCHEMES)


def parent_url(url):
    """The folder part of ``url`` (``s3://b/ds/sub-01/x.edf`` -> ``s3://b/ds/sub-01``)."""
    return url.rsplit("/", 1)[0]


def glob_match(pattern, url):
    """Whether ``url`` matches glob ``pattern`` as :func:`glob.glob` with
    ``recursive=True`` would match a path: ``*``, ``?`` and ``[...]`` within one
    folder level, ``**`` any number of levels (none included)."""

    def match(patterns, names):
        if not patterns:
            return not names
        if patterns[0] == "**":
            return any(match(patterns[1:], names[i:]) for i in range(len(names) + 1))
        return (
            bool(names)
            and fnmatch.fnmatchcase(names[0], patterns[0])
            and match(patterns[1:], names[1:])
        )

    return match(pattern.split("/"), url.split("/"))


def glob_folder(pattern):
    """The folder a glob pattern's matches all lie in: its part before the first
    wildcard, up to the last ``/``."""
    head = _GLOB_CHARACTERS.split(pattern, maxsplit=1)[0]
    return parent_url(head) if _GLOB_CHARACTERS.search(pattern) else parent_url(pattern)


def local_root(root, local_file):
    """The local copy of remote folder ``root``, given the local copy of a file
    below it; ``root`` itself when it is local (or empty: None).

    Snakemake's storage plugins keep the remote layout under their local prefix
    (``<prefix>/s3/<bucket>/<key>``, ``<prefix>/http/<host>/<path>``), so the folder
    ends where the root's ``<provider>/<bucket or host>/<key>`` ends in the file's
    path.
    """
    if not root or not is_remote(root):
        return root or None
    parsed = urlparse(root)
    provider = "s3" if parsed.scheme == "s3" else "http"
    suffix = f"/{provider}/{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/") + "/"
    local_file = str(local_file)
    position = local_file.find(suffix)
    if position < 0:
        raise UserError(
            f"{local_file}: not a local copy of a file under {root}; is it a "
            "Snakemake storage input?"
        )
    return local_file[: position + len(suffix) - 1]


def fetch_error_path(local_path):
    """Where the reason an object's fetch to ``local_path`` failed is kept."""
    key = os.path.normpath(str(local_path)).encode()
    return FETCH_ERRORS / f"{hashlib.sha256(key).hexdigest()[:24]}.txt"


def require_fetched(paths):
    """Refuse to run a job whose remote input could not be fetched.

    Parameters
    ----------
    paths : iterable of str
        The job's inputs (storage inputs are their local copies' paths).

    Raises
    ------
    UserError
        Naming the object's URL, why its fetch failed and what to do, for the
        first input that is not there and whose fetch failed.
    """
    for path in paths:
        record = fetch_error_path(path)
        if not os.path.exists(path) and record.exists():
            raise UserError(
                f"{record.read_text().strip()}; the other recordings go on (with "
                "--keep-going): check the URL, the connection and, for a private "
                "bucket, the credentials, then run the same command again"
            )


def by_folder(urls):
    """{folder URL: set of the URLs directly in it}."""
    folders = {}
    for url in urls:
        folders.setdefault(parent_url(url), set()).add(url)
    return folders


def named_by_url(fingerprints, local_main, url):
    """File fingerprints (``{"path", ...}``, made from a remote recording's local
    copies) with each path replaced by the object's URL: ``local_main`` is the copy
    of ``url``, its companions lie beside it. Unchanged for a local ``url``."""
    if not is_remote(url):
        return fingerprints
    local_folder = str(local_main).rsplit("/", 1)[0]
    return [
        {
            **fingerprint,
            "path": parent_url(url) + fingerprint["path"][len(local_folder) :],
        }
        for fingerprint in fingerprints
    ]


def companion_urls(url, folders):
    """The other objects a recording at ``url`` consists of, from the objects of
    its folder (``folders``: see :func:`by_folder`): ``<stem>.<any extension>``
    (BrainVision ``.eeg``/``.vmrk``, EEGLAB ``.fdt``) and a FIF file's split
    continuations ``<stem>-<digit>...fif``."""
    folder, name = url.rsplit("/", 1)
    stem = name.rsplit(".", 1)[0].removesuffix(".fif")
    split = re.compile(re.escape(stem) + r"-[0-9].*\.fif$")
    return sorted(
        other
        for other in folders.get(folder, ())
        if other != url
        and (
            other.rsplit("/", 1)[1].startswith(f"{stem}.")
            or (name.endswith(".fif") and split.match(other.rsplit("/", 1)[1]))
        )
    )


def bids_recording_urls(url, root, folders):
    """Every object of a BIDS data set at ``root`` that reading the recording at
    ``url`` with mne-bids may open: the recording's own files and sidecars
    (``<entities>_*``), its folder's files shared by the subject's recordings
    (electrodes, coordsystem: no task entity), its ``scans.tsv``, and the data
    set's top-level ``.json``/``.tsv`` files (``participants.tsv``, inherited
    sidecars). ``url`` comes first; ``folders``: the data set's objects by folder
    (see :func:`by_folder`)."""
    folder, name = url.rsplit("/", 1)
    entities = name.rsplit("_", 1)[0]
    scans_folder = parent_url(folder)
    needed = {
        folder: lambda other: other.startswith(f"{entities}_") or "_task-" not in other,
        scans_folder: lambda other: other.endswith("_scans.tsv"),
        root: lambda other: other.endswith((".json", ".tsv")),
    }
    return [
        url,
        *sorted(
            other
            for where, wanted in needed.items()
            for other in folders.get(where, ())
            if other != url and wanted(other.rsplit("/", 1)[1])
        ),
    ]


class RemoteStorage:
    """Remote objects seen through Snakemake's storage registry (``storage`` in a
    Snakefile): folders listed once each, job inputs as storage objects.

    Parameters
    ----------
    registry : snakemake.storage.StorageRegistry
        The workflow's ``storage``.
    log : callable
        Told (one line) when S3 is read without credentials.
    snapshot_dir : path-like or None
        Where the run's main Snakemake process keeps what it listed and fetched at
        planning, for the job processes of the same run to read instead of the
        network (see ``main_process``).
    main_process : bool
        False in a Snakemake started for jobs elsewhere (a SLURM job's, which parses
        the Snakefile again): there listings and planning files come from the
        snapshot the main process made, so a run lists a data set once, not once
        per SLURM job (a large bucket's listing takes many requests). That Snakemake
        still checks its own jobs' inputs in the storage.
    """

    def __init__(self, registry, log=print, snapshot_dir=None, main_process=True):
        self.registry = registry
        self.log = log
        self.snapshot_dir = None if snapshot_dir is None else Path(snapshot_dir)
        self.main_process = main_process
        self._listings = {}  # folder URL -> {object URL: (size, mtime)}
        self._folders = {}  # folder URL -> set of the object URLs in it (all listings)
        self._s3_ready = False
        self._jobs_checked = False  # see _check_settings_reach_jobs
        self._answers = {}  # (question, URL) -> the storage's answer (_listed_or_asked)

    def as_input(self, paths):
        """``paths`` as job inputs: a URL as Snakemake storage object, a local path as
        it is; a list stays a list."""
        if isinstance(paths, (list, tuple)):
            return [self.as_input(path) for path in paths]
        if not is_remote(paths):
            return paths
        self._prepare(paths)
        flagged = self.registry(paths)
        storage_object = flagged.flags["storage_object"]
        if not self._jobs_checked and paths.startswith("s3://"):
            self._jobs_checked = True  # the executor is known once jobs are planned
            self._check_settings_reach_jobs(storage_object.provider.settings)
        self._tell_planning(paths, storage_object)
        self._serve_jobs(storage_object)
        return flagged

    def _serve_jobs(self, storage_object):
        """Hook ``storage_object``'s plugin class for a recording's object: Snakemake's
        questions about it while running answered from the listing, and a failed
        fetch failing the jobs that need it, not the run.

        - While scheduling, Snakemake asks every waiting job's storage inputs whether
          they exist and their size, again at each job's end, and a kept local
          copy's modification time before each job: a request each, so that a run's
          requests grew with recordings squared (40 recordings: about 120 HEAD
          requests an object). The listing the run was planned from answers (S3's);
          where it has no sizes or times (HTTP's), the server's first answer does.
        - Snakemake fetches the storage inputs of all jobs it starts together, and
          one failure (a missing object, denied access, a dropped connection) stops
          the whole run. Here the failure is logged in one line naming the URL and
          kept (:func:`fetch_error_path`); the object's jobs then fail on it
          (:func:`require_fetched`) while the other recordings go on. A check the
          storage fails to answer before the fetch is left to the fetch to report.

        Snakemake makes new storage objects of the same class from those given
        (applying wildcards), so the plugin's class is hooked, once, for the URLs of
        recordings' objects alone (results written to a bucket are not).
        """
        plugin_class = type(storage_object)
        if "_eegflow_job_inputs" not in vars(plugin_class):
            plugin_class._eegflow_job_inputs = {}  # URL -> the RemoteStorage listing it
            plugin_class.managed_retrieve = _fetch_or_keep_the_error(
                plugin_class.managed_retrieve
            )
            plugin_class.managed_exists = _listed_or_asked(
                plugin_class.managed_exists, lambda listed: True, unanswered=True
            )
            plugin_class.managed_size = _listed_or_asked(
                plugin_class.managed_size, lambda listed: listed[0], unanswered=0
            )
            # (a modification time is never made up: one the storage does not give
            # stops the run with Snakemake's line naming the URL)
            plugin_class.managed_mtime = _listed_or_asked(
                plugin_class.managed_mtime, lambda listed: listed[1]
            )
        plugin_class._eegflow_job_inputs[storage_object.query] = self

    def listed_size(self, path):
        """The size (bytes) the listing gave for job input ``path`` (a storage
        object's local path); 0 for anything else."""
        storage_object = getattr(path, "storage_object", None)
        if storage_object is None:
            return 0
        return (self._listed_info(storage_object.query) or (0,))[0]

    def _listed_info(self, url):
        """(size, modification time) of ``url`` in a listing made, or None."""
        return next((lst[url] for lst in self._listings.values() if url in lst), None)

    def _tell_planning(self, url, storage_object):
        """Put what the listing says of ``url`` (it exists, its size and modification
        time) into Snakemake's planning cache, as a plugin's inventory does: the
        planning then asks the storage nothing per object (the S3 plugin's
        inventory lists one folder, then asks 2-3 requests per object)."""
        from snakemake_interface_storage_plugins.io import Mtime

        cache = getattr(self.registry.workflow, "iocache", None)  # made after parsing
        listed = self._listed_info(url)
        if listed is None or cache is None or not cache.active:
            return
        key = storage_object.cache_key()
        cache.exists_in_storage[key] = True
        cache.size[key] = listed[0]
        cache.mtime[key] = Mtime(storage=listed[1])

    def _storage_object(self, url):
        self._prepare(url)
        return self.registry(url).flags["storage_object"]

    def _prepare(self, url):
        """Before the first S3 object: without any credentials (neither Snakemake's
        --storage-s3-access-key nor boto3's environment, ~/.aws files or instance
        role), read anonymously, as public buckets (OpenNeuro) allow."""
        if self._s3_ready or not url.startswith("s3://"):
            return
        self._s3_ready = True
        import boto3
        import botocore

        provider = self.registry.s3(url).flags["storage_object"].provider
        if provider.settings.access_key or boto3.Session().get_credentials():
            return
        self.registry.register_storage("s3", signature_version=botocore.UNSIGNED)
        self.log(
            "No S3 credentials found: reading s3:// anonymously (public buckets "
            "only; give credentials for private ones, workflow/docs/inputs.md, 'Data on S3')"
        )

    def _check_settings_reach_jobs(self, settings):
        """On a cluster executor (SLURM), refuse S3 settings given as command-line
        options: its jobs get the environment, not those options, and would fail
        each asking the default endpoint without keys."""
        workflow = getattr(self.registry, "workflow", None)
        if (
            not self.main_process
            or getattr(workflow, "executor_plugin", None) is None  # not chosen yet
            or workflow.local_exec
        ):
            return
        for name in ("endpoint_url", "access_key", "secret_key"):
            variable = f"SNAKEMAKE_STORAGE_S3_{name.upper()}"
            if getattr(settings, name) and variable not in os.environ:
                option = f"--storage-s3-{name.replace('_', '-')}"
                raise UserError(
                    f"{option}: a cluster executor's jobs do not receive it, only the "
                    f"environment; set it as an environment variable instead "
                    f"(export {variable}=...) and leave the option out "
                    "(workflow/docs/inputs.md, 'Data on S3')"
                )

    def listing(self, folder):
        """{URL: (size in bytes, modification time)} of every object below ``folder``
        (at any depth), from one listing of its prefix, reused for any folder
        inside it."""
        prefix = f"{folder.rstrip('/')}/"
        objects = self._listed(folder)
        return {url: info for url, info in objects.items() if url.startswith(prefix)}

    def folders(self, folder):
        """The objects below ``folder`` by folder (see :func:`by_folder`), from the
        listing that covers it."""
        self._listed(folder)
        return self._folders

    def _listed(self, folder):
        """The listing (see :meth:`listing`) of the listed folder ``folder`` is in,
        made by one listing of ``folder`` if there is none."""
        objects = self._covering(folder)
        if objects is not None:
            return objects
        folder = folder.rstrip("/")
        objects = self._from_snapshot(folder, ".json")
        if objects is not None:
            objects = {url: info and tuple(info) for url, info in json.loads(objects)}
        else:
            lister = self._list_s3 if folder.startswith("s3://") else self._list_http
            objects = lister(folder)
            self._to_snapshot(folder, ".json", json.dumps(list(objects.items())))
        self._listings[folder] = objects
        for where, urls in by_folder(objects).items():
            self._folders.setdefault(where, set()).update(urls)
        return objects

    def _covering(self, folder):
        """The listing made of ``folder`` or of a folder it is in, or None."""
        folder = folder.rstrip("/")
        for listed, objects in self._listings.items():
            if folder == listed or folder.startswith(f"{listed}/"):
                return objects
        return None

    def _list_http(self, folder):
        """{URL: None} of the files below ``folder`` from the server's folder index
        pages, one request a folder (sizes and times are not in every index)."""
        objects, pending = {}, [folder]
        while pending:
            current = pending.pop()
            for name in self._index_names(current):
                if name.endswith("/"):
                    pending.append(f"{current}/{name.rstrip('/')}")
                else:
                    objects[f"{current}/{name}"] = None
        return objects

    def _index_names(self, folder):
        """The names (a folder's ending in ``/``) in ``folder``'s index page."""
        try:
            with self._storage_object(f"{folder}/").httpr() as response:
                response.raise_for_status()
                text = response.text
        except Exception as error:  # refused, unreachable, not found, denied
            raise UserError(
                f"{folder}/: cannot list this folder over HTTP ({error}); the server "
                "must show folder indexes (autoindex), else name each recording's "
                "URL in a recordings table"
            ) from None
        parser = _IndexLinks()
        parser.feed(text)
        return [
            unquote(href)
            for href in parser.hrefs
            # the index's own links: sort orders, parent folder, other sites
            if not href.startswith(("?", "/", "#", ".")) and ":" not in href
        ]

    def _list_s3(self, folder):
        self._prepare(folder)
        provider = self._storage_object(folder).provider
        parsed = urlparse(folder)
        prefix = f"{parsed.path.strip('/')}/".lstrip("/")
        paginator = provider.s3c.meta.client.get_paginator("list_objects_v2")
        objects = {}
        try:
            for page in paginator.paginate(Bucket=parsed.netloc, Prefix=prefix):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):
                        objects[f"s3://{parsed.netloc}/{item['Key']}"] = (
                            item["Size"],
                            item["LastModified"].timestamp(),
                        )
        except Exception as error:  # boto3's errors: no bucket, denied, unreachable
            raise UserError(
                f"{folder}: cannot list this S3 folder ({error}); check the URL, the "
                "credentials and --storage-s3-endpoint-url (workflow/docs/inputs.md, 'Data on S3')"
            ) from None
        return objects

    def exists(self, url):
        """Whether object ``url`` exists: from its folder's listing (always made on
        S3), else by asking for it over HTTP."""
        listed = self._covering(parent_url(url))
        if url.startswith("s3://") or listed is not None:
            return url in self._listed(parent_url(url))
        try:
            return self._storage_object(url).exists()
        except Exception as error:  # refused, unreachable, redirected
            raise UserError(
                f"{url}: cannot reach it ({error}); check the URL and the server"
            ) from None

    def glob(self, pattern):
        """The object URLs matching glob ``pattern``, from one listing."""
        if not _GLOB_CHARACTERS.search(pattern):
            return [pattern] if self.exists(pattern) else []
        return sorted(
            url
            for url in self.listing(glob_folder(pattern))
            if glob_match(pattern, url)
        )

    def recording_urls(self, url):
        """A recording's main file and its companion objects (see
        :func:`companion_urls`; over HTTP without a listing, the usual ones that
        exist)."""
        if url.startswith("s3://") or self._covering(parent_url(url)) is not None:
            return [url, *companion_urls(url, self.folders(parent_url(url)))]
        stem, extension = posixpath.splitext(url)
        companions = _HTTP_COMPANION_EXTENSIONS.get(extension.lower(), ())
        return [
            url,
            *(
                f"{stem}{companion}"
                for companion in companions
                if self.exists(f"{stem}{companion}")
            ),
        ]

    def local_copy(self, url):
        """Fetch a small object needed at planning (participants.tsv) to its local
        copy's path, through its storage plugin; return that path (in a job
        process: the main process's copy in the snapshot)."""
        snapshot = self._snapshot_path(url, f"-{posixpath.basename(url)}")
        if not self.main_process and snapshot is not None and snapshot.exists():
            return str(snapshot)
        storage_object = self._storage_object(url)
        path = storage_object.local_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            storage_object.retrieve_object()
        except Exception as error:
            raise UserError(
                f"{url}: cannot fetch it ({error}); check the URL and, for a private "
                "bucket, the credentials (workflow/docs/inputs.md, 'Data on S3')"
            ) from None
        self._to_snapshot(url, f"-{posixpath.basename(url)}", Path(path).read_bytes())
        return str(path)

    def _snapshot_path(self, url, suffix):
        """The snapshot file of ``url`` (a folder's listing, a fetched file), or None
        without a snapshot folder."""
        if self.snapshot_dir is None:
            return None
        return self.snapshot_dir / (
            hashlib.sha256(url.encode()).hexdigest()[:24] + suffix
        )

    def _from_snapshot(self, url, suffix):
        """The snapshot's text for ``url`` in a job process, else None."""
        path = self._snapshot_path(url, suffix)
        if self.main_process or path is None or not path.exists():
            return None
        return path.read_text()

    def _to_snapshot(self, url, suffix, content):
        """Keep ``content`` (str or bytes) for ``url`` in the main process's snapshot."""
        path = self._snapshot_path(url, suffix)
        if not self.main_process or path is None:
            return
        from .fileio import atomic_output

        with atomic_output(path) as tmp:
            tmp.write_bytes(content if isinstance(content, bytes) else content.encode())


def _innermost_cause(error):
    """``error``'s innermost cause, one line: Snakemake's errors print each cause they
    wrap on a line of its own (``Failed to retrieve ...`` then ``ClientError: ...``)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


_ASKED_ERROR = object()  # _listed_or_asked: re-raise what the storage raised


def _fetch_or_keep_the_error(fetch):
    """A storage object's ``managed_retrieve`` (``fetch``) that, for a recording's
    object, keeps and logs in one line why it could not be fetched instead of
    raising (see :meth:`RemoteStorage._serve_jobs`)."""

    async def managed_retrieve(storage_object):
        remote = storage_object._eegflow_job_inputs.get(storage_object.query)
        if remote is None:
            return await fetch(storage_object)
        record = fetch_error_path(storage_object.local_path())
        try:
            await fetch(storage_object)  # Snakemake's: removes a partial copy
        except Exception as error:
            failure = (
                f"{storage_object.query}: could not be fetched "
                f"({_innermost_cause(error)})"
            )
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(failure)
            remote.log(
                f"{failure}; the jobs that need it fail, the other recordings go on "
                "(with --keep-going)"
            )
        else:
            record.unlink(missing_ok=True)

    return managed_retrieve


def _listed_or_asked(ask, from_listing, unanswered=_ASKED_ERROR):
    """A storage object's ``managed_exists``, ``managed_size`` or ``managed_mtime``
    (``ask``) that, for a recording's object, answers ``from_listing(listed (size,
    mtime))`` when a listing has it (S3's), else asks the storage once a run and
    keeps its answer (HTTP's listing has no sizes or times), and says
    ``unanswered`` when that fails (denied, unreachable: the fetch asks again and
    keeps why, see :meth:`RemoteStorage._serve_jobs`), or raises by default."""

    async def managed_ask(storage_object):
        url = storage_object.query
        remote = storage_object._eegflow_job_inputs.get(url)
        if remote is None:
            return await ask(storage_object)
        listed = remote._listed_info(url)
        if listed is not None:
            return from_listing(listed)
        key = (ask.__name__, url)
        if key not in remote._answers:
            try:
                remote._answers[key] = await ask(storage_object)
            except Exception:
                if unanswered is _ASKED_ERROR:
                    raise
                return unanswered
        return remote._answers[key]

    return managed_ask


class _IndexLinks(HTMLParser):
    """The ``href`` of every link of an HTML page."""

    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)
