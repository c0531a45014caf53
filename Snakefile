# EEG recordings -> preprocessed -> windows -> per-window features -> one table.
# Settings: config.yaml; the stages live in workflow/rules/, one file each.


configfile: "config.yaml"


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
    replace_failed_run_tables()


onerror:
    report_failed_jobs()
