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
    "Span",
    "Status",
    "SummariserError",
    "__version__",
    "check_claims",
    "find_figures",
]
