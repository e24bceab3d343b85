"""Domain errors: one root, each carrying a stable code and the data that explains it."""

from __future__ import annotations


class MynapointError(Exception):
    """Root of every error the platform raises on purpose; clients branch on the stable `code`."""

    code = "invalid_request"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UnknownService(MynapointError):
    code = "unknown_service"

    def __init__(self, service_code: str) -> None:
        super().__init__(
            f"payment service '{service_code}' is not in the catalog; "
            "see GET /api/v1/payment-services for the codes",
            service_code=service_code,
        )
        self.service_code = service_code


class InvalidCounts(MynapointError):
    code = "invalid_counts"

    def __init__(self, service_code: str, given: str | None, allowed: tuple[str, ...]) -> None:
        if given is None:
            message = (
                f"service '{service_code}' lets the person pick what counts; "
                f"send counts: one of {', '.join(allowed)}"
            )
        else:
            message = (
                f"service '{service_code}' counts {', '.join(allowed)}, not '{given}'; "
                f"send counts: {' or '.join(allowed)} or leave it out"
            )
        super().__init__(message, service_code=service_code, given=given, allowed=list(allowed))


class InvalidEvent(MynapointError):
    code = "invalid_request"
