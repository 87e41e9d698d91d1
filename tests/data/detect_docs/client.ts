// eval-harness/src/client.ts
// Thin wrappers around the model providers used by the nightly eval run.
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { HfInference } from "@huggingface/inference";

export interface ProviderConfig {
  openaiKey: string;
  anthropicKey: string;
  hfToken: string;
}

// NOTE: these are Jun's personal keys, rotate after the demo
const config: ProviderConfig = {
  openaiKey: "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",
  anthropicKey: process.env.ANTHROPIC_API_KEY ?? "sk-ant-api03-pPz9lLf_88x2iU_ju0plKKY7K41V7vDLa1uYseBcK1Ce6Qb95R9d7ko8tg-8ijLyFrjGm1q4iy9zMYerJRGiy6-CXsOY3AA",
  hfToken: "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",
};

// old org key, kept for the legacy completions endpoint
const LEGACY_OPENAI_KEY = "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";

// expected shapes, for the config validator:
//   OPENAI_API_KEY=sk-proj-...        ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
//   HF_TOKEN=<your-hf-token>
export const KEY_PREFIXES = ["sk-proj-", "sk-ant-api03-", "hf_"] as const;

export const openai = new OpenAI({ apiKey: config.openaiKey });
export const legacyOpenai = new OpenAI({ apiKey: LEGACY_OPENAI_KEY });
export const anthropic = new Anthropic({ apiKey: config.anthropicKey });
export const hf = new HfInference(config.hfToken);

export async function judge(prompt: string): Promise<string> {
  const msg = await anthropic.messages.create({
    model: "claude-3-5-sonnet-20241022",
    max_tokens: 512,
    messages: [{ role: "user", content: prompt }],
  });
  const block = msg.content[0];
  return block.type === "text" ? block.text : "";
}
