"""ChatService: the owner talks to their AI self; replies stream, conversations are kept."""

from __future__ import annotations

import grpc

from secondme.daemon.api.convert import next_page_token, page_window, to_timestamp
from secondme.daemon.api.errors import InvalidArgument, grpc_errors
from secondme.daemon.chat_context import ChatContext
from secondme.daemon.models.registry import ModelRecord
from secondme.daemon.models.runtime import ModelRuntime, Priority
from secondme.daemon.store.conversations import ConversationRepository
from secondme.v1 import chat_pb2, chat_pb2_grpc

DEFAULT_MAX_TOKENS = 512
DEFAULT_TEMPERATURE = 0.7
MAX_MESSAGE_CHARS = 100_000


class ChatServicer(chat_pb2_grpc.ChatServiceServicer):
    def __init__(self, runtime: ModelRuntime, conversations: ConversationRepository, context: ChatContext) -> None:
        self._runtime = runtime
        self._conversations = conversations
        self._context = context

    @grpc_errors
    async def Chat(self, request: chat_pb2.ChatRequest, context: grpc.aio.ServicerContext):
        text = request.message.strip()
        if not text:
            raise InvalidArgument("message is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise InvalidArgument(f"message is longer than {MAX_MESSAGE_CHARS} characters")
        if request.conversation_id:
            conversation_id = request.conversation_id
            history = await self._conversations.messages(conversation_id)
        else:
            conversation_id, history = await self._conversations.create(text), []
        serving = self._runtime.serving
        prepared = await self._context.prepare(
            history, text, serving.trained_through if serving else None, retrieve=not request.without_memories
        )
        cited = [
            {
                "memory_id": m.memory_id,
                "title": m.title,
                "source": m.source,
                "score": round(m.score, 6),
                "similarity": round(m.similarity or 0.0, 6),
                "fresh": m.fresh,
                "date": f"{m.created_at:%Y-%m-%d}",
            }
            for m in prepared.cited
        ]
        await self._conversations.add_message(conversation_id, "user", text)
        served_by: list[ModelRecord] = []
        pieces: list[str] = []
        try:
            async for piece in self._runtime.stream(
                prepared.messages,
                priority=Priority.OWNER,
                max_tokens=request.max_tokens or DEFAULT_MAX_TOKENS,
                temperature=request.temperature if request.HasField("temperature") else DEFAULT_TEMPERATURE,
                seed=request.seed if request.HasField("seed") else None,
                served_by=served_by,
            ):
                pieces.append(piece)
                yield chat_pb2.ChatResponse(token=piece)
        finally:
            # What was said is kept even when the owner interrupted it.
            model_id = served_by[0].id if served_by else ""
            await self._conversations.add_message(conversation_id, "assistant", "".join(pieces), model_id, cited)
        yield chat_pb2.ChatResponse(
            done=chat_pb2.ChatDone(
                conversation_id=conversation_id,
                model=served_by[0].name if served_by else "",
                completion_tokens=len(pieces),
                cited=[chat_pb2.CitedMemory(**c) for c in cited],
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
        record = await self._conversations.get(request.conversation_id)
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
                )
                for m in messages
            ],
        )

    @grpc_errors
    async def DeleteConversation(self, request: chat_pb2.DeleteConversationRequest, context: grpc.aio.ServicerContext):
        await self._conversations.delete(request.conversation_id)
        return chat_pb2.DeleteConversationResponse()
