"""Testing tools for our ops and for a user's own: gradcheck."""
from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
