"""Compare a suspect picture or video with its original: align them in time and space, map
what changed, and relate it to the faces (`unmask compare`).

    >>> from unmask.compare import compare_files
    >>> result = compare_files("suspect.mp4", ["original.mp4"])
    >>> result.outcome          # "altered" | "same_content" | "no_common_source"
    >>> result.regions[0].kind, result.regions[0].frames
"""

from unmask.compare.engine import compare_files, compare_footage
from unmask.compare.result import OUTCOME_WORDS, ChangedRegion, Comparison

__all__ = ["OUTCOME_WORDS", "ChangedRegion", "Comparison", "compare_files", "compare_footage"]
