"""The one exception the catalog raises."""


class CatalogError(ValueError):
    """The catalog file is unreadable or breaks a rule.

    The message names the file, the entry id and the field, e.g.
    ``metrics.yaml: entry 'error_rate': field 'alert.op': '=>' is not one of '<', '>'``.
    """
