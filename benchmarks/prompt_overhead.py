"""The fixed prompt overhead: tokens sent with every request before the article itself.

Prints, for the extract and reduce templates, the tokens of the static messages (system text,
schema description, few-shot examples), of the user wrapper around the data, and of the JSON
Schema sent as ``response_format`` (or appended to the system message on servers without
structured output), counted with the encoding the configured model would use here.

    python benchmarks/prompt_overhead.py [--model gpt-4o-mini]
"""

from __future__ import annotations

import argparse
import json

from _common import REPO_ROOT  # noqa: F401  - puts the repository on sys.path

from summariser.prompts import load_prompt
from summariser.schema import strict_json_schema
from summariser.tokens import encoding_for_model

# Per message, OpenAI's chat format adds a few tokens of framing (role, separators).
FRAMING_PER_MESSAGE = 4


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gpt-4o-mini")
    args = parser.parse_args()
    counter = encoding_for_model(args.model)
    print(f"encoding: {counter.name} (model {args.model})\n")
    print(
        f"{'template':<10} {'static msgs':>11} {'static tok':>10} {'wrapper tok':>11} "
        f"{'schema tok':>10} {'total fixed':>11}"
    )
    for name in ("extract", "reduce"):
        template = load_prompt(name)
        static = template.static_messages()
        static_tokens = sum(counter.count(m.content) + FRAMING_PER_MESSAGE for m in static)
        wrapper = template.render("")[-1].content
        wrapper_tokens = counter.count(wrapper) + FRAMING_PER_MESSAGE
        schema_tokens = counter.count(json.dumps(strict_json_schema(template.schema_model)))
        total = static_tokens + wrapper_tokens + schema_tokens
        print(
            f"{name + '.v' + template.version:<10} {len(static):>11} {static_tokens:>10} "
            f"{wrapper_tokens:>11} {schema_tokens:>10} {total:>11}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
