"""Backends: ``openai`` (any OpenAI-compatible server), ``offline`` (deterministic, no
network) and ``fake`` (scripted, for tests), behind the Protocol in ``base``."""

from summariser.backends.base import Backend, Completion, CompletionRequest, Message

__all__ = ["Backend", "Completion", "CompletionRequest", "Message"]
