"""Named backends: ``make_backend(settings)`` builds the one that ``settings.backend`` names.

Stage: backends. In: :class:`~summariser.settings.Settings`. Out: a :class:`Backend`.

Each backend is imported when it is chosen, not before: the ``openai`` SDK takes a noticeable
fraction of a second to import, and an offline run should not pay for it (nor the offline
backend's own imports for an ``openai`` run).
"""

from __future__ import annotations

from summariser.backends.base import Backend
from summariser.errors import ConfigurationError
from summariser.settings import Settings


def make_backend(settings: Settings) -> Backend:
    """The backend ``settings.backend`` names, configured from ``settings``.

    ``fake`` starts with an empty queue: a caller that asks it anything must first
    ``enqueue`` answers on the returned object.
    """
    if settings.backend == "openai":
        from summariser.backends.openai import OpenAIBackend

        return OpenAIBackend(settings)
    if settings.backend == "offline":
        from summariser.backends.offline import OfflineBackend

        # Not ``settings.model``: that defaults to an OpenAI model name, which would be a
        # false label on the offline backend's output.
        return OfflineBackend()
    if settings.backend == "fake":
        from summariser.backends.fake import FakeBackend

        return FakeBackend()
    # Settings.from_env checks the name, but Settings can be built directly.
    raise ConfigurationError(
        f"unknown backend {settings.backend!r}: choose openai, offline or fake"
    )
