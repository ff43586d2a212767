"""``plexichat-obs loadgen``: open-loop load with a realistic PlexiChat request mix.

``mix`` says what simulated users do, ``identities`` which client addresses they claim,
``runner`` schedules the arrivals, ``report`` measures and summarises. Run it against a live
service::

    plexichat-obs loadgen --url http://127.0.0.1:8000 --duration 30 --rps 200 --users 50
"""

from plexichat.loadgen.runner import DEFAULT_MAX_IN_FLIGHT, LoadConfig, run, run_async

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "LoadConfig", "run", "run_async"]
