"""The Snakefile's input, params and resources functions, cheap for Snakemake to apply.

Snakemake applies such a function once per job, and each time it looks up the
function's parameters (``inspect.signature``) up to three times: to see whether the
function derives from a job's input, output or threads, whether it takes a group id,
and which of ``input``, ``attempt``, ... to pass it. A no-op run over 2,000 recordings
inspected 46,000 signatures, 7-11 us each: 0.4-0.5 s of its 10-14 s. Snakemake reads a
function's parameters from the attribute that
:func:`snakemake.common.overwrite_function_params` sets, where it is set.
"""

import inspect


def parameters_inspected_once(function):
    """``function``, its parameters inspected here once for all its jobs.

    Sets Snakemake's parameter override to the function's own signature's
    parameters, so Snakemake sees exactly what it would have inspected; a decorator
    for every function a rule's ``input``, ``params`` or ``resources`` name.
    """
    from snakemake.common import overwrite_function_params

    overwrite_function_params(function, inspect.signature(function).parameters)
    return function
