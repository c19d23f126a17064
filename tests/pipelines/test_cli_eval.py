"""`docpatch eval` and `docpatch train` end to end on the tiny model."""
import json

from pipelines.cli import main


def test_eval_command_prints_a_json_report(tiny_model_path, tiny_hypernet_path, tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    data.write_text(json.dumps({"id": "d1", "text": "Quillton is the capital of Zorbania.",
                                "qa": [{"q": "What is the capital of Zorbania?", "a": "Quillton"}]}) + "\n")
    code = main(["eval", "--data", str(data), "--modes", "base,context,adapter", "--json",
                 "--base-model", tiny_model_path, "--hypernet", tiny_hypernet_path])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_docs"] == 1 and report["n_questions"] == 1
    assert set(report) >= {"base", "context", "adapter"}
    assert report["adapter"]["generate_seconds_per_doc"] > 0


def test_eval_window_len_overrides_the_checkpoint(tiny_model_path, tiny_hypernet_path, tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    text = "Quillton is the capital of Zorbania. " * 4  # ~40 tokens: three windows of 16
    data.write_text(json.dumps({"id": "d1", "text": text, "qa": [{"q": "What is the capital?", "a": "Quillton"}]}) + "\n")
    args = ["eval", "--data", str(data), "--modes", "adapter", "--json", "--base-model", tiny_model_path,
            "--hypernet", tiny_hypernet_path]
    assert main(args + ["--window-len", "16"]) == 0
    windowed = json.loads(capsys.readouterr().out)
    assert main(args + ["--window-len", "0"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert windowed["hypernet"]["window_len"] == 16 and plain["hypernet"]["window_len"] == 0
    assert windowed["adapter"]["gold_nll"] != plain["adapter"]["gold_nll"]
    assert main(args + ["--window-len", "16", "--window-combine", "sqrt"]) == 0
    scaled = json.loads(capsys.readouterr().out)
    assert windowed["hypernet"]["window_combine"] == "sum" and scaled["hypernet"]["window_combine"] == "sqrt"
    assert scaled["adapter"]["gold_nll"] != windowed["adapter"]["gold_nll"]
    assert main(args + ["--window-len", "1"]) == 2  # 15 chunks x 64 windows x rank 8: beyond serving ranks
    assert "largest serving rank" in capsys.readouterr().err


def test_eval_read_dtype_reaches_the_generator(tiny_model_path, tiny_hypernet_path, tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    text = "Quillton is the capital of Zorbania, founded in 1712 by Marta Oyelaran. " * 2
    data.write_text(json.dumps({"id": "d1", "text": text, "qa": [{"q": "What is the capital?", "a": "Quillton"}]}) + "\n")
    args = ["eval", "--data", str(data), "--modes", "adapter", "--json", "--base-model", tiny_model_path,
            "--hypernet", tiny_hypernet_path, "--read-dtype"]
    assert main(args + ["model"]) == 0
    exact = json.loads(capsys.readouterr().out)
    assert main(args + ["bfloat16"]) == 0
    fast = json.loads(capsys.readouterr().out)
    assert exact["hypernet"]["read_autocast"] is None and fast["hypernet"]["read_autocast"] == "bfloat16"
    assert exact["adapter"]["gold_nll"] != fast["adapter"]["gold_nll"]


def test_eval_rejects_unknown_modes(tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    data.write_text("{}\n")
    assert main(["eval", "--data", str(data), "--modes", "magic"]) == 2
    assert "unknown --modes" in capsys.readouterr().err


def test_train_command_writes_a_resumable_checkpoint(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--steps", "2", "--save-every", "1", "--json",
                 "--base-model", tiny_model_path]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 2
    assert json.loads((out / "latest" / "train_state.json").read_text())["step"] == 2


def test_eval_finetune_flags_reach_the_baseline(tiny_model_path, tiny_hypernet_path, tmp_path, capsys):
    data = tmp_path / "eval.jsonl"
    data.write_text(json.dumps({"id": "d1", "text": "Quillton is the capital of Zorbania. Its mayor is Edda Vrane.",
                                "qa": [{"q": "Who is the mayor?", "a": "Edda Vrane"}]}) + "\n")
    args = ["eval", "--data", str(data), "--modes", "finetune", "--json", "--base-model", tiny_model_path,
            "--hypernet", tiny_hypernet_path]
    assert main(args + ["--finetune-steps", "2", "--finetune-self-questions", "0"]) == 0
    report = json.loads(capsys.readouterr().out)["finetune"]
    assert report["steps"] == 2 and report["self_questions"] == 0
    assert main(args + ["--finetune-steps", "-1"]) == 2
    assert "counts of 0 or more" in capsys.readouterr().err


def test_eval_help_states_the_finetune_defaults(capsys):
    """The help text names FinetuneConfig's defaults without importing torch to read them."""
    from hypernet.evaluate import FinetuneConfig

    try:
        main(["eval", "--help"])
    except SystemExit:
        pass
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {FinetuneConfig.steps})" in text
    assert f"default: {FinetuneConfig.self_questions})" in text
