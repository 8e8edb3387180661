"""The one exception type the scripts turn into a one-line message."""


class UserError(Exception):
    """A problem the user can fix: bad setting, missing file, corrupt data.

    The scripts print ``error: <message>`` and exit with status 2, without a
    traceback. The message should say what is wrong and how to fix it.
    """


def short_reason(exc):
    """One line from an exception: mxnet's messages start with a C++ traceback and end with the cause."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
