"""The one exception type that means "the user asked for something impossible".

The CLI turns a :class:`UserError` into one line on stderr and a non-zero exit; any other
exception is a bug and is reported as such (with a traceback under ``--debug``).
"""


class UserError(ValueError):
    """Bad input: an unreadable image, an unknown name, an impossible setting."""
