"""Prompt templates: load, check and render the files in ``prompts/``.

Stage: pure core (reads template files; no network). In: a template name ("extract",
"reduce") and the article (or chunk notes). Out: the message list for a backend, static text
first and the article last so that providers' prompt caching applies.

A template is a TOML file ``<id>.v<version>.toml`` with ``system`` (instructions),
``schema_description``, ``user`` (with one ``{article}`` or ``{notes}`` slot) and few-shot
``examples``. It is checked when loaded: required fields, exactly the expected slot, and
every example answer must validate against its schema model and be supported, figure by
figure, by its example article. Its id, version and SHA-256 go into every result.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Formatter

from pydantic import BaseModel, ValidationError

from summariser.backends.base import Message
from summariser.errors import PromptError
from summariser.schema import Extraction, PromptRef, Reduction
from summariser.validation import check_claims

SCHEMAS: dict[str, type[BaseModel]] = {"Extraction": Extraction, "Reduction": Reduction}
SLOTS = {"Extraction": "article", "Reduction": "notes"}


@dataclass(frozen=True, slots=True)
class Example:
    data: str
    answer: str


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    id: str
    version: str
    sha256: str
    schema: str  # "Extraction" or "Reduction"
    system: str
    schema_description: str
    user: str
    examples: tuple[Example, ...]

    @property
    def ref(self) -> PromptRef:
        return PromptRef(id=self.id, version=self.version, sha256=self.sha256)

    @property
    def slot(self) -> str:
        return SLOTS[self.schema]

    @property
    def schema_model(self) -> type[BaseModel]:
        return SCHEMAS[self.schema]

    def static_messages(self) -> tuple[Message, ...]:
        """Everything before the article: the same for every request of this template."""
        messages = [Message("system", f"{self.system}\n{self.schema_description}".strip())]
        for example in self.examples:
            messages.append(Message("user", self._fill(example.data)))
            messages.append(Message("assistant", example.answer))
        return tuple(messages)

    def render(self, data: str) -> tuple[Message, ...]:
        """The full message list for one request: static messages, then the delimited data."""
        return (*self.static_messages(), Message("user", self._fill(data)))

    def _fill(self, data: str) -> str:
        return self.user.replace("{" + self.slot + "}", _defuse(data, self.slot)).strip()


def _defuse(data: str, slot: str) -> str:
    """Keep the data inside its delimiters: a closing tag inside an article cannot end it."""
    tag = "article" if slot == "article" else "notes"
    return data.replace(f"</{tag}>", f"</ {tag}>").replace(f"<{tag}>", f"< {tag}>")


def prompts_dir() -> Path:
    """Where the templates are: shipped inside the package, or ``prompts/`` of a checkout."""
    shipped = Path(__file__).parent / "_prompts"
    return shipped if shipped.is_dir() else Path(__file__).parent.parent / "prompts"


@cache
def load_prompt(
    name: str, version: str | None = None, folder: Path | None = None
) -> PromptTemplate:
    """The template ``name`` (newest version unless ``version`` is given), checked."""
    folder = folder or prompts_dir()
    candidates = sorted(folder.glob(f"{name}.v*.toml"), key=_version_key)
    if version is not None:
        candidates = [p for p in candidates if p.name == f"{name}.v{version}.toml"]
    if not candidates:
        raise PromptError(f"no prompt template {name!r} in {folder}")
    return parse_prompt(candidates[-1].read_bytes(), source=str(candidates[-1]))


def _version_key(path: Path) -> tuple[int, str]:
    version = path.name.rsplit(".v", 1)[-1].removesuffix(".toml")
    return (int(version), path.name) if version.isdigit() else (-1, path.name)


def parse_prompt(raw: bytes, *, source: str = "<template>") -> PromptTemplate:
    """A template from the bytes of its TOML file; PromptError names what is wrong."""
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise PromptError(f"{source}: not a valid TOML template: {err}") from err
    missing = [k for k in ("id", "version", "schema", "system", "user") if k not in document]
    if missing:
        raise PromptError(f"{source}: missing {', '.join(missing)}")
    schema = str(document["schema"])
    if schema not in SCHEMAS:
        raise PromptError(f"{source}: unknown schema {schema!r}")
    slot = SLOTS[schema]
    user = str(document["user"])
    fields = {f for _, f, _, _ in Formatter().parse(user) if f is not None}
    if fields != {slot}:
        raise PromptError(f"{source}: the user template must have exactly one {{{slot}}} slot")
    examples = tuple(
        Example(data=str(e.get(slot, "")), answer=str(e.get("answer", "")))
        for e in document.get("examples", [])
    )
    template = PromptTemplate(
        id=str(document["id"]),
        version=str(document["version"]),
        sha256=hashlib.sha256(raw).hexdigest(),
        schema=schema,
        system=str(document["system"]).strip(),
        schema_description=str(document.get("schema_description", "")).strip(),
        user=user,
        examples=examples,
    )
    for i, example in enumerate(examples):
        _check_example(template, example, f"{source}: example {i + 1}")
    return template


def _check_example(template: PromptTemplate, example: Example, where: str) -> None:
    """An example teaches the model by imitation: it must itself obey the rules."""
    if not example.data.strip() or not example.answer.strip():
        raise PromptError(f"{where}: needs both its {template.slot} and an answer")
    try:
        answer = template.schema_model.model_validate_json(example.answer)
    except ValidationError as err:
        raise PromptError(f"{where}: the answer does not fit {template.schema}: {err}") from err
    texts = [str(v) for v in _strings(json.loads(answer.model_dump_json()))]
    unsupported = [
        f.figure.text
        for verdict in check_claims(example.data, texts)
        for f in verdict.figures
        if f.status.value == "unsupported"
    ]
    if unsupported:
        raise PromptError(f"{where}: figures not in its {template.slot}: {unsupported}")


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, v in node.items() if key not in ("score",) for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []
