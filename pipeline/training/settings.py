"""`[training]` in the config, defined once: the daemon's config loads and validates it, the train job
runs on it and the planner reads the owner's knobs from it (it derives everything else).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingSettings:
    # The LoRA adapter's rank and alpha (alpha / rank scales its effect on the base model).
    lora_rank: int = 16
    lora_alpha: int = 32
    # Passes over the training examples (SFT) and over the preference pairs (DPO).
    sft_epochs: float = 2.0
    dpo_epochs: float = 1.0
    learning_rate: float = 2e-4
    dpo_learning_rate: float = 5e-5
    # How far DPO may move the model from the SFT model (trl's beta).
    dpo_beta: float = 0.1
    # Examples per optimizer step (batch times gradient accumulation, chosen by the planner).
    effective_batch: int = 8
    # Longest example in tokens; longer examples are left out of training (the plan says how many).
    # An example is chat's own prompt (the persona and the quoted memories) with its answer: with
    # three quoted memories that is about 1,100 tokens of Gemma's, so 1,024 left out most of them.
    max_length: int = 2048
    # CPU threads for training (0: every usable core); a CUDA GPU is used when torch sees one.
    threads: int = 0
    use_gpu: bool = True
    # Share of the free memory the plan may use; the rest is left to the owner's other programs.
    memory_fraction: float = 0.8
    # Seconds of training between checkpoints: the most work a kill (or a power cut) can lose.
    checkpoint_seconds: float = 60.0
    # Share of memories kept out of training, to evaluate the trained model on what it never saw.
    held_out_fraction: float = 0.2
    # Memories quoted beside the one that holds the answer (RAFT's distractors).
    distractors: int = 3
    questions_per_memory: int = 3
    # Fewer memories to learn from than this and training is refused.
    min_memories: int = 8
    # Prompts the base model answers for DPO's rejected answers.
    preference_prompts: int = 32
    # Held-out questions asked of the base and the trained model at the end of a training job (0: none).
    eval_questions: int = 24
