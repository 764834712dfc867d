"""The daemon's configuration: a versioned TOML file, strictly validated.

Unknown keys are refused with their dotted name, because a typo'd key that is silently ignored
leaves the owner believing a setting is in force when it is not. Each concern has one section,
a dataclass whose defaults are the documented defaults (`secondmectl config default` prints them).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secondme.errors import SecondmeError
from secondme.network.settings import NetworkSettings
from secondme.pipeline.ingest.settings import IngestSettings
from secondme.pipeline.training.settings import TrainingSettings

CONFIG_VERSION = 1


class ConfigError(SecondmeError):
    """The config file cannot be used; the message names the file and the key."""


@dataclass
class OwnerSection:
    # The owner's name as the self says it (biographies, chat, the card granted peers see). Set by
    # `secondmectl init --name` or `secondmectl config set owner.name`; never taken from the OS login
    # or from a model. Empty: the self says "the owner".
    name: str = ""
    # How the identity's third-person sentences refer to the owner after their name: they, she or he
    # ("Mrs Okafor lent Sam her hoe and told her to weed").
    pronouns: str = "they"


@dataclass
class DaemonSection:
    # Empty means: flag, environment or XDG default (see secondme.daemon.paths).
    data_dir: str = ""
    socket: str = ""
    log_level: str = "info"
    log_format: str = "plain"


@dataclass
class JobsSection:
    # Jobs run one at a time by default: on a laptop the owner's chat must stay responsive.
    max_concurrent: int = 1
    # Seconds a job child is given to exit after SIGTERM before it is killed.
    stop_grace_seconds: float = 5.0


@dataclass
class GrantsSection:
    # Seconds a peer's clock may differ from ours when checking a grant's validity window.
    clock_skew_seconds: float = 60.0
    # Grants a peer may deliver to us over the mesh that are kept; beyond it its oldest are dropped.
    max_received_per_peer: int = 16


@dataclass
class ModelsSection:
    # Threads for llama.cpp; 0 lets llama.cpp choose (the physical cores).
    threads: int = 0
    context_size: int = 4096
    # Layers offloaded to the GPU when llama.cpp was built with CUDA or Metal; -1 means all.
    gpu_layers: int = 0
    # Requests allowed to wait for the model; beyond this they are refused (RESOURCE_EXHAUSTED).
    max_waiting: int = 16
    # An OpenAI-compatible endpoint for the pipeline's generation instead of the local model.
    openai_base_url: str = ""
    openai_model: str = ""
    # The name of the environment variable holding the endpoint's API key (never the key itself).
    openai_api_key_env: str = ""
    # Seconds the capability check waits for the endpoint's answer; past it the endpoint is
    # "unchecked" (treated as failing) and checked again at the next start.
    probe_timeout_seconds: float = 60.0


@dataclass
class IdentitySection:
    # Update insights, shades and biographies after every ingest (the job runs in the background).
    auto_update: bool = True
    # Mean cosine distance within which memories belong to one shade (smaller: more, tighter shades).
    # Measured on embeddings centred on the owner's own corpus mean, so unrelated notes sit near 1.0.
    cluster_distance: float = 0.85
    # Fewer alike memories than this form no shade yet; they wait for more.
    min_shade_memories: int = 3
    # The newest memories the status biography ("lately") is written from.
    recent_memories: int = 12
    # Scales the length bound of every text the model writes (insights, shades, biographies):
    # below 1 for shorter texts written sooner on a slow machine.
    text_length_scale: float = 1.0
    # How texts about the owner are made: "auto" lets a model that passed the capability check
    # write them (every sentence checked against its memories) and builds them from the owner's own
    # sentences otherwise; "extractive" always does the latter; "generative" always lets the model write.
    mode: str = "auto"
    # A written sentence is kept only if a sentence of its memories is at least this close in meaning
    # (embedding cosine similarity) and shares at least this share of its content words.
    support_similarity: float = 0.6
    support_overlap: float = 0.6


@dataclass
class ChatSection:
    # Memories retrieved for each message (hybrid: embeddings and full-text), cited in the reply.
    retrieve_memories: int = 5
    # Of those, places kept for memories newer than what the active model was trained on.
    fresh_memories: int = 2
    # Cosine similarity below which a memory is not brought in by its embedding alone.
    min_similarity: float = 0.15
    # A question about the owner to which neither the best retrieved memory (cosine of its chunk) nor
    # any one of the owner's sentences in them is this similar is answered with "I have nothing on
    # that in my memories" instead of the model's imagination.
    min_relevance: float = 0.35
    # A model that failed the capability check answers only by quoting the owner's sentences,
    # unless this is true: then it writes replies itself, each with a one-line warning.
    use_failed_model: bool = False


@dataclass
class Config:
    version: int = CONFIG_VERSION
    owner: OwnerSection = field(default_factory=OwnerSection)
    daemon: DaemonSection = field(default_factory=DaemonSection)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    jobs: JobsSection = field(default_factory=JobsSection)
    grants: GrantsSection = field(default_factory=GrantsSection)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    models: ModelsSection = field(default_factory=ModelsSection)
    identity: IdentitySection = field(default_factory=IdentitySection)
    chat: ChatSection = field(default_factory=ChatSection)
    training: TrainingSettings = field(default_factory=TrainingSettings)

    def validate(self) -> None:
        if self.owner.pronouns not in ("they", "she", "he"):
            raise ConfigError(f"owner.pronouns must be they, she or he, not {self.owner.pronouns!r}")
        if self.daemon.log_format not in ("plain", "json"):
            raise ConfigError(f"daemon.log_format must be 'plain' or 'json', not {self.daemon.log_format!r}")
        if self.daemon.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise ConfigError(f"daemon.log_level must be debug, info, warning or error, not {self.daemon.log_level!r}")
        if self.ingest.chunk_tokens < 16:
            raise ConfigError("ingest.chunk_tokens must be at least 16")
        if not 0 <= self.ingest.chunk_overlap < self.ingest.chunk_tokens:
            raise ConfigError("ingest.chunk_overlap must be at least 0 and smaller than ingest.chunk_tokens")
        if self.ingest.max_file_bytes <= 0:
            raise ConfigError("ingest.max_file_bytes must be positive")
        if self.ingest.max_image_pixels < 1_000_000:
            raise ConfigError("ingest.max_image_pixels must be at least 1000000 (a small photo)")
        if self.ingest.max_audio_seconds < 60:
            raise ConfigError("ingest.max_audio_seconds must be at least 60")
        if self.ingest.parse_memory_mb < 64:
            raise ConfigError("ingest.parse_memory_mb must be at least 64")
        if self.ingest.parse_timeout_seconds < 1:
            raise ConfigError("ingest.parse_timeout_seconds must be at least 1")
        if self.models.context_size < 256:
            raise ConfigError("models.context_size must be at least 256")
        if self.models.max_waiting < 1:
            raise ConfigError("models.max_waiting must be at least 1")
        if self.jobs.max_concurrent < 1:
            raise ConfigError("jobs.max_concurrent must be at least 1")
        if not 0 < self.identity.cluster_distance < 2:
            raise ConfigError("identity.cluster_distance must be between 0 and 2 (a cosine distance)")
        if self.identity.min_shade_memories < 2:
            raise ConfigError("identity.min_shade_memories must be at least 2")
        if not 0.05 <= self.identity.text_length_scale <= 2:
            raise ConfigError("identity.text_length_scale must be between 0.05 and 2")
        if self.identity.mode not in ("auto", "extractive", "generative"):
            raise ConfigError(f"identity.mode must be auto, extractive or generative, not {self.identity.mode!r}")
        for name in ("support_similarity", "support_overlap"):
            if not 0 <= getattr(self.identity, name) <= 1:
                raise ConfigError(f"identity.{name} must be between 0 and 1")
        if not -1 <= self.chat.min_relevance <= 1:
            raise ConfigError("chat.min_relevance must be between -1 and 1")
        if self.models.probe_timeout_seconds <= 0:
            raise ConfigError("models.probe_timeout_seconds must be positive")
        if self.identity.recent_memories < 1:
            raise ConfigError("identity.recent_memories must be at least 1")
        if not 0 <= self.chat.fresh_memories <= self.chat.retrieve_memories <= 50:
            raise ConfigError("chat needs 0 <= fresh_memories <= retrieve_memories <= 50")
        self._validate_training()
        if not -1 <= self.chat.min_similarity <= 1:
            raise ConfigError("chat.min_similarity must be between -1 and 1")
        if not 0 <= self.grants.clock_skew_seconds <= 3600:
            raise ConfigError("grants.clock_skew_seconds must be between 0 and 3600")
        if self.network.max_frame_bytes < 1024:
            raise ConfigError("network.max_frame_bytes must be at least 1024")
        if self.grants.max_received_per_peer < 1:
            raise ConfigError("grants.max_received_per_peer must be at least 1")
        for name in (
            "max_connections",
            "max_connections_per_peer",
            "max_streams_per_peer",
            "max_streams_per_protocol",
            "max_sessions_per_peer",
            "rate_burst",
            "strikes_before_ban",
            "max_dials_per_minute",
            "max_recent_peers",
        ):
            if getattr(self.network, name) < 1:
                raise ConfigError(f"network.{name} must be at least 1")
        for name in (
            "rate_per_second",
            "read_timeout_seconds",
            "session_idle_seconds",
            "idle_connection_seconds",
            "dht_interval_seconds",
            "rendezvous_interval_seconds",
            "recent_peer_seconds",
            "ban_seconds",
        ):
            if getattr(self.network, name) <= 0:
                raise ConfigError(f"network.{name} must be positive")

    def _validate_training(self) -> None:
        t = self.training
        for name in ("lora_rank", "lora_alpha", "effective_batch", "questions_per_memory", "min_memories"):
            if getattr(t, name) < 1:
                raise ConfigError(f"training.{name} must be at least 1")
        for name in ("sft_epochs", "dpo_epochs", "learning_rate", "dpo_learning_rate", "dpo_beta"):
            if getattr(t, name) <= 0:
                raise ConfigError(f"training.{name} must be positive")
        if t.max_length < 64:
            raise ConfigError("training.max_length must be at least 64 tokens")
        if t.threads < 0 or t.distractors < 0 or t.preference_prompts < 0 or t.eval_questions < 0:
            raise ConfigError("training.threads, distractors, preference_prompts and eval_questions cannot be negative")
        if t.checkpoint_seconds <= 0:
            raise ConfigError("training.checkpoint_seconds must be positive")
        if not 0 < t.memory_fraction <= 1:
            raise ConfigError("training.memory_fraction must be between 0 and 1")
        if not 0 <= t.held_out_fraction < 1:
            raise ConfigError("training.held_out_fraction must be at least 0 and below 1")


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return isinstance(value, list) and all(item is Any or _type_ok(v, item) for v in value)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(annotation))
    return True


def _build(cls: type, data: dict[str, Any], where: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            dotted = f"{where}.{key}" if where else key
            raise ConfigError(f"{source}: unknown key '{dotted}' (known: {', '.join(sorted(known))})")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        annotation = hints[name]
        dotted = f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: '{dotted}' must be a table")
            kwargs[name] = _build(annotation, value, dotted, source)
        elif not _type_ok(value, annotation):
            raise ConfigError(f"{source}: '{dotted}' has the wrong type ({type(value).__name__})")
        else:
            kwargs[name] = value
    return cls(**kwargs)


def parse_config(text: str, source: str = "config") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    version = data.get("version", CONFIG_VERSION)
    if version != CONFIG_VERSION:
        raise ConfigError(
            f"{source}: config version {version!r} is not supported by this secondme "
            f"(supported: {CONFIG_VERSION}); upgrade secondme or run `secondmectl config default`"
        )
    config = _build(Config, data, "", source)
    config.validate()
    return config


def load_config(path: Path) -> Config:
    """Read the config file; a missing file means all defaults."""
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc
    return parse_config(text, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def render_config(config: Config, only_changed: bool = False) -> str:
    """Write a config as TOML (the subset our sections use: scalars, lists, one table level).

    With `only_changed`, only settings that differ from the defaults are written (plus `version`): a
    file that restated every default would freeze today's defaults against later versions.
    """
    defaults = Config()
    lines = [f"version = {config.version}", ""]
    for section in dataclasses.fields(config):
        value = getattr(config, section.name)
        if not dataclasses.is_dataclass(value):
            continue
        default = getattr(defaults, section.name)
        items = [
            f"{item.name} = {_toml_value(getattr(value, item.name))}"
            for item in dataclasses.fields(value)
            if not only_changed or getattr(value, item.name) != getattr(default, item.name)
        ]
        if items:
            lines.extend([f"[{section.name}]", *items, ""])
    return "\n".join(lines)


def with_setting(config: Config, dotted: str, text: str) -> Config:
    """A copy of `config` with one setting (`section.key`) changed; `text` is read as its TOML value.

    A string setting takes `text` as it is (no quotes needed); others take a TOML value (`true`,
    `8`, `["/ip4/127.0.0.1/tcp/0"]`). The result is validated like a loaded file.
    """
    section_name, _, key = dotted.partition(".")
    sections = {f.name: f for f in dataclasses.fields(config) if dataclasses.is_dataclass(getattr(config, f.name))}
    if section_name not in sections or not key:
        raise ConfigError(f"unknown setting {dotted!r}; settings are section.key (sections: {', '.join(sections)})")
    section = getattr(config, section_name)
    hints = typing.get_type_hints(type(section))
    if key not in hints:
        known = ", ".join(f.name for f in dataclasses.fields(section))
        raise ConfigError(f"unknown setting {dotted!r} (known in [{section_name}]: {known})")
    if hints[key] is str:
        value: Any = text
    else:
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{dotted}: {text!r} is not a TOML value ({exc})") from exc
        if not _type_ok(value, hints[key]):
            raise ConfigError(f"{dotted}: {text!r} has the wrong type ({type(value).__name__})")
    changed = dataclasses.replace(config, **{section_name: dataclasses.replace(section, **{key: value})})
    changed.validate()
    return changed


def config_to_dict(config: Config) -> dict[str, Any]:
    return dataclasses.asdict(config)


S = typing.TypeVar("S")


def section_from(cls: type[S], data: dict[str, Any]) -> S:
    """A section rebuilt from its `config_to_dict` form (what a job child receives)."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in known})


def write_config(path: Path, config: Config) -> None:
    """Write the settings that differ from the defaults, atomically (a crash leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render_config(config, only_changed=True), encoding="utf-8")
    tmp.replace(path)
