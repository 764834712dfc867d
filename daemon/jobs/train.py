"""The training job: data -> plan -> pairs -> SFT -> DPO -> export -> register -> eval, resumable at each step.

Every stage leaves its output in the run's folder (`<data>/training/runs/<run id>/`), so a job killed
at any point and run again (`jobs retry` keeps the run id) starts where it stopped: the dataset and
plan are kept, SFT and DPO resume from their newest checkpoint with the step count continuing, an
adapter already exported is not exported again, and a version already registered is not registered
twice. Registration is one transaction for all the run's versions, after every file is complete: a
job killed during export or registration leaves nothing registered. One training runs at a time per
data dir; a second waits, and says so. The daemon activates the result when the job succeeds
(`daemon/training.py`).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from secondme.daemon.config import ChatSection, ModelsSection, section_from
from secondme.daemon.jobs.context import JobContext
from secondme.daemon.jobs.peak_memory import StagePeaks
from secondme.daemon.jobs.system_prompt import current_system_prompt
from secondme.daemon.models.errors import ModelNotFound
from secondme.daemon.models.registry import ModelRecord, ModelRegistry, TrainedVersion
from secondme.daemon.store.training_material import read_material
from secondme.pipeline.embeddings import DEFAULT_MODEL
from secondme.pipeline.errors import PipelineError, TrainingError, TrainingRefused
from secondme.pipeline.llm import LlamaSettings, LocalLlama, Message
from secondme.pipeline.training import HELD_OUT_SOURCE
from secondme.pipeline.training.settings import TrainingSettings

RUNS_DIR = Path("training") / "runs"
DATASETS_DIR = Path("training") / "datasets"
LOCK_FILENAME = "training.lock"
MERGED_KINDS = ("q4_k_m", "q8_0")
# A capable base's own question about a memory (answered with the memory's sentences, never its words).
QUESTION_PROMPT = (
    "Here is a note someone wrote:\n\n{note}\n\nWrite one short question to its author that the note answers."
)
QUESTION_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "minLength": 8, "maxLength": 160}},
    "required": ["question"],
}
# Tokens of a base model's answer to a preference prompt (chat answers are short).
ANSWER_TOKENS = 96


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' GGUF loader draws a bar on stderr otherwise
    training = TrainingRun(ctx, params)
    with ctx.exclusive(LOCK_FILENAME, "another training job is running; this one starts when it ends"):
        return training.execute()


def _json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tokens(tokenizer: Any, messages: list[Message], generation_prompt: bool) -> int:
    out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation_prompt)
    ids = out["input_ids"] if hasattr(out, "keys") else out
    return len(ids)


class TrainingRun:
    def __init__(self, ctx: JobContext, params: dict[str, Any]) -> None:
        self.ctx = ctx
        self.params = params
        self.settings = section_from(TrainingSettings, ctx.config.get("training", {}))
        self.models = section_from(ModelsSection, ctx.config.get("models", {}))
        self.owner = str(ctx.config.get("owner", {}).get("name", ""))
        run_id = str(params.get("run_id", ""))
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise TrainingError("the training job has no run id; start it with `secondmectl train`")
        self.dir = ctx.data_dir / RUNS_DIR / run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stages = tuple(params.get("stages") or ("sft", "dpo"))
        self.max_steps = int(params.get("max_steps") or 0)
        self.merged = str(params.get("merged") or "").lower()
        if self.merged and self.merged not in MERGED_KINDS:
            raise TrainingRefused(f"a merged model is quantized to q4_k_m or q8_0, not {self.merged!r}")
        self.models_dir = ctx.data_dir / "models"
        self.state: dict[str, Any] = _json(self.dir / "run.json") or {}
        self.peaks = StagePeaks()

    def _save_state(self, **changes: Any) -> None:
        from secondme.pipeline.training.trainer import write_json_atomic

        self.state.update(changes)
        write_json_atomic(self.dir / "run.json", self.state)

    # --- the stages

    def execute(self) -> dict[str, Any]:
        started = time.monotonic()
        base = self._base()
        with self.peaks.stage("data"):
            version, material = self._data()
            plan = self._plan(base, version)
        result: dict[str, Any] = {
            "run_id": self.dir.name,
            "base": {"id": base.id, "name": base.name},
            "dataset": self._dataset_summary(version),
            "plan": plan.to_dict(),
        }
        if self.params.get("dry_run"):
            return {**result, "dry_run": True}
        pairs: list[Any] = []
        if "dpo" in self.stages:
            with self.peaks.stage("pairs"):
                made = self._pairs(base, version, material)
                pairs, facts = self._fitting_pairs(base, made)
            plan = self._plan(base, version, pairs=facts)
            result["plan"] = plan.to_dict()
            result["dataset"]["preference_pairs"] = len(made)
            result["dataset"]["preference_pairs_trained"] = len(pairs)
        stage_results = self._train(base, version, plan, pairs)
        result["stages"] = {r.stage: r.to_dict() for r in stage_results}
        records = self._registered()
        if not records:
            with self.peaks.stage("export"):
                files = self._export(base)
            records = self._register(base, version, files)
            self._save_state(registered=[r.id for r in records])
            for path in files.values():  # the registry holds its own copies now
                path.unlink(missing_ok=True)
        result["models"] = [
            {"id": r.id, "name": r.name, "adapter": r.adapter, "size_bytes": r.size_bytes} for r in records
        ]
        result["activate"] = records[-1].id if self.params.get("activate", True) else ""
        result["trained_through"] = self.state.get("trained_through", "")
        with self.peaks.stage("eval"):
            result["eval"] = self._evaluate(base, records[-1], version)
        # Each stage's own peak (this run's; a resumed job lists only the stages it ran again): the plan's
        # `peak_memory_bytes` estimates the load, sft and dpo stages.
        result["peak_memory_mb"] = self.peaks.megabytes()
        result["seconds"] = round(time.monotonic() - started, 1)
        return result

    def _base(self) -> ModelRecord:
        registry = ModelRegistry(self.ctx.db_path, self.models_dir)
        try:
            base_id = self.state.get("base_id") or self.params.get("base_id")
            if not base_id:
                active = registry.active()
                if active is None:
                    raise TrainingRefused(
                        "no model is active to train from; import one with `secondmectl models import`"
                    )
                base_id = active.base_id or active.id
            base = registry.get(str(base_id))
        finally:
            registry.close()
        if base.adapter:
            raise TrainingRefused(f"{base.name} is an adapter, not a base model to train from")
        self._save_state(base_id=base.id)
        return base

    def _dataset_store(self) -> Any:
        from secondme.pipeline.training.store import DatasetStore

        return DatasetStore(self.ctx.data_dir / DATASETS_DIR)

    def _data(self) -> tuple[str, Any]:
        from secondme.pipeline.training.dataset import DatasetSettings, build_dataset

        self.ctx.progress("data", 0, 1, "reading memories")
        system = current_system_prompt(self.ctx.db_path, self.owner)
        conn = self.ctx.connect()
        try:
            material = read_material(conn, self.owner, system, DEFAULT_MODEL)
        finally:
            conn.close()
        store = self._dataset_store()
        version = self.state.get("dataset_version")
        if version and store.latest() is not None and (store.root / version).is_dir():
            self.ctx.progress("data", 1, 1, f"dataset {version} (kept from this run's start)")
            return version, material
        settings = DatasetSettings(
            held_out_fraction=self.settings.held_out_fraction,
            distractors=self.settings.distractors,
            questions_per_memory=self.settings.questions_per_memory,
            min_memories=self.settings.min_memories,
            max_preference_prompts=self.settings.preference_prompts,
        )
        dataset = build_dataset(material, settings, self._model_questions(material, settings))
        version = store.save(dataset, settings.__dict__)
        self._save_state(dataset_version=version, trained_through=dataset.newest_ingested_at)
        counts = ", ".join(f"{n} {k.replace('_', '-')}" for k, n in dataset.counts.items())
        self.ctx.progress("data", 1, 1, f"dataset {version}: {counts}; {len(dataset.held_out)} held-out questions")
        return version, material

    def _model_questions(self, material: Any, settings: Any) -> dict[str, list[str]]:
        """The base's own questions about each memory it may learn from, when it passed its capability check."""
        from secondme.daemon.models.generator import local_generator
        from secondme.daemon.models.probes import read_probe
        from secondme.pipeline.training.material import held_out

        registry = ModelRegistry(self.ctx.db_path, self.models_dir)
        conn = self.ctx.connect()
        try:
            base = registry.get(self.state["base_id"])
            probe = read_probe(conn, base.id)
        finally:
            conn.close()
            registry.close()
        if probe is None or not probe.passed:
            return {}
        memories = [
            m for m in material.memories
            if m.id not in material.private_memory_ids and not held_out(m.id, settings.held_out_fraction)
        ]  # fmt: skip
        generator = local_generator(base, self.models)
        questions: dict[str, list[str]] = {}
        for index, memory in enumerate(memories):
            self.ctx.progress("data", index, len(memories), f"{base.name} asks about {memory.title[:40]}")
            prompt = [{"role": "user", "content": QUESTION_PROMPT.format(note=memory.passages[0].text[:1200])}]
            try:
                asked = generator.generate_json(prompt, QUESTION_SCHEMA, max_tokens=96, seed=index)
            except PipelineError:
                continue  # a question the model cannot write costs that question only
            questions[memory.id] = [asked["question"]]
        return questions

    def _dataset_summary(self, version: str) -> dict[str, Any]:
        manifest = self._dataset_store().manifest(version)
        return {
            "version": version,
            "examples": manifest["examples"],
            "counts": manifest["counts"],
            "train_memories": len(manifest["train_memories"]),
            "held_out_memories": len(manifest["held_out_memories"]),
            "held_out_questions": manifest["held_out_questions"],
            "entity_graph": manifest["entity_graph"],
        }

    def _source(self, base: ModelRecord) -> Any:
        from secondme.pipeline.training.base import BaseSource

        return BaseSource(base.model_file, base.chat_template)

    def _rows(self, base: ModelRecord, version: str) -> tuple[Any, list[Any], dict[str, int]]:
        """The tokenizer, the examples that fit `max_length`, and the SFT token counts ("left_out":
        how many did not fit)."""
        from secondme.pipeline.training.base import load_tokenizer, quiet_libraries

        quiet_libraries()
        tokenizer = load_tokenizer(self._source(base))
        kept, tokens, scored, longest, left_out = [], 0, 0, 0, 0
        for example in self._dataset_store().examples(version):
            prompt = _tokens(tokenizer, example.prompt, True)
            full = _tokens(tokenizer, [*example.prompt, {"role": "assistant", "content": example.completion}], False)
            if full > self.settings.max_length:
                left_out += 1
                continue
            kept.append(example)
            tokens, scored, longest = tokens + full, scored + full - prompt, max(longest, full)
        return tokenizer, kept, {"tokens": tokens, "scored": scored, "longest": longest, "left_out": left_out}

    def _plan(self, base: ModelRecord, version: str, pairs: dict[str, int] | None = None) -> Any:
        """The plan, made once per run (a resumed run keeps its steps); DPO is re-planned once pairs are known."""
        from secondme.pipeline.training.device import probe_device
        from secondme.pipeline.training.plan import DataFacts, TrainingPlan, plan_training

        saved = _json(self.dir / "plan.json")
        if saved is not None and (pairs is None or saved.get("pairs") == pairs):
            return TrainingPlan.from_dict(saved["plan"])
        self.ctx.progress("plan", 0, 1, "measuring this machine and the data")
        _tokenizer, kept, sft = self._rows(base, version)
        if "sft" in self.stages and not kept:
            raise TrainingRefused(
                f"every training example is longer than training.max_length ({self.settings.max_length} tokens)"
            )
        if pairs is None:  # until the base has answered: every candidate, answers as long as the owner's
            n = len(self._dataset_store().candidates(version))
            per_example = sft["tokens"] // max(1, len(kept))
            scored = sft["scored"] // max(1, len(kept))
            estimate = {"pairs": n, "tokens": 2 * n * per_example, "scored": 2 * n * scored, "longest": sft["longest"]}
        else:
            estimate = pairs
        data = DataFacts(
            sft_examples=len(kept), sft_tokens=sft["tokens"], sft_scored=sft["scored"], sft_longest=sft["longest"],
            dpo_pairs=estimate["pairs"], dpo_tokens=estimate["tokens"], dpo_scored=estimate["scored"],
            dpo_longest=estimate["longest"],
        )  # fmt: skip
        facts = self._source(base).facts()
        device = probe_device(self.settings.threads, facts.hidden, allow_cuda=self.settings.use_gpu)
        plan = plan_training(facts, data, device, self.settings, self.stages, self.max_steps)
        notes = list(plan.notes)
        if sft["left_out"] and "sft" in self.stages:
            notes.append(
                f"{sft['left_out']} of {sft['left_out'] + len(kept)} examples are longer than training.max_length "
                f"({self.settings.max_length} tokens) and are left out; raise it to train on them"
            )
        if pairs is None and "dpo" in self.stages:
            notes.append("DPO pairs estimated before the base model answers")
        plan = dataclasses.replace(plan, notes=tuple(notes))
        from secondme.pipeline.training.trainer import write_json_atomic

        write_json_atomic(self.dir / "plan.json", {"plan": plan.to_dict(), "pairs": pairs})
        self.ctx.progress("plan", 1, 1, describe_plan(plan, base.name))
        return plan

    def _llama(self, record: ModelRecord, with_adapter: bool) -> LocalLlama:
        context = min(self.models.context_size, record.context_length or self.models.context_size)
        settings = LlamaSettings(context, self.models.threads, self.models.gpu_layers)
        return LocalLlama(
            record.model_file, record.chat_template, settings, record.adapter_file if with_adapter else None
        )

    def _pairs(self, base: ModelRecord, version: str, material: Any) -> list[Any]:
        from secondme.pipeline.grounding.sentences import split_sentences
        from secondme.pipeline.training.preferences import preference_pairs

        store = self._dataset_store()
        cached = store.pairs(version, base.id)
        if cached is not None:
            return cached
        candidates = store.candidates(version)
        self.ctx.progress("pairs", 0, len(candidates), f"asking {base.name} the preference prompts")
        private = [s for m in material.memories if m.id in material.private_memory_ids for s in split_sentences(m.text)]
        model = self._llama(base, with_adapter=False)
        try:
            pairs = preference_pairs(
                candidates,
                lambda prompt, seed: model.generate(prompt, max_tokens=ANSWER_TOKENS, temperature=0.7, seed=seed),
                private,
                lambda done, total: self.ctx.progress("pairs", done, total, f"{done} of {total} answered"),
            )
        finally:
            model.close()
        store.save_pairs(version, base.id, pairs)
        return pairs

    def _fitting_pairs(self, base: ModelRecord, pairs: list[Any]) -> tuple[list[Any], dict[str, int]]:
        """The pairs whose prompt and longer answer fit `max_length`, and their token counts for the plan."""
        from secondme.pipeline.training.base import load_tokenizer

        tokenizer = load_tokenizer(self._source(base))
        kept, tokens, scored, longest = [], 0, 0, 0
        for pair in pairs:
            prompt = _tokens(tokenizer, pair.prompt, True)
            sides = [
                _tokens(tokenizer, [*pair.prompt, {"role": "assistant", "content": text}], False)
                for text in (pair.chosen, pair.rejected)
            ]
            if max(sides) > self.settings.max_length:
                continue
            kept.append(pair)
            tokens, scored, longest = tokens + sum(sides), scored + sum(sides) - 2 * prompt, max(longest, *sides)
        return kept, {"pairs": len(kept), "tokens": tokens, "scored": scored, "longest": longest}

    def _train(self, base: ModelRecord, version: str, plan: Any, pairs: list[Any]) -> list[Any]:
        import torch

        from secondme.pipeline.training.base import load_model
        from secondme.pipeline.training.trainer import (
            apply_finished_adapter,
            finished_stage,
            train_dpo,
            train_sft,
        )

        stages = [s.stage for s in plan.stages]
        done = {s: finished_stage(self.dir, s) for s in stages}
        if all(done.values()):
            return [r for r in done.values() if r is not None]
        torch.set_num_threads(plan.threads)
        tokenizer, kept, _ = self._rows(base, version)
        settings = self.settings

        def report(stage: str) -> Any:
            return lambda p: self.ctx.progress(stage, p.step, p.total, p.describe())

        self.ctx.progress(stages[0], 0, plan.stages[0].steps, f"loading {base.name} for training")
        with self.peaks.stage("load"):
            model = load_model(self._source(base), plan.weights_dtype, plan.device)
        results = []
        if "sft" in stages:
            result = done["sft"]
            if result is None:
                with self.peaks.stage("sft"):
                    peft_model, result = train_sft(
                        model, tokenizer, [e.sft_row() for e in kept], plan, settings, self.dir, report("sft")
                    )
                    model = peft_model.merge_and_unload()
            else:
                model = apply_finished_adapter(model, Path(result.adapter_dir))
            results.append(result)
        if "dpo" in stages:
            result = done["dpo"]
            if result is None:
                with self.peaks.stage("dpo"):
                    _, result = train_dpo(
                        model, tokenizer, [p.dpo_row() for p in pairs], plan, settings, self.dir, report("dpo")
                    )
            results.append(result)
        del model
        gc.collect()
        return results

    def _final_adapter(self) -> Path:
        from secondme.pipeline.training.combine import combine_adapters
        from secondme.pipeline.training.trainer import ADAPTER_DIR

        trained = [self.dir / s / ADAPTER_DIR for s in ("sft", "dpo") if (self.dir / s / ADAPTER_DIR).is_dir()]
        if len(trained) == 1:
            return trained[0]
        target = self.dir / "combined"
        if not (target / "adapter_config.json").is_file():
            tmp = self.dir / ".combined.partial"
            combine_adapters(trained[0], trained[1], tmp)
            os.replace(tmp, target)
        return target

    def _export(self, base: ModelRecord) -> dict[str, Path]:
        from secondme.pipeline.export import export_gguf, quantize
        from secondme.pipeline.export.adapter import export_lora_adapter

        files: dict[str, Path] = {"adapter": self.dir / "adapter.gguf"}
        steps = 2 if self.merged else 1
        self.ctx.progress("export", 0, steps, "writing the adapter as GGUF")
        adapter_dir = self._final_adapter()
        try:
            if not files["adapter"].is_file():
                export_lora_adapter(adapter_dir, files["adapter"], base_gguf=base.model_file)
            if self.merged:
                files["merged"] = self.dir / f"merged-{self.merged}.gguf"
                if not files["merged"].is_file():
                    self.ctx.progress("export", 1, steps, f"merging and quantizing to {self.merged.upper()}")
                    self._export_merged(base, adapter_dir, files["merged"], export_gguf, quantize)
        except OSError as exc:
            raise TrainingError(
                f"could not write the trained model ({exc.strerror or exc}); free disk space in {self.ctx.data_dir} "
                "and retry the job (`secondmectl jobs retry ID` resumes at the export); the active model is unchanged"
            ) from None
        self.ctx.progress("export", steps, steps, "exported")
        return files

    def _export_merged(
        self, base: ModelRecord, adapter_dir: Path, target: Path, export_gguf: Any, quantize: Any
    ) -> None:
        from secondme.pipeline.training.base import load_model
        from secondme.pipeline.training.trainer import apply_finished_adapter

        model = apply_finished_adapter(load_model(self._source(base), "fp32", "cpu"), adapter_dir)
        f16 = self.dir / "merged-f16.gguf"
        try:
            export_gguf(model, f16, base_gguf=base.model_file)
            del model
            gc.collect()
            quantize(f16, target, self.merged, threads=self.settings.threads)
        finally:
            f16.unlink(missing_ok=True)

    def _registered(self) -> list[ModelRecord]:
        """The versions this run registered before it was interrupted (a resumed run registers once)."""
        if not self.state.get("registered"):
            return []
        registry = ModelRegistry(self.ctx.db_path, self.models_dir)
        try:
            return [registry.get(model_id) for model_id in self.state["registered"]]
        except ModelNotFound:  # removed since (e.g. llama.cpp could not load it): export and register again
            return []
        finally:
            registry.close()

    def _register(self, base: ModelRecord, version: str, files: dict[str, Path]) -> list[ModelRecord]:
        from secondme.daemon.store.timeutil import from_db

        self.ctx.progress("register", 0, 1, "registering the trained version")
        manifest = self._dataset_store().manifest(version)
        trained_through = self.state.get("trained_through") or manifest["newest_ingested_at"]
        versions = [
            (
                path,
                TrainedVersion(
                    name=f"{base.name}-self" + ("" if kind == "adapter" else f"-{self.merged}"),
                    base_id=base.id,
                    adapter=kind == "adapter",
                    dataset_version=version,
                    trained_through=_parse_time(trained_through, from_db),
                    memory_ids=tuple(manifest["train_memories"]),
                    job_id=self.ctx.job_id,
                ),
            )
            for kind, path in files.items()
        ]
        registry = ModelRegistry(self.ctx.db_path, self.models_dir)
        try:
            records = registry.register_trained(versions)  # all of them or none
        except OSError as exc:
            raise TrainingError(
                f"could not store the trained model in {self.models_dir} ({exc.strerror or exc}); free disk space "
                "and retry the job (`secondmectl jobs retry ID` resumes at the export); the active model is unchanged"
            ) from None
        finally:
            registry.close()
        self.ctx.progress("register", 1, 1, ", ".join(r.name for r in records))
        return records

    def _eval_set(self, version: str) -> Any:
        from secondme.pipeline.evaluation import EvalSet, Question, load_eval_set

        path = self.params.get("eval_questions")
        if path:
            return load_eval_set(Path(path))
        held = self._dataset_store().held_out(version)[: self.settings.eval_questions]
        questions = tuple(
            Question(q.id, q.question, q.kind, q.answer, tuple(q.must_mention), tuple(q.evidence)) for q in held
        )
        return EvalSet(questions, source=HELD_OUT_SOURCE)

    def _evaluate(self, base: ModelRecord, trained: ModelRecord, version: str) -> dict[str, Any]:
        """Base vs trained, with retrieval: as chat serves each (stored, as `secondmectl eval` would), and in
        each model's own words (as with `chat.use_failed_model`), which is where training shows."""
        from secondme.daemon.jobs.evaluation import ask

        if self.settings.eval_questions == 0 and not self.params.get("eval_questions"):
            return {}
        eval_set = self._eval_set(version)
        if not eval_set.questions:
            return {"questions": 0, "source": eval_set.source}
        models = [base.id, trained.id]
        conn = self.ctx.connect()
        try:
            served = ask(self.ctx, conn, eval_set, models, retrieval=True)
            if section_from(ChatSection, self.ctx.config.get("chat", {})).use_failed_model:
                own = [{**run, "id": None} for run in served]  # chat already lets each model write
            else:
                own = ask(self.ctx, conn, eval_set, models, retrieval=True, let_models_write=True, save=False)
        finally:
            conn.close()
        return {
            "questions": len(eval_set.questions),
            "source": eval_set.source,
            "served": {"base": served[0], "trained": served[1]},
            "own_words": {"base": own[0], "trained": own[1]},
        }


def _parse_time(text: str, from_db: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return from_db(text)


def describe_plan(plan: Any, base_name: str) -> str:
    """One line for the owner: base, examples, tokens, time and peak memory on this machine."""
    stages = " + ".join(f"{s.stage.upper()} {s.steps} steps ({s.examples} examples)" for s in plan.stages)
    minutes = plan.seconds / 60
    when = f"~{minutes:.0f} min" if minutes >= 1 else f"~{plan.seconds:.0f} s"
    return (
        f"{base_name} on {plan.device_name} ({plan.dtype}): {stages}, {plan.tokens:,} tokens, "
        f"{when}, peak {plan.peak_memory_bytes / 2**30:.1f} GiB of {plan.memory_available_bytes / 2**30:.1f} GiB"
    )
