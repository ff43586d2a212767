"""``ConfigError``: a configuration problem, told as ``<source>: <key>: <what is wrong>``; and
``DeprecatedKeyWarning``, told the same way."""


class ConfigError(ValueError):
    """A configuration source holds something PlexiChat cannot use.

    The message names the source (a file path or an environment variable), the dotted key, what
    was given and what was expected; one line per problem. ``source`` is that file or variable.
    """

    def __init__(self, source: str, problems: list[str] | str) -> None:
        self.source = source
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


class DeprecatedKeyWarning(FutureWarning):
    """A source used a key's deprecated old name: the value still applies, the key should be
    renamed. The message names the source, the old key and the new one.

    A ``FutureWarning``, Python's category for deprecations meant for an application's users,
    so it is shown by default (a ``DeprecationWarning`` is hidden outside ``__main__``).
    """
