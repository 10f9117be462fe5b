"""summariser: LLM-assisted financial news summaries in which no number is shown as fact
unless the source supports it.

The public API is what ``__all__`` lists; everything else is internal.
"""

from summariser.errors import (
    ClaimsFormatError,
    ConfigurationError,
    EmptySourceError,
    InputError,
    SummariserError,
)
from summariser.figures import Figure, FigureKind, find_figures
from summariser.support import Reason
from summariser.validation import (
    Claim,
    ClaimVerdict,
    FigureClaim,
    FigureVerdict,
    Span,
    Status,
    check_claims,
)

__version__ = "0.1.0"


# Loaded when first asked for: summarise pulls in the tokenizer and the pipeline, and
# `import summariser` should stay light for the validator alone.
_LAZY = {
    "Settings": "summariser.settings",
    "Summary": "summariser.schema",
    "asummarise": "summariser.pipeline",
    "summarise": "summariser.pipeline",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'summariser' has no attribute {name!r}")


__all__ = [
    "Claim",
    "ClaimVerdict",
    "ClaimsFormatError",
    "ConfigurationError",
    "EmptySourceError",
    "Figure",
    "FigureClaim",
    "FigureKind",
    "FigureVerdict",
    "InputError",
    "Reason",
    "Settings",
    "Span",
    "Status",
    "SummariserError",
    "Summary",
    "__version__",
    "asummarise",
    "check_claims",
    "find_figures",
    "summarise",
]
