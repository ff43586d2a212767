"""Text that YAML, a shell or a config file format would read as something else.

Each value must reach a text-typed configuration key unchanged, through our environment
parsing and through each bundle's wiring of the Redis password (the Compose entrypoint, the
chart's Secret reference, the way each bundle starts redis-server).
"""

HOSTILE_TEXT: dict[str, str] = {
    "digits": "123456",
    "octal": "0o17",
    "hex": "0x1F",
    "float": "1e3",
    "true": "true",
    "yes": "yes",
    "off": "off",
    "null": "null",
    "tilde": "~",
    "anchor": "&secret",
    "alias": "*secret",
    "tag": "!!int 5",
    "python-tag": "!!python/object:os.system",
    "comment": "p@ss word #1",
    "hash-first": "#start",
    "at-first": "@x",
    "backtick": "`x`",
    "percent": "%TAG",
    "dash": "-",
    "dash-item": "- a",
    "dash-first": "-x",
    "flow-map": "{a: b}",
    "flow-list": "[a, b]",
    "mapping": "a: b",
    "block": "|",
    "folded": ">",
    "single-quoted": "'quoted'",
    "double-quoted": '"dq"',
    "backslashes": "a\\b\\\\c\\x41\\n",
    "quotes-inside": 'it\'s "x"',
    "leading-space": " lead",
    "trailing-space": "trail ",
    "only-spaces": "   ",
    "tab": "a\tb",
    "shell": "$(id) ${HOME} $HOME ;|&<>",
    "dollars": "$$ $",
    "unicode": "pässwörd✓密码",
    "emoji": "🔑key",
    "long": "x" * 200,
}
"""A name (the test id) -> the text. Every value is a password a bundle must carry as is."""

EMPTY = ""
"""The empty variable: the empty string for a text key (no bundle carries an empty password)."""
