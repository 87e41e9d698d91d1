"""GGUF files of the tiny random-weight models, written by llama.cpp's own converter.

    python llamacpp_gguf.py LLAMACPP_SRC GENERATED OUTDIR

LLAMACPP_SRC holds llama.cpp's `convert_hf_to_gguf.py`, `conversion/` and `gguf-py/` (from
the llama-cpp-python sdist, which `MEMSCAN_LLAMACPP=1 scripts/setup.sh` unpacks into
.llamacpp/). GENERATED is hf_reference.py's output folder. For every tiny model of an
architecture llama.cpp converts, OUTDIR/<name>.gguf is written in f32, so memscan reads the
tensor names, layouts and metadata llama.cpp writes (its q/k row permutation for Llama,
Gemma's norm weights stored as 1 + w, Phi-3's fused projections, …) and must give the
log-probs transformers gave on the safetensors.

The tiny models carry a byte-level BPE tokenizer trained by hf_reference.py, which llama.cpp
does not know by hash, and none has a SentencePiece `tokenizer.model`: the converter is told
to write every vocabulary as GPT-2 BPE with the default pre-tokenizer (that is what the
tokenizer is), and whether it adds BOS.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

# name -> whether its tokenizer adds BOS (as in hf_reference.py)
MODELS = {
    "tiny-llama": True,
    "tiny-qwen2": False,
    "tiny-qwen3": False,
    "tiny-phi3": True,
    "tiny-olmo2": False,
    "tiny-gemma2": True,
    "tiny-gemma3": True,
    "tiny-gpt2": False,
    "tiny-neox": False,
}


def convert(src, model_dir, out):
    """Runs in a child process: llama.cpp's converter with the vocabulary written as BPE."""
    sys.path.insert(0, os.path.join(src, "gguf-py"))
    sys.path.insert(0, src)
    import importlib.util

    spec = importlib.util.spec_from_file_location("convert_hf_to_gguf", os.path.join(src, "convert_hf_to_gguf.py"))
    conv = importlib.util.module_from_spec(spec)
    sys.modules["convert_hf_to_gguf"] = conv
    spec.loader.exec_module(conv)
    import conversion.base as cb

    cb.TextModel.get_vocab_base_pre = lambda self, tokenizer: "default"
    lookup = conv.get_model_class

    def get_model_class(name, mmproj=False):
        cls = lookup(name, mmproj)
        cls.set_vocab = lambda self: self._set_vocab_gpt2()
        return cls

    conv.get_model_class = get_model_class
    sys.argv = ["convert_hf_to_gguf.py", model_dir, "--outtype", "f32", "--outfile", out]
    conv.main()


def main():
    if sys.argv[1] == "--one":
        convert(*sys.argv[2:5])
        return
    src, generated, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    for name, bos in MODELS.items():
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, name)
            shutil.copytree(os.path.join(generated, name), d)
            # AutoTokenizer would pick the family's tokenizer class (Gemma's adds tokens)
            with open(os.path.join(d, "tokenizer_config.json"), "w") as fh:
                json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": bos,
                           "bos_token": "<s>", "eos_token": "</s>"}, fh)
            cfg_path = os.path.join(d, "config.json")
            cfg = json.load(open(cfg_path))
            if cfg.get("model_type") == "gpt2":
                cfg.setdefault("n_ctx", cfg.get("n_positions", 1024))
            json.dump(cfg, open(cfg_path, "w"))
            out = os.path.join(outdir, name + ".gguf")
            r = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", src, d, out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write(r.stderr[-3000:])
                raise SystemExit(f"converting {name} failed")
    with open(os.path.join(outdir, "done"), "w") as fh:
        fh.write("\n".join(MODELS) + "\n")


if __name__ == "__main__":
    main()
