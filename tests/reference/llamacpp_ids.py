"""Reference token ids for SentencePiece GGUF vocabularies, from llama.cpp's own tokenizer.

    python llamacpp_ids.py LLAMA_TOKENIZE MODEL.gguf OUT.json

LLAMA_TOKENIZE is the `llama-tokenize` tool built from the llama.cpp sources that the
`llama-cpp-python` sdist on PyPI vendors (see benches/README or the note of the session
that wrote this: `cmake -B build && cmake --build build --target llama-tokenize`). Its ids
(BOS added as the file asks, special tokens in the text parsed, no escape processing) are written with the texts
into OUT.json, which tests/tokenizers.rs compares memscan's ids with, and which
hf_reference.py feeds to transformers for the Gemma 3 log-prob parity. The file is
committed: CI has no llama.cpp build.

The texts are written by other people, not by this project's generators:
- the texts of hf_reference.py (shared with every parity test);
- passages of the documentation, licences and source files installed in the venv
  (transformers, torch, numpy, …), cut at line ends;
- place names in many scripts from the phonenumbers package's geocoding data
  (Chinese, Japanese, Korean, Arabic, Russian, Greek, Thai, …);
- a few edge cases of whitespace and special tokens.
"""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def reference_texts():
    """hf_reference.py's scored texts, then its generation prompts."""
    spec = importlib.util.spec_from_file_location("hf_reference", os.path.join(HERE, "hf_reference.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(mod.TEXTS), list(mod.GEN_PROMPTS)


def venv_passages(n=80, max_bytes=700):
    """Passages of installed files, chosen by a hash of their path (stable across machines
    that install the same pinned packages)."""
    import transformers

    site = os.path.dirname(os.path.dirname(transformers.__file__))
    paths = []
    for root, _, files in os.walk(site):
        for f in files:
            if f.endswith((".py", ".md", ".txt", ".rst")) or f in ("LICENSE", "LICENSE.txt", "METADATA"):
                p = os.path.join(root, f)
                rel = os.path.relpath(p, site)
                if "__pycache__" in rel:
                    continue
                paths.append(rel)
    paths.sort(key=lambda r: hashlib.sha256(r.encode()).hexdigest())
    out = []
    for rel in paths:
        if len(out) >= n:
            break
        try:
            text = open(os.path.join(site, rel), encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        if len(text) < 200:
            continue
        start = int(hashlib.sha256(rel.encode()).hexdigest(), 16) % max(1, len(text) - max_bytes)
        start = text.find("\n", start) + 1
        chunk = text[start:start + max_bytes]
        chunk = chunk[: chunk.rfind("\n") + 1] if "\n" in chunk else chunk
        if chunk.strip():
            out.append({"source": rel, "text": chunk})
    return out


def place_names(per_lang=12):
    from phonenumbers.geodata import GEOCODE_DATA

    by_lang = {}
    for prefix in sorted(GEOCODE_DATA):
        for lang, name in GEOCODE_DATA[prefix].items():
            if lang != "en":
                names = by_lang.setdefault(lang, [])
                if name not in names and len(names) < 40:
                    names.append(name)
    out = []
    for lang in sorted(by_lang)[: per_lang * 3]:
        out.append({"source": f"phonenumbers geodata ({lang})", "text": ", ".join(by_lang[lang])})
    return out


EDGE = [
    "Hello world, this is a test.",
    "two  spaces, three   spaces,\ttab,\n\nblank line, trailing space ",
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
    "    indented code\n        more\n",
    "emoji \U0001F600\U0001F680 and CJK \u4e2d\u6587\u5b57 and \u0905\u0928\u0941\u091a\u094d\u091b\u0947\u0926",
    "\r\nWindows line\r\nends\r\n",
    "",
    " ",
    "\u2581already escaped\u2581",
]


def tokenize(tool, model, text):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        r = subprocess.run([tool, "-m", model, "-f", path, "--ids", "--no-escape", "--log-disable"],
                           capture_output=True, text=True, check=True)
    finally:
        os.unlink(path)
    line = [l for l in r.stdout.splitlines() if l.startswith("[")][-1]
    return json.loads(line)


def main():
    tool, model, out = sys.argv[1:4]
    texts, prompts = reference_texts()
    rows = [{"source": "hf_reference.py", "text": t} for t in texts]
    rows += [{"source": "hf_reference.py GEN_PROMPTS", "text": t} for t in prompts]
    rows += [{"source": "edge case", "text": t} for t in EDGE]
    rows += venv_passages()
    rows += place_names()
    for r in rows:
        r["ids"] = tokenize(tool, model, r["text"])
    sha = hashlib.sha256(open(model, "rb").read()).hexdigest()
    info = subprocess.run([tool, "--version"], capture_output=True, text=True)
    head = {"tokenizer": "llama.cpp llama-tokenize " + (info.stderr + info.stdout).strip().splitlines()[0],
            "model": os.path.basename(model), "model_sha256": sha}
    with open(out, "w", encoding="utf-8") as f:  # one text per line, for readable diffs
        f.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "texts": [\n')
        f.write(",\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
        f.write("\n]}\n")
    print(f"{len(rows)} texts -> {out}")


if __name__ == "__main__":
    main()
