"""The Slack bot: ``/summarise``, mentions and the "Summarise this" shortcut, as jobs.

Stage: service edge (Slack, async). In: requests from Slack at ``POST /slack/events`` (HTTP
mode, slack-bolt's :class:`~slack_bolt.async_app.AsyncApp` inside the FastAPI app), each
signed with the app's signing secret. Out: jobs of kind ``slack`` in the
:class:`~summariser.service.jobs.JobQueue`, each carrying where to answer (its ``reply``);
when one ends, :class:`~summariser.service.slack_replies.SlackReplier` posts the answer in
Block Kit: in the thread for mentions and shortcuts, at the command's ``response_url`` for
``/summarise``.

Each surface only checks its input and submits a job before it acknowledges, so Slack gets its
answer in milliseconds whatever the model's latency. Bolt refuses unsigned, forged and stale
(over five minutes) requests with a 401 before any listener runs. Slack's retries
(``X-Slack-Retry-Num``) and replays submit the same idempotency key (the event's ``event_id``,
the command's or shortcut's ``trigger_id``), so they find the first job and make no other.

Where a job's answer goes is kept in the job store until it is sent, and the store lets one
process send it (:func:`~summariser.service.replies.deliver_reply`). So the answer survives a
restart between the job's end and its post, and with Dramatiq workers (``summariser serve
--broker``) the worker that ends the job answers it, once, even when its message is delivered
twice.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest

from summariser.service.blocks import failure_message
from summariser.service.jobs import Handler, IdempotencyConflict, JobQueue
from summariser.service.replies import deliver_reply
from summariser.service.settings import ServiceSettings
from summariser.service.slack_replies import (
    LINK,
    Reply,
    SlackReplier,
    allowed_reply_url,
    find_link,
)
from summariser.service.store import JobRecord

__all__ = [
    "COMMAND",
    "JOB_KIND",
    "SHORTCUT_CALLBACK_ID",
    "Reply",
    "SlackBot",
    "allowed_reply_url",
    "command_source",
    "find_link",
    "mount_slack",
    "plain_text",
]

log = logging.getLogger("summariser.slack")

JOB_KIND = "slack"
COMMAND = "/summarise"
SHORTCUT_CALLBACK_ID = "summarise_message"
USAGE = "Usage: `/summarise <link or article text>`, e.g. `/summarise https://example.com/news`"

_ENTITY = re.compile(r"<([@#!])([^|>]*)(?:\|([^>]*))?>")


def plain_text(text: str) -> str:
    """A message's text as a reader sees it: ``<url|label>`` as its label, user and channel
    references as their names, ``<!here>`` dropped, ``&amp;``, ``&lt;``, ``&gt;`` undone."""

    def entity(match: re.Match[str]) -> str:
        sigil, _, label = match.groups()
        if sigil == "!":
            return ""
        return f"{sigil}{label}" if label else ""

    text = LINK.sub(lambda m: m.group(0)[1:-1].split("|")[-1], text)
    return html.unescape(_ENTITY.sub(entity, text)).strip()


def command_source(text: str) -> dict[str, str] | None:
    """What ``/summarise TEXT`` asks for: ``{"url": ...}`` when TEXT is one link, else
    ``{"text": ...}``; None for no text."""
    stripped = text.strip()
    if not stripped:
        return None
    link = find_link(stripped)
    if link is not None and len(stripped.split()) == 1:
        return {"url": link}
    return {"text": plain_text(stripped)}


class SlackBot:
    """The bolt app and its surfaces; answers go through a :class:`SlackReplier`."""

    def __init__(self, service: ServiceSettings, *, max_article_chars: int) -> None:
        if not (service.slack_signing_secret and service.slack_bot_token):
            raise ValueError("SlackBot needs a signing secret and a bot token")
        self.api_url = service.slack_api_url
        self.max_article_chars = max_article_chars
        self.replier = SlackReplier(service.slack_bot_token, service.slack_api_url)
        self.client = self.replier.client
        # process_before_response: a listener runs to its end before the HTTP answer, so a
        # job exists once Slack has its 200. Listeners only submit a job: that is fast.
        self.app = AsyncApp(
            name="summariser",
            signing_secret=service.slack_signing_secret,
            client=self.client,
            process_before_response=True,
            logger=log,
        )
        self.app.command(COMMAND)(self._on_command)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.message_shortcut(SHORTCUT_CALLBACK_ID)(self._on_shortcut)
        self.handler = AsyncSlackRequestHandler(self.app)
        self._queue: JobQueue | None = None

    # --- wiring ------------------------------------------------------------------------------

    def job_handler(self, handlers: Mapping[str, Handler]) -> Handler:
        """The ``slack`` job: find the link or text, then run the ``url`` or ``text`` job."""
        return self.replier.job_handler(handlers)

    def attach(self, queue: JobQueue) -> None:
        """Submit to ``queue`` and answer when its ``slack`` jobs end (in this process; with
        a broker the workers answer)."""
        self._queue = queue
        queue.add_listener(self.on_job_end)

    # --- surfaces ----------------------------------------------------------------------------

    async def _on_command(
        self, ack: AsyncAck, command: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        """``/summarise <link or text>``: ack at once with the job's reference."""
        source = command_source(str(command.get("text", "")))
        if source is None:
            await ack(text=USAGE, response_type="ephemeral")
            return
        if len(source.get("text", "")) > self.max_article_chars:
            limit = f"{self.max_article_chars:,}"
            text = f"That text is too long: the limit is {limit} characters."
            await ack(text=text, response_type="ephemeral")
            return
        response_url = str(command.get("response_url", ""))
        if not allowed_reply_url(response_url, self.api_url):
            log.warning("slash command with an unexpected response_url host; not answered")
            await ack(text="Sorry, I can't reply to this command here.", response_type="ephemeral")
            return
        reply = Reply(
            "command",
            channel=str(command.get("channel_id", "")),
            user=str(command.get("user_id", "")),
            response_url=response_url,
        )
        team = command.get("team_id")
        key = _key(team, "command", command.get("trigger_id"))
        try:
            job_id = await self._submit(key, source, reply, team=team, req=request)
        except Exception as err:
            reference = uuid.uuid4().hex[:16]
            log.error("slash command not queued [reference %s]", reference, exc_info=err)
            message = failure_message("internal_error", reference)
            await ack(text=message["text"], blocks=message["blocks"], response_type="ephemeral")
            return
        await ack(text=f"Summarising… (ref `{job_id}`)", response_type="ephemeral")

    async def _on_mention(
        self, ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        """``@summariser`` beside a link, or in the thread under a message with one."""
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        thread_ts = event.get("thread_ts")
        source: dict[str, Any] = {}
        link = find_link(str(event.get("text", "")))
        if link is not None:
            source = {"url": link}
        elif thread_ts and thread_ts != ts:  # a reply: summarise the thread's first message
            source = {"thread": {"channel": channel, "ts": thread_ts}}
        reply = Reply("mention", channel, str(event.get("user", "")), thread_ts=thread_ts or ts)
        key = _key(body.get("team_id"), "event", body.get("event_id"))
        await self._submit(key, source, reply, team=body.get("team_id"), req=request)
        await ack()

    async def _on_message(self, ack: AsyncAck) -> None:
        """Message events (if subscribed) are not requests: acknowledge, do nothing."""
        await ack()

    async def _on_shortcut(
        self, ack: AsyncAck, shortcut: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        """The "Summarise this" message shortcut: the message's link, else its text."""
        message: Mapping[str, Any] = shortcut.get("message") or {}
        text = str(message.get("text", ""))
        link = find_link(text)
        source = {"url": link} if link else ({"text": plain_text(text)} if text.strip() else {})
        response_url = shortcut.get("response_url")
        reply = Reply(
            "shortcut",
            channel=str((shortcut.get("channel") or {}).get("id", "")),
            user=str((shortcut.get("user") or {}).get("id", "")),
            thread_ts=message.get("thread_ts") or message.get("ts"),
            response_url=response_url if isinstance(response_url, str) else None,
        )
        team = (shortcut.get("team") or {}).get("id")
        key = _key(team, "shortcut", shortcut.get("trigger_id"))
        await self._submit(key, source, reply, team=team, req=request)
        await ack()

    async def _submit(
        self,
        key: str,
        source: Mapping[str, Any],
        reply: Reply,
        *,
        team: object,
        req: AsyncBoltRequest,
    ) -> str:
        """Queue the job (or find the one a first delivery queued); its id."""
        queue = self._queue
        if queue is None:
            raise RuntimeError("the Slack bot is not attached to a job queue")
        payload = {"source": dict(source), "surface": reply.surface, "channel": reply.channel}
        owner = f"slack:{team or '-'}:{reply.user}"
        try:
            submitted = await queue.submit(
                JOB_KIND,
                payload,
                key,
                owner=owner,
                input_ref=_input_ref(source),
                reply=asdict(reply),
            )
        except IdempotencyConflict:  # the same id with another body: keep the first job
            log.warning("Slack request %s repeated with a different body: ignored", key)
            return "duplicate"
        if not submitted.created:
            retry = next(iter(req.headers.get("x-slack-retry-num") or ["-"]))
            log.info("Slack delivery of %s again (retry %s): job %s", key, retry, submitted.job.id)
        return submitted.job.id

    # --- answers -----------------------------------------------------------------------------

    async def on_job_end(self, job: JobRecord) -> None:
        """The queue's listener: post a ``slack`` job's summary, or a polite failure."""
        if job.kind != JOB_KIND or self._queue is None:
            return
        # wait: an answer a stopped process had claimed (found by the queue's start-up sweep)
        # is taken over once its claim runs out; a fresh job's answer is never held
        await deliver_reply(self._queue.store, job.id, {JOB_KIND: self.replier.reply}, wait=True)


def mount_slack(app: FastAPI, bot: SlackBot) -> None:
    """Add ``POST /slack/events`` (not in the OpenAPI document: Slack is its only caller)."""

    async def slack_events(request: Request) -> Response:
        """Bolt checks the signature (401 if wrong or stale), then runs a listener."""
        return await bot.handler.handle(request)

    app.add_api_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)


def _key(team: object, what: str, ident: object) -> str:
    """The idempotency key of a Slack request; a fresh one when Slack gave no id."""
    return f"slack:{team or '-'}:{what}:{ident or uuid.uuid4().hex}"


def _input_ref(source: Mapping[str, Any]) -> str:
    if "url" in source:
        return str(source["url"])
    if "thread" in source:
        return f"slack-thread:{source['thread']['channel']}/{source['thread']['ts']}"
    text = str(source.get("text", ""))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
