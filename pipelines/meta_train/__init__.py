"""Meta-training the hypernetwork in the pipeline: what the meta-train flow (pipelines.flows.meta_train_flow)
does around the Ray Train job of workers/meta_train.py, apart from Prefect.
- job.py     MetaTrainJob (the job's knobs and checks), resolving it, evaluating the checkpoints against the
             current hypernetwork, the decision, the lineage a registered hypernetwork records
- corpus.py  meta-training on a corpus being patched: its split, its adapters as dense targets, its own
             QA, the decision on its held-out split, the record of the last corpus run
- report.py  the run's report: the JSON record and the PNG drawn from it
"""
