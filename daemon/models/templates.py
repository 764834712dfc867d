"""Chat templates: the model's own (from its GGUF metadata) or one we supply for base models.

Gemma 3 base models ship without a chat template; Gemma's turn format is public and fixed, so
secondme supplies it rather than letting llama.cpp fall back to an unrelated format.
"""

from __future__ import annotations

GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}"
    "{{ '<start_of_turn>user\\n' + message['content'] + '\\n\\n' }}"
    "{% else %}"
    "{% if loop.index0 == 0 or messages[loop.index0 - 1]['role'] != 'system' %}"
    "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else 'user') + '\\n' }}"
    "{% endif %}"
    "{{ message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

STOP_STRINGS = ("<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>")


def template_for(architecture: str, embedded: str) -> str:
    """The template to render prompts with: the file's own when it has one."""
    if embedded:
        return embedded
    if architecture.startswith("gemma"):
        return GEMMA_TEMPLATE
    return CHATML_TEMPLATE
