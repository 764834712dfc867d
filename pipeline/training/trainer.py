"""LoRA SFT, then DPO, with trl: each stage a function from a model and rows to an adapter on disk.

A stage checkpoints as the plan says (about once a minute of work) and, run again after a kill, resumes
from its newest complete checkpoint, so the step count continues where it stopped. A finished stage
leaves `<work>/<stage>/adapter` (renamed into place only once complete) and `result.json`; running it
again returns that result without training.

DPO's reference is the model after SFT: the SFT adapter is merged into the (dequantized) base in memory
and DPO trains a fresh adapter on top, so "disable the adapter" means "the SFT model", as DPO assumes.
The two adapters are then combined into one (`combine.combine_adapters`) for serving on the unchanged base.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from secondme.pipeline.errors import TrainingError
from secondme.pipeline.training.plan import LORA_TARGETS, StagePlan, TrainingPlan, TrainingSettings

SEED = 1234
ADAPTER_DIR = "adapter"
RESULT_FILE = "result.json"
CHECKPOINTS_DIR = "checkpoints"
_STATE_FILE = "trainer_state.json"


@dataclass(frozen=True)
class StepProgress:
    """One optimizer step as the owner sees it."""

    stage: str
    step: int
    total: int
    loss: float | None
    tokens_per_second: float | None
    eta_seconds: float | None

    def describe(self) -> str:
        parts = [f"step {self.step}/{self.total}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.3f}")
        if self.tokens_per_second is not None:
            parts.append(f"{self.tokens_per_second:.0f} tok/s")
        if self.eta_seconds is not None:
            parts.append(f"ETA {_duration(self.eta_seconds)}")
        return " · ".join(parts)


@dataclass(frozen=True)
class StageResult:
    stage: str
    steps: int
    resumed_from_step: int
    final_loss: float | None
    tokens: int
    seconds: float
    adapter_dir: str

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_per_second": self.tokens_per_second}


ProgressFn = Callable[[StepProgress], None]


def finished_stage(work: Path, stage: str) -> StageResult | None:
    """The result of a stage that already completed in `work`, or None."""
    path = work / stage / RESULT_FILE
    if not path.is_file() or not (work / stage / ADAPTER_DIR / "adapter_config.json").is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("tokens_per_second", None)
    return StageResult(**data)


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest checkpoint whose state file is complete; partial ones (a kill mid-save) are removed."""
    if not directory.is_dir():
        return None
    found: list[tuple[int, Path]] = []
    for path in directory.glob("checkpoint-*"):
        step = path.name.rpartition("-")[2]
        if not step.isdigit():
            continue
        try:
            json.loads((path / _STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            shutil.rmtree(path, ignore_errors=True)
            continue
        found.append((int(step), path))
    return max(found)[1] if found else None


def lora_config(settings: TrainingSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=settings.lora_rank,
        lora_alpha=settings.lora_alpha,
        target_modules=list(LORA_TARGETS),
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
    )


def _common_args(stage: StagePlan, plan: TrainingPlan, out: Path) -> dict[str, Any]:
    return {
        "output_dir": str(out / CHECKPOINTS_DIR),
        "per_device_train_batch_size": stage.batch_size,
        "gradient_accumulation_steps": stage.accumulation,
        "max_steps": stage.steps,
        "learning_rate": stage.learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": max(0, stage.steps // 20),
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": stage.save_every,
        "save_total_limit": 2,
        "report_to": [],
        "disable_tqdm": True,
        "seed": SEED,
        "data_seed": SEED,
        "max_length": plan.max_length,
        "use_cpu": plan.device == "cpu",
        "bf16": plan.dtype == "bf16",
        "fp16": plan.dtype == "fp16",
        # trl recomputes every activation in the backward pass by default (a third more arithmetic); the plan
        # sized memory for keeping them, and refuses what does not fit.
        "gradient_checkpointing": False,
        "dataloader_num_workers": 0,
        "remove_unused_columns": True,
    }


class _CountingCollator:
    """Wraps trl's collator to count the tokens each batch holds (for tokens/s)."""

    def __init__(self, inner: Callable[[list[Any]], Any]) -> None:
        self.inner = inner
        self.tokens = 0

    def __call__(self, examples: list[Any]) -> Any:
        batch = self.inner(examples)
        mask = batch.get("attention_mask")
        self.tokens += int(mask.sum()) if mask is not None else int(batch["input_ids"].numel())
        return batch


def _progress_callback(stage: str, total: int, counter: _CountingCollator, report: ProgressFn) -> Any:
    from transformers import TrainerCallback

    class Reporter(TrainerCallback):
        """Turns the trainer's steps and logs into `StepProgress`, timing only steps run in this process."""

        def __init__(self) -> None:
            self.first_step: int | None = None
            self.started = 0.0
            self.tokens_at_start = 0
            self.loss: float | None = None
            self.tokens_per_second: float | None = None
            self.eta: float | None = None

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            now = time.monotonic()
            if self.first_step is None:  # the first step may include skipped batches of a resume
                self.first_step, self.started, self.tokens_at_start = state.global_step, now, counter.tokens
            else:
                steps = state.global_step - self.first_step
                elapsed = now - self.started
                self.tokens_per_second = (counter.tokens - self.tokens_at_start) / elapsed if elapsed > 0 else None
                self.eta = elapsed / steps * (total - state.global_step) if steps else None

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any) -> None:
            if logs and "loss" in logs and math.isfinite(logs["loss"]):
                self.loss = float(logs["loss"])
            report(StepProgress(stage, state.global_step, total, self.loss, self.tokens_per_second, self.eta))

    return Reporter()


def _run(trainer: Any, stage: StagePlan, out: Path, report: ProgressFn) -> StageResult:
    """Trains (resuming from the newest checkpoint), then saves the adapter atomically and the result."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    counter = _CountingCollator(trainer.data_collator)
    trainer.data_collator = counter
    reporter = _progress_callback(stage.stage, stage.steps, counter, report)
    trainer.add_callback(reporter)
    resume = latest_checkpoint(out / CHECKPOINTS_DIR)
    resumed_from = int(resume.name.rpartition("-")[2]) if resume else 0
    report(StepProgress(stage.stage, resumed_from, stage.steps, None, None, None))
    started = time.monotonic()
    try:
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    except (ValueError, RuntimeError) as exc:
        raise TrainingError(f"{stage.stage} stopped at step {trainer.state.global_step}: {exc}") from exc
    seconds = time.monotonic() - started
    loss = reporter.loss
    if loss is None or not math.isfinite(loss):
        raise TrainingError(f"{stage.stage} produced no finite loss; the data or learning rate is unusable")
    save_adapter(trainer.model, out / ADAPTER_DIR)
    result = StageResult(
        stage=stage.stage,
        steps=int(trainer.state.global_step),
        resumed_from_step=resumed_from,
        final_loss=loss,
        tokens=counter.tokens,
        seconds=seconds,
        adapter_dir=str(out / ADAPTER_DIR),
    )
    write_json_atomic(out / RESULT_FILE, result.to_dict())
    shutil.rmtree(out / CHECKPOINTS_DIR, ignore_errors=True)
    return result


def save_adapter(model: Any, target: Path) -> None:
    """Saves a PEFT adapter beside `target` and renames it into place once complete."""
    tmp = target.with_name(f".{target.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def train_sft(
    model: Any,
    tokenizer: Any,
    rows: list[dict[str, Any]],
    plan: TrainingPlan,
    settings: TrainingSettings,
    work: Path,
    report: ProgressFn,
) -> tuple[Any, StageResult]:
    """Trains a LoRA on prompt/completion `rows`; returns the PEFT model and the stage's result.

    Each row is `{"prompt": [messages], "completion": [{"role": "assistant", ...}]}`: the loss is on the
    answer only, and trl renders both with the tokenizer's chat template (the one chat serves with).
    """
    from datasets import Dataset
    from peft import get_peft_model
    from trl import SFTConfig, SFTTrainer

    stage = _stage(plan, "sft")
    out = work / "sft"
    out.mkdir(parents=True, exist_ok=True)
    peft_model = get_peft_model(model, lora_config(settings))
    args = SFTConfig(**_common_args(stage, plan, out), completion_only_loss=True, packing=False)
    trainer = SFTTrainer(model=peft_model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    return peft_model, _run(trainer, stage, out, report)


def train_dpo(
    model: Any,
    tokenizer: Any,
    pairs: list[dict[str, Any]],
    plan: TrainingPlan,
    settings: TrainingSettings,
    work: Path,
    report: ProgressFn,
) -> tuple[Any, StageResult]:
    """Trains a fresh LoRA with DPO on `pairs` over `model` (the SFT model), which is also the reference.

    Each pair is `{"prompt": [messages], "chosen": [assistant message], "rejected": [assistant message]}`.
    """
    from datasets import Dataset
    from peft import get_peft_model
    from trl import DPOConfig, DPOTrainer

    stage = _stage(plan, "dpo")
    out = work / "dpo"
    out.mkdir(parents=True, exist_ok=True)
    peft_model = get_peft_model(model, lora_config(settings))
    args = DPOConfig(**_common_args(stage, plan, out), beta=settings.dpo_beta)
    trainer = DPOTrainer(
        model=peft_model, args=args, train_dataset=Dataset.from_list(pairs), processing_class=tokenizer
    )
    return peft_model, _run(trainer, stage, out, report)


def apply_finished_adapter(model: Any, adapter_dir: Path) -> Any:
    """`model` with a finished stage's adapter merged in (how a resumed job rebuilds the SFT model)."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()


def _stage(plan: TrainingPlan, name: str) -> StagePlan:
    stage = plan.stage(name)
    if stage is None:
        raise TrainingError(f"the plan has no {name} stage")
    return stage


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
