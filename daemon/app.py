"""The composition root: config -> store -> services -> server, and nothing else builds parts.

`Daemon.start` reads top to bottom: claim the data dir, open the store, build the jobs (and the
pipeline of jobs, `embed_after_ingest` and `identity_after_embed` below), the grant authority, the
models, the mesh's daemon side (its session handler, `echo_turn`, chosen here), the API, then start
the mesh, serve and start the work. Each step is handed only what it needs. Start and stop are
symmetric; `stop` is safe to call at any point of a failed start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from secondme.daemon import __version__, systemd
from secondme.daemon.api.chat import ChatServicer
from secondme.daemon.api.daemon import DaemonServicer, StatusSources
from secondme.daemon.api.evaluation import EvalServicer
from secondme.daemon.api.grants import GrantServicer
from secondme.daemon.api.identity import IdentityServicer
from secondme.daemon.api.jobs import JobServicer
from secondme.daemon.api.memory import MemoryServicer
from secondme.daemon.api.models import ModelServicer
from secondme.daemon.api.peers import PeerServicer
from secondme.daemon.api.training import TrainingServicer
from secondme.daemon.bootstrap import open_data_dir, read_node_key
from secondme.daemon.chat_context import ChatContext, Grounding
from secondme.daemon.config import Config, config_to_dict, load_config
from secondme.daemon.identity_prompt import IdentityPrompt
from secondme.daemon.jobs import JobManager
from secondme.daemon.logs import configure_logging
from secondme.daemon.memory_search import RetrievalSettings, Retriever
from secondme.daemon.mesh import DaemonDelegate, Mesh
from secondme.daemon.models.activation import ModelSwitch
from secondme.daemon.models.probes import endpoint_key, is_due, load_probe
from secondme.daemon.models.registry import ModelRegistry
from secondme.daemon.models.runtime import ModelRuntime
from secondme.daemon.node_key import peer_id_from_public_key, private_key_seed
from secondme.daemon.paths import Paths
from secondme.daemon.socket_guard import DataDirLock, prepare_socket_path
from secondme.daemon.store import Store
from secondme.daemon.store.conversations import ConversationRepository
from secondme.daemon.store.counts import BacklogCounts, Recounted, Totals, backlog_counter, count_totals
from secondme.daemon.store.eval_runs import EvalRunRepository
from secondme.daemon.store.grants import GrantRepository, SqliteGrantLedger
from secondme.daemon.store.identity import IdentityRepository
from secondme.daemon.store.jobs import JobRecord, JobRepository
from secondme.daemon.store.memories import MemoryRepository
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.peers import PeerRepository
from secondme.daemon.training import Training
from secondme.permissions import GrantAuthority, SessionHandle
from secondme.pipeline.embeddings import DEFAULT_MODEL
from secondme.pipeline.identity.update import MAX_INSIGHT_ATTEMPTS
from secondme.pipeline.llm import LlamaSettings
from secondme.pipeline.probe import ProbeResult
from secondme.v1 import (
    chat_pb2,
    chat_pb2_grpc,
    daemon_pb2,
    daemon_pb2_grpc,
    eval_pb2,
    eval_pb2_grpc,
    grant_pb2,
    grant_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    jobs_pb2,
    jobs_pb2_grpc,
    memory_pb2,
    memory_pb2_grpc,
    models_pb2,
    models_pb2_grpc,
    peer_pb2,
    peer_pb2_grpc,
    training_pb2,
    training_pb2_grpc,
)

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 5.0
# Status and chat answers are small; uploads arrive in chunks. Bound what one message can cost.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

# A job to queue after another succeeds: (kind, params).
FollowUp = tuple[str, dict[str, Any]]


def embed_after_ingest(result: dict[str, Any]) -> list[FollowUp]:
    """A succeeded ingest that stored something is followed by embedding what it stored."""
    return [("embed", {})] if result.get("ingested") else []


def identity_after_embed(result: dict[str, Any], auto_update: bool) -> list[FollowUp]:
    """A succeeded embed that embedded memories (or linked same-content ones) is followed by the
    identity update, when identity.auto_update is on."""
    return [("identity", {})] if auto_update and (result.get("memories") or result.get("same_content")) else []


async def echo_turn(peer_id: str, session: SessionHandle, text: str) -> str:
    """A peer's session turn, answered by echoing it until the sessions work plugs in the model."""
    return f"echo: {text}"


@dataclass
class Daemon:
    paths: Paths
    config: Config
    started_monotonic: float = field(default_factory=time.monotonic)
    store: Store | None = None
    # What status counts: memories and jobs, and what the background jobs still have to do.
    totals: Recounted[Totals] | None = None
    backlog: Recounted[BacklogCounts] | None = None
    server: grpc.aio.Server | None = None
    jobs: JobManager | None = None
    health: health.aio.HealthServicer | None = None
    # Decides every peer request; the network layer is handed this.
    grants: GrantAuthority | None = None
    _grant_ledger: SqliteGrantLedger | None = None
    # The libp2p mesh on its own trio thread; None when network.enabled is false.
    mesh: Mesh | None = None
    models: ModelRegistry | None = None
    runtime: ModelRuntime | None = None
    chat_context: ChatContext | None = None
    _lock: DataDirLock | None = None
    _stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    _service_names: list[str] = field(default_factory=list)

    async def start(self) -> None:
        """Build the parts in dependency order, then serve; each step is handed only what it needs."""
        node_key = self._claim_data_dir()
        peer_id = peer_id_from_public_key(node_key.public_key())
        self.store, memories = await self._open_store()
        job_repo = JobRepository(self.store)
        self.jobs = self._build_jobs(job_repo)
        self.grants = await self._build_grants(peer_id, node_key)
        self.models, self.runtime = await self._build_models()
        switch = ModelSwitch(self.models, self.runtime, self.probe_models)
        training = Training(self.jobs, job_repo, self.models, switch)
        self.jobs.finishers["train"] = training.finish
        self.mesh = self._build_mesh(node_key) if self.config.network.enabled else None
        self._build_api(peer_id, memories, job_repo, switch, training)
        if self.mesh is not None:
            await self.mesh.start()
        await self._serve()
        await self._start_work()
        log.info(
            "secondmed %s serving on %s (peer %s, data %s)",
            __version__,
            self.paths.socket,
            peer_id,
            self.paths.data_dir,
        )

    # -- the steps of start, in order ---------------------------------------------------------

    def _claim_data_dir(self) -> Ed25519PrivateKey:
        """Open (or refuse) the data dir, hold its lock, and read the node key; the socket's path is
        made ready (a stale socket of a dead daemon removed)."""
        open_data_dir(self.paths)
        self._lock = DataDirLock(self.paths.lock)
        self._lock.acquire()
        node_key = read_node_key(self.paths)
        prepare_socket_path(self.paths.socket)
        return node_key

    async def _open_store(self) -> tuple[Store, MemoryRepository]:
        """The store (checked whole), and the originals an interrupted ingest left without a memory removed."""
        store = await Store.open(self.paths.db, check_integrity=True)
        originals = Originals(self.paths.originals)
        memories = MemoryRepository(store, originals)
        swept = originals.sweep_orphans(await memories.file_backed_hashes())
        if swept:
            log.info("removed %d stored originals left by an interrupted ingest", swept)
        return store, memories

    def _build_jobs(self, repo: JobRepository) -> JobManager:
        """The job manager, and the pipeline of jobs: ingest -> embed -> identity (see `embed_after_ingest`)."""
        jobs = JobManager(
            repo,
            self.paths,
            self._config_snapshot,
            max_concurrent=self.config.jobs.max_concurrent,
            stop_grace_seconds=self.config.jobs.stop_grace_seconds,
        )
        jobs.follow_ups["ingest"] = embed_after_ingest
        jobs.follow_ups["embed"] = self._identity_after_embed
        return jobs

    def _identity_after_embed(self, result: dict[str, Any]) -> list[FollowUp]:
        return identity_after_embed(result, self.config.identity.auto_update)

    async def _build_grants(self, peer_id: str, node_key: Ed25519PrivateKey) -> GrantAuthority:
        """The authority that decides every peer request, over the grants ledger in the store."""
        self._grant_ledger = SqliteGrantLedger(self.paths.db)
        return await asyncio.to_thread(
            GrantAuthority, peer_id, node_key, self._grant_ledger, self.config.grants.clock_skew_seconds
        )

    async def _build_models(self) -> tuple[ModelRegistry, ModelRuntime]:
        """The model registry (imports a crash left half-done swept away) and the runtime, the active
        model loading in the background."""
        models = ModelRegistry(self.paths.db, self.paths.models)
        models.sweep_incoming()
        settings = self.config.models
        runtime = ModelRuntime(
            LlamaSettings(settings.context_size, settings.threads, settings.gpu_layers), settings.max_waiting
        )
        active = await asyncio.to_thread(models.active)
        if active is not None:
            runtime.preload(active)
        return models, runtime

    def _build_mesh(self, node_key: Ed25519PrivateKey) -> Mesh:
        """The mesh's daemon side: what the node asks of the daemon (a peer's session turn is
        answered by `echo_turn`) and the owner's actions; started before the API serves."""
        assert self.store is not None and self.grants is not None
        peers, grants = PeerRepository(self.store), GrantRepository(self.store)
        settings = self.config.network
        delegate = DaemonDelegate(
            self.grants.peer_id,
            self.config.owner.name,
            peers,
            grants,
            echo_turn,
            settings,
            self.config.grants.max_received_per_peer,
        )
        return Mesh(private_key_seed(node_key), settings, __version__, self.grants, peers, grants, delegate)

    def _build_api(
        self,
        peer_id: str,
        memories: MemoryRepository,
        job_repo: JobRepository,
        switch: ModelSwitch,
        training: Training,
    ) -> None:
        """The gRPC server and one servicer per service, each over the parts it answers for."""
        assert self.store is not None and self.jobs is not None and self.grants is not None
        assert self.models is not None and self.runtime is not None
        self.server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ]
        )
        store = self.store
        self.totals = Recounted(self.paths.db, count_totals, written=lambda: store.writes)
        self.backlog = Recounted(self.paths.db, backlog_counter(DEFAULT_MODEL, MAX_INSIGHT_ATTEMPTS))
        status = StatusSources(
            data_dir=str(self.paths.data_dir),
            socket_path=str(self.paths.socket),
            config_path=str(self.paths.config),
            peer_id=peer_id,
            started_monotonic=self.started_monotonic,
            counts=self.totals.get,
            running_job_count=lambda: self.jobs.running_count if self.jobs else 0,
            active_model=lambda: self.runtime.loaded.name if self.runtime and self.runtime.loaded else "",
            addresses=self._mesh_addresses,
            backlog=self.backlog.get,
        )
        identity = IdentityRepository(self.store)
        self.chat_context = ChatContext(
            IdentityPrompt(identity, self._owner_name), Retriever(self.store), self._retrieval_settings()
        )
        self._add(
            daemon_pb2,
            "DaemonService",
            daemon_pb2_grpc.add_DaemonServiceServicer_to_server,
            DaemonServicer(status, self.request_stop),
        )
        self._add(
            jobs_pb2,
            "JobService",
            jobs_pb2_grpc.add_JobServiceServicer_to_server,
            JobServicer(self.jobs, job_repo),
        )
        self._add(
            memory_pb2,
            "MemoryService",
            memory_pb2_grpc.add_MemoryServiceServicer_to_server,
            MemoryServicer(memories, self.jobs, self.paths.uploads, self._max_file_bytes, self._memories_deleted),
        )
        self._add(
            identity_pb2,
            "IdentityService",
            identity_pb2_grpc.add_IdentityServiceServicer_to_server,
            IdentityServicer(identity, self.refresh_identity),
        )
        self._add(
            grant_pb2,
            "GrantService",
            grant_pb2_grpc.add_GrantServiceServicer_to_server,
            GrantServicer(self.grants, GrantRepository(self.store)),
        )
        self._add(
            training_pb2,
            "TrainingService",
            training_pb2_grpc.add_TrainingServiceServicer_to_server,
            TrainingServicer(training, self.paths.data_dir / "training" / "datasets"),
        )
        self._add(
            models_pb2,
            "ModelService",
            models_pb2_grpc.add_ModelServiceServicer_to_server,
            ModelServicer(self.models, switch, self.paths.models, self._probe_of),
        )
        self._add(
            chat_pb2,
            "ChatService",
            chat_pb2_grpc.add_ChatServiceServicer_to_server,
            ChatServicer(
                self.runtime, ConversationRepository(self.store), self.chat_context, self._probe_of, self._grounding
            ),
        )
        self._add(
            eval_pb2,
            "EvalService",
            eval_pb2_grpc.add_EvalServiceServicer_to_server,
            EvalServicer(self.jobs, EvalRunRepository(self.store), self.models, self._memory_count),
        )
        self._add(peer_pb2, "PeerService", peer_pb2_grpc.add_PeerServiceServicer_to_server, PeerServicer(self.mesh))
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [
                *self._service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self.server,
        )

    async def _serve(self) -> None:
        """Listen on the Unix socket, created 0600: only the owner may talk to the daemon."""
        assert self.server is not None and self.health is not None
        # grpc's health servicer says the server as a whole ("") is SERVING from the start; until the jobs
        # are running it is not, and a client that waits for health must wait for that.
        await self.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        old_umask = os.umask(0o177)
        try:
            self.server.add_insecure_port(f"unix:{self.paths.socket}")
            await self.server.start()
        finally:
            os.umask(old_umask)
        os.chmod(self.paths.socket, 0o600)

    async def _start_work(self) -> None:
        """Start the jobs (resuming what the last daemon's end interrupted), queue a capability check
        the active model lacks, then say SERVING to health checks and systemd."""
        assert self.jobs is not None and self.health is not None
        resumed, interrupted = await self.jobs.start()
        await self.probe_models()
        if resumed:
            log.warning("resuming %d job(s) the previous daemon's end interrupted: %s", len(resumed), resumed)
        if interrupted:
            log.warning("marked %d job(s) interrupted by the previous daemon's end: %s", len(interrupted), interrupted)
        for name in ["", *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        systemd.notify(f"READY=1\nSTATUS=serving on {self.paths.socket}\nMAINPID={os.getpid()}")

    # -- what the parts read of the config, at the time they ask ------------------------------

    def _owner_name(self) -> str:
        return self.config.owner.name

    def _max_file_bytes(self) -> int:
        return self.config.ingest.max_file_bytes

    def _grounding(self) -> Grounding:
        return Grounding(self.config.chat.min_relevance, self.config.chat.use_failed_model)

    def _retrieval_settings(self) -> RetrievalSettings:
        chat = self.config.chat
        return RetrievalSettings(chat.retrieve_memories, chat.fresh_memories, chat.min_similarity)

    async def _memories_deleted(self) -> None:
        await self.refresh_identity(False)

    async def _probe_of(self, model_id: str) -> ProbeResult | None:
        assert self.store is not None
        return await load_probe(self.store, model_id)

    async def refresh_identity(self, asked: bool) -> JobRecord | None:
        """Queue an identity update: when the owner asks, or after a change if auto_update is on."""
        if self.jobs is None or not (asked or self.config.identity.auto_update):
            return None
        return await self.jobs.ensure_queued("identity")

    async def probe_models(self) -> JobRecord | None:
        """Queue the capability check when the active model or the configured endpoint has none yet."""
        assert self.store is not None and self.models is not None and self.jobs is not None
        keys = []
        active = await asyncio.to_thread(self.models.active)
        if active is not None:
            keys.append(active.id)
        if self.config.models.openai_base_url:
            keys.append(endpoint_key(self.config.models))
        for key in keys:
            if is_due(await load_probe(self.store, key)):
                return await self.jobs.ensure_queued("probe")
        return None

    def _add(self, module: Any, service: str, add_to_server: Any, servicer: Any) -> None:
        assert self.server is not None
        add_to_server(servicer, self.server)
        self._service_names.append(module.DESCRIPTOR.services_by_name[service].full_name)

    async def _mesh_addresses(self) -> list[str]:
        return await self.mesh.addresses() if self.mesh and self.mesh.running else []

    async def _memory_count(self) -> int:
        assert self.totals is not None
        return (await self.totals.get()).memories

    def _config_snapshot(self) -> dict[str, Any]:
        return config_to_dict(self.config)

    def request_stop(self) -> None:
        self._stop_requested.set()

    async def wait_until_stopped(self) -> None:
        await self._stop_requested.wait()

    def reload(self) -> None:
        """SIGHUP: re-read the config file; settings that need a restart are reported, not applied."""
        try:
            fresh = load_config(self.paths.config)
        except Exception as exc:
            log.error("config reload failed, keeping the current config: %s", exc)
            return
        if fresh.daemon.data_dir != self.config.daemon.data_dir or fresh.daemon.socket != self.config.daemon.socket:
            log.warning("daemon.data_dir and daemon.socket changes take effect after a restart")
        self.config = fresh
        configure_logging(fresh.daemon.log_level, fresh.daemon.log_format)
        if self.jobs:
            self.jobs.max_concurrent = fresh.jobs.max_concurrent
            self.jobs.stop_grace_seconds = fresh.jobs.stop_grace_seconds
        if self.grants:
            self.grants.set_clock_skew(fresh.grants.clock_skew_seconds)
        if self.chat_context:
            self.chat_context.settings = self._retrieval_settings()
        log.info("reloaded config from %s", self.paths.config)

    async def stop(self) -> None:
        systemd.notify("STOPPING=1")
        log.info("stopping")
        if self.health:
            await self.health.enter_graceful_shutdown()
        if self.server:
            await self.server.stop(SHUTDOWN_GRACE_SECONDS)
        if self.mesh:
            await self.mesh.stop()
        if self.runtime:
            await self.runtime.close()
        if self.models:
            self.models.close()
        if self.jobs:
            await self.jobs.shutdown()
        if self._grant_ledger:
            self._grant_ledger.close()
        for counted in (self.totals, self.backlog):
            if counted:
                await counted.close()
        if self.store:
            await self.store.close()
        with contextlib.suppress(FileNotFoundError):
            if self.server:
                self.paths.socket.unlink()
        if self._lock:
            self._lock.release()
        log.info("stopped")
