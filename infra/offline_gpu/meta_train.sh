#!/usr/bin/env bash
# Meta-train the hypernetwork on a GPU machine that has PyTorch but no internet and no docpatch install.
#
#   infra/offline_gpu/meta_train.sh MODEL OUT_DIR [SECONDS] [hypernet.train flags...]
#
# MODEL: the packaged base model's GGUF file, or a folder of its parts cut with `split` (joined in
# name order) when whatever carries files to the machine has a size cap; either may be xz-compressed
# (`xz -9`). Python packages the machine lacks (transformers' GGUF reader needs `gguf`) go as wheels
# in ./.whl (or $WHEELS). The script joins and converts the GGUF once, trains for SECONDS (default
# 420) on the GPU in batches of documents, starting from the shipped checkpoint unless the flags say
# otherwise, then evaluates the result on the held-out files.
# Half the training documents are real prose from the READMEs of the packages installed on that
# machine (hypernet.train's package_text_prob; train.log says how many passages it found; a machine
# with few packages repeats them: pass --package-text-prob 0 to train on synthetic documents alone).
# OUT_DIR gets: hypernet.safetensors (float16) + hypernet_config.json, metrics.jsonl, train.log,
# eval_short48.json, eval_mid32.json, eval_synthetic.json and questions.json (the eval files' names; with every answer). Run from the repository root.
# Environment: PYTHON (default python3), WHEELS (default .whl), DEVICE (default cuda), WORK_DIR (default /tmp/docpatch-gpu),
# EVAL_LIMIT (evaluate only the first N documents of each file; default all), EVAL_MODES (default base,context,adapter;
# base and context do not depend on the hypernetwork, so a rerun may ask for adapter alone; 'none' skips the evaluation,
# to spend a short lease on training and evaluate elsewhere).
set -euo pipefail
model=${1:?usage: $0 MODEL OUT_DIR [SECONDS] [train flags...]}
out=${2:?usage: $0 MODEL OUT_DIR [SECONDS] [train flags...]}
seconds=${3:-420}
shift $(( $# < 3 ? $# : 3 ))
py=${PYTHON:-python3}
work=${WORK_DIR:-/tmp/docpatch-gpu}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false DOCPATCH_CACHE_DIR=$work/cache
mkdir -p "$out" "$work"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
wheels=${WHEELS:-.whl}
if compgen -G "$wheels/*.whl" >/dev/null; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$work/site" "$wheels"/*.whl
  export PYTHONPATH=$PYTHONPATH:$work/site
fi
gguf=$model
if [ -d "$model" ]; then
  gguf=$work/model.gguf
  [ -f "$gguf" ] || { cat "$model"/* >"$gguf.tmp" && mv "$gguf.tmp" "$gguf"; }
fi
if [ "$(head -c 6 "$gguf" | od -An -tx1 | tr -d ' \n')" = fd377a585a00 ]; then  # xz-compressed
  plain=$work/model.unxz.gguf
  [ -f "$plain" ] || { $py -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'), 1 << 24)" \
    "$gguf" "$plain.tmp" && mv "$plain.tmp" "$plain"; }
  gguf=$plain
fi
$py -c "from hypernet import base_model; print('base model:', base_model.resolve('$gguf'))"
run=$work/run
timeout $((seconds + 300)) $py -m hypernet.train --base-model "$gguf" --out-dir "$run" --max-seconds "$seconds" \
  --device "${DEVICE:-cuda}" --batch-docs 32 --init-from hypernet/checkpoints/default --save-every 200 "$@" 2>&1 | tee "$out/train.log"
cp "$run/metrics.jsonl" "$out/"
$py - "$run/latest" "$out" <<'PY'
import json, os, sys
from safetensors.torch import load_file, save_file
src, dst = sys.argv[1:]
save_file({k: v.half() for k, v in load_file(os.path.join(src, "hypernet.safetensors")).items()},
          os.path.join(dst, "hypernet.safetensors"))
meta = json.load(open(os.path.join(src, "hypernet_config.json")))
json.dump(meta, open(os.path.join(dst, "hypernet_config.json"), "w"), indent=2, sort_keys=True)
print("checkpoint: step", meta["step"])
PY
[ "${EVAL_MODES:-}" = none ] && exit 0
for data in bench/data/eval_short48.jsonl bench/data/eval_mid32.jsonl bench/data/eval_synthetic.jsonl pipelines/sample_corpus/questions.jsonl; do
  $py - "$data" "$gguf" "$out" "$out/$(basename "$data" .jsonl).json" "${DEVICE:-cuda}" "${EVAL_LIMIT:-0}" "${EVAL_MODES:-base,context,adapter}" <<'PY'
import json, sys
from hypernet.evaluate import evaluate_file
data, gguf, ckpt, dest, device, limit, modes = sys.argv[1:]
modes = modes.split(",")
report = evaluate_file(data, modes, base_model_spec=gguf, hypernet_path=ckpt, device=device, limit=int(limit) or None)
json.dump(report, open(dest, "w"), indent=2)
print(data, {m: (round(report[m]["accuracy"], 3), round(report[m]["gold_nll"], 3)) for m in modes})
PY
done
