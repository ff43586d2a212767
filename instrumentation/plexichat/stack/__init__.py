"""The whole stack on one machine, without containers, and the tools that read it.

``receiver`` and ``notifications``: ``plexichat-obs receive``, the webhook receiver that
Alertmanager notifies (one JSON line and one printed line per alert).
"""
