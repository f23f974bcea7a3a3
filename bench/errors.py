"""Errors meant for users: one line, what was wrong and what to do, exit code 2, no traceback."""


class UsageError(Exception):
    """Bad input from the user (arguments, files, data). The CLI prints it as one line, exit 2."""


class DataError(UsageError):
    """The MNIST files are missing, unreadable or not what they claim to be."""


class ResultsError(UsageError):
    """A results file is missing, malformed, of another program or of an unknown schema version."""


def one_line(exc: BaseException) -> str:
    """`Type: first line of the message`: how a failed case or training run records its error."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
