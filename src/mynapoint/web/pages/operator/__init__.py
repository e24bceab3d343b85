"""The payment operators' console (/operator): each operator's administrators and staff.
Apart from the operators' JSON API, which lives under /api/v1/operator."""
