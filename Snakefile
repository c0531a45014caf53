# EEG recordings -> preprocessed -> windows -> per-window features -> one table.
# Settings: config.yaml; the stages live in workflow/rules/, one file each.


configfile: "config.yaml"


# the landing page of `snakemake --report report.html qc`: the QC table first
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/synthetic.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/ica.smk"
include: "workflow/rules/windows.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/combine.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/derivatives.smk"
include: "workflow/rules/summary.smk"


rule all:
    default_target: True
    input:
        rules.combine.output.table,
        bids_derivative_targets(),


onsuccess:
    cancel_scheduler_timers(workflow.scheduler)
    replace_failed_run_tables()
    remember_run_config()


onerror:
    cancel_scheduler_timers(workflow.scheduler)
    report_failed_jobs()
