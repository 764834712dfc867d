"""ChatService: the owner talks to their AI self; replies stream, conversations are kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from secondme.daemon.api.convert import next_page_token, page_window, to_timestamp
from secondme.daemon.api.errors import InvalidArgument, grpc_errors, required
from secondme.daemon.chat_context import GENERATED, ChatContext, Grounding
from secondme.daemon.chat_reply import StreamedReply
from secondme.daemon.memory_search import RetrievedMemory
from secondme.daemon.models.registry import ModelRecord
from secondme.daemon.models.runtime import ModelRuntime, Priority
from secondme.daemon.store.conversations import ConversationRepository
from secondme.pipeline.probe import ProbeResult
from secondme.v1 import chat_pb2, chat_pb2_grpc

DEFAULT_MAX_TOKENS = 512
DEFAULT_TEMPERATURE = 0.7
MAX_MESSAGE_CHARS = 100_000
_CONVERSATIONS = "`secondmectl chat --list` shows them"


def _cited(memory: RetrievedMemory) -> dict[str, Any]:
    return {
        "memory_id": memory.memory_id,
        "title": memory.title,
        "source": memory.source,
        "score": round(memory.score, 6),
        "similarity": round(memory.similarity or 0.0, 6),
        "fresh": memory.fresh,
        "date": f"{memory.created_at:%Y-%m-%d}",
    }


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(
        self,
        runtime: ModelRuntime,
        conversations: ConversationRepository,
        context: ChatContext,
        probe_of: Callable[[str], Awaitable[ProbeResult | None]],
        grounding: Callable[[], Grounding] = Grounding,
    ) -> None:
        self._runtime = runtime
        self._conversations = conversations
        self._context = context
        self._probe_of = probe_of
        self._grounding = grounding

    @grpc_errors
    async def Chat(self, request: chat_pb2.ChatRequest, context: grpc.aio.ServicerContext):
        text = request.message.strip()
        if not text:
            raise InvalidArgument("message is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise InvalidArgument(f"message is longer than {MAX_MESSAGE_CHARS} characters")
        history = await self._conversations.messages(request.conversation_id) if request.conversation_id else []
        serving = self._runtime.serving
        prepared = await self._context.prepare(
            history, text, serving.trained_through if serving else None, retrieve=not request.without_memories
        )
        probe = await self._probe_of(serving.id) if serving else None
        plan = await self._context.plan(
            text,
            prepared,
            serving.name if serving else None,
            probe is not None and probe.passed,
            self._grounding(),
            retrieved=not request.without_memories,
        )
        used, mode, warning = plan.used, plan.mode, plan.warning
        cited = [_cited(m) for m in used]
        served_by: list[ModelRecord] = []
        reply: StreamedReply | None = None
        if mode != GENERATED:  # the owner's own words (or an honest nothing): no model call
            reply = await StreamedReply.begin(self._conversations, request.conversation_id, text, "", cited)
            reply.add(plan.text)
            yield chat_pb2.ChatResponse(token=plan.text)
            await reply.finish(complete=True)
        else:
            # Nothing is stored until the model serves: a refused chat (no model, a full queue) leaves nothing.
            finished = False
            try:
                async for piece in self._runtime.stream(
                    prepared.messages,
                    priority=Priority.OWNER,
                    max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                    temperature=request.temperature if request.HasField("temperature") else DEFAULT_TEMPERATURE,
                    seed=request.seed if request.HasField("seed") else None,
                    served_by=served_by,
                ):
                    if reply is None:
                        reply = await StreamedReply.begin(
                            self._conversations, request.conversation_id, text, served_by[0].id, cited
                        )
                    reply.add(piece)
                    yield chat_pb2.ChatResponse(token=piece)
                    await reply.write_if_due()  # after the send: what is stored was said
                finished = True
                if reply is None and served_by:  # the model served an empty reply
                    reply = await StreamedReply.begin(
                        self._conversations, request.conversation_id, text, served_by[0].id, cited
                    )
            finally:
                if reply is not None:  # what was said is kept, marked incomplete when it was cut off
                    await reply.finish(complete=finished)
        yield chat_pb2.ChatResponse(
            done=chat_pb2.ChatDone(
                conversation_id=reply.conversation_id if reply else request.conversation_id,
                model=served_by[0].name if served_by else "",
                completion_tokens=reply.pieces if reply else 0,
                cited=[chat_pb2.CitedMemory(**c) for c in cited],
                mode=mode,
                warning=warning,
            )
        )

    @grpc_errors
    async def ListConversations(self, request: chat_pb2.ListConversationsRequest, context: grpc.aio.ServicerContext):
        limit, offset = page_window(request.page_size, request.page_token)
        records = await self._conversations.list(limit, offset)
        return chat_pb2.ListConversationsResponse(
            conversations=[
                chat_pb2.Conversation(
                    id=r.id,
                    title=r.title,
                    created_at=to_timestamp(r.created_at),
                    updated_at=to_timestamp(r.updated_at),
                    message_count=r.message_count,
                )
                for r in records
            ],
            next_page_token=next_page_token(offset, len(records), limit),
        )

    @grpc_errors
    async def GetConversation(self, request: chat_pb2.GetConversationRequest, context: grpc.aio.ServicerContext):
        record = await self._conversations.get(required(request.conversation_id, "conversation_id", _CONVERSATIONS))
        messages = await self._conversations.messages(record.id)
        return chat_pb2.GetConversationResponse(
            conversation=chat_pb2.Conversation(
                id=record.id,
                title=record.title,
                created_at=to_timestamp(record.created_at),
                updated_at=to_timestamp(record.updated_at),
                message_count=record.message_count,
            ),
            messages=[
                chat_pb2.ChatMessage(
                    role=m.role,
                    content=m.content,
                    created_at=to_timestamp(m.created_at),
                    model=m.model_id,
                    cited=[chat_pb2.CitedMemory(**c) for c in m.cited],
                    incomplete=not m.complete,
                )
                for m in messages
            ],
        )

    @grpc_errors
    async def DeleteConversation(self, request: chat_pb2.DeleteConversationRequest, context: grpc.aio.ServicerContext):
        await self._conversations.delete(required(request.conversation_id, "conversation_id", _CONVERSATIONS))
        return chat_pb2.DeleteConversationResponse()
