"""Training the self on its owner's memories: data, plan, LoRA SFT and DPO (see the modules)."""

# The eval source of a training job's own questions (the first `[training] eval_questions` held-out ones),
# which `secondmectl eval --model BASE --model TRAINED` asks again.
HELD_OUT_SOURCE = "held-out memories"
