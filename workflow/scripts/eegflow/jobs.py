"""What every job script does around its one call: logging and error reporting."""

import contextlib
import logging
import sys

from . import UserError


@contextlib.contextmanager
def job_logging(log_path):
    """Log to ``log_path`` (and stderr); turn a :class:`UserError` into exit 1.

    A user error is printed as one clear line, without a traceback; any other
    exception is logged with its traceback and re-raised.
    """
    handlers = [logging.FileHandler(log_path, mode="w"), logging.StreamHandler()]
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    try:
        yield
    except UserError as error:
        logging.getLogger("eegflow").error("%s", error)
        sys.exit(1)
    except Exception:
        logging.getLogger("eegflow").exception("job failed")
        raise
