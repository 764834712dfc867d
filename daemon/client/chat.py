"""Chat with the self: a reply streamed piece by piece, and the conversations kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.client.convert import from_message
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import chat_pb2


@dataclass
class CitedMemory:
    memory_id: str
    title: str
    source: str
    score: float
    similarity: float
    # Newer than what the serving model was trained on.
    fresh: bool
    date: str


@dataclass
class ChatDone:
    conversation_id: str
    model: str
    completion_tokens: int
    cited: list[CitedMemory]
    # generated | quoted | abstained
    mode: str
    warning: str


@dataclass
class ChatPiece:
    """One event of a reply: a piece of its text, or (last) what the reply was made of."""

    token: str | None
    done: ChatDone | None


@dataclass
class Conversation:
    id: str
    title: str
    created_at: datetime | None
    updated_at: datetime | None
    message_count: int


@dataclass
class ChatMessage:
    # user | assistant
    role: str
    content: str
    created_at: datetime | None
    model: str
    cited: list[CitedMemory]
    # The reply stopped before the model finished (the daemon went away mid-reply).
    incomplete: bool


@dataclass
class ConversationDetail:
    conversation: Conversation
    messages: list[ChatMessage]


class ChatCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def send(
        self,
        message: str,
        conversation_id: str = "",
        *,
        max_tokens: int = 0,
        temperature: float | None = None,
        seed: int | None = None,
        without_memories: bool = False,
    ) -> Iterator[ChatPiece]:
        """The reply as it is written; the last piece carries `done`."""
        request = chat_pb2.ChatRequest(
            conversation_id=conversation_id,
            message=message,
            max_tokens=max_tokens,
            without_memories=without_memories,
        )
        if temperature is not None:
            request.temperature = temperature
        if seed is not None:
            request.seed = seed
        for event in self._wire.stream(self._wire.chat.Chat, request):
            yield from_message(ChatPiece, event)

    def conversations(self) -> list[Conversation]:
        response = self._wire.call(self._wire.chat.ListConversations, chat_pb2.ListConversationsRequest())
        return [from_message(Conversation, c) for c in response.conversations]

    def conversation(self, conversation_id: str) -> ConversationDetail:
        request = chat_pb2.GetConversationRequest(conversation_id=conversation_id)
        return from_message(ConversationDetail, self._wire.call(self._wire.chat.GetConversation, request))

    def delete_conversation(self, conversation_id: str) -> None:
        request = chat_pb2.DeleteConversationRequest(conversation_id=conversation_id)
        self._wire.call(self._wire.chat.DeleteConversation, request)
