"""Reference numbers from Hugging Face transformers for memscan's parity tests.

    python hf_reference.py OUTDIR

Writes into OUTDIR (all from a fixed seed):
  tiny-gpt2/, tiny-llama/, tiny-qwen2/, tiny-neox/, tiny-qwen3/, tiny-phi3/, tiny-olmo2/,
  tiny-gemma2/, tiny-gemma3/            random-weight models saved as safetensors
                                        with a byte-level BPE tokenizer trained here
  texts.jsonl                           the texts scored
  reference.json                        per model: token ids and per-token log-probs (CPU, f32)
  quants.gguf, quants.json              one tensor per ggml type with random blocks, and the
                                        values gguf-py dequantizes them to
The default GGUF model is scored too when its path is given as the second argument, and
Gemma 3 270M (GGUF) when its path is given as the third: fed the token ids that llama.cpp's
tokenizer gave for the same texts (tests/data/gemma3_llamacpp_ids.json, see
tests/reference/llamacpp_ids.py), since transformers' own GGUF conversion of that
SentencePiece vocabulary splits words differently.
"""
import json
import os
import sys

import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(max(1, os.cpu_count() or 1))

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Call me at +1 (555) 010-9999 or write to jane.doe@example.com before 2024-03-01.",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "Numbers: 12345 67890 3.14159 1,000,000 and 0x1F.",
    "Unicode: caf\u00e9 na\u00efve \u4e2d\u6587 \u0440\u0443\u0441\u0441\u043a\u0438\u0439 \U0001F600 \u2603",
    "   leading spaces and\ttabs\n\nand blank lines   ",
    "<|im_start|>user\nHello!<|im_end|>",
    "a",
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software "
    "and associated documentation files (the \"Software\"), to deal in the Software without "
    "restriction, including without limitation the rights to use, copy, modify, merge, publish, "
    "distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the "
    "Software is furnished to do so, subject to the following conditions. " * 2,
    "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]


def train_tokenizer(outdir, bos):
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers, processors

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TEXTS * 5, trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
        )
    os.makedirs(outdir, exist_ok=True)
    tok.save(os.path.join(outdir, "tokenizer.json"))
    return tok


def make_models(out):
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, Qwen2Config, Qwen2ForCausalLM
    from transformers import Qwen3Config, Qwen3ForCausalLM, Phi3Config, Phi3ForCausalLM
    from transformers import Olmo2Config, Olmo2ForCausalLM, Gemma2Config, Gemma2ForCausalLM
    from transformers import Gemma3TextConfig, Gemma3ForCausalLM

    made = {}
    specs = {
        "tiny-gpt2": (GPT2Config(vocab_size=400, n_positions=1024, n_embd=64, n_layer=2, n_head=4), GPT2LMHeadModel, False),
        "tiny-llama": (
            LlamaConfig(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                        rope_theta=10000.0, tie_word_embeddings=False),
            LlamaForCausalLM, True),
        "tiny-qwen2": (
            Qwen2Config(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                        tie_word_embeddings=True),
            Qwen2ForCausalLM, False),
        "tiny-neox": (
            GPTNeoXConfig(vocab_size=400, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
                          num_attention_heads=4, max_position_embeddings=1024, rotary_pct=0.25),
            GPTNeoXForCausalLM, False),
        # head_dim 32 is not hidden/heads (16): Qwen3 configs give it explicitly
        "tiny-qwen3": (
            Qwen3Config(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                        max_position_embeddings=1024, tie_word_embeddings=False),
            Qwen3ForCausalLM, False),
        # LongRoPE as Phi-3-mini-128k configures it, with the pretraining context cut to 16
        # positions so that the longer texts take the long factors and the short ones not
        "tiny-phi3": (
            Phi3Config(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                       original_max_position_embeddings=16, pad_token_id=0, bos_token_id=1,
                       eos_token_id=2, tie_word_embeddings=False,
                       rope_scaling={"type": "longrope",
                                     "short_factor": [1.0, 1.1, 1.3, 1.6, 2.0, 2.5, 3.1, 3.8],
                                     "long_factor": [1.2, 1.9, 3.0, 4.6, 7.0, 10.5, 15.7, 23.0]}),
            Phi3ForCausalLM, True),
        "tiny-olmo2": (
            Olmo2Config(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                        pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
            Olmo2ForCausalLM, False),
        # local layers see 8 keys (the longer texts run past it); soft caps low enough
        # (3 and 5 instead of 50 and 30) that leaving one out changes the numbers;
        # head_dim 32 (not hidden/heads = 16) and query_pre_attn_scalar = head_dim as in
        # the released models but 27B, which llama.cpp's GGUF reading assumes
        "tiny-gemma2": (
            Gemma2Config(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                         query_pre_attn_scalar=32, sliding_window=8, max_position_embeddings=1024,
                         attn_logit_softcapping=3.0, final_logit_softcapping=5.0,
                         pad_token_id=0, bos_token_id=1, eos_token_id=2),
            Gemma2ForCausalLM, True),
        # five local layers, then a global one (Gemma 3's pattern, which llama.cpp assumes)
        "tiny-gemma3": (
            Gemma3TextConfig(vocab_size=400, hidden_size=64, intermediate_size=128, num_hidden_layers=6,
                             num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                             query_pre_attn_scalar=32, sliding_window=8, max_position_embeddings=1024,
                             rope_theta=1e6, rope_local_base_freq=1e4,
                             pad_token_id=0, bos_token_id=1, eos_token_id=2),
            Gemma3ForCausalLM, True),
    }
    for name, (cfg, cls, bos) in specs.items():
        d = os.path.join(out, name)
        model = cls(cfg).eval()
        with torch.no_grad():  # bigger than default init, so the logits are far from uniform
            for p in model.parameters():
                if p.dim() >= 1:
                    p.add_(torch.randn_like(p) * 0.05)
        model.save_pretrained(d, safe_serialization=True)
        train_tokenizer(d, bos)
        made[name] = d
    return made


def logprobs(model, ids):
    with torch.no_grad():
        x = torch.tensor([ids])
        logits = model(x).logits.float()
        lp = torch.log_softmax(logits[0, :-1], dim=-1)
        return lp.gather(1, x[0, 1:, None])[:, 0].tolist()


def layer_of(name):
    """Transformer block index of a parameter name, or None."""
    parts = name.split(".")
    for key in ("layers", "h"):
        if key in parts:
            i = parts.index(key)
            if i + 1 < len(parts) and parts[i + 1].isdigit():
                return int(parts[i + 1])
    return None


def signals(model, ids):
    """Per-token distribution statistics (float64), attention entropy, gradient norms."""
    x = torch.tensor([ids])
    out = {}
    with torch.no_grad():
        res = model(x, output_attentions=True)
        logits = res.logits[0, :-1].double()
        lp = torch.log_softmax(logits, -1)
        p = lp.exp()
        tgt = x[0, 1:]
        mu = (p * lp).sum(-1)
        sigma = ((p * (lp - mu[:, None]) ** 2).sum(-1)).sqrt()
        conf = p.max(-1).values
        p_true = p.gather(1, tgt[:, None])[:, 0]
        others = p.clone()
        others.scatter_(1, tgt[:, None], -1.0)
        margin = p_true - others.max(-1).values
        out.update(mu=mu.tolist(), sigma=sigma.tolist(), confidence=conf.tolist(), margin=margin.tolist())
        layers = []
        for a in res.attentions:  # [1, H, T, T]
            a = a[0].double()
            ent = -(torch.special.xlogy(a, a)).sum(-1)  # [H, T]
            layers.append(ent.mean().item())
        out["attn_entropy_layers"] = layers
    model.zero_grad(set_to_none=True)
    logits = model(x).logits[0, :-1].float()
    loss = -torch.log_softmax(logits, -1).gather(1, x[0, 1:, None]).mean()
    loss.backward()
    total, per = 0.0, {}
    for name, prm in model.named_parameters():
        if prm.grad is None:
            continue
        sq = prm.grad.double().pow(2).sum().item()
        total += sq
        li = layer_of(name)
        if li is not None:
            per[li] = per.get(li, 0.0) + sq
    out["grad_norm"] = total ** 0.5
    out["grad_norm_layers"] = [per[i] ** 0.5 for i in sorted(per)]
    model.zero_grad(set_to_none=True)
    return out


def load_tokenizer(d):
    """The tokenizer.json of a tiny model. The families added later are read as the plain
    file: AutoTokenizer would pick their family's tokenizer class (Gemma's adds its
    chat-turn tokens, past the 400 ids of these models)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if os.path.basename(d) in ("tiny-gpt2", "tiny-llama", "tiny-qwen2", "tiny-neox"):
        return AutoTokenizer.from_pretrained(d)
    return PreTrainedTokenizerFast(tokenizer_file=os.path.join(d, "tokenizer.json"))


def reference_hf(d):
    from transformers import AutoModelForCausalLM

    tok = load_tokenizer(d)
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    rows = []
    for t in TEXTS:
        ids = tok(t).input_ids
        row = {"ids": ids, "logprobs": logprobs(model, ids)}
        if len(ids) > 1:
            row.update(signals(model, ids))
        rows.append(row)
    return rows


def reference_gguf(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d, f = os.path.split(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager").eval()
    rows = []
    for i, t in enumerate(TEXTS):
        # transformers' GGUF tokenizer converter prepends BOS whatever the file's
        # tokenizer.ggml.add_bos_token says (False for SmolLM2); memscan follows the file.
        ids = tok(t, add_special_tokens=False).input_ids
        row = {"ids": ids, "logprobs": logprobs(model, ids)}
        if len(ids) > 1 and i < 4:  # the full set of signals on a few texts (backward is slow)
            row.update(signals(model, ids))
        rows.append(row)
    return rows


def llamacpp_ids(source):
    """llama.cpp's ids of hf_reference.py's texts (`source` "hf_reference.py") or generation
    prompts ("hf_reference.py GEN_PROMPTS") for Gemma 3, from the committed file."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "gemma3_llamacpp_ids.json")
    with open(path, encoding="utf-8") as fh:
        rows = json.load(fh)["texts"]
    return [r["ids"] for r in rows if r["source"] == source]


def reference_gemma3(path):
    """Gemma 3 270M from its GGUF through transformers, fed llama.cpp's ids."""
    from transformers import AutoModelForCausalLM

    d, f = os.path.split(path)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32, attn_implementation="eager").eval()
    rows = []
    for i, ids in enumerate(llamacpp_ids("hf_reference.py")):
        row = {"ids": ids, "logprobs": logprobs(model, ids)}
        if len(ids) > 1 and i < 4:  # the full set of signals on a few texts (backward is slow)
            row.update(signals(model, ids))
        rows.append(row)
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    gen = []
    for ids in llamacpp_ids("hf_reference.py GEN_PROMPTS"):
        with torch.no_grad():
            g = model.generate(torch.tensor([ids]), max_new_tokens=10, do_sample=False,
                               attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        gen.append({"prompt": ids, "new": g[0, len(ids):].tolist()})
    return rows, gen


GEN_PROMPTS = ["The quick brown fox", "Hello", "def fib(n):\n    return"]


def greedy(model, tok, add_special):
    """Greedy continuations, one prompt at a time, EOS not stopping (memscan is told the same)."""
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    out = []
    for p in GEN_PROMPTS:
        ids = tok(p, add_special_tokens=add_special).input_ids
        with torch.no_grad():
            g = model.generate(torch.tensor([ids]), max_new_tokens=10, do_sample=False, attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        out.append({"prompt": ids, "new": g[0, len(ids):].tolist()})
    return out


def make_quants(out):
    import gguf
    from gguf import GGMLQuantizationType as Q

    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(os.path.join(out, "quants.gguf"), "llama")
    expected = {}
    rows, cols = 4, 512
    layouts = {  # type: (block elems, block bytes, offsets of f16 scale fields)
        Q.Q4_0: (32, 18, [0]), Q.Q4_1: (32, 20, [0, 2]), Q.Q5_0: (32, 22, [0]), Q.Q5_1: (32, 24, [0, 2]),
        Q.Q8_0: (32, 34, [0]), Q.Q4_K: (256, 144, [0, 2]), Q.Q5_K: (256, 176, [0, 2]), Q.Q6_K: (256, 210, [208]),
    }
    for qt, (be, bb, f16s) in layouts.items():
        nblocks = rows * cols // be
        blocks = rng.integers(0, 256, size=(nblocks, bb), dtype=np.uint8)
        for off in f16s:
            vals = rng.uniform(-0.5, 0.5, size=nblocks).astype(np.float16)
            blocks[:, off:off + 2] = vals.view(np.uint8).reshape(nblocks, 2)
        data = blocks.reshape(rows, cols // be * bb)
        w.add_tensor(qt.name, data, raw_dtype=qt)
        expected[qt.name] = gguf.quants.dequantize(data, qt).astype(np.float32).reshape(-1).tolist()
    f32 = rng.standard_normal((rows, cols)).astype(np.float32)
    w.add_tensor("F32", f32)
    expected["F32"] = f32.reshape(-1).tolist()
    f16 = f32.astype(np.float16)
    w.add_tensor("F16", f16)
    expected["F16"] = f16.astype(np.float32).reshape(-1).tolist()
    bf = (f32.view(np.uint32) >> 16).astype(np.uint16)
    w.add_tensor("BF16", bf.view(np.uint8).reshape(rows, cols * 2), raw_dtype=Q.BF16)
    expected["BF16"] = (bf.astype(np.uint32) << 16).view(np.float32).reshape(-1).tolist()
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(os.path.join(out, "quants.json"), "w") as fh:
        json.dump({"shape": [rows, cols], "tensors": expected}, fh)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "texts.jsonl"), "w") as fh:
        for i, t in enumerate(TEXTS):
            fh.write(json.dumps({"id": i, "text": t}) + "\n")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref, gen = {}, {}
    for name, d in make_models(out).items():
        ref[name] = reference_hf(d)
        gen[name] = greedy(AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval(), load_tokenizer(d), True)
    if len(sys.argv) > 2:
        ref["default-gguf"] = reference_gguf(sys.argv[2])
        gd, gf = os.path.split(sys.argv[2])
        gen["default-gguf"] = greedy(AutoModelForCausalLM.from_pretrained(gd, gguf_file=gf, dtype=torch.float32).eval(),
                                     AutoTokenizer.from_pretrained(gd, gguf_file=gf), False)
    if len(sys.argv) > 3 and os.path.isfile(sys.argv[3]):
        ref["gemma3-gguf"], gen["gemma3-gguf"] = reference_gemma3(sys.argv[3])
    with open(os.path.join(out, "generate.json"), "w") as fh:
        json.dump(gen, fh)
    with open(os.path.join(out, "reference.json"), "w") as fh:
        json.dump(ref, fh)
    make_quants(out)


if __name__ == "__main__":
    main()
