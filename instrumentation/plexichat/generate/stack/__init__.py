"""The stack's Prometheus and Alertmanager configuration, one source for every target.

``prometheus`` and ``alertmanager`` build each configuration as Python data from a
``StackTarget`` (``targets``): what differs between Compose, the Helm chart and
``plexichat-obs up`` is a parameter (addresses, paths, the webhook URL, timing), never a second
copy. ``plexichat-obs generate`` writes the Compose and chart copies (``files``); ``up`` builds
its own at start-up from the same functions. The chart merges only what depends on its values
(service discovery, remote write, Alertmanager on or off, the webhook URL, retention) in its
templates.
"""
