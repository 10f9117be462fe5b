"""Answering Slack: post a ``slack`` job's summary, or a polite failure, where it was asked.

Stage: service edge (Slack Web API, async). In: an ended job of kind ``slack`` and its reply
target (:class:`Reply`, kept in the job's ``reply`` column until answered). Out: a Block Kit
message (:mod:`summariser.service.blocks`) in the thread (``chat.postMessage``) for mentions
and shortcuts, at the command's ``response_url`` for ``/summarise``.

This half of the bot needs only the bot token, not the signing secret or the web app, so
Dramatiq workers (:mod:`summariser.workers`) answer with it too: whichever process ends a job
posts its answer, through :func:`summariser.service.replies.deliver_reply`. A reply is posted to
a ``response_url`` only on ``https://hooks.slack.com`` or on the configured Web API host (a
fake, in tests): the request signature means a target cannot be forged, and this keeps the
service from posting anywhere else even so.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from summariser.schema import Summary
from summariser.service.blocks import Message, failure_message, summary_message
from summariser.service.jobs import Handler, JobFailed
from summariser.service.replies import Posted
from summariser.service.store import JobRecord

log = logging.getLogger("summariser.slack")

HOOKS_HOST = "hooks.slack.com"
Surface = Literal["command", "mention", "shortcut"]

LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")
_BARE_LINK = re.compile(r"https?://[^\s<>]+")


def find_link(text: str) -> str | None:
    """The first http(s) link in a message's text: Slack writes ``<url|label>`` or ``<url>``;
    a slash command without link escaping sends it bare."""
    match = LINK.search(text) or _BARE_LINK.search(text)
    return html.unescape(match.group(1) if match.re is LINK else match.group(0)) if match else None


@dataclass(frozen=True, slots=True)
class Reply:
    """Where a job's answer goes: the channel and thread, or the command's ``response_url``."""

    surface: Surface
    channel: str
    user: str
    thread_ts: str | None = None
    response_url: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        return cls(
            surface=data["surface"],
            channel=str(data["channel"]),
            user=str(data["user"]),
            thread_ts=data.get("thread_ts"),
            response_url=data.get("response_url"),
        )


def allowed_reply_url(url: str, api_url: str) -> bool:
    """A ``response_url`` the service may post to: https on hooks.slack.com, or the scheme,
    host and port of the configured Web API (where a fake answers in tests and staging)."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.scheme == "https" and parts.hostname == HOOKS_HOST and parts.port in (None, 443):
        return True
    return bool(parts.hostname) and (parts.scheme, parts.hostname, parts.port) == (
        api.scheme,
        api.hostname,
        api.port,
    )


class SlackReplier:
    """The Web API client, the ``slack`` job handler, and the answer to an ended job."""

    def __init__(self, bot_token: str, api_url: str) -> None:
        self.api_url = api_url
        self.client = AsyncWebClient(token=bot_token, base_url=api_url, timeout=10, logger=log)
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))

    def job_handler(self, handlers: Mapping[str, Handler]) -> Handler:
        """The ``slack`` job: find the link or text, then run the ``url`` or ``text`` job."""
        url_job, text_job = handlers["url"], handlers["text"]

        async def slack_job(payload: Mapping[str, Any]) -> dict[str, Any]:
            source: Mapping[str, Any] = payload.get("source") or {}
            url, text = source.get("url"), source.get("text")
            if "thread" in source:
                url = await self.thread_link(source["thread"])
            options = {"format": "auto", "drop_unsupported": False}
            if url:
                result = await url_job({"url": url, **options})
            elif text:
                result = await text_job({"text": text, **options})
            else:
                raise JobFailed("no_link", "no link or text to summarise")
            result["slack"] = {"surface": payload.get("surface"), "channel": payload.get("channel")}
            return result

        return slack_job

    async def reply(self, job: JobRecord, target: Mapping[str, Any]) -> Posted:
        """Post the summary of a done job, or a failure note; nothing for an expired one (a
        quarter of an hour late, the answer is noise and the ``response_url`` may be dead)."""
        if job.status == "expired":
            return "skipped"
        reply = Reply.from_json(target)
        summary = (job.result or {}).get("summary")
        if job.status == "done" and summary is not None:
            message = summary_message(Summary.model_validate(summary), reference=job.id)
            await self.deliver(reply, message, public=True)
        else:
            await self.deliver(reply, failure_message(job.reason, job.reference_id), public=False)
        return "sent"

    async def deliver(self, reply: Reply, message: Message, *, public: bool) -> None:
        """A command's answer goes to its ``response_url`` (the summary in the channel, a
        failure to the user alone); others to the thread, or to the shortcut's
        ``response_url`` (ephemeral) when the bot may not post in the channel."""
        if reply.surface == "command" and reply.response_url:
            response_type = "in_channel" if public else "ephemeral"
            await self.respond(reply.response_url, message, response_type)
            return
        try:
            if public:
                await self.client.chat_postMessage(
                    channel=reply.channel,
                    thread_ts=reply.thread_ts,
                    text=message["text"],
                    blocks=message["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                )
            else:
                await self.client.chat_postEphemeral(
                    channel=reply.channel,
                    user=reply.user,
                    thread_ts=reply.thread_ts,
                    text=message["text"],
                    blocks=message["blocks"],
                )
        except SlackApiError as err:
            if not reply.response_url:
                raise
            log.warning("could not post in %s (%s): answering ephemerally", reply.channel, err)
            await self.respond(reply.response_url, message, "ephemeral")

    async def respond(self, url: str, message: Message, response_type: str) -> None:
        if not allowed_reply_url(url, self.api_url):
            log.error("not posting to a response_url outside Slack (%s)", urlsplit(url).hostname)
            return
        body = {**message, "response_type": response_type, "replace_original": False}
        response = await AsyncWebhookClient(url, timeout=10, logger=log).send_dict(body)
        if response.status_code != 200:
            log.warning("response_url answered %s: %s", response.status_code, response.body[:200])

    async def thread_link(self, thread: Mapping[str, Any]) -> str | None:
        """The link in a thread's first message (None when it has none)."""
        try:
            found = await self.client.conversations_replies(
                channel=str(thread["channel"]), ts=str(thread["ts"]), limit=1, inclusive=True
            )
        except SlackApiError as err:
            raise JobFailed("thread_unreadable", f"could not read the thread: {err}") from err
        messages = found.get("messages") or []
        return find_link(str(messages[0].get("text", ""))) if messages else None
