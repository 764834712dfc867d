"""A tiny causal LM built from nothing, so tests and demos run the real model code with no download.

Why it looks the way it does:

* **Qwen2 architecture** — a real architecture that transformers, llama.cpp and our exporter all support,
  with attention biases and tied embeddings like the small Qwen models.
* **Hidden 256, FFN 512** — every matrix row is a multiple of 256, so llama.cpp's k-quants (Q4_K, Q6_K,
  whose super-blocks are 256 wide) really quantize instead of silently falling back to another type.
* **Its own byte-level BPE** trained on the fly with `tokenizers`, using Qwen2's pre-tokenizer regex, so
  llama.cpp's `qwen2` pre-tokenizer splits text exactly as the HF tokenizer does.
* **ChatML template** and `<|im_start|>`/`<|im_end|>` control tokens, so chat code paths are exercised.
* **Weights are exactly representable in float16**, so an F16 GGUF holds the very same numbers as the
  HF directory and parity tests measure the runtime, not rounding of the weights.

Weights are random (seeded) then nudged by a few optimizer steps on the built-in corpus: random weights
alone give nearly flat next-token distributions, where the argmax is a coin toss between near-equal
logits; a short fit makes distributions peaked, so "argmax agrees" between runtimes is a meaningful check.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Qwen2's pre-tokenizer regex (llama.cpp's LLAMA_VOCAB_PRE_TYPE_QWEN2 uses the same one).
QWEN2_PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# A small, varied corpus: enough distinct words for ~1k merges, plus digits, punctuation and code-ish text
# so the vocabulary covers what tests throw at it. Kept in code so the build never depends on files.
_CORPUS = """\
Alex lives by the sea and walks to the harbour every morning before work.
The coffee grinder is set to fourteen; the kettle stops at 94 degrees.
On Tuesdays Alex climbs at the gym with Priya, and on Fridays there is a games night with Dan.
The sourdough starter needs feeding twice a day; attempt number 3 finally rose properly.
Work is a sonar pipeline: data arrives from tide gauges, gets cleaned, then is plotted on a map.
def add(a, b):\n    return a + b\n
for i in range(10):\n    print(i * 2)\n
Plans for the new year: read 24 books, cycle to work, learn to sail, call Mum every Sunday.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!
Questions people ask: what do you do, where do you live, what are you reading, who are your friends?
Notes, lists and memos: buy milk, fix the bike light, email the landlord about the boiler (again).
Weather today: rain at 07:30, sun by 13:00, wind from the south-west at 20 km/h.
I'm not sure it'll work, but we've tried everything else; they're coming at 6pm, you'd better hurry.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 2023 2024 3.14 42 -7 1e6 50% $12.50
Months: January February March April May June July August September October November December.
Days: Monday Tuesday Wednesday Thursday Friday Saturday Sunday; mornings, afternoons, evenings, nights.
Feelings: happy, tired, curious, anxious, grateful, excited, calm, proud, frustrated, hopeful, lonely.
Places: Bristol, Plymouth, London, Cornwall, the office, the library, the station, the beach, the park.
People: Mum, Dad, sister, brother, colleague, neighbour, manager, friend, partner, teacher, doctor.
Hobbies: photography, gardening, running, swimming, chess, painting, guitar, baking, hiking, knitting.
Food: porridge, toast, pasta, curry, salad, soup, noodles, dumplings, pancakes, strawberries, chocolate.
{"name": "Alex", "age": 34, "tags": ["sea", "code", "bread"], "active": true, "score": null}
<p>Saved page: <a href="https://example.org/tides">Tide tables</a> &amp; charts</p>
Why does the model matter? Because the self should sound like its owner, remember, and answer honestly.
Remember: shades, memories, biography, grants, sessions, peers, training, export, quantization.
"""


@dataclass(frozen=True)
class TinyModelSpec:
    """Sizes of the tiny model; defaults keep the build at a few seconds on 2 CPU cores."""

    vocab_size: int = 1024
    hidden_size: int = 256
    intermediate_size: int = 512
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    context_length: int = 2048
    seed: int = 1234
    fit_steps: int = 60
    architecture: str = "qwen2"  # or "llama", to exercise llama.cpp's Q/K permutation in export tests


def corpus_text() -> str:
    """The built-in training text (also useful to tests that need in-vocabulary strings)."""
    return _CORPUS


def build_tokenizer(out_dir: Path, *, vocab_size: int = 1024, extra_text: str = "") -> None:
    """Trains a byte-level BPE with Qwen2's pre-tokenizer and saves it as a HF tokenizer in `out_dir`."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=1,
        show_progress=False,
    )
    lines = (_CORPUS + extra_text).splitlines()
    tok.train_from_iterator(lines * 4, trainer=trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        bos_token=None,
        chat_template=CHATML_TEMPLATE,
        model_max_length=2048,
    )
    hf.save_pretrained(out_dir)


def build_hf_model(out_dir: Path, spec: TinyModelSpec | None = None) -> Path:
    """Writes a complete HF model directory (config, float16 safetensors, tokenizer) to `out_dir`."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    spec = spec or TinyModelSpec()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    build_tokenizer(out_dir, vocab_size=spec.vocab_size)
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    n_vocab = len(tokenizer)

    torch.manual_seed(spec.seed)
    classes = {"qwen2": (Qwen2Config, Qwen2ForCausalLM), "llama": (LlamaConfig, LlamaForCausalLM)}
    if spec.architecture not in classes:
        raise ValueError(f"tiny model architecture must be one of {sorted(classes)}, not {spec.architecture!r}")
    config_cls, model_cls = classes[spec.architecture]
    config = config_cls(
        vocab_size=n_vocab,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        max_position_embeddings=spec.context_length,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    model = model_cls(config)
    _fit(model, tokenizer, spec.fit_steps)
    model = model.to(torch.float16)
    model.config.dtype = "float16"
    model.generation_config.do_sample = False
    model.save_pretrained(out_dir)
    return out_dir


def _fit(model: object, tokenizer: object, steps: int) -> None:
    """A few AdamW steps on the corpus, so next-token distributions are peaked rather than flat."""
    import torch

    ids = tokenizer(_CORPUS)["input_ids"]  # type: ignore[operator]
    data = torch.tensor(ids, dtype=torch.long)
    seq, batch = 64, 8
    if steps <= 0 or len(data) <= seq + 1:
        return
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)  # type: ignore[attr-defined]
    model.train()  # type: ignore[attr-defined]
    for _ in range(steps):
        starts = torch.randint(0, len(data) - seq - 1, (batch,), generator=gen)
        x = torch.stack([data[s : s + seq] for s in starts])
        out = model(input_ids=x, labels=x)  # type: ignore[operator]
        out.loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()  # type: ignore[attr-defined]


def build_tiny_model(out_dir: Path, *, spec: TinyModelSpec | None = None, gguf: bool = True) -> dict[str, Path]:
    """Builds the HF directory `out_dir/hf` and (by default) its F16 GGUF `out_dir/tiny-f16.gguf`.

    The GGUF is written by our own exporter, so every model test also exercises the export path.
    Returns the paths by name ("hf", "f16").
    """
    from secondme.pipeline.export import export_gguf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_dir = out_dir / "hf"
    # Build beside the final name and rename, so an interrupted build never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=".hf-", dir=out_dir))
    try:
        build_hf_model(tmp, spec)
        (tmp / "secondme_tiny.json").write_text(json.dumps({"built_by": "secondme.pipeline.tiny_model"}))
        if hf_dir.exists():
            shutil.rmtree(hf_dir)
        tmp.rename(hf_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    paths = {"hf": hf_dir}
    if gguf:
        paths["f16"] = export_gguf(hf_dir, out_dir / "tiny-f16.gguf", dtype="f16")
    return paths
