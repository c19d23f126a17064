"""Text-to-LoRA training data: tasks described in plain words, with inputs and a checker for the outputs.

A task family (say "reply as JSON with given keys") has description templates in varied words, draws its
params (the keys) and short inputs from word lists, and has a checker that decides from an output alone
whether the task was followed. The eval split holds out families (`eval_only`) and, for the families both
splits share, the last description wordings, so evaluation measures following instructions phrased, and
of kinds, that training never showed. The prompts that pair a description with an input are in
hypernet.prompts (`task_context_prompt`, `task_student_prompt`, `clean_task_output`).

Modules: `words` (word lists and the language checkers' stop words), `inputs` (the input generators),
`checks` (the checkers), `family` (the `TaskFamily` dataclass and how a description is filled in),
`families_form`, `families_answer` and `families_eval` (the families: the form of a reply, the kind of
answer, and the eval-only ones), `families` (all of them, by name) and `examples` (`TaskExample`,
`make_task`, the JSONL writer and reader). Two modules use the base model and are imported by name, so
this package stays free of torch: `evaluate` (outputs in base, context and adapter mode, and the share
the checkers accept by group and family) and `distill` (the teacher's accepted outputs as the document
trainer's `Example` records, the description in the document's place).
"""
from hypernet.tasks.examples import TaskExample, make_task, read_jsonl, write_jsonl
from hypernet.tasks.families import FAMILY_BY_NAME, TASK_FAMILIES, families_for
from hypernet.tasks.family import SPLITS, TaskFamily

__all__ = ["FAMILY_BY_NAME", "SPLITS", "TASK_FAMILIES", "TaskExample", "TaskFamily", "families_for", "make_task",
           "read_jsonl", "write_jsonl"]
