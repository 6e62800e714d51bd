"""Pandera models of the input extracts and the shared code lists."""

from schemas.extracts import EXTRACTS, ExtractSpec

__all__ = ["EXTRACTS", "ExtractSpec"]
