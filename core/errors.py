"""The one exception type the scripts turn into a one-line message."""


class UserError(Exception):
    """A problem the user can fix: bad setting, missing file, corrupt data.

    The scripts print ``error: <message>`` and exit with status 2, without a
    traceback. The message should say what is wrong and how to fix it.
    """
