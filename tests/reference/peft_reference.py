"""Reference numbers from peft (LoRA adapters) for memscan's adapter tests.

    python peft_reference.py GENERATED_DIR [DEFAULT_GGUF]

GENERATED_DIR is where hf_reference.py put the tiny models and texts.jsonl. Writes there
(all from a fixed seed):
  adapters/<name>/            a PEFT LoRA adapter (adapter_config.json,
                              adapter_model.safetensors) saved by peft's save_pretrained
  adapters/reference.json     per adapter: its base, token ids and per-token log-probs of
                              texts.jsonl through peft's (unmerged) forward, CPU f32, and
                              greedy continuations

The adapters' B matrices are random (peft initialises them to zero, which would test
nothing), and each one exercises a different part of the format: several target
modules, rank/alpha patterns, rsLoRA, Conv1D layers with fan_in_fan_out, trained biases.
"""
import json
import os
import sys

import torch

torch.manual_seed(0)
torch.set_num_threads(max(1, os.cpu_count() or 1))


def logprobs(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids])).logits[0].float().log_softmax(-1)
    return [out[i, ids[i + 1]].item() for i in range(len(ids) - 1)]


def randomize(model, std):
    """LoRA B (and A) random, biases marked trainable nudged, so every part shows."""
    for name, p in model.named_parameters():
        if "lora_B" in name or "lora_A" in name:
            with torch.no_grad():
                p.copy_(torch.randn_like(p) * std)
        elif p.requires_grad and name.endswith(".bias"):
            with torch.no_grad():
                p.add_(torch.randn_like(p) * std)


GEN_PROMPTS = ["The quick brown fox", "Hello", "def fib(n):\n    return"]


def greedy(model, tok, add_special):
    out = []
    for p in GEN_PROMPTS:
        ids = tok(p, add_special_tokens=add_special).input_ids
        with torch.no_grad():
            g = model.generate(
                input_ids=torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=10,
                do_sample=False,
                eos_token_id=None,
                pad_token_id=0,
            )
        out.append({"prompt": ids, "new": g[0, len(ids):].tolist()})
    return out


def main():
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gen = sys.argv[1]
    texts = [json.loads(l)["text"] for l in open(os.path.join(gen, "texts.jsonl"))]
    out = os.path.join(gen, "adapters")
    os.makedirs(out, exist_ok=True)
    cases = {
        # name: (base folder or gguf, LoraConfig kwargs, std of the random weights)
        "tiny-llama": ("tiny-llama", dict(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                                          rank_pattern={"down_proj": 2}, alpha_pattern={"o_proj": 3}), 0.3),
        "tiny-qwen2": ("tiny-qwen2", dict(r=4, lora_alpha=16, use_rslora=True, target_modules=["q_proj", "v_proj"], bias="lora_only"), 0.3),
        "tiny-gpt2": ("tiny-gpt2", dict(r=4, lora_alpha=4, target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True, bias="all"), 0.3),
        "tiny-neox": ("tiny-neox", dict(r=2, lora_alpha=4, target_modules=["query_key_value", "dense"]), 0.3),
    }
    if len(sys.argv) > 2:
        cases["default-gguf"] = (sys.argv[2], dict(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "down_proj"]), 0.02)
    ref = {}
    for name, (base, kw, std) in cases.items():
        if base.endswith(".gguf"):
            d, f = os.path.split(base)
            tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
            model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager")
            add_special = False
        else:
            d = os.path.join(gen, base)
            tok = AutoTokenizer.from_pretrained(d)
            model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
            add_special = True
        peft_model = get_peft_model(model, LoraConfig(lora_dropout=0.0, **kw))
        randomize(peft_model, std)
        peft_model.eval()
        peft_model.save_pretrained(os.path.join(out, name), safe_serialization=True)
        rows = []
        for t in texts:
            ids = tok(t, add_special_tokens=add_special).input_ids
            rows.append({"ids": ids, "logprobs": logprobs(peft_model, ids)})
        ref[name] = {"base": base, "rows": rows, "greedy": greedy(peft_model, tok, add_special)}
    with open(os.path.join(out, "reference.json"), "w") as fh:
        json.dump(ref, fh)


if __name__ == "__main__":
    main()
