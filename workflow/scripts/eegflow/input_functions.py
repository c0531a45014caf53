"""The Snakefile's input, params and resources functions, cheap for Snakemake to apply.

Snakemake applies such a function once per job, and each time it looks up the
function's parameters (``inspect.signature``) up to three times: to see whether the
function derives from a job's input, output or threads, whether it takes a group id,
and which of ``input``, ``attempt``, ... to pass it. A no-op run over 2,000 recordings
inspected 46,000 signatures, 7-11 us each: 0.4-0.5 s of its 10-14 s. Snakemake reads a
function's parameters from the attribute that
:func:`snakemake.common.overwrite_function_params` sets, where it is set.

A resource's function is applied through Snakemake's own ``Resource.evaluate``, whose
parameters Snakemake looked up three times per resource and job as well (7.8 % of
`snakemake -n` over 4,000 recordings, py-spy): :func:`resource_evaluation_inspected_once`.
"""

import inspect
import types


def parameters_inspected_once(function):
    """``function``, its parameters inspected here once for all its jobs.

    Sets Snakemake's parameter override to the function's own signature's
    parameters, so Snakemake sees exactly what it would have inspected; a decorator
    for every function a rule's ``input``, ``params`` or ``resources`` name.
    """
    from snakemake.common import overwrite_function_params

    overwrite_function_params(function, inspect.signature(function).parameters)
    return function


def resource_evaluation_inspected_once():
    """Snakemake's ``Resource.evaluate``, its parameters inspected here once for every
    resource of every job.

    Snakemake applies each job's resources (``mem_mb``, ``runtime``, its default
    ``tmpdir``, ...) as ``Resource(...).evaluate``, a method bound anew each time,
    and inspects its parameters to choose what to pass it. They are those of the
    method bound to any object: set as its function's parameter override (a bound
    method reads its function's attributes), what Snakemake sees is unchanged.
    """
    from snakemake.common import overwrite_function_params
    from snakemake.resources import Resource

    bound = types.MethodType(Resource.evaluate, object())
    overwrite_function_params(Resource.evaluate, inspect.signature(bound).parameters)
