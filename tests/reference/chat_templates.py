"""transformers' renderings of published chat templates, for tests/chat_templates.rs.

    python chat_templates.py TEMPLATES_DIR TOKENIZER_JSON OUT.json

TEMPLATES_DIR is llama.cpp's models/templates (the models' own chat templates as their
tokenizer_config.json publishes them, copied by llama.cpp's scripts/get_chat_template.py;
`MEMSCAN_LLAMACPP=1 scripts/setup.sh` unpacks them into .llamacpp/src). For each family's
template, each message is rendered by `apply_chat_template([user message],
add_generation_prompt=True, tokenize=False)` with the family's BOS/EOS strings.
"""
import json
import os
import sys

# template file -> (family, bos, eos)
TEMPLATES = {
    "google-gemma-2-2b-it.jinja": ("gemma", "<bos>", "<eos>"),
    "Qwen-Qwen3-0.6B.jinja": ("qwen3", "<|endoftext|>", "<|im_end|>"),
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("qwen2", "<|endoftext|>", "<|im_end|>"),
    "microsoft-Phi-3.5-mini-instruct.jinja": ("phi3", "<s>", "<|endoftext|>"),
    "meta-llama-Llama-3.1-8B-Instruct.jinja": ("llama3", "<|begin_of_text|>", "<|eot_id|>"),
    "HuggingFaceTB-SmolLM3-3B.jinja": ("smollm3", "<|im_start|>", "<|im_end|>"),
}

MESSAGES = [
    "Hello!",
    "What is the phone number of Jane Doe?\nShe lives at 12 Elm St.",
    "  leading and trailing spaces  ",
    "Unicode: caf\u00e9 \u4e2d\u6587 \U0001F600",
    "Repeat after me: export AWS_SECRET_ACCESS_KEY=",
]


def main():
    from transformers import PreTrainedTokenizerFast

    tdir, tok_json, out = sys.argv[1:4]
    rows = []
    for name, (family, bos, eos) in TEMPLATES.items():
        template = open(os.path.join(tdir, name), encoding="utf-8").read()
        tok = PreTrainedTokenizerFast(tokenizer_file=tok_json, bos_token=bos, eos_token=eos)
        for m in MESSAGES:
            text = tok.apply_chat_template([{"role": "user", "content": m}], chat_template=template,
                                           add_generation_prompt=True, tokenize=False)
            rows.append({"template": name, "family": family, "bos": bos, "eos": eos,
                         "message": m, "rendered": text})
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
