"""A fake of OpenAI's Files and Batches endpoints, as an ``httpx2.MockTransport`` handler.

Uploads are stored; a batch goes validating -> in_progress -> completed on successive
``GET /v1/batches/{id}``, and on completing answers each request line with a chat completion
made by the offline summariser (faithful answers), unless a custom_id is scripted to fail
(error file), to hallucinate a figure, or to answer with invalid JSON.
"""

from __future__ import annotations

import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx2

from summariser.offline import extract, reduce_notes


class FakeBatchAPI:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, int] = {}  # custom_id -> how many times to fail
        self.invalid: dict[str, int] = {}
        self.hallucinate: set[str] = set()
        self.requests: list[httpx2.Request] = []

    def client(self) -> Any:
        from openai import AsyncOpenAI

        return AsyncOpenAI(
            api_key="sk-test",
            base_url="https://fake.test/v1",
            max_retries=0,
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler)),
        )

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and path == "/v1/files":
            return self._upload(request)
        if request.method == "GET" and (m := re.fullmatch(r"/v1/files/([^/]+)/content", path)):
            return httpx2.Response(200, content=self.files[m[1]])
        if request.method == "POST" and path == "/v1/batches":
            body = json.loads(request.content)
            batch_id = f"batch_{len(self.batches) + 1}"
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body["completion_window"],
                "created_at": 1,
                "status": "validating",
            }
            return httpx2.Response(200, json=self.batches[batch_id])
        if request.method == "GET" and (m := re.fullmatch(r"/v1/batches/([^/]+)", path)):
            batch = self.batches[m[1]]
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
            elif batch["status"] == "in_progress":
                self._complete(batch)
            return httpx2.Response(200, json=batch)
        return httpx2.Response(404, json={"error": {"message": f"no route {path}"}})

    def _upload(self, request: httpx2.Request) -> httpx2.Response:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request.content)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        content = parts["file"].get_payload(decode=True)
        assert parts["purpose"].get_payload(decode=True) == b"batch"
        file_id = f"file_{len(self.files) + 1}"
        self.files[file_id] = content
        return httpx2.Response(200, json=_file_object(file_id, len(content)))

    def _complete(self, batch: dict[str, Any]) -> None:
        out, errors = [], []
        for raw in self.files[batch["input_file_id"]].splitlines():
            line = json.loads(raw)
            custom_id = line["custom_id"]
            if self.fail.get(custom_id, 0) > 0:
                self.fail[custom_id] -= 1
                errors.append(
                    {
                        "id": "r",
                        "custom_id": custom_id,
                        "response": None,
                        "error": {"code": "server_error", "message": "scripted failure"},
                    }
                )
                continue
            out.append(
                {
                    "id": "r",
                    "custom_id": custom_id,
                    "error": None,
                    "response": {
                        "status_code": 200,
                        "request_id": "q",
                        "body": self.answer(custom_id, line["body"]),
                    },
                }
            )
        for name, lines in (("output_file_id", out), ("error_file_id", errors)):
            if lines:
                file_id = f"file_{len(self.files) + 1}"
                self.files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
                batch[name] = file_id
        batch["status"] = "completed"
        batch["request_counts"] = {
            "total": len(out) + len(errors),
            "completed": len(out),
            "failed": len(errors),
        }

    def answer(self, custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A chat completion answering ``body`` as the offline summariser would."""
        content = answer_content(body)
        if self.invalid.get(custom_id, 0) > 0:
            self.invalid[custom_id] -= 1
            content = '{"headline": "cut'
        elif custom_id in self.hallucinate:
            data = json.loads(content)
            data["bullets"] = [*data["bullets"], "Revenue reached $987.6 billion."]
            content = json.dumps(data)
        return chat_completion(content, body["model"])


def answer_content(body: dict[str, Any]) -> str:
    # the last message that carries the data (a re-ask ends with feedback, not data)
    user = next(m["content"] for m in reversed(body["messages"]) if "</" in m["content"])
    if "<notes>" in user:
        notes = user.split("<notes>", 1)[1].rsplit("</notes>", 1)[0].strip()
        return reduce_notes(notes).model_dump_json()
    chunk = user.split("<article>", 1)[1].rsplit("</article>", 1)[0].strip()
    return extract(chunk).model_dump_json()


def chat_completion(content: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": None},
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def _file_object(file_id: str, size: int) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": 1,
        "filename": "requests.jsonl",
        "purpose": "batch",
        "status": "processed",
    }
